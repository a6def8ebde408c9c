package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestOAuthAuthorizationCodeFlow is the MCP authorization flow end to end
// with Portico as the authorization server: a client gets a 401 from a
// tenant endpoint, discovers the protected resource metadata and the
// authorization server's metadata from it, registers (RFC 7591), sends a
// test user through authorization code + PKCE (the user signs in and
// approves on the dashboard's consent page in real Chromium, and denies a
// second request for a tenant where they are only a viewer), calls a tool
// with the access token, is refused on another tenant, refreshes (the new
// pair works; the old refresh token is refused and its reuse revokes the
// family), and is refused at once, on two replicas, after the tenant admin
// revokes the application in the dashboard (Chromium again) and after the
// client revokes its token (RFC 7009).
func TestOAuthAuthorizationCodeFlow(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	a, _ := conformanceTenant(t, p, fx.url)
	b, _ := conformanceTenant(t, p, fx.url)
	var tenantA struct{ Name string }
	p.do(t, "GET", "/api/v1/tenants/"+a, nil, 200, &tenantA)
	urlA, urlB := p.url+"/t/"+a+"/mcp", p.url+"/t/"+b+"/mcp"

	// The test user: admin of tenant a, viewer of tenant b, not an operator.
	const email, password = "grace@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+a+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
	p.do(t, "PUT", "/api/v1/tenants/"+b+"/members/"+email, map[string]string{"role": "viewer"}, 200, nil)

	// The client's redirect URI: a loopback server that records what the
	// browser brings back.
	var mu sync.Mutex
	var callbacks []url.Values
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r) // the browser's /favicon.ico
			return
		}
		mu.Lock()
		callbacks = append(callbacks, r.URL.Query())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Client</title><p>You can close this window.</p>")
	}))
	defer cb.Close()
	redirectURI := cb.URL + "/callback"

	// 1. Discovery: 401 → WWW-Authenticate → protected resource metadata →
	// authorization server metadata.
	resp := mcpPost(t, urlA, "")
	if resp.StatusCode != 401 {
		t.Fatalf("no token: status %d, want 401", resp.StatusCode)
	}
	m := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if m == nil {
		t.Fatalf("WWW-Authenticate %q names no resource_metadata", resp.Header.Get("WWW-Authenticate"))
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	getJSON(t, m[1], &prm)
	if prm.Resource != urlA || len(prm.AuthorizationServers) != 1 {
		t.Fatalf("protected resource metadata = %+v, want resource %s and one authorization server", prm, urlA)
	}
	issuer := prm.AuthorizationServers[0]
	var asm struct {
		Issuer                            string   `json:"issuer"`
		AuthorizationEndpoint             string   `json:"authorization_endpoint"`
		TokenEndpoint                     string   `json:"token_endpoint"`
		RegistrationEndpoint              string   `json:"registration_endpoint"`
		RevocationEndpoint                string   `json:"revocation_endpoint"`
		CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
		ClientIDMetadataDocumentSupported bool     `json:"client_id_metadata_document_supported"`
	}
	getJSON(t, issuer+"/.well-known/oauth-authorization-server", &asm)
	if asm.Issuer != issuer || asm.AuthorizationEndpoint == "" || asm.TokenEndpoint == "" || asm.RegistrationEndpoint == "" ||
		asm.RevocationEndpoint == "" || strings.Join(asm.CodeChallengeMethodsSupported, ",") != "S256" || !asm.ClientIDMetadataDocumentSupported {
		t.Fatalf("authorization server metadata = %+v", asm)
	}

	// 2. Dynamic client registration.
	const clientName = "Test Agent"
	var reg struct {
		ClientID string `json:"client_id"`
	}
	postJSON(t, asm.RegistrationEndpoint, map[string]any{"client_name": clientName, "redirect_uris": []string{redirectURI},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"}, 201, &reg)

	// 3. Authorization code + PKCE, the user deciding in Chromium.
	authorizeURL := func(resource, verifier, state string) string {
		q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirectURI},
			"code_challenge": {tenant.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"},
			"resource": {resource}, "scope": {"mcp"}, "state": {state}}
		return asm.AuthorizationEndpoint + "?" + q.Encode()
	}
	verifier := strings.Repeat("Zq3-", 12) // 48 characters of the PKCE alphabet
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "oauth.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(),
		"APPROVE_URL="+authorizeURL(urlA, verifier, "state-a"), "DENY_URL="+authorizeURL(urlB, verifier, "state-b"),
		"CALLBACK_URL="+redirectURI, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"CLIENT_NAME="+clientName, "TENANT_NAME="+tenantA.Name, "TENANT_ID="+a, "VIEWER_TENANT_ID="+b,
		"OUT_DIR="+filepath.Join(e2e, "out"))
	out, err := cmd.CombinedOutput()
	t.Logf("oauth.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser consent flow failed: %v", err)
	}
	mu.Lock()
	got := callbacks
	mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("the client's redirect URI was reached %d times, want 2 (approve, deny): %v", len(got), got)
	}
	if got[0].Get("state") != "state-a" || got[0].Get("code") == "" || got[0].Get("iss") != issuer {
		t.Fatalf("approval came back as %v, want a code, state-a and iss %s", got[0], issuer)
	}
	if got[1].Get("state") != "state-b" || got[1].Get("error") != "access_denied" || got[1].Get("code") != "" {
		t.Fatalf("denial came back as %v, want error=access_denied and state-b", got[1])
	}
	code := got[0].Get("code")

	// 4. The token request: a wrong verifier burns the code, so a second
	// approval is not needed only if the first exchange is right.
	var toks struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	postForm(t, asm.TokenEndpoint, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {reg.ClientID}, "resource": {urlA}}, 200, &toks)
	if !strings.HasPrefix(toks.AccessToken, tenant.AccessTokenPrefix) || toks.TokenType != "Bearer" || toks.ExpiresIn <= 0 || toks.RefreshToken == "" || toks.Scope != "mcp" {
		t.Fatalf("token response = %+v", toks)
	}

	// 5. The access token calls a tool on its tenant, and only there.
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	cs := connect(cctx, t, urlA, toks.AccessToken)
	if res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil || res.IsError {
		t.Fatalf("tool call with the access token: %+v, %v", res, err)
	}
	if st := mcpPost(t, urlB, toks.AccessToken).StatusCode; st != 401 {
		t.Errorf("access token on another tenant's endpoint: status %d, want 401", st)
	}

	// 6. Refresh rotates: the new pair works, the old refresh token does not.
	var fresh struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	postForm(t, asm.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {toks.RefreshToken},
		"client_id": {reg.ClientID}, "resource": {urlA}}, 200, &fresh)
	if fresh.AccessToken == "" || fresh.RefreshToken == "" || fresh.RefreshToken == toks.RefreshToken {
		t.Fatalf("refresh response = %+v, want a new refresh token", fresh)
	}
	if st := mcpPost(t, urlA, fresh.AccessToken).StatusCode; st != 200 {
		t.Fatalf("refreshed access token: status %d, want 200", st)
	}

	// 7. The rotated-out refresh token is refused, and presenting it is
	// taken as theft: the whole family, the fresh pair included, is revoked.
	var refused struct{ Error, ErrorDescription string }
	postForm(t, asm.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {toks.RefreshToken},
		"client_id": {reg.ClientID}, "resource": {urlA}}, 400, &refused)
	if refused.Error != "invalid_grant" || !strings.Contains(refused.ErrorDescription, "already used") {
		t.Errorf("old refresh token: %+v, want invalid_grant (already used)", refused)
	}
	if st := mcpPost(t, urlA, fresh.AccessToken).StatusCode; st != 401 {
		t.Errorf("fresh access token after refresh token reuse: status %d, want 401", st)
	}
	postForm(t, asm.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fresh.RefreshToken},
		"client_id": {reg.ClientID}}, 400, &refused)

	// Two more approvals (given over HTTP as the consent page gives them)
	// for the two ways of revoking.
	approve := consentOverHTTP(t, p.url, email, password, func() {})
	grant := func(state string) (access string) {
		t.Helper()
		v := strings.Repeat("k"+state, 10)
		res, err := approve(ctx, &auth.AuthorizationArgs{URL: authorizeURL(urlA, v, state)})
		if err != nil || res.State != state {
			t.Fatalf("approval over HTTP: %+v, %v", res, err)
		}
		var tk struct {
			AccessToken string `json:"access_token"`
		}
		postForm(t, asm.TokenEndpoint, url.Values{"grant_type": {"authorization_code"}, "code": {res.Code}, "redirect_uri": {redirectURI},
			"code_verifier": {v}, "client_id": {reg.ClientID}, "resource": {urlA}}, 200, &tk)
		return tk.AccessToken
	}
	// A second replica, whose token cache would trust a token for an hour,
	// learns of revocations only through LISTEN/NOTIFY.
	p2 := startPortico(t, dbURL, "PORTICO_TOKEN_CACHE_TTL=1h")
	urlA2 := p2.url + "/t/" + a + "/mcp"
	refusedNow := func(what, tok string) {
		t.Helper()
		resp := mcpPost(t, urlA, tok)
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: status %d %q, want 401 invalid_token at once", what, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		waitStatus(t, what+", on replica 2", urlA2, tok, 401)
	}

	// 8. The tenant admin revokes the application in the dashboard.
	second := grant("dash")
	waitStatus(t, "second grant on replica 1", urlA, second, 200)
	waitStatus(t, "second grant on replica 2", urlA2, second, 200)
	cmd = exec.CommandContext(ctx, node, "oauth-grants.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "PORTICO_URL="+p.url, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"TENANT_ID="+a, "CLIENT_NAME="+clientName, "OUT_DIR="+filepath.Join(e2e, "out"))
	out, err = cmd.CombinedOutput()
	t.Logf("oauth-grants.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser revocation failed: %v", err)
	}
	refusedNow("access token revoked in the dashboard", second)

	// 9. The client revokes its own token (RFC 7009).
	third := grant("rfc7009")
	waitStatus(t, "third grant on replica 1", urlA, third, 200)
	waitStatus(t, "third grant on replica 2", urlA2, third, 200)
	postForm(t, asm.RevocationEndpoint, url.Values{"token": {third}, "token_type_hint": {"access_token"},
		"client_id": {reg.ClientID}}, 200, nil)
	refusedNow("access token revoked by the client", third)

	// 10. The audit log tells the story without a secret in it.
	var audit []struct{ Action string }
	p.do(t, "GET", "/api/v1/tenants/"+a+"/audit", nil, 200, &struct {
		Entries *[]struct{ Action string } `json:"audit"`
	}{&audit})
	actions := map[string]bool{}
	for _, e := range audit {
		actions[e.Action] = true
	}
	for _, want := range []string{"oauth.consent", "oauth.token_issue", "oauth.refresh_reuse", "oauth.revoke"} {
		if !actions[want] {
			t.Errorf("audit log of %s lacks %s (has %v)", a, want, actions)
		}
	}
	var auditB []struct{ Action string }
	p.do(t, "GET", "/api/v1/tenants/"+b+"/audit", nil, 200, &struct {
		Entries *[]struct{ Action string } `json:"audit"`
	}{&auditB})
	denied := false
	for _, e := range auditB {
		denied = denied || e.Action == "oauth.consent_denied"
	}
	if !denied {
		t.Errorf("audit log of %s lacks oauth.consent_denied", b)
	}
	for _, secret := range []string{code, toks.AccessToken, toks.RefreshToken, fresh.AccessToken, fresh.RefreshToken, second, third} {
		if strings.Contains(p.responses.String(), secret) || strings.Contains(p.logs.String(), secret) {
			t.Errorf("a secret (%s…) appears in an API response or the log", secret[:8])
		}
	}
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func postJSON(t *testing.T, u string, body any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	decodeResp(t, "POST "+u, resp, want, out)
}

func postForm(t *testing.T, u string, v url.Values, want int, out any) {
	t.Helper()
	resp, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	decodeResp(t, "POST "+u, resp, want, out)
}

func decodeResp(t *testing.T, what string, resp *http.Response, want int, out any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, want, b)
	}
	if out != nil {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			if d, ok := m["error_description"]; ok { // OAuth errors: snake_case field
				m["ErrorDescription"] = d
				b, _ = json.Marshal(m)
			}
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", what, err, b)
		}
	}
}

// waitStatus polls an MCP endpoint with token until it answers want (10 s at most).
func waitStatus(t *testing.T, what, endpoint, token string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := mcpPost(t, endpoint, token).StatusCode
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %d, want %d", what, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
