package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// send makes one request with headers (name, value pairs) and returns the
// status, body and headers.
func send(t *testing.T, method, url, body string, headers ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func corsPreflight(t *testing.T, url, origin string) (int, string, http.Header) {
	t.Helper()
	return send(t, "OPTIONS", url, "", "Origin", origin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version")
}

// TestCORSThroughServe: through `portico serve` on Postgres, a bad
// cors_origins is a 422 naming the entry and saves nothing; a good one opens
// the endpoint to that origin on this replica and on another one (which
// hears of it through LISTEN/NOTIFY) without a credential for the
// preflight; an unknown tenant answers as one listing no origin; and /mcp
// takes browser requests from Portico's own origin only.
func TestCORSThroughServe(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	p2 := startPortico(t, dbURL)
	id := demoTenant(t, p)
	token := p.token(t, id)
	const origin = "https://app.example.com"
	endpoint := func(p *portico, id string) string { return p.url + "/t/" + id + "/mcp" }

	code, body, _ := send(t, "PUT", p.url+"/api/v1/tenants/"+id+"/settings", `{"cors_origins":["https://ok.example","*"],"max_concurrency":3}`,
		"Authorization", "Bearer "+p.adminKey, "Content-Type", "application/json")
	if code != 422 || !strings.Contains(body, `"field":"settings.cors_origins[1]"`) || !strings.Contains(body, "list each origin") {
		t.Fatalf("PUT settings with *: %d %s, want 422 naming settings.cors_origins[1]", code, body)
	}
	var got struct{ Settings map[string]any }
	p.do(t, "GET", "/api/v1/tenants/"+id, nil, 200, &got)
	if len(got.Settings) != 0 {
		t.Fatalf("settings after a refused PUT: %v, want none saved", got.Settings)
	}

	// Nothing listed: refused, exactly as for a tenant that does not exist.
	kc, kb, kh := corsPreflight(t, endpoint(p, id), origin)
	uc, ub, uh := corsPreflight(t, endpoint(p, "zzzzzzzzzzzzzzzzzzzzzzzzzz"), origin)
	if kc != 403 || kc != uc || strings.ReplaceAll(kb, id, "ID") != strings.ReplaceAll(ub, "zzzzzzzzzzzzzzzzzzzzzzzzzz", "ID") ||
		kh.Get("Access-Control-Allow-Origin") != "" || uh.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight, no origin listed: %d %s; unknown tenant: %d %s; want the same 403", kc, kb, uc, ub)
	}

	p.do(t, "PUT", "/api/v1/tenants/"+id+"/settings", map[string]any{"cors_origins": []string{origin}}, 200, nil)
	for name, pp := range map[string]*portico{"replica that took the change": p, "other replica": p2} {
		waitFor(t, 10*time.Second, "the origin to be allowed on the "+name, func() bool {
			code, _, h := corsPreflight(t, endpoint(pp, id), origin)
			return code == 204 && h.Get("Access-Control-Allow-Origin") == origin
		})
		code, body, h := send(t, "POST", endpoint(pp, id), `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "Origin", origin,
			"Authorization", "Bearer "+token, "Content-Type", "application/json", "Accept", "application/json, text/event-stream", "Mcp-Protocol-Version", "2025-11-25")
		if code != 200 || !strings.Contains(body, "list_books") || h.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s: tools/list from the listed origin: %d %v %.300s", name, code, h, body)
		}
		if code, body, _ := send(t, "POST", endpoint(pp, id), `{}`, "Origin", "https://evil.example", "Authorization", "Bearer "+token,
			"Content-Type", "application/json"); code != 403 || !strings.Contains(body, "settings.cors_origins") {
			t.Errorf("%s: a foreign origin with a good token: %d %s, want 403", name, code, body)
		}
	}

	// Portico's own /mcp: its own origin reaches the API-key check, a
	// foreign one is refused before it, no Origin is as before.
	for _, c := range []struct {
		origin string
		status int
	}{{"", 401}, {p.url, 401}, {"https://evil.example", 403}, {origin, 403}} {
		h := []string{"Content-Type", "application/json"}
		if c.origin != "" {
			h = append(h, "Origin", c.origin)
		}
		if code, body, _ := send(t, "POST", p.url+"/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, h...); code != c.status {
			t.Errorf("/mcp with Origin %q: %d %s, want %d", c.origin, code, body, c.status)
		} else if code == 403 && !strings.Contains(body, "origin_not_allowed") {
			t.Errorf("/mcp refusal does not say why: %s", body)
		}
	}
	if code, _, h := corsPreflight(t, p.url+"/mcp", origin); code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/mcp preflight from another origin: %d %v", code, h)
	}
}

// TestBrowserClientThroughCORS: a page served from another origin (a
// loopback port of its own) uses the TypeScript MCP SDK, bundled for the
// browser, in Chromium to connect to a tenant endpoint with a bearer
// token, list its tools and call one. A page from an origin the tenant does
// not list cannot. web/e2e/mcp-cors.mjs drives the browser.
func TestBrowserClientThroughCORS(t *testing.T) {
	node, dir := browserClientPage(t)
	static := func() *httptest.Server {
		s := httptest.NewServer(http.FileServer(http.Dir(dir)))
		t.Cleanup(s.Close)
		return s
	}
	listed, unlisted := static(), static()

	p := startPortico(t, pgtest.NewDB(t))
	id := demoTenant(t, p)
	token := p.token(t, id)
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/settings", map[string]any{"cors_origins": []string{listed.URL}}, 200, nil)

	res := runBrowserClient(t, node, p.url+"/t/"+id+"/mcp", token, listed.URL+"/index.html", unlisted.URL+"/index.html")
	checkBrowserClient(t, res.Listed)
	if res.Unlisted == nil || res.Unlisted.OK || res.Unlisted.Error == "" {
		t.Errorf("page on an unlisted origin: %+v, want the connection refused", res.Unlisted)
	}
}

// TestBrowserClientRunThroughCORS: the same page, served from another
// loopback port, uses `portico run --transport http` (which admits pages
// on this machine, without a token) from Chromium.
func TestBrowserClientRunThroughCORS(t *testing.T) {
	node, dir := browserClientPage(t)
	page := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(page.Close)
	url := startRunHTTP(t)
	checkBrowserClient(t, runBrowserClient(t, node, url, "", page.URL+"/index.html", "").Listed)
}

// browserClientPage checks for Chromium and the Node tools, bundles the
// TypeScript SDK as one ES module a page can import (no network at run
// time) and returns node and the directory holding index.html and sdk.js.
func browserClientPage(t *testing.T) (node, dir string) {
	t.Helper()
	node, _ = browserTools(t) // skips, or fails in CI, when they are missing
	tools := nodeTools(t)
	esbuild := filepath.Join(tools.dir, "node_modules", ".bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		msg := "esbuild is not installed in " + tools.dir + ": cd .ci/node && npm ci (or bash .ci/run)"
		harness.SkipOrFail(t, msg)
	}
	dir = t.TempDir()
	entry := filepath.Join(dir, "entry.js")
	os.WriteFile(entry, []byte("export { Client } from '@modelcontextprotocol/sdk/client/index.js';\n"+
		"export { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';\n"), 0o644)
	bundle := exec.Command(esbuild, entry, "--bundle", "--format=esm", "--platform=browser", "--log-level=warning", "--outfile="+filepath.Join(dir, "sdk.js"))
	bundle.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(tools.dir, "node_modules"))
	if b, err := bundle.CombinedOutput(); err != nil {
		t.Fatalf("bundle the TypeScript SDK: %v\n%s", err, b)
	}
	page, _ := os.ReadFile(filepath.Join("testdata", "browser_client.html"))
	os.WriteFile(filepath.Join(dir, "index.html"), page, 0o644)
	return node, dir
}

// browserClientResult is what one page of mcp-cors.mjs reports.
type browserClientResult struct {
	OK        bool     `json:"ok"`
	Error     string   `json:"error"`
	SessionID string   `json:"sessionId"`
	Tools     []string `json:"tools"`
	Call      struct {
		IsError           bool           `json:"isError"`
		StructuredContent map[string]any `json:"structuredContent"`
	} `json:"call"`
}

// runBrowserClient has Chromium open pageURL (and unlistedURL, unless
// empty) and run the page's client against mcpURL.
func runBrowserClient(t *testing.T, node, mcpURL, token, pageURL, unlistedURL string) (res struct {
	Listed   browserClientResult  `json:"listed"`
	Unlisted *browserClientResult `json:"unlisted"`
}) {
	t.Helper()
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "mcp-cors.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "MCP_URL="+mcpURL, "MCP_TOKEN="+token, "PAGE_URL="+pageURL, "UNLISTED_PAGE_URL="+unlistedURL)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("mcp-cors.mjs:\n%s%s", stderr.String(), out)
	if err != nil {
		t.Fatalf("browser client failed: %v", err)
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("mcp-cors.mjs printed no result: %v", err)
	}
	return res
}

// checkBrowserClient wants the page connected, with the session id read
// through Access-Control-Expose-Headers, tools listed and one called.
func checkBrowserClient(t *testing.T, l browserClientResult) {
	t.Helper()
	if !l.OK || l.SessionID == "" || len(l.Tools) == 0 || l.Call.IsError || l.Call.StructuredContent == nil {
		t.Errorf("page on an allowed origin: %+v; want connected (session id read through Expose-Headers), tools listed, a tool called", l)
	}
}
