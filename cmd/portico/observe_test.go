package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestTraceparentReachesUpstream: an agent's W3C traceparent continues
// through Portico into the tenant's service (same trace id).
func TestTraceparentReachesUpstream(t *testing.T) {
	up := startUpstream(t, 0)
	p := startPortico(t, pgtest.NewDB(t))
	_, mcpURL, token := p.register(t, "traced", up.url)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"work","arguments":{"tag":"t"}}}`
	req, _ := http.NewRequest("POST", mcpURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("status %d, X-Request-Id %q: %s", resp.StatusCode, resp.Header.Get("X-Request-Id"), b)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.trace) != 1 || !strings.HasPrefix(up.trace[0], "00-"+traceID+"-") {
		t.Errorf("upstream saw traceparent %v, want trace id %s", up.trace, traceID)
	}
}

// TestPanicIsRecoveredAndLogged: a panic in a handler becomes a 500 naming
// the request id, the log line carries the same id, and serving goes on.
func TestPanicIsRecoveredAndLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(contextHandler{slog.NewJSONHandler(&logs, nil)})
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "fine") })
	srv := httptest.NewServer(withRequestContext(mux, log))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("X-Request-Id", "req-panic-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "req-panic-1") || strings.Contains(string(b), "kaboom") {
		t.Errorf("panic answer: %d %s; want 500 naming the request id, not the panic", resp.StatusCode, b)
	}
	if !strings.Contains(logs.String(), `"request_id":"req-panic-1"`) || !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("log lacks the request id or the panic:\n%s", logs.String())
	}
	if code, body := getStatus(t, srv.URL+"/ok"); code != 200 || body != "fine" {
		t.Errorf("after the panic: %d %q, want the process still serving", code, body)
	}
}

// TestStaticFilesLogAtDebug: the dashboard's files (and 304s) are logged at
// debug, so a dev session's info log shows the API, MCP and OAuth requests.
func TestStaticFilesLogAtDebug(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		quiet        bool
	}{
		{"GET", "/", 200, true},
		{"GET", "/assets/app.js", 304, true},
		{"HEAD", "/favicon.ico", 200, true},
		{"GET", "/healthz", 200, true},
		{"GET", "/missing.js", 404, false},
		{"GET", "/api/v1/tenants", 200, false},
		{"POST", "/t/x/mcp", 200, false},
		{"GET", "/t/x/mcp", 200, false},
		{"GET", "/mcp", 200, false},
		{"GET", "/oauth/authorize", 302, false},
		{"GET", "/.well-known/oauth-authorization-server", 200, false},
		{"POST", "/", 200, false},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if got := quietRequest(req, tc.status); got != tc.quiet {
			t.Errorf("%s %s %d: quiet = %v, want %v", tc.method, tc.path, tc.status, got, tc.quiet)
		}
	}
}
