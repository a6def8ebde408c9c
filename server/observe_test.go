package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/api"
)

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

// getStatus GETs url and returns the status and body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRESTPanicIsAnsweredOutside: a panic inside a REST handler (here the
// store implements nothing, so the API key lookup panics) is answered by
// the outer layer with the REST error shape and the request id.
func TestRESTPanicIsAnsweredOutside(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(contextHandler{slog.NewJSONHandler(&logs, nil)})
	srv := httptest.NewServer(withRequestContext(api.New(api.Options{Store: emptyStore{}, Logger: log}).Handler(), log))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/tenants", nil)
	req.Header.Set("Authorization", "Bearer pk_"+strings.Repeat("a", 40))
	req.Header.Set("X-Request-Id", "req-rest-panic")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"error":{"code":"internal","message":"internal error (request id req-rest-panic)","details":{}}}`
	if resp.StatusCode != 500 || strings.TrimSpace(string(b)) != want {
		t.Errorf("answer: %d %s; want 500 %s", resp.StatusCode, b, want)
	}
	if !strings.Contains(logs.String(), "panic serving HTTP") || !strings.Contains(logs.String(), `"request_id":"req-rest-panic"`) {
		t.Errorf("log lacks the panic with its request id:\n%s", logs.String())
	}
}

// emptyStore panics on every call (its embedded interface is nil).
type emptyStore struct{ api.Store }
