#!/usr/bin/env bash
# Activates one big spec (default: GitHub's REST API from ../shared/specs) on a
# fresh `portico serve` process, as deployed, and prints the activation's wall
# time and the process's peak RSS (VmHWM), RUNS times. Extra arguments are
# environment for the server (e.g. GOMEMLIMIT=250MiB). Loopback only; it
# creates and drops the database portico_activation_rss.
#
#   scripts/activation-rss.sh
#   RUNS=5 SPEC=../shared/specs/stripe__spec3.json scripts/activation-rss.sh GOGC=50
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${SPEC:-../shared/specs/github__api.github.com.json}"
runs="${RUNS:-3}"
pg="${PG:-postgres://postgres@127.0.0.1:5432}"
[ -f "$spec" ] || { echo "activation-rss: $spec not found (it needs ../shared/specs beside the repository)" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS portico_activation_rss WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/portico" ./cmd/portico
mkdir "$work/www" && cp "$spec" "$work/www/spec.json"
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wport="$(port)"
(cd "$work/www" && exec /usr/bin/python3 -m http.server "$wport" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
db="$pg/portico_activation_rss"
for run in $(seq "$runs"); do
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS portico_activation_rss WITH (FORCE)" -c "CREATE DATABASE portico_activation_rss"
  DATABASE_URL="$db" "$work/portico" migrate up >/dev/null
  key="pk_$(head -c 20 /dev/urandom | base32 | tr -d = | tr 'A-Z' 'a-z')"
  addr="127.0.0.1:$(port)"
  env "$@" DATABASE_URL="$db" PORTICO_ADDR="$addr" PORTICO_LOG_LEVEL=warn \
    PORTICO_MASTER_KEYS=k1:YWN0aXZhdGlvbi1yc3MtbWFzdGVyLWtleS0zMmJ5dGU= \
    PORTICO_ALLOW_UPSTREAM_CIDRS=127.0.0.0/8 PORTICO_BOOTSTRAP_ADMIN_KEY="$key" \
    "$work/portico" serve >"$work/serve.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do curl -sf "http://$addr/readyz" >/dev/null && break; sleep 0.1; done
  before="$(awk '/VmRSS/{print $2}' "/proc/$pid/status")"
  id="$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"name\":\"big\",\"base_url\":\"http://127.0.0.1:$wport\",\"spec_url\":\"http://127.0.0.1:$wport/spec.json\"}" \
    "http://$addr/api/v1/tenants" | /usr/bin/python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')"
  took="$(curl -sf -o /dev/null -w '%{time_total}' -X POST -H "Authorization: Bearer $key" "http://$addr/api/v1/tenants/$id/activate")"
  peak="$(awk '/VmHWM/{print $2}' "/proc/$pid/status")"
  printf 'run %d: activate %.2f s, peak RSS %d MiB (idle before: %d MiB)%s\n' "$run" "$took" $((peak / 1024)) $((before / 1024)) "${*:+ with $*}"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
