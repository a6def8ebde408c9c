package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// identitySecret is the client secret of the test token endpoint: a canary
// that must appear nowhere but in the token requests.
const identitySecret = "idp-canary-5e2f8d0b-secret"

// identityDependency returns the FastAPI dependency docs/security.md
// shows, exactly as written there.
func identityDependency(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- portico-identity-dependency -->\n```python\n")
	if !ok {
		t.Fatal("docs/security.md has no <!-- portico-identity-dependency --> python block")
	}
	code, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the python block in docs/security.md does not end")
	}
	return code
}

// TestUpstreamIdentityFastAPI registers a FastAPI service whose API takes
// OAuth2 client-credentials tokens from its own token endpoint and checks
// Portico's identity assertion with the documented dependency, and uses it
// through the go-sdk MCP client.
func TestUpstreamIdentityFastAPI(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import jwt, cryptography, multipart, fastapi, uvicorn").Run(); err != nil {
		harness.SkipOrFail(t, "PyJWT with cryptography and python-multipart are needed: apt-get install -y python3-jwt python3-cryptography python3-multipart (or run bash .ci/run)")
	}
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "portico_identity.py"), []byte(identityDependency(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	up := &fastAPI{url: fmt.Sprintf("http://127.0.0.1:%d", port), markerDir: t.TempDir(), port: port, app: "identity_app:app"}
	t.Cleanup(up.stop)
	up.start(t, "PYTHONPATH="+dir, "PORTICO_URL="+p.url, "SERVICE_URL="+up.url,
		"IDP_CLIENT_ID=portico", "IDP_CLIENT_SECRET="+identitySecret)

	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "identity", "base_url": up.url + "/",
		"settings": map[string]any{"identity_assertion": map[string]any{}}}, 201, &created)
	cred := map[string]any{"type": "oauth2_client_credentials", "token_url": up.url + "/oauth/token",
		"client_id": "portico", "value": identitySecret, "scopes": []string{"reports"}}
	p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/credentials/idp", cred, 204, nil)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	token := p.token(t, created.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs := connect(ctx, t, created.MCPURL, token)
	call := func(tool string) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	tokenRequests := func() int {
		t.Helper()
		var s struct {
			N    int    `json:"token_requests"`
			Last string `json:"last_identity"`
		}
		getJSON(t, up.url+"/admin/stats", &s)
		return s.N
	}

	t.Run("client credentials: 100 concurrent first calls, one token request", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 100)
		for range 100 {
			wg.Go(func() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "m2m_report", Arguments: map[string]any{}})
				if err != nil {
					errs <- err.Error()
				} else if res.IsError {
					errs <- textOf(res)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("call failed: %s", e)
		}
		if n := tokenRequests(); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
	})

	t.Run("client credentials: a revoked token is replaced once", func(t *testing.T) {
		postJSON(t, up.url+"/admin/revoke", nil, 200, nil)
		before := tokenRequests()
		if res := call("m2m_report"); res.IsError {
			t.Fatalf("call after revocation failed: %s", textOf(res))
		}
		if n := tokenRequests(); n != before+1 {
			t.Errorf("token requests = %d, want %d (one refresh)", n, before+1)
		}
	})

	t.Run("identity assertion accepted", func(t *testing.T) {
		res := call("who_am_i")
		if res.IsError {
			t.Fatalf("who_am_i: %s", textOf(res))
		}
		var who struct {
			Sub, Tenant, Iss string
			Aud, Scopes      []string
		}
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &who)
		if !strings.HasPrefix(who.Sub, "token:") || who.Tenant != created.ID || len(who.Aud) != 1 || who.Aud[0] != up.url || who.Iss != p.url {
			t.Errorf("FastAPI saw %+v, want sub token:…, tenant %s, aud %s, iss %s", who, created.ID, up.url, p.url)
		}
	})

	t.Run("identity assertion refused when expired, for another audience or re-signed", func(t *testing.T) {
		var s struct {
			Last string `json:"last_identity"`
		}
		getJSON(t, up.url+"/admin/stats", &s)
		real, err := jwt.ParseWithClaims(s.Last, &bridge.IdentityClaims{}, nil)
		if real == nil {
			t.Fatalf("the assertion FastAPI received does not parse: %v", err)
		}
		kid, _ := real.Header["kid"].(string)
		key := identityPrivateKey(t, dbURL, kid)
		claims := *real.Claims.(*bridge.IdentityClaims)
		sign := func(c bridge.IdentityClaims, k *ecdsa.PrivateKey) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
			tok.Header["kid"] = kid
			raw, err := tok.SignedString(k)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		if got := meStatus(t, up.url, sign(claims, key)); got != 200 {
			t.Fatalf("an assertion signed with Portico's key: status %d, want 200 (the forgeries below would prove nothing)", got)
		}
		expired := claims
		expired.IssuedAt = jwt.NewNumericDate(time.Now().Add(-10 * time.Minute))
		expired.NotBefore = expired.IssuedAt
		expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-9 * time.Minute))
		other := claims
		other.Audience = jwt.ClaimStrings{"http://127.0.0.1:1"}
		stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		for name, raw := range map[string]string{
			"expired":          sign(expired, key),
			"another audience": sign(other, key),
			"re-signed":        sign(claims, stranger),
			"tampered":         s.Last[:strings.LastIndex(s.Last, ".")] + ".AAAA",
		} {
			if got := meStatus(t, up.url, raw); got != 401 {
				t.Errorf("%s assertion: status %d, want 401", name, got)
			}
		}
	})

	t.Run("client credentials: wrong secret", func(t *testing.T) {
		bad := map[string]any{"type": "oauth2_client_credentials", "token_url": up.url + "/oauth/token",
			"client_id": "portico", "value": "wrong-secret-for-the-test"}
		p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/credentials/idp", bad, 204, nil)
		res := call("m2m_report")
		text := textOf(res)
		if !res.IsError || !strings.Contains(text, `credential "idp"`) || !strings.Contains(text, "invalid_client") || strings.Contains(text, "wrong-secret") {
			t.Errorf("result = %v %q, want a tool error naming credential idp and invalid_client, without the secret", res.IsError, text)
		}
	})

	t.Run("token URL into a refused network", func(t *testing.T) {
		var e struct {
			Error struct {
				Details struct {
					Fields []struct{ Field, Problem string }
				}
			}
		}
		bad := map[string]any{"type": "oauth2_client_credentials", "token_url": "http://169.254.169.254/token",
			"client_id": "portico", "value": "x"}
		p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/credentials/meta", bad, 422, &e)
		if len(e.Error.Details.Fields) != 1 || e.Error.Details.Fields[0].Field != "token_url" {
			t.Errorf("422 details = %+v, want the token_url field", e.Error.Details)
		}
	})

	t.Run("dashboard: add the credential, test the connection", func(t *testing.T) {
		node, ok := browserTools(t)
		if !ok {
			return
		}
		const email, password = "ada@example.test", "correct horse battery staple"
		env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
		if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
			func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
		p.do(t, "DELETE", "/api/v1/tenants/"+created.ID+"/credentials/idp", nil, 204, nil)
		e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
		bctx, bcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer bcancel()
		cmd := exec.CommandContext(bctx, node, "credentials.mjs")
		cmd.Dir = e2e
		cmd.Env = append(os.Environ(), "PORTICO_URL="+p.url, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
			"TENANT_ID="+created.ID, "TOKEN_URL="+up.url+"/oauth/token", "CLIENT_SECRET="+identitySecret, "OUT_DIR="+filepath.Join(e2e, "out"))
		out, err := cmd.CombinedOutput()
		t.Logf("credentials.mjs:\n%s", out)
		if err != nil {
			t.Fatalf("dashboard credentials flow failed: %v", err)
		}
		var ten struct {
			Settings tenant.Settings `json:"settings"`
		}
		p.do(t, "GET", "/api/v1/tenants/"+created.ID, nil, 200, &ten)
		if a := ten.Settings.IdentityAssertion; a == nil || a.Header != "X-Caller-Identity" {
			t.Errorf("settings.identity_assertion after the dashboard saved it = %+v, want header X-Caller-Identity", a)
		}
	})

	// The client secret is nowhere but in the token requests.
	for what, text := range map[string]string{"log": p.logs.String(), "responses": p.responses.String()} {
		if strings.Contains(text, identitySecret) {
			t.Errorf("the client secret appears in Portico's %s", what)
		}
	}
	scanDatabaseFor(t, dbURL, identitySecret)
}

// identityPrivateKey opens identity key kid with the test Portico's master keys.
func identityPrivateKey(t *testing.T, dbURL, kid string) *ecdsa.PrivateKey {
	t.Helper()
	mk, err := tenant.ParseMasterKeys(testMasterKeys)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := tenant.NewSealer(mk)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	keys, err := pgstore.NewStore(pool, sealer).IdentityKeys(context.Background(), bridge.DefaultIdentityKeyPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == kid && k.Private != nil {
			return k.Private
		}
	}
	t.Fatalf("no identity key %q in the database", kid)
	return nil
}

func meStatus(t *testing.T, base, assertion string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/me", nil)
	req.Header.Set("X-Portico-Identity", assertion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
