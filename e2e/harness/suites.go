package harness

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// suites records what became of the heavy suites (end-to-end tests that
// build binaries, start servers or need Node, Chromium, FastAPI or the
// OpenAPI corpus), so the test run ends by saying which ran and which were
// skipped and why instead of skipping silently.
var suites struct {
	sync.Mutex
	ran     map[string]string // top-level test → what it does
	skipped map[string]string // top-level test → why it was skipped
}

func suiteName(t *testing.T) string {
	name, _, _ := strings.Cut(t.Name(), "/")
	return name
}

// HeavySuite marks t as a heavy suite doing what; -short skips it.
func HeavySuite(t *testing.T, what string) {
	t.Helper()
	if testing.Short() {
		noteSkip(t, "-short: "+what)
		t.Skip(what)
	}
	suites.Lock()
	defer suites.Unlock()
	if suites.ran == nil {
		suites.ran = map[string]string{}
	}
	suites.ran[suiteName(t)] = what
}

// SkipOrFail skips t for want of a tool, or fails it in CI (CI=true), which
// must have every tool.
func SkipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	noteSkip(t, msg)
	t.Skip(msg)
}

func noteSkip(t *testing.T, why string) {
	suites.Lock()
	defer suites.Unlock()
	if suites.skipped == nil {
		suites.skipped = map[string]string{}
	}
	name := suiteName(t)
	if _, seen := suites.skipped[name]; !seen {
		suites.skipped[name] = why
	}
}

// writeSuiteSummary writes which of pkg's heavy suites ran and which were skipped.
func writeSuiteSummary(w io.Writer, pkg string) {
	suites.Lock()
	defer suites.Unlock()
	fmt.Fprintln(w, pkg+" heavy suites:")
	var ran []string
	for name := range suites.ran {
		if _, skipped := suites.skipped[name]; !skipped {
			ran = append(ran, name)
		}
	}
	slices.Sort(ran)
	for _, name := range ran {
		fmt.Fprintf(w, "  ran      %s (%s)\n", name, suites.ran[name])
	}
	skipped := make([]string, 0, len(suites.skipped))
	for name := range suites.skipped {
		skipped = append(skipped, name)
	}
	slices.Sort(skipped)
	for _, name := range skipped {
		fmt.Fprintf(w, "  SKIPPED  %s: %s\n", name, suites.skipped[name])
	}
	if len(skipped) == 0 {
		fmt.Fprintln(w, "  none skipped")
	}
}

// Main runs a package's tests (call it from TestMain), then prints which
// of its heavy suites ran and which were skipped, and why, headed by pkg.
// go test shows a passing package's output only with -v, so with
// PORTICO_SUITE_SUMMARY set (.ci/run sets it) the summary is also appended
// to that file, which .ci/run prints after `go test ./...`.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	writeSuiteSummary(os.Stdout, pkg)
	if path := os.Getenv("PORTICO_SUITE_SUMMARY"); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			writeSuiteSummary(f, pkg)
			f.Close()
		}
	}
	os.Exit(code)
}
