package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestEveryErrorHasOneShape: the REST API, a tenant's MCP endpoint and its
// toolsets, Portico's own /mcp and /metrics refuse in one shape,
// {"error":{"code","message","details"}}, so a client parses every error of
// every surface one way.
func TestEveryErrorHasOneShape(t *testing.T) {
	up := startCredUpstream(t, "b", "k")
	p := startPortico(t, pgtest.NewDB(t), "PORTICO_METRICS_TOKEN=metrics-secret")
	id, _, token := p.register(t, "shop", up.url)
	p.do(t, "POST", "/api/v1/tenants/"+id+"/toolsets", map[string]any{"name": "items", "tags": []string{"items"}}, 201, nil)
	var restricted struct{ Secret string }
	p.do(t, "POST", "/api/v1/tenants/"+id+"/tokens", map[string]any{"name": "items only", "toolsets": []string{"items"}}, 201, &restricted)
	init := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}`
	for _, tc := range []struct {
		name, method, path, auth, origin, body string
		status                                 int
		code                                   string
	}{
		{"REST: unknown endpoint", "GET", "/api/v1/nope", "", "", "", 404, "route_not_found"},
		{"REST: no key", "GET", "/api/v1/tenants", "", "", "", 401, "unauthorized"},
		{"REST: bad input", "POST", "/api/v1/tenants/" + id + "/toolsets", p.adminKey, "", `{"name":"Bad Name"}`, 422, "invalid_input"},
		{"MCP: no token", "POST", "/t/" + id + "/mcp", "", "", init, 401, "unauthorized"},
		{"MCP: unknown token", "POST", "/t/" + id + "/mcp", "mcp_nope", "", init, 401, "invalid_token"},
		{"MCP: restricted token elsewhere", "POST", "/t/" + id + "/mcp", restricted.Secret, "", init, 403, "forbidden_toolset"},
		{"MCP: unknown toolset", "POST", "/t/" + id + "/mcp/nope", token, "", init, 404, "toolset_not_found"},
		{"MCP: foreign Origin", "POST", "/t/" + id + "/mcp", token, "https://evil.example", init, 403, "origin_not_allowed"},
		{"MCP: not acceptable", "POST", "/t/" + id + "/mcp/items", token, "", init, 406, "not_acceptable"},
		{"/mcp: no key", "POST", "/mcp", "", "", init, 401, ""},
		{"/metrics: no token", "GET", "/metrics", "", "", "", 401, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, p.url+tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tc.auth)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
			}
			if tc.code == "not_acceptable" {
				req.Header.Set("Accept", "text/html")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %s %s, want %d JSON", resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.status)
			}
			var e errorbody.Body
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.Details == nil {
				t.Fatalf("body %s is not {\"error\":{\"code\",\"message\",\"details\"}}: %v", b, err)
			}
			if tc.code != "" && e.Error.Code != tc.code {
				t.Errorf("code %q, want %q (%s)", e.Error.Code, tc.code, e.Error.Message)
			}
		})
	}
}
