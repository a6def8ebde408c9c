package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// installPorticoFastAPI builds integrations/fastapi into a wheel and installs
// it into a private directory, as a user would with pip, and returns that
// directory for PYTHONPATH. The build runs on a copy: setuptools writes its
// build/ and egg-info/ beside the sources.
func installPorticoFastAPI(t *testing.T) string {
	t.Helper()
	requireFastAPI(t)
	if err := exec.Command("/usr/bin/python3", "-m", "pip", "--version").Run(); err != nil {
		harness.SkipOrFail(t, "pip is not installed for /usr/bin/python3: apt-get install -y python3-pip (or run bash .ci/run)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if out, err := exec.Command("cp", "-r", "../integrations/fastapi", src).CombinedOutput(); err != nil {
		t.Fatalf("copy the package: %v\n%s", err, out)
	}
	pip := func(args ...string) {
		t.Helper()
		cmd := exec.Command("/usr/bin/python3", append([]string{"-m", "pip"}, args...)...)
		cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_ROOT_USER_ACTION=ignore")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	wheels := filepath.Join(dir, "wheels")
	pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", wheels, src)
	found, _ := filepath.Glob(filepath.Join(wheels, "portico_fastapi-*.whl"))
	if len(found) != 1 {
		t.Fatalf("pip wheel built %v, want one portico_fastapi wheel", found)
	}
	site := filepath.Join(dir, "site")
	pip("install", "--no-deps", "--no-index", "-q", "--target", site, found[0])
	return site
}

func requireFastAPI(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import fastapi, uvicorn, httpx").Run(); err != nil {
		harness.SkipOrFail(t, "FastAPI is not installed for /usr/bin/python3: apt-get install -y python3-fastapi python3-uvicorn python3-httpx (or run bash .ci/run)")
	}
}

// TestPorticoFastAPIUnit runs the package's own unit tests against the
// installed wheel (so a file missing from the wheel fails here too).
func TestPorticoFastAPIUnit(t *testing.T) {
	site := installPorticoFastAPI(t)
	cmd := exec.Command("/usr/bin/python3", "-m", "unittest", "discover", "-s", "../integrations/fastapi/tests", "-v")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+site)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unit tests: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// lifespanApp is testdata/lifespan_app.py under uvicorn, stopped the way a
// deploy stops it (SIGTERM), so its shutdown runs.
type lifespanApp struct {
	url, markers, site string
	port               int
	mu                 sync.Mutex
	cmd                *exec.Cmd
	out                *syncBuffer
}

func (a *lifespanApp) start(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-m", "uvicorn", "lifespan_app:app", "--host", "127.0.0.1",
		"--port", fmt.Sprint(a.port), "--log-level", "info")
	cmd.Dir = "testdata"
	cmd.Env = append(append(os.Environ(), "PYTHONPATH="+a.site, "E2E_MARKER_DIR="+a.markers), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.cmd, a.out = cmd, out
	a.mu.Unlock()
	waitFor(t, 20*time.Second, "the lifespan app to answer", func() bool {
		resp, err := http.Get(a.url + "/openapi.json")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

// stop sends SIGTERM and waits for a clean exit; it returns the app's output.
func (a *lifespanApp) stop(t *testing.T) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return ""
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the app exited with %v after SIGTERM, want a clean exit\n%s", err, a.out.String())
		}
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		<-done
		t.Errorf("the app did not stop within 20 s of SIGTERM\n%s", a.out.String())
	}
	a.cmd = nil
	return a.out.String()
}

func (a *lifespanApp) marker(name string) bool {
	_, err := os.Stat(filepath.Join(a.markers, name))
	return err == nil
}

// TestFastAPILifespanRefreshesTools is the integration's user story: an app
// whose lifespan combines its own with portico_lifespan() is deployed with
// a new endpoint; on startup it signs the tenant's spec webhook, Portico
// refreshes, and connected MCP sessions get list_changed and the new tool.
// A wrong secret leaves the app serving and says why; shutdown never
// disturbs the app's own lifespan.
func TestFastAPILifespanRefreshesTools(t *testing.T) {
	site := installPorticoFastAPI(t)
	dbURL := pgtest.NewDB(t)
	// A long interval keeps the background refresher out of the way: the
	// only refresh is the one the app's startup asks for.
	p := startPortico(t, dbURL, "PORTICO_SPEC_REFRESH_INTERVAL=1h")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	app := &lifespanApp{url: fmt.Sprintf("http://127.0.0.1:%d", port), port: port, markers: t.TempDir(), site: site}
	t.Cleanup(func() { app.stop(t) })

	// v1 runs before the tenant exists: without PORTICO_* it only says so.
	app.start(t)
	var tn struct {
		ID string `json:"id"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "orders", "base_url": app.url}, 201, &tn)
	token := p.token(t, tn.ID)
	p.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/activate", nil, 200, nil)
	var hook struct {
		Secret string `json:"secret"`
	}
	p.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/hook-secret", nil, 201, &hook)
	mcpURL := p.url + "/t/" + tn.ID + "/mcp"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	session, changedSession := connectWatching(ctx, t, mcpURL, token, "2025-11-25")
	stateless, changedStateless := connectWatching(ctx, t, mcpURL, token, "")
	before := toolNames(ctx, t, session)
	if len(before) != 1 || !strings.HasPrefix(before[0], "get_order") {
		t.Fatalf("tools before the deploy = %v, want the one get_order tool", before)
	}

	// Deploy v2 with the integration configured.
	v1log := app.stop(t)
	if !strings.Contains(v1log, "not refreshing tools on startup: PORTICO_URL, PORTICO_TENANT, PORTICO_HOOK_SECRET not set") {
		t.Errorf("an unconfigured app should say it skips the refresh; its log:\n%s", v1log)
	}
	if !app.marker("v1.startup") || !app.marker("v1.shutdown") {
		t.Error("the app's own lifespan did not run both its startup and its shutdown")
	}
	portico := []string{"PORTICO_URL=" + p.url, "PORTICO_TENANT=" + tn.ID, "PORTICO_HOOK_SECRET=" + hook.Secret}
	deployed := time.Now()
	app.start(t, append([]string{"E2E_VARIANT=v2"}, portico...)...)
	for name, ch := range map[string]chan struct{}{"2025-11-25": changedSession, "2026-07-28": changedStateless} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("the %s client got no tools/list_changed after the deploy; app log:\n%s\nPortico log:\n%s",
				name, app.out.String(), p.logs.String())
		}
	}
	t.Logf("list_changed reached both clients %s after the new app was started", time.Since(deployed).Round(time.Millisecond))
	for name, cs := range map[string]*mcp.ClientSession{"2025-11-25": session, "2026-07-28": stateless} {
		after := toolNames(ctx, t, cs)
		if !slices.ContainsFunc(after, func(n string) bool { return strings.HasPrefix(n, "refund_order") }) || len(after) != 2 {
			t.Errorf("%s client lists %v after the deploy, want get_order and refund_order", name, after)
		}
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: before[0], Arguments: map[string]any{"order_id": 7}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), "hello from v2") {
		t.Errorf("get_order after the deploy = %v, %v; want the app's own lifespan state", res, err)
	}
	waitFor(t, 10*time.Second, "the app to log the refresh", func() bool {
		return strings.Contains(app.out.String(), "portico: tools refreshed: version 2, changed True")
	})
	for _, line := range strings.Split(app.out.String(), "\n") {
		if strings.Contains(line, "portico_fastapi") {
			t.Log("app: " + line)
		}
	}
	versions := func() int {
		var list struct {
			Versions []json.RawMessage `json:"versions"`
		}
		p.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions", nil, 200, &list)
		return len(list.Versions)
	}
	if n := versions(); n != 2 {
		t.Errorf("%d spec versions after the deploy, want 2", n)
	}
	if log := app.stop(t); !app.marker("v2.shutdown") || strings.Contains(log, "Traceback") {
		t.Errorf("v2 did not shut down cleanly:\n%s", log)
	}

	// A wrong secret: the app still starts and serves, and says why Portico refused.
	app.start(t, "E2E_VARIANT=v2", "PORTICO_URL="+p.url, "PORTICO_TENANT="+tn.ID, "PORTICO_HOOK_SECRET=not-the-secret")
	waitFor(t, 10*time.Second, "the app to log the refusal", func() bool {
		return strings.Contains(app.out.String(), "refused (HTTP 401)")
	})
	resp, err := http.Get(app.url + "/orders/1")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the app with a wrong secret does not serve: %v %v", resp, err)
	}
	resp.Body.Close()
	log := app.stop(t)
	if n := versions(); n != 2 {
		t.Errorf("%d spec versions after a refused delivery, want still 2", n)
	}
	if strings.Contains(log, hook.Secret) || bytes.Contains([]byte(p.logs.String()), []byte(hook.Secret)) {
		t.Error("the webhook secret appears in a log")
	}
}
