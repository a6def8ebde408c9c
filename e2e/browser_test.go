package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/api"
	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
	"github.com/portico-mcp/portico/web"
)

// TestDashboardInBrowser walks the dashboard in real Chromium against a real
// Portico and a real FastAPI app: sign in, create a tenant with preview, set
// a credential, activate, call a tool in the playground, change the spec and
// refresh, revoke a token. web/e2e/flow.mjs drives the browser and saves a
// screenshot of each step under web/e2e/out/.
func TestDashboardInBrowser(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPIApp(t, "fastapi_web_app:app")
	p := startPortico(t, dbURL)
	// A person signs in with email and password first; the API-key path is
	// walked too (a second, short pass in flow.mjs).
	const email, password = "ada@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	out := filepath.Join(e2e, "out")
	os.RemoveAll(out)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "flow.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"PORTICO_URL="+p.url, "PORTICO_ADMIN_KEY="+p.adminKey,
		"PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"FASTAPI_URL="+fastapi.url, "OUT_DIR="+out, "CANARY="+canary)
	b, err := cmd.CombinedOutput()
	t.Logf("flow.mjs:\n%s", b)
	if err != nil {
		t.Fatalf("browser flow failed: %v (screenshots in %s)", err, out)
	}
	if strings.Contains(p.logs.String(), canary) {
		t.Error("the credential value appears in Portico's log")
	}
}

// TestDevDashboardInBrowser: a newcomer runs `portico dev`, opens the
// dashboard it printed, signs in with the email and password it printed and
// calls a demo tool in the playground (web/e2e/dev.mjs), reading no docs.
func TestDevDashboardInBrowser(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	t.Chdir(t.TempDir()) // dev keeps its state in the working directory
	env := map[string]string{"DATABASE_URL": pgtest.NewDB(t), "PORTICO_ADDR": "127.0.0.1:0", "PORTICO_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- cli.Run(ctx, []string{"dev"}, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("dev returned %v", err)
		}
	}()
	printed := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() && printed["password"] == "" {
		for _, k := range []string{"Dashboard", "Email", "Password"} {
			if f := strings.Fields(sc.Text()); len(f) > 1 && f[0] == k {
				printed[strings.ToLower(k)] = f[1]
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if printed["dashboard"] == "" || printed["email"] == "" || printed["password"] == "" {
		t.Fatalf("dev printed no dashboard sign-in: %v", printed)
	}
	bctx, bcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer bcancel()
	cmd := exec.CommandContext(bctx, node, "dev.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "PORTICO_URL="+printed["dashboard"], "PORTICO_EMAIL="+printed["email"],
		"PORTICO_PASSWORD="+printed["password"], "OUT_DIR="+filepath.Join(e2e, "out"))
	b, err := cmd.CombinedOutput()
	t.Logf("dev.mjs:\n%s", b)
	if err != nil {
		t.Fatalf("dev browser walk failed: %v", err)
	}
}

// browserTools finds node, playwright-core and Chromium; without them the
// test skips, saying what to install, except in CI where it fails.
func browserTools(t *testing.T) (string, bool) {
	t.Helper()
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join("..", "web", "e2e", "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "playwright-core (cd web/e2e && npm ci)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		missing = append(missing, "Chromium (apt-get install -y chromium)")
	}
	if len(missing) == 0 {
		return node, true
	}
	msg := "dashboard browser test needs " + strings.Join(missing, ", ") + "; bash .ci/run installs them"
	harness.SkipOrFail(t, msg)
	return "", false
}

// TestDashboardMountKeepsAPIErrors: mounting the dashboard must not swallow
// the API's JSON 404 for unknown endpoints or its 405 for wrong methods.
func TestDashboardMountKeepsAPIErrors(t *testing.T) {
	s := api.New(api.Options{Ready: func(context.Context) error { return nil }, Dashboard: web.Handler(), DashboardPaths: web.Paths})
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html"},
		{"GET", "/tenants/abc/tools", 200, "text/html"},
		{"GET", "/api/v1/nope", 404, "application/json"},
		{"PUT", "/api/v1/tenants", 405, "application/json"},
		{"GET", "/t/abc/nope", 404, "application/json"},
	} {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		if w.Code != c.status || !strings.HasPrefix(w.Header().Get("Content-Type"), c.ctype) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, w.Code, w.Header().Get("Content-Type"), c.status, c.ctype)
		}
	}
}
