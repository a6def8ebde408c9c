package e2e

import (
	"io"
	"net/http"
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
