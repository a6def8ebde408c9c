package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// conformanceSets are the requirement sets of the official MCP conformance
// suite Portico is held to, each with its committed expected failures.
var conformanceSets = []string{"2025-11-25", "2026-07-28"}

// TestConformance runs the official MCP conformance suite
// (@modelcontextprotocol/conformance, server mode) against a tenant whose
// upstream (testdata/conformance_app.py) offers the fixtures the suite asks
// for, once per requirement set. The suite cannot send a bearer token, so a
// loopback proxy adds the tenant's MCP token. Every failing scenario must be
// listed, with its reason, in conformance/expected-failures-<set>.yaml, and
// every listed scenario must still fail (the suite enforces both).
func TestConformance(t *testing.T) {
	tools := nodeTools(t)
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	// The suite's client reaches Portico through the proxy, so the proxy is
	// Portico's public URL: browsers' Origin checks judge against it.
	proxy, point := publicBearerProxy(t)
	p := startPortico(t, dbURL, "PORTICO_PUBLIC_URL="+proxy, "PORTICO_ADDR="+freeAddr(t))
	id, token := fixtureTenant(t, p, fx.url, true)
	point(p.url, token)
	runConformance(t, tools, proxy+"/t/"+id+"/mcp", "expected-failures-")
}

// TestConformanceRun holds `portico run --transport http` to the same suite
// over the same fixture service and settings: it is served by the tenant
// endpoint's code, so it must fail only where the tenant endpoint fails, or
// where an unauthenticated local server must differ (listed in
// conformance/run-expected-failures-<set>.yaml).
func TestConformanceRun(t *testing.T) {
	tools := nodeTools(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	settings := filepath.Join(t.TempDir(), "settings.json")
	b, _ := json.Marshal(conformanceSettings)
	os.WriteFile(settings, b, 0o600)
	url := startRunHTTPFor(t, fx.url, fx.url+"/openapi.json", "--settings", settings, "--prompts", conformancePrompts)
	runConformance(t, tools, url, "run-expected-failures-")
}

// TestConformanceSelf runs the suite against /mcp, Portico's own MCP
// server (its tools are the REST API's operations, so the suite's fixture
// tools are absent: conformance/self-expected-failures-<set>.yaml lists
// them with that reason, and the protocol checks must pass).
func TestConformanceSelf(t *testing.T) {
	tools := nodeTools(t)
	dbURL := pgtest.NewDB(t)
	proxy, point := publicBearerProxy(t)
	p := startPortico(t, dbURL, "PORTICO_PUBLIC_URL="+proxy, "PORTICO_ADDR="+freeAddr(t))
	point(p.url, p.adminKey)
	runConformance(t, tools, proxy+"/mcp", "self-expected-failures-")
}

// runConformance runs the suite against endpoint for every requirement set,
// judging the failures against conformance/<prefix><set>.yaml.
func runConformance(t *testing.T, tools nodeToolsDir, endpoint, prefix string) {
	summary := []string{}
	for _, set := range conformanceSets {
		t.Run(set, func(t *testing.T) {
			baseline, _ := filepath.Abs(filepath.Join("..", "conformance", prefix+set+".yaml"))
			expected := readExpectedFailures(t, baseline)
			out := t.TempDir()
			if d := os.Getenv("PORTICO_CONFORMANCE_OUT"); d != "" {
				out = filepath.Join(d, prefix+set) // kept, to read the checks
				os.RemoveAll(out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, tools.node, tools.conformance, "server",
				"--url", endpoint, "--requirements", set, "--expected-failures", baseline, "-o", out)
			cmd.Dir = t.TempDir()
			log, err := cmd.CombinedOutput()
			res := readConformanceResults(t, out)
			if len(res) == 0 {
				t.Fatalf("the suite wrote no results (%v):\n%s", err, log)
			}
			var failed []string
			passed := 0
			for name, ok := range res {
				if ok {
					passed++
				} else {
					failed = append(failed, name)
				}
			}
			sort.Strings(failed)
			line := fmt.Sprintf("%s: %d scenarios passed, %d failed (all expected: %v)", set, passed, len(failed), err == nil)
			summary = append(summary, line)
			t.Log(line)
			// A scenario is expected to fail when it, or one of its checks
			// (scenario:check), is listed; the suite judges single checks.
			seen := map[string]bool{}
			var want []string
			for name := range expected {
				scenario, _, _ := strings.Cut(name, ":")
				if !seen[scenario] {
					seen[scenario] = true
					want = append(want, scenario)
				}
			}
			sort.Strings(want)
			// Timing-dependent scenarios may go either way on a loaded
			// machine: their outcome is logged, never judged.
			want, failed = dropFlaky(t, want), dropFlaky(t, failed)
			failed = rerunUnexpected(t, tools, endpoint, set, out, want, failed)
			if diff := cmp.Diff(want, failed); diff != "" {
				t.Errorf("failing scenarios differ from %s (-listed +failing):\n%s", filepath.Base(baseline), diff)
				if err != nil {
					t.Errorf("conformance suite: %v (a regression or a stale expected failure):\n%s", err, tail(string(log), 6000))
				}
			}
			if os.Getenv("PORTICO_CONFORMANCE_LOG") != "" {
				t.Logf("suite output:\n%s", log)
			}
		})
	}
	t.Logf("conformance summary:\n%s", strings.Join(summary, "\n"))
}

// conformanceSettings make the fixture service's /resources operations the
// suite's resources.
var conformanceSettings = map[string]any{
	"route_maps": []map[string]any{{"pattern": "^/resources/", "mcp_type": "resource"}},
	"uris": map[string]string{
		"static_text":   "test://static-text",
		"static_binary": "test://static-binary",
		"template_data": "test://template/{id}/data",
	},
}

// fixtureTenants numbers the fixture tenants, whose names must differ.
var fixtureTenants atomic.Int64

// conformanceTenant registers and activates the fixture service with route
// maps and URIs that make its /resources operations the suite's resources,
// and returns the tenant id and an MCP token.
func conformanceTenant(t *testing.T, p *portico, upstream string) (id, token string) {
	t.Helper()
	return fixtureTenant(t, p, upstream, false)
}

// fixtureTenant is conformanceTenant, with the suite's fixture prompts
// created through the REST API when withPrompts is set.
func fixtureTenant(t *testing.T, p *portico, upstream string, withPrompts bool) (id, token string) {
	t.Helper()
	var created struct{ ID string }
	p.do(t, "POST", "/api/v1/tenants", map[string]any{
		"name": fmt.Sprintf("conformance-%d", fixtureTenants.Add(1)), "base_url": upstream,
		"settings": conformanceSettings,
	}, 201, &created)
	token = p.token(t, created.ID)
	if !withPrompts {
		p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
		return created.ID, token
	}
	b, err := os.ReadFile(conformancePrompts)
	if err != nil {
		t.Fatal(err)
	}
	var prompts []map[string]any
	if err := json.Unmarshal(b, &prompts); err != nil {
		t.Fatal(err)
	}
	for _, pr := range prompts {
		p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/prompts", pr, 201, nil)
	}
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	return created.ID, token
}

// conformancePrompts are the suite's fixture prompts (test_simple_prompt,
// test_prompt_with_arguments, …), in the shape POST …/prompts takes.
var conformancePrompts = filepath.Join("testdata", "conformance_prompts.json")

// freeAddr is a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// publicBearerProxy starts a bearer proxy before the Portico it leads to,
// so its URL can be that Portico's PORTICO_PUBLIC_URL; point names the
// target and the token once they exist (until then it answers 503).
func publicBearerProxy(t *testing.T) (proxyURL string, point func(target, token string)) {
	t.Helper()
	var rp atomic.Pointer[httputil.ReverseProxy]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := rp.Load(); p != nil {
			p.ServeHTTP(w, r)
			return
		}
		http.Error(w, "the proxy has no target yet", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(target, token string) { rp.Store(newBearerProxy(t, target, token)) }
}

func newBearerProxy(t *testing.T, target, token string) *httputil.ReverseProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // Host as the client sent it
			if r.Out.Header.Get("Authorization") == "" {
				r.Out.Header.Set("Authorization", "Bearer "+token)
			}
		},
		FlushInterval: -1, // SSE
	}
}

// nodeToolsDir holds Node 22 and the npm MCP tools, installed by .ci/run.
type nodeToolsDir struct {
	dir, node, conformance string
}

// nodeTools finds .ci/node (or PORTICO_NODE_TOOLS): it skips the test when
// the tools are missing, and fails it in CI.
func nodeTools(t *testing.T) nodeToolsDir {
	t.Helper()
	dir := os.Getenv("PORTICO_NODE_TOOLS")
	if dir == "" {
		dir = filepath.Join("..", ".ci", "node")
	}
	dir, _ = filepath.Abs(dir)
	nt := nodeToolsDir{
		dir:         dir,
		node:        filepath.Join(dir, "node_modules", ".bin", "node"),
		conformance: filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
	}
	for _, f := range []string{nt.node, nt.conformance} {
		if _, err := os.Stat(f); err != nil {
			msg := fmt.Sprintf("Node 22 and the MCP npm tools are not installed in %s (missing %s): run `cd .ci/node && npm ci` or bash .ci/run", dir, f)
			harness.SkipOrFail(t, msg)
		}
	}
	return nt
}

// readConformanceResults reads the suite's per-scenario checks.json files
// (out/server-<scenario>-<timestamp>/checks.json) and reports, by scenario,
// whether no check failed.
func readConformanceResults(t *testing.T, out string) map[string]bool {
	t.Helper()
	res := map[string]bool{}
	for name, checks := range readConformanceChecks(t, out) {
		ok := true
		for _, c := range checks {
			if c.failed() {
				ok = false
			}
		}
		res[name] = ok
	}
	return res
}

// conformanceCheck is one check the suite wrote to a scenario's checks.json.
type conformanceCheck struct {
	ID, Status, ErrorMessage string
	Details                  json.RawMessage
}

// failed reports whether the check counts against its scenario: the suite
// fails a run on warnings (unmet SHOULDs) too.
func (c conformanceCheck) failed() bool { return c.Status == "FAILURE" || c.Status == "WARNING" }

// readConformanceChecks reads the checks of every scenario the suite wrote
// under out, by scenario name.
func readConformanceChecks(t *testing.T, out string) map[string][]conformanceCheck {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "server-*", "checks.json"))
	stamp := regexp.MustCompile(`-\d{4}-\d{2}-\d{2}T.*$`)
	res := map[string][]conformanceCheck{}
	for _, f := range files {
		name := strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "server-")
		name = stamp.ReplaceAllString(name, "")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var checks []conformanceCheck
		if err := json.Unmarshal(b, &checks); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		res[name] = append(res[name], checks...)
	}
	return res
}

// readExpectedFailures reads a baseline in the suite's format (server: a
// list of scenario names) and insists that each entry carries its reason as
// a trailing comment.
func readExpectedFailures(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entry := regexp.MustCompile(`^\s*-\s*([A-Za-z0-9_.:/-]+)\s*(?:#\s*(.*))?$`)
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		m := entry.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if strings.TrimSpace(m[2]) == "" {
			t.Errorf("%s:%d: expected failure %s has no reason; add one as a trailing # comment", filepath.Base(file), n, m[1])
		}
		out[m[1]] = m[2]
	}
	return out
}

// rerunUnexpected runs once more, alone, each scenario that failed without
// being listed, and keeps it among the failures only if it fails again. On
// a loaded machine a scenario's own timeouts (the suite's client gives an
// SSE stream 10 s) can cut a run short; a regression fails both times. The
// first failure is logged either way, so a scenario that keeps needing the
// second run shows in the test output.
func rerunUnexpected(t *testing.T, tools nodeToolsDir, endpoint, set, out string, want, failed []string) []string {
	t.Helper()
	listed := map[string]bool{}
	for _, n := range want {
		listed[n] = true
	}
	stands := failed[:0:0]
	for _, name := range failed {
		if listed[name] {
			stands = append(stands, name)
			continue
		}
		t.Logf("%s (%s) failed without being listed; its first run's failing checks:\n%s", name, set, failingChecks(t, out, name))
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, tools.node, tools.conformance, "server",
			"--url", endpoint, "--scenario", name, "--spec-version", set, "-o", dir)
		cmd.Dir = t.TempDir()
		log, _ := cmd.CombinedOutput()
		cancel()
		again := readConformanceResults(t, dir)
		ok, ran := again[name]
		switch {
		case ran && ok:
			t.Logf("%s (%s) failed, then passed when run again alone; its first run is not judged", name, set)
			continue
		case ran:
			t.Logf("%s (%s) failed again when run alone:\n%s", name, set, tail(string(log), 3000))
		default:
			t.Logf("%s (%s) could not be run again alone, so its failure stands:\n%s", name, set, tail(string(log), 3000))
		}
		stands = append(stands, name)
	}
	return stands
}

// failingChecks lists the failing and warning checks of scenario name in the
// suite's results under out, one per line with the suite's message.
func failingChecks(t *testing.T, out, name string) string {
	t.Helper()
	var lines []string
	for _, c := range readConformanceChecks(t, out)[name] {
		if c.failed() {
			lines = append(lines, fmt.Sprintf("  %s %s: %s %s", c.ID, c.Status, c.ErrorMessage, tail(string(c.Details), 600)))
		}
	}
	if len(lines) == 0 {
		return "  (no failing check recorded)"
	}
	return strings.Join(lines, "\n")
}

// flakyScenarios pass or fail with the machine's load rather than with
// Portico's behaviour: the suite wants several progress notifications during
// the fixture's 3.5 s call, and Portico sends one per second while it waits,
// so a slow start on a busy machine can leave one short.
var flakyScenarios = map[string]bool{"tools-call-with-progress": true}

func dropFlaky(t *testing.T, names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if flakyScenarios[n] {
			t.Logf("%s: outcome not judged (timing-dependent)", n)
			continue
		}
		out = append(out, n)
	}
	return out
}
