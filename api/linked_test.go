package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// fakeLinker is the provider side of a link flow: it records the authorize
// request and answers a fixed token for code "good".
type fakeLinker struct {
	state, verifier, redirect string
}

func (f *fakeLinker) AuthorizeURL(_ context.Context, _, _, state, verifier, redirectURI string) (string, error) {
	f.state, f.verifier, f.redirect = state, verifier, redirectURI
	return "https://idp.example/authorize?" + url.Values{"state": {state}, "code_challenge": {tenant.PKCEChallenge(verifier)}}.Encode(), nil
}

func (f *fakeLinker) Exchange(_ context.Context, _, _, code, verifier, redirectURI string) (tenant.LinkedTokens, error) {
	if code != "good" || verifier != f.verifier || redirectURI != f.redirect {
		return tenant.LinkedTokens{}, errors.New(`credential "notes": the token endpoint refused to exchange the authorization code: invalid_grant`)
	}
	return tenant.LinkedTokens{AccessToken: "access-canary", RefreshToken: "refresh-canary", TokenType: "Bearer", Scopes: []string{"notes:read"}}, nil
}

// TestLinkRoutes: the link flow's REST side on a real store. Starting
// needs a dashboard session and a per-user credential, and refuses an
// off-site return_to naming the field; the callback needs the state and
// the browser's link cookie, is good once, and sends the browser back to
// the dashboard; the user sees their link, an admin sees who linked (no
// token) and revokes; a viewer may link their own but not list others'.
func TestLinkRoutes(t *testing.T) {
	env := newAuthzEnv(t)
	lk := &fakeLinker{}
	h := New(Options{Store: env.store, Runtime: &fakeRuntime{}, BaseURL: "https://portico.example",
		Link: &LinkOptions{Store: env.store, Linker: lk}}).Handler()
	id := env.newTenant(t)
	ctx := context.Background()
	if err := env.store.PutCredential(ctx, id, tenant.Credential{Name: "notes", Type: tenant.CredOAuth2AuthorizationCode, OAuth2Config: tenant.OAuth2Config{
		AuthorizeURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token", ClientID: "portico"}}, "secret", "test"); err != nil {
		t.Fatal(err)
	}
	if err := env.store.PutCredential(ctx, id, tenant.Credential{Name: "static", Type: tenant.CredBearer}, "x", "test"); err != nil {
		t.Fatal(err)
	}
	viewer := env.sessions["viewer"]
	base := "/api/v1/tenants/" + id

	// Refusals before anything is stored.
	if w := viewer.do(t, h, "POST", base+"/connected-accounts/notes/link", `{"return_to":"//evil.example/"}`); w.Code != 422 || !strings.Contains(w.Body.String(), "return_to") {
		t.Errorf("off-site return_to: %d %s, want 422 naming return_to", w.Code, w.Body)
	}
	if w := viewer.do(t, h, "POST", base+"/connected-accounts/static/link", `{}`); w.Code != 422 || !strings.Contains(w.Body.String(), "credential") {
		t.Errorf("linking a bearer credential: %d %s, want 422 naming credential", w.Code, w.Body)
	}
	if w := viewer.do(t, h, "POST", base+"/connected-accounts/nope/link", `{}`); w.Code != 404 {
		t.Errorf("linking an unknown credential: %d %s, want 404", w.Code, w.Body)
	}
	if w := (authzCred{key: env.adminKey}).do(t, h, "POST", base+"/connected-accounts/notes/link", `{}`); w.Code != 403 {
		t.Errorf("an admin API key (no user) linking: %d %s, want 403", w.Code, w.Body)
	}

	// Start: the authorize URL, and the cookie that binds the flow to this browser.
	w := viewer.do(t, h, "POST", base+"/connected-accounts/notes/link", `{}`)
	if w.Code != 200 {
		t.Fatalf("start link: %d %s", w.Code, w.Body)
	}
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	json.Unmarshal(w.Body.Bytes(), &start)
	var ck *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == secureLinkCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || lk.redirect != "https://portico.example/oauth/link/callback" || !strings.HasPrefix(start.AuthorizeURL, "https://idp.example/authorize?") {
		t.Fatalf("start link: cookie %+v, redirect %q, authorize URL %q", ck, lk.redirect, start.AuthorizeURL)
	}
	callback := func(q url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/oauth/link/callback?"+q.Encode(), nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := callback(url.Values{"code": {"good"}}, ck); w.Code != 400 || !strings.Contains(w.Body.String(), "state") {
		t.Errorf("callback without state: %d %s, want 400 naming the state", w.Code, w.Body)
	}
	if w := callback(url.Values{"code": {"good"}, "state": {lk.state}}, &http.Cookie{Name: secureLinkCookie, Value: "another-browser"}); w.Code != 400 {
		t.Errorf("callback in another browser: %d %s, want 400", w.Code, w.Body)
	}
	// That attempt burned the state: start again, then complete.
	w = viewer.do(t, h, "POST", base+"/connected-accounts/notes/link", `{"return_to":"/tenants/`+id+`/accounts"}`)
	for _, c := range w.Result().Cookies() {
		if c.Name == secureLinkCookie {
			ck = c
		}
	}
	w = callback(url.Values{"code": {"good"}, "state": {lk.state}}, ck)
	if w.Code != 302 || w.Header().Get("Location") != "https://portico.example/tenants/"+id+"/accounts?credential=notes&linked=notes" {
		t.Fatalf("callback: %d to %q, want 302 to the accounts tab with linked=notes", w.Code, w.Header().Get("Location"))
	}
	if w := callback(url.Values{"code": {"good"}, "state": {lk.state}}, ck); w.Code != 400 {
		t.Errorf("second callback with one state: %d, want 400", w.Code)
	}

	// What the user and the admins see, and revocation.
	w = viewer.do(t, h, "GET", base+"/connected-accounts", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"linked":true`) || !strings.Contains(w.Body.String(), `"provider":"idp.example"`) {
		t.Fatalf("viewer's connected accounts: %d %s", w.Code, w.Body)
	}
	if w := viewer.do(t, h, "GET", base+"/linked-accounts", ""); w.Code != 403 {
		t.Errorf("viewer listing who linked: %d, want 403", w.Code)
	}
	admin := env.sessions["admin"]
	w = admin.do(t, h, "GET", base+"/linked-accounts", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "viewer@example.com") || strings.Contains(w.Body.String(), "canary") {
		t.Fatalf("admin listing who linked: %d %s", w.Code, w.Body)
	}
	if w := admin.do(t, h, "DELETE", base+"/linked-accounts/notes/"+env.users["viewer"].ID, ""); w.Code != 204 {
		t.Fatalf("admin revoking: %d %s", w.Code, w.Body)
	}
	if w := viewer.do(t, h, "DELETE", base+"/connected-accounts/notes", ""); w.Code != 404 {
		t.Errorf("unlinking a revoked link: %d, want 404", w.Code)
	}

	// The credential itself: authorize_url is required, and vetted by the
	// outbound guard like token_url.
	if w := admin.do(t, h, "PUT", base+"/credentials/other", `{"type":"oauth2_authorization_code","token_url":"https://idp.example/token","client_id":"p","value":"s"}`); w.Code != 422 || !strings.Contains(w.Body.String(), `"authorize_url"`) {
		t.Errorf("no authorize_url: %d %s, want 422 naming authorize_url", w.Code, w.Body)
	}
	guarded := New(Options{Store: env.store, Runtime: &fakeRuntime{}, BaseURL: "https://portico.example", Link: &LinkOptions{Store: env.store, Linker: lk},
		CheckUpstream: func(_ context.Context, raw string) error {
			if strings.Contains(raw, "169.254.169.254") {
				return errors.New("169.254.169.254 is a link-local address")
			}
			return nil
		}}).Handler()
	w = admin.do(t, guarded, "PUT", base+"/credentials/other", `{"type":"oauth2_authorization_code","authorize_url":"http://169.254.169.254/authorize","token_url":"https://idp.example/token","client_id":"p","value":"s"}`)
	if w.Code != 422 || !strings.Contains(w.Body.String(), `"authorize_url"`) || strings.Contains(w.Body.String(), `"token_url"`) {
		t.Errorf("authorize_url at a metadata address: %d %s, want 422 naming authorize_url only", w.Code, w.Body)
	}

	// A provider's refusal comes back to the dashboard as link_error.
	w = viewer.do(t, h, "POST", base+"/connected-accounts/notes/link", `{}`)
	for _, c := range w.Result().Cookies() {
		if c.Name == secureLinkCookie {
			ck = c
		}
	}
	w = callback(url.Values{"error": {"access_denied"}, "state": {lk.state}}, ck)
	if loc := w.Header().Get("Location"); w.Code != 302 || !strings.Contains(loc, "link_error=the+provider+answered+access_denied") {
		t.Errorf("callback with access_denied: %d to %q, want link_error", w.Code, loc)
	}
}
