package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// credTest is the answer of POST /tenants/{id}/credentials/{name}/test.
type credTest struct {
	OK      bool                     `json:"ok"`
	Error   string                   `json:"error"`
	Summary string                   `json:"summary"`
	Checks  []tenant.CredentialCheck `json:"checks"`
}

// check returns the check named name of res, failing when there is none.
func (res credTest) check(t *testing.T, name string) tenant.CredentialCheck {
	t.Helper()
	for _, c := range res.Checks {
		if c.Check == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, res)
	return tenant.CredentialCheck{}
}

// wantCheck fails unless check name of res has status and code, and its
// message says every part.
func (res credTest) wantCheck(t *testing.T, what, name, status, code string, parts ...string) {
	t.Helper()
	c := res.check(t, name)
	if c.Status != status || c.Code != code {
		t.Errorf("%s: check %s = %s (code %q), want %s (code %q): %s", what, name, c.Status, c.Code, status, code, c.Message)
	}
	for _, p := range parts {
		if !strings.Contains(c.Message, p) {
			t.Errorf("%s: check %s says %q, not %q", what, name, c.Message, p)
		}
	}
}

// TestAuthorizationCodeCredentialTest: "Test connection" of
// oauth2_authorization_code credentials against the real FastAPI provider
// of the delegated-access tests: the right secret passes (the provider's
// invalid_grant for a made-up code proves it authenticated the client), a
// wrong one is named invalid_client, an unreachable token URL and one the
// outbound guard refuses (a redirect to the cloud metadata address) are
// said to be so; a signed-in member sees whether their own account is
// linked and, once it is, that it refreshes. Without sign-in the test is
// 401; another tenant's credential is 404. No secret in any answer.
func TestAuthorizationCodeCredentialTest(t *testing.T) {
	harness.HeavySuite(t, "runs portico and a FastAPI provider")
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	up := startProvider(t, p.url)

	create := func(name string) string {
		var created struct {
			ID string `json:"id"`
		}
		p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": name, "base_url": up.url + "/"}, 201, &created)
		return created.ID
	}
	id, other := create("delegated-test"), create("someone-else")
	put := func(tenantID, name, tokenURL, secret string, want int) {
		t.Helper()
		p.do(t, "PUT", "/api/v1/tenants/"+tenantID+"/credentials/"+name, map[string]any{"type": "oauth2_authorization_code",
			"authorize_url": up.url + "/oauth/authorize", "token_url": tokenURL, "client_id": "portico",
			"value": secret, "scopes": []string{"notes:read"}}, want, nil)
	}
	const wrongSecret = "wrong-secret-canary-5c2e"
	put(id, "notes", up.url+"/oauth/token", delegatedSecret, 204)
	put(id, "wrong", up.url+"/oauth/token", wrongSecret, 204)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	put(id, "down", fmt.Sprintf("http://127.0.0.1:%d/oauth/token", port), delegatedSecret, 204)
	// The metadata address is refused when the credential is saved; a
	// token URL that redirects there is refused when Portico follows it.
	put(id, "metadata", "http://169.254.169.254/oauth/token", delegatedSecret, 422)
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusTemporaryRedirect)
	}))
	defer meta.Close()
	put(id, "redirected", meta.URL+"/oauth/token", delegatedSecret, 204)
	put(other, "theirs", up.url+"/oauth/token", delegatedSecret, 204)

	test := func(name string) credTest {
		t.Helper()
		var res credTest
		p.do(t, "POST", "/api/v1/tenants/"+id+"/credentials/"+name+"/test", nil, 200, &res)
		return res
	}

	res := test("notes")
	if !res.OK || res.Error != "" {
		t.Errorf("right secret: %+v, want ok", res)
	}
	res.wantCheck(t, "right secret", "authorize_endpoint", tenant.CheckOK, "HTTP 400", up.url+"/oauth/authorize")
	res.wantCheck(t, "right secret", "token_endpoint", tenant.CheckOK, "HTTP 400", up.url+"/oauth/token")
	res.wantCheck(t, "right secret", "client_authentication", tenant.CheckOK, "invalid_grant", `accepted client id "portico"`)
	res.wantCheck(t, "right secret", "linked_account", tenant.CheckSkipped, "", "API key")
	if !strings.Contains(res.Summary, "accepted client id") {
		t.Errorf("summary %q does not say the client was accepted", res.Summary)
	}

	res = test("wrong")
	if res.OK || !strings.Contains(res.Error, "invalid_client") {
		t.Errorf("wrong secret: %+v, want not ok naming invalid_client", res)
	}
	res.wantCheck(t, "wrong secret", "client_authentication", tenant.CheckFailed, "invalid_client", `refused client id "portico" or its secret`)

	res = test("down")
	if res.OK {
		t.Errorf("unreachable token URL: %+v, want not ok", res)
	}
	res.wantCheck(t, "unreachable token URL", "token_endpoint", tenant.CheckFailed, "unreachable", "did not answer")
	res.wantCheck(t, "unreachable token URL", "client_authentication", tenant.CheckSkipped, "")

	res = test("redirected")
	if res.OK {
		t.Errorf("token URL redirecting to the metadata address: %+v, want not ok", res)
	}
	res.wantCheck(t, "token URL redirecting to the metadata address", "token_endpoint", tenant.CheckFailed, "blocked_address", "outbound guard", "169.254.169.254")

	// A signed-in member: not linked yet, then linked and refreshed.
	const email, password = "dana@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
	dana := signIn(t, p.url, email, password, p.responses)
	var mine credTest
	dana.do(t, "POST", p.url+"/api/v1/tenants/"+id+"/credentials/notes/test", map[string]any{}, 200, &mine)
	mine.wantCheck(t, "member before linking", "linked_account", tenant.CheckSkipped, "not_linked", "have not linked", "/tenants/"+id+"/accounts?link=notes")
	dana.link(t, p.url, id, "notes", "alice")
	var before struct {
		Refreshes int `json:"refreshes"`
	}
	getJSON(t, up.url+"/admin/stats", &before)
	mine = credTest{}
	dana.do(t, "POST", p.url+"/api/v1/tenants/"+id+"/credentials/notes/test", map[string]any{}, 200, &mine)
	mine.wantCheck(t, "member after linking", "linked_account", tenant.CheckOK, "", "is linked", "refresh token got a new access token")
	if !mine.OK {
		t.Errorf("member after linking: %+v, want ok", mine)
	}
	var after struct {
		Refreshes int `json:"refreshes"`
	}
	getJSON(t, up.url+"/admin/stats", &after)
	if after.Refreshes != before.Refreshes+1 {
		t.Errorf("provider refreshes %d → %d, want one for the test", before.Refreshes, after.Refreshes)
	}

	// Attackers: no sign-in, and another tenant's credential.
	resp, err := http.Post(p.url+"/api/v1/tenants/"+id+"/credentials/notes/test", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("test without sign-in: HTTP %d, want 401", resp.StatusCode)
	}
	dana.do(t, "POST", p.url+"/api/v1/tenants/"+other+"/credentials/theirs/test", map[string]any{}, 404, nil)
	dana.do(t, "POST", p.url+"/api/v1/tenants/"+id+"/credentials/theirs/test", map[string]any{}, 404, nil)

	for what, text := range map[string]string{"responses": p.responses.String(), "log": p.logs.String()} {
		for _, canary := range []string{delegatedSecret, wrongSecret, delegatedTokenPrefix} {
			if strings.Contains(text, canary) {
				t.Errorf("Portico's %s holds %q", what, canary)
			}
		}
	}
	b, _ := json.Marshal(mine)
	if strings.Contains(string(b), delegatedTokenPrefix) {
		t.Errorf("the test result holds a token: %s", b)
	}
}
