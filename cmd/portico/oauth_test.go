package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestProtectedResourceMetadata checks the discovery half of the MCP
// authorization flow: a 401 from a tenant endpoint names its RFC 9728
// metadata in WWW-Authenticate, and the metadata names the endpoint as the
// resource.
func TestProtectedResourceMetadata(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	id, token := conformanceTenant(t, p, fx.url)
	endpoint := p.url + "/t/" + id + "/mcp"
	metaURL := p.url + "/.well-known/oauth-protected-resource/t/" + id + "/mcp"

	for _, tc := range []struct{ name, token, wantErr string }{
		{"no token", "", ""},
		{"unknown token", "mcp_not-a-real-token", `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := mcpPost(t, endpoint, tc.token)
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			h := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `resource_metadata="`+metaURL+`"`) || !strings.Contains(h, tc.wantErr) {
				t.Errorf("WWW-Authenticate = %q, want Bearer with resource_metadata=%q %s", h, metaURL, tc.wantErr)
			}
		})
	}
	if resp := mcpPost(t, endpoint, token); resp.StatusCode != 200 {
		t.Fatalf("with the token: status %d, want 200", resp.StatusCode)
	}

	resp, err := http.Get(metaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Resource               string   `json:"resource"`
		BearerMethodsSupported []string `json:"bearer_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metadata: status %d, %v", resp.StatusCode, err)
	}
	if meta.Resource != endpoint || len(meta.BearerMethodsSupported) != 1 || meta.BearerMethodsSupported[0] != "header" {
		t.Errorf("metadata = %+v, want resource %s, bearer in header", meta, endpoint)
	}
	resp2, err := http.Get(p.url + "/.well-known/oauth-protected-resource/t/nosuchtenant/mcp")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 404 {
		t.Errorf("metadata of an unknown tenant: status %d, want 404", resp2.StatusCode)
	}
}
