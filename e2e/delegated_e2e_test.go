package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// Canaries of the delegated-access test: the upstream client secret, and
// the prefix of every token the provider hands a user. None may appear in
// Portico's logs, its responses or its database.
const (
	delegatedSecret      = "delegated-client-secret-canary-7d41"
	delegatedTokenPrefix = "upstream-canary-"
)

// userAgent is a person in a browser: a cookie jar (Portico's session and
// link cookies) and the CSRF token of their dashboard session.
type userAgent struct {
	email string
	http  *http.Client
	csrf  string
	seen  *syncBuffer // every response body, for the canary scan
}

// signIn signs email in to the dashboard of the Portico at base.
func signIn(t *testing.T, base, email, password string, seen *syncBuffer) *userAgent {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &userAgent{email: email, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}, seen: seen}
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	u.do(t, "POST", base+"/api/v1/auth/login", map[string]string{"email": email, "password": password}, 200, &me)
	if me.CSRFToken == "" {
		t.Fatalf("sign-in of %s gave no CSRF token", email)
	}
	u.csrf = me.CSRFToken
	return u
}

// do sends a JSON request with the session cookie (and the CSRF token on
// changes) and decodes the answer.
func (u *userAgent) do(t *testing.T, method, target string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, target, rd)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", u.csrf)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	u.seen.Write(b)
	if resp.StatusCode != want {
		t.Fatalf("%s %s as %s: status %d, want %d: %s", method, target, u.email, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, target, err, b)
		}
	}
}

// consentAccount is one entry of the consent page's connected_accounts.
type consentAccount struct {
	Credential string `json:"credential"`
	Provider   string `json:"provider"`
	Linked     bool   `json:"linked"`
}

// oauthToken is what an MCP client gets from Portico's authorization
// server after u approves it for tenant id: an access token that carries
// u's identity, and what the consent page showed of u's connected
// accounts. The approval goes through the endpoints the dashboard's
// consent page calls.
func (u *userAgent) oauthToken(t *testing.T, base, id string) (string, []consentAccount) {
	t.Helper()
	const redirect = "http://127.0.0.1:9/callback" // never reached: the code is read from redirect_to
	var reg struct {
		ClientID string `json:"client_id"`
	}
	postJSON(t, base+"/oauth/register", map[string]any{"client_name": "Agent of " + u.email, "redirect_uris": []string{redirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"}, 201, &reg)
	verifier := strings.Repeat("v3rIf1er-", 6)
	resource := base + "/t/" + id + "/mcp"
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect},
		"code_challenge": {tenant.PKCEChallenge(verifier)}, "code_challenge_method": {"S256"},
		"resource": {resource}, "scope": {"mcp"}, "state": {"s"}}.Encode()
	var details struct {
		Accounts []consentAccount `json:"connected_accounts"`
	}
	u.do(t, "GET", base+"/oauth/authorize/details?"+q, nil, 200, &details)
	var decided struct {
		RedirectTo string `json:"redirect_to"`
	}
	u.do(t, "POST", base+"/oauth/authorize", map[string]any{"request": q, "approve": true}, 200, &decided)
	back, err := url.Parse(decided.RedirectTo)
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("consent answered %q, want a redirect with a code", decided.RedirectTo)
	}
	var toks struct {
		AccessToken string `json:"access_token"`
	}
	postForm(t, base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "client_id": {reg.ClientID}, "resource": {resource}}, 200, &toks)
	if toks.AccessToken == "" {
		t.Fatal("no access token")
	}
	return toks.AccessToken, details.Accounts
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// link runs the link flow as the browser does: start it on the Portico at
// base, sign in at the provider as upstreamUser and allow, follow the
// provider's redirect to Portico's callback and on to the dashboard.
func (u *userAgent) link(t *testing.T, base, id, cred, upstreamUser string) {
	t.Helper()
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	u.do(t, "POST", base+"/api/v1/tenants/"+id+"/connected-accounts/"+cred+"/link", map[string]any{}, 200, &start)
	resp, err := u.http.Get(start.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("provider's authorize page: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"username": {upstreamUser}, "decision": {"allow"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	au, _ := url.Parse(start.AuthorizeURL)
	resp, err = u.http.PostForm(au.Scheme+"://"+au.Host+"/oauth/authorize", form) // follows to Portico's callback, then the dashboard
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	final := resp.Request.URL
	if resp.StatusCode != 200 || final.Path != "/tenants/"+id+"/accounts" || final.Query().Get("linked") != cred {
		t.Fatalf("link flow of %s ended at %s (HTTP %d), want the dashboard's accounts page with linked=%s", u.email, final, resp.StatusCode, cred)
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#x27;", "'").Replace(s)
}

// toolResults collects every tool result the test got, for the canary scan.
var toolResults syncBuffer

// notes calls the my_notes tool at endpoint with token.
func notes(ctx context.Context, t *testing.T, endpoint, token string) *mcp.CallToolResult {
	t.Helper()
	cs := connect(ctx, t, endpoint, token)
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "my_notes", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	toolResults.Write(b)
	return res
}

// wantUser fails unless res is upstream user's own notes.
func wantUser(t *testing.T, what string, res *mcp.CallToolResult, user string) {
	t.Helper()
	if res.IsError {
		t.Fatalf("%s: tool error %s", what, textOf(res))
	}
	var got struct {
		User  string   `json:"user"`
		Notes []string `json:"notes"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &got); err != nil || got.User != user || len(got.Notes) == 0 || !strings.HasPrefix(got.Notes[0], user+":") {
		t.Fatalf("%s: got %s, want %s's own notes", what, b, user)
	}
}

// wantToolError fails unless res is a tool error whose text holds every part.
func wantToolError(t *testing.T, what string, res *mcp.CallToolResult, parts ...string) {
	t.Helper()
	if !res.IsError {
		t.Fatalf("%s: succeeded (%s), want a tool error", what, textOf(res))
	}
	for _, p := range parts {
		if !strings.Contains(textOf(res), p) {
			t.Fatalf("%s: tool error %q does not say %q", what, textOf(res), p)
		}
	}
}

// TestDelegatedAccessAcrossReplicas: a tenant whose credential is of type
// oauth2_authorization_code, served by two `portico serve` processes on one
// Postgres, a real FastAPI provider (authorization code + PKCE, rotating
// refresh tokens) and API. Two users link their own upstream accounts and
// the same tool answers each with their own data on either replica; an
// unlinked user and a static MCP token get tool errors saying what to do;
// a refused token is refreshed once fleet-wide; unlinking on one replica
// and an admin's revocation on the other take effect on the next call on
// the other; no token or secret appears in logs, responses or the database.
func TestDelegatedAccessAcrossReplicas(t *testing.T) {
	harness.HeavySuite(t, "builds and runs two portico processes and a FastAPI provider")
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	adminKey := generateAdminKey()
	ra := startReplica(t, bin, dbURL, adminKey, "PORTICO_LOG_LEVEL=debug")
	rb := startReplica(t, bin, dbURL, adminKey, "PORTICO_LOG_LEVEL=debug")
	seen := &syncBuffer{}
	pa := &portico{url: ra.url, adminKey: adminKey, logs: ra.logs, responses: seen}
	pb := &portico{url: rb.url, adminKey: adminKey, logs: rb.logs, responses: seen}

	up := startProvider(t, ra.url)

	var created struct {
		ID string `json:"id"`
	}
	pa.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "delegated", "base_url": up.url + "/"}, 201, &created)
	id := created.ID
	pa.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/notes", map[string]any{"type": "oauth2_client_credentials",
		"authorize_url": up.url + "/oauth/authorize", "token_url": up.url + "/oauth/token", "client_id": "portico", "value": delegatedSecret}, 422, nil)
	pa.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/notes", map[string]any{"type": "oauth2_authorization_code",
		"token_url": up.url + "/oauth/token", "client_id": "portico", "value": delegatedSecret}, 422, nil)
	pa.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/notes", map[string]any{"type": "oauth2_authorization_code",
		"authorize_url": up.url + "/oauth/authorize", "token_url": up.url + "/oauth/token", "client_id": "portico",
		"value": delegatedSecret, "scopes": []string{"notes:read"}}, 204, nil)
	pa.do(t, "POST", "/api/v1/tenants/"+id+"/activate", nil, 200, nil)
	static := pa.token(t, id)
	epA, epB := ra.url+"/t/"+id+"/mcp", rb.url+"/t/"+id+"/mcp"
	waitTools(t, "replica b after activation on a", epB, static, []string{"m2m_report", "my_notes", "who_am_i"})

	const password = "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	for _, email := range []string{"alice@example.test", "bob@example.test"} {
		if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
			func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		pa.do(t, "PUT", "/api/v1/tenants/"+id+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
	}
	alice := signIn(t, ra.url, "alice@example.test", password, seen)
	bob := signIn(t, rb.url, "bob@example.test", password, seen)
	aliceTok, shown := alice.oauthToken(t, ra.url, id)
	if len(shown) != 1 || shown[0].Credential != "notes" || shown[0].Linked || shown[0].Provider != "127.0.0.1" {
		t.Fatalf("consent page's connected accounts before linking = %+v, want notes at 127.0.0.1, not linked", shown)
	}
	bobTok, _ := bob.oauthToken(t, rb.url, id)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Without a user, and before linking: tool errors saying what to do.
	wantToolError(t, "static MCP token", notes(ctx, t, epA, static), `credential "notes"`, "static MCP token", "user-bound token")
	linkPath := "/tenants/" + id + "/accounts?link=notes" // on the replica's own URL: no PORTICO_PUBLIC_URL is set
	wantToolError(t, "alice before linking", notes(ctx, t, epA, aliceTok), "have not linked", ra.url+linkPath)

	// Each links their own account, alice through replica a, bob through b.
	alice.link(t, ra.url, id, "notes", "alice")
	bob.link(t, rb.url, id, "notes", "bob")
	wantUser(t, "alice on a", notes(ctx, t, epA, aliceTok), "alice")
	wantUser(t, "bob on b", notes(ctx, t, epB, bobTok), "bob")
	wantUser(t, "alice on b", notes(ctx, t, epB, aliceTok), "alice")
	wantUser(t, "bob on a", notes(ctx, t, epA, bobTok), "bob")
	wantToolError(t, "static MCP token after linking", notes(ctx, t, epB, static), "static MCP token")
	if _, shown := alice.oauthToken(t, rb.url, id); len(shown) != 1 || !shown[0].Linked {
		t.Fatalf("consent page's connected accounts after linking = %+v, want notes linked", shown)
	}

	var mine struct {
		Accounts []struct {
			Credential string   `json:"credential"`
			Linked     bool     `json:"linked"`
			Granted    []string `json:"granted_scopes"`
		} `json:"accounts"`
	}
	alice.do(t, "GET", rb.url+"/api/v1/tenants/"+id+"/connected-accounts", nil, 200, &mine)
	if len(mine.Accounts) != 1 || !mine.Accounts[0].Linked || strings.Join(mine.Accounts[0].Granted, " ") != "notes:read" {
		t.Fatalf("alice's connected accounts = %+v, want notes linked with scope notes:read", mine.Accounts)
	}

	// A refused token is refreshed once, by one replica; the other finds
	// the refreshed token in the database instead of refreshing again.
	stats := func() (refreshes int) {
		var s struct {
			Refreshes int `json:"refreshes"`
		}
		getJSON(t, up.url+"/admin/stats", &s)
		return s.Refreshes
	}
	postJSON(t, up.url+"/admin/expire-user-tokens", nil, 200, nil)
	wantUser(t, "alice on a after the provider expired her token", notes(ctx, t, epA, aliceTok), "alice")
	wantUser(t, "alice on b after the provider expired her token", notes(ctx, t, epB, aliceTok), "alice")
	if n := stats(); n != 1 {
		t.Errorf("refreshes = %d, want 1 (b reuses a's refreshed token)", n)
	}

	// Tenant admins see who linked, never a token.
	var listed struct {
		Linked []struct {
			Credential string `json:"credential"`
			UserID     string `json:"user_id"`
			Email      string `json:"email"`
		} `json:"linked_accounts"`
	}
	pb.do(t, "GET", "/api/v1/tenants/"+id+"/linked-accounts", nil, 200, &listed)
	if len(listed.Linked) != 2 || listed.Linked[0].Email != "alice@example.test" || listed.Linked[1].Email != "bob@example.test" {
		t.Fatalf("linked accounts = %+v, want alice and bob", listed.Linked)
	}
	bobID := listed.Linked[1].UserID

	// Alice unlinks on a: her next call on b finds no token. Bob's link,
	// revoked by an admin on b, stops working on a.
	// Each replica logged these users' links already: only lines written
	// after the change count.
	fromB := len(rb.logs.String())
	alice.do(t, "DELETE", ra.url+"/api/v1/tenants/"+id+"/connected-accounts/notes", nil, 204, nil)
	waitLogAfter(t, rb, fromB, "linked account changed", `"user":"`+listed.Linked[0].UserID+`"`)
	wantToolError(t, "alice on b after unlinking on a", notes(ctx, t, epB, aliceTok), "have not linked", rb.url+linkPath)
	wantUser(t, "bob on b after alice unlinked", notes(ctx, t, epB, bobTok), "bob")
	fromA := len(ra.logs.String())
	pb.do(t, "DELETE", "/api/v1/tenants/"+id+"/linked-accounts/notes/"+bobID, nil, 204, nil)
	waitLogAfter(t, ra, fromA, "linked account changed", `"user":"`+bobID+`"`)
	wantToolError(t, "bob on a after an admin revoked his link on b", notes(ctx, t, epA, bobTok), "have not linked")

	// The canaries: no token the provider issued and not the client
	// secret, anywhere Portico writes.
	for name, text := range map[string]string{"replica a's log": ra.logs.String(), "replica b's log": rb.logs.String(), "responses": seen.String(), "tool results": toolResults.String()} {
		for _, canary := range []string{delegatedSecret, delegatedTokenPrefix} {
			if strings.Contains(text, canary) {
				t.Errorf("%s holds %q", name, canary)
			}
		}
	}
	scanDatabaseFor(t, dbURL, delegatedSecret)
	scanDatabaseFor(t, dbURL, delegatedTokenPrefix)
}

// startProvider runs the FastAPI provider and API of testdata/identity_app.py.
func startProvider(t *testing.T, porticoURL string) *fastAPI {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import jwt, cryptography, multipart, fastapi, uvicorn").Run(); err != nil {
		harness.SkipOrFail(t, "PyJWT with cryptography and python-multipart are needed: apt-get install -y python3-jwt python3-cryptography python3-multipart (or run bash .ci/run)")
	}
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
	up.start(t, "PYTHONPATH="+dir, "PORTICO_URL="+porticoURL, "SERVICE_URL="+up.url,
		"IDP_CLIENT_ID=portico", "IDP_CLIENT_SECRET="+delegatedSecret, "IDP_USER_TOKEN_PREFIX="+delegatedTokenPrefix)
	return up
}

// TestDelegatedAccessDashboard runs web/e2e/linked.mjs in Chromium: a
// member links, unlinks, links again from the OAuth consent page and
// approves; a tenant admin sees the link and revokes it.
func TestDelegatedAccessDashboard(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	up := startProvider(t, p.url)
	var created struct {
		ID string `json:"id"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "delegated-ui", "base_url": up.url + "/"}, 201, &created)
	id := created.ID
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/notes", map[string]any{"type": "oauth2_authorization_code",
		"authorize_url": up.url + "/oauth/authorize", "token_url": up.url + "/oauth/token", "client_id": "portico",
		"value": delegatedSecret, "scopes": []string{"notes:read"}}, 204, nil)
	p.do(t, "POST", "/api/v1/tenants/"+id+"/activate", nil, 200, nil)
	const email, password = "carol@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)

	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Client</title><p>You can close this window.</p>")
	}))
	defer cb.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	postJSON(t, p.url+"/oauth/register", map[string]any{"client_name": "Notes agent", "redirect_uris": []string{cb.URL + "/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"}, 201, &reg)
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {cb.URL + "/callback"},
		"code_challenge": {tenant.PKCEChallenge(strings.Repeat("Zq3-", 12))}, "code_challenge_method": {"S256"},
		"resource": {p.url + "/t/" + id + "/mcp"}, "scope": {"mcp"}, "state": {"st"}}

	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "linked.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "PORTICO_URL="+p.url, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"TENANT_ID="+id, "UPSTREAM_USER=alice", "CONSENT_URL="+p.url+"/oauth/consent?"+q.Encode(), "CALLBACK_URL="+cb.URL+"/callback",
		"TOKEN_PREFIX="+delegatedTokenPrefix, "OUT_DIR="+filepath.Join(e2e, "out"))
	out, err := cmd.CombinedOutput()
	t.Logf("linked.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("dashboard link flow failed: %v", err)
	}
	var listed struct {
		Linked []any `json:"linked_accounts"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/linked-accounts", nil, 200, &listed)
	if len(listed.Linked) != 0 {
		t.Errorf("linked accounts after the admin revoked in the dashboard = %v, want none", listed.Linked)
	}
	var s struct {
		Exchanges int `json:"code_exchanges"`
	}
	getJSON(t, up.url+"/admin/stats", &s)
	if s.Exchanges != 2 {
		t.Errorf("code exchanges at the provider = %d, want 2 (two links)", s.Exchanges)
	}
	for what, text := range map[string]string{"log": p.logs.String(), "responses": p.responses.String()} {
		for _, canary := range []string{delegatedSecret, delegatedTokenPrefix} {
			if strings.Contains(text, canary) {
				t.Errorf("Portico's %s holds %q", what, canary)
			}
		}
	}
}

// waitLogAfter waits until r's log has a line holding every part among
// those written after its first offset bytes.
func waitLogAfter(t *testing.T, r *replica, offset int, parts ...string) {
	t.Helper()
	has := func() bool {
		for _, line := range strings.Split(r.logs.String()[offset:], "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !has(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not log %q within 10 s; its log ends:\n%s", r.url, parts, tail(r.logs.String(), 3000))
		}
	}
}
