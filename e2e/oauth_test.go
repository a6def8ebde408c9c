package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

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
		AuthorizationServers   []string `json:"authorization_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metadata: status %d, %v", resp.StatusCode, err)
	}
	if meta.Resource != endpoint || len(meta.BearerMethodsSupported) != 1 || meta.BearerMethodsSupported[0] != "header" {
		t.Errorf("metadata = %+v, want resource %s, bearer in header", meta, endpoint)
	}
	// With no external authorization server, Portico is its own.
	if len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != p.url {
		t.Errorf("authorization_servers = %v, want [%s] (Portico itself)", meta.AuthorizationServers, p.url)
	}
	resp2, err := http.Get(p.url + "/.well-known/oauth-protected-resource/t/nosuchtenant/mcp")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 {
		t.Errorf("metadata of an unknown tenant: status %d, want 200 (it must not tell which tenants exist)", resp2.StatusCode)
	}
}

// TestExternalAuthorizationServer checks tokens from an operator-named
// authorization server (PORTICO_OAUTH_ISSUER/JWKS_URL): a JWT whose audience
// is a tenant's MCP URL works there, not on another tenant, not after it
// expires, not from another issuer or key; MCP tokens keep working; the
// metadata names the server.
func TestExternalAuthorizationServer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	defer jwks.Close()
	const issuer = "https://auth.example.test"

	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL, "PORTICO_OAUTH_ISSUER="+issuer, "PORTICO_OAUTH_JWKS_URL="+jwks.URL)
	a, tokenA := conformanceTenant(t, p, fx.url)
	b, _ := conformanceTenant(t, p, fx.url)
	urlA, urlB := p.url+"/t/"+a+"/mcp", p.url+"/t/"+b+"/mcp"

	sign := func(k *rsa.PrivateKey, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func(aud string, exp time.Duration) jwt.MapClaims {
		return jwt.MapClaims{"iss": issuer, "sub": "user-1", "aud": aud, "exp": time.Now().Add(exp).Unix(), "iat": time.Now().Unix()}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrongIss := claims(urlA, time.Hour)
	wrongIss["iss"] = "https://evil.example.test"

	for _, tc := range []struct {
		name, url, token string
		want             int
	}{
		{"its own tenant", urlA, sign(key, claims(urlA, time.Hour)), 200},
		{"another tenant's URL", urlB, sign(key, claims(urlA, time.Hour)), 401},
		{"expired", urlA, sign(key, claims(urlA, -time.Hour)), 401},
		{"another issuer", urlA, sign(key, wrongIss), 401},
		{"another key", urlA, sign(other, claims(urlA, time.Hour)), 401},
		{"MCP token beside it", urlA, tokenA, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mcpPost(t, tc.url, tc.token).StatusCode; got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := connect(ctx, t, urlA, sign(key, claims(urlA, time.Hour)))
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil || res.IsError {
		t.Fatalf("call with the access token: %+v, %v", res, err)
	}

	resp, err := http.Get(p.url + "/.well-known/oauth-protected-resource/t/" + a + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		AuthorizationServers []string `json:"authorization_servers"`
	}
	json.NewDecoder(resp.Body).Decode(&meta)
	if len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != issuer {
		t.Errorf("authorization_servers = %v, want [%s]", meta.AuthorizationServers, issuer)
	}
	// Portico's own authorization server is off: one issuer, no confusion.
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/oauth/authorize"} {
		resp, err := http.Get(p.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s with an external authorization server: status %d, want 404", path, resp.StatusCode)
		}
	}
}
