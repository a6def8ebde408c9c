#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after another, and prints
# each one's final line (execs, new interesting inputs). A crasher fails the
# run; Go writes it to <pkg>/testdata/fuzz/<Target>/, where it then runs as a
# regression test in every plain `go test` (commit it with the fix).
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 300s       # longer
#   FUZZ_PARALLEL=1 scripts/fuzz.sh 30s
#
# -fuzzminimizetime is bounded too: by default Go spends up to 60 s
# minimizing each new interesting input, and with a spec parser behind the
# target that stalled the whole budget at ~0 execs/s.
set -euo pipefail
cd "$(dirname "$0")/.."
time="${1:-60s}"
parallel="${FUZZ_PARALLEL:-2}"
targets=(
  "./bridge FuzzConvert"
  "./bridge FuzzNewRequest"
  "./bridge FuzzParseMessage"
  "./bridge FuzzAppendToolResult"
  "./api FuzzRESTJSON"
)
status=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  log="$(mktemp)"
  printf '== %s %s for %s (parallel %s)\n' "$pkg" "$name" "$time" "$parallel"
  if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$time" -fuzzminimizetime 10s -parallel "$parallel" >"$log" 2>&1; then
    grep '^fuzz: elapsed' "$log" | tail -n 1
  else
    status=1
    cat "$log"
  fi
  rm -f "$log"
done
exit "$status"
