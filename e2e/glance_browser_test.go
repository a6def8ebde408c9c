package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestDashboardAtAGlance walks the screens that read at a glance in real
// Chromium (web/e2e/glance.mjs): the home overview with its failing tenants
// first, activation of GitHub's 1,223-operation document with its phases,
// ranked search and tag groups over its tools, Markdown descriptions, URL
// editing with the API's checks, and the audit log with its filters.
// axe-core checks every screen; screenshots at phone and desktop widths go
// to the test's artifact directory (go test -artifacts keeps them).
func TestDashboardAtAGlance(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "axe-core", "axe.min.js")); err != nil {
		harness.SkipOrFail(t, "the accessibility check needs axe-core (cd web/e2e && npm ci); bash .ci/run installs it")
	}
	github := corpusSpec(t, "github__api.github.com.json")
	docs, err := os.ReadFile(filepath.Join("testdata", "glance_openapi.json"))
	if err != nil {
		t.Fatal(err)
	}

	// One upstream for every tenant: the documents, a note service, a path
	// that fails, and a spec that breaks on demand (a failed refresh).
	var broken atomic.Bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/github/openapi.json":
			w.Header().Set("Content-Type", "application/json")
			w.Write(github)
		case strings.HasSuffix(p, "/openapi.json") && strings.HasPrefix(p, "/flaky") && broken.Load():
			http.Error(w, "spec store down", http.StatusInternalServerError)
		case strings.HasSuffix(p, "/openapi.json") && !strings.HasPrefix(p, "/gone"):
			w.Header().Set("Content-Type", "application/json")
			w.Write(docs)
		case strings.HasSuffix(p, "/boom"):
			http.Error(w, "kaboom", http.StatusInternalServerError)
		case strings.Contains(p, "/notes"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": 1, "title": "hello"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer up.Close()

	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL, "PORTICO_LOG_LEVEL=info")
	const email, password = "ada@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	type tn struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
		Status string `json:"status"`
	}
	create := func(name, base string) tn {
		var x tn
		p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": name, "base_url": base}, 201, &x)
		return x
	}
	docsT := create("docs", up.URL+"/docs")
	p.do(t, "POST", "/api/v1/tenants/"+docsT.ID+"/activate", nil, 200, nil)
	flaky := create("flaky", up.URL+"/flaky")
	p.do(t, "POST", "/api/v1/tenants/"+flaky.ID+"/activate", nil, 200, nil)
	broken.Store(true)
	p.do(t, "POST", "/api/v1/tenants/"+flaky.ID+"/spec/refresh", nil, 502, nil)
	gone := create("gone", up.URL+"/gone")
	p.do(t, "POST", "/api/v1/tenants/"+gone.ID+"/activate", nil, 502, nil)
	gh := create("github", up.URL+"/github")
	// github's spec URL is not the default: point it at the corpus document.
	p.do(t, "PATCH", "/api/v1/tenants/"+gh.ID, map[string]any{"spec_url": up.URL + "/github/openapi.json"}, 200, nil)

	// Calls for the overview's figures: three that work, one that fails.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cs := connect(ctx, t, docsT.MCPURL, p.token(t, docsT.ID))
	for i := range 4 {
		name, args := "get_note", map[string]any{"id": i + 1}
		if i == 3 {
			name, args = "always_fails", map[string]any{}
		}
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args}); err != nil {
			t.Fatal(err)
		}
	}

	out := t.ArtifactDir()
	cmd := exec.CommandContext(ctx, node, "glance.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"PORTICO_URL="+p.url, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"UPSTREAM_URL="+up.URL, "OUT_DIR="+out,
		"DOCS_ID="+docsT.ID, "GITHUB_ID="+gh.ID, "FLAKY_ID="+flaky.ID, "GONE_ID="+gone.ID)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	t.Logf("glance.mjs:\n%s", buf.String())
	if err != nil {
		t.Fatalf("browser walk failed: %v (screenshots in %s)", err, out)
	}
	shots, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(shots) < 10 {
		t.Errorf("%d screenshots in %s, want one per screen at each width", len(shots), out)
	}
}
