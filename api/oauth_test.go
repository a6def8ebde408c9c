package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// fakeOAuthStore knows one tenant ("acme") and the clients registered with
// it; token operations record what they were given.
type fakeOAuthStore struct {
	clients   map[string]tenant.OAuthClient
	exchanged []string
	refreshed []string
}

func (f *fakeOAuthStore) RegisterOAuthClient(_ context.Context, c tenant.OAuthClient, _ string) (tenant.OAuthClient, error) {
	c.ID = fmt.Sprintf("oc_%d", len(f.clients)+1)
	f.clients[c.ID] = c
	return c, nil
}

func (f *fakeOAuthStore) OAuthClient(_ context.Context, id string) (tenant.OAuthClient, error) {
	c, ok := f.clients[id]
	if !ok {
		return c, tenant.ErrNotFound
	}
	return c, nil
}

func (f *fakeOAuthStore) CreateAuthCode(context.Context, string, tenant.AuthRequest, string) (string, error) {
	return "", unexpected("CreateAuthCode")
}

func (f *fakeOAuthStore) ExchangeAuthCode(_ context.Context, tenantID, code, clientID, redirectURI, verifier string) (tenant.OAuthTokens, error) {
	f.exchanged = append(f.exchanged, tenantID+" "+code+" "+clientID+" "+redirectURI+" "+verifier)
	return tenant.OAuthTokens{}, fmt.Errorf("exchange: %w: code: the authorization code expired; authorize again", tenant.ErrInvalidGrant)
}

func (f *fakeOAuthStore) RefreshOAuthToken(_ context.Context, tenantID, refresh, clientID string) (tenant.OAuthTokens, error) {
	f.refreshed = append(f.refreshed, tenantID+" "+refresh+" "+clientID)
	return tenant.OAuthTokens{}, fmt.Errorf("refresh: %w: refresh_token: already used", tenant.ErrInvalidGrant)
}

func (f *fakeOAuthStore) RefreshTokenTenant(_ context.Context, refresh string) (string, error) {
	if refresh == "ort_acme" {
		return "acme", nil
	}
	return "", tenant.ErrNotFound
}

func (f *fakeOAuthStore) RevokeOAuthToken(context.Context, string, string) (string, string, error) {
	return "", "", tenant.ErrNotFound
}

func (f *fakeOAuthStore) Tenant(_ context.Context, id string) (*tenant.Tenant, error) {
	if id != "acme" {
		return nil, tenant.ErrNotFound
	}
	return &tenant.Tenant{ID: "acme", Name: "Acme"}, nil
}

func (f *fakeOAuthStore) Role(context.Context, string, string) (tenant.Role, error) {
	return "", unexpected("Role")
}

func (f *fakeOAuthStore) RecordEvent(context.Context, string, string, string, map[string]any) error {
	return nil
}

const testBase = "https://portico.example"

func newOAuthTest(t *testing.T, fetch *http.Client) (http.Handler, *fakeOAuthStore) {
	t.Helper()
	st := &fakeOAuthStore{clients: map[string]tenant.OAuthClient{
		"oc_app": {ID: "oc_app", Name: "App", RedirectURIs: []string{"http://127.0.0.1:8765/callback", "https://app.example/cb"}},
	}}
	s := New(Options{Ready: func(context.Context) error { return nil }, BaseURL: testBase,
		OAuth: &OAuthOptions{Store: st, Fetch: fetch}})
	return s.Handler(), st
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func form(path string, v url.Values) *http.Request {
	req := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// oauthErrorOf decodes an RFC 6749 error body.
func oauthErrorOf(t *testing.T, w *httptest.ResponseRecorder) (string, string) {
	t.Helper()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q is not OAuth error JSON: %v", w.Body, err)
	}
	return e.Error, e.Description
}

func TestOAuthMetadata(t *testing.T) {
	h, _ := newOAuthTest(t, http.DefaultClient)
	w := serve(h, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || w.Code != 200 {
		t.Fatalf("metadata: %d %s", w.Code, w.Body)
	}
	for k, want := range map[string]any{
		"issuer": testBase, "authorization_endpoint": testBase + "/oauth/authorize", "token_endpoint": testBase + "/oauth/token",
		"registration_endpoint": testBase + "/oauth/register", "revocation_endpoint": testBase + "/oauth/revoke",
		"client_id_metadata_document_supported": true,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if got := fmt.Sprint(m["code_challenge_methods_supported"]); got != "[S256]" {
		t.Errorf("code_challenge_methods_supported = %s, want [S256] only", got)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Error("metadata is not readable cross-origin")
	}
}

func TestOAuthRegister(t *testing.T) {
	h, st := newOAuthTest(t, nil)
	tests := []struct {
		name, body string
		status     int
		code, want string // OAuth error and a word of its description
	}{
		{"loopback http", `{"redirect_uris":["http://127.0.0.1:3000/cb"],"client_name":"CLI"}`, 201, "", ""},
		{"https, secret method replaced", `{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"client_secret_basic"}`, 201, "", ""},
		{"localhost", `{"redirect_uris":["http://localhost:9/cb"]}`, 201, "", ""},
		{"with client_uri", `{"redirect_uris":["https://ok.example/cb"],"client_name":"App","client_uri":"https://ok.example"}`, 201, "", ""},
		{"no redirect_uris", `{"client_name":"x"}`, 400, "invalid_redirect_uri", "redirect_uris"},
		{"plain http elsewhere", `{"redirect_uris":["http://app.example/cb"]}`, 400, "invalid_redirect_uri", "redirect_uris[0]"},
		{"custom scheme", `{"redirect_uris":["https://ok.example/cb","myapp://cb"]}`, 400, "invalid_redirect_uri", "redirect_uris[1]"},
		{"fragment", `{"redirect_uris":["https://ok.example/cb#x"]}`, 400, "invalid_redirect_uri", "fragment"},
		{"relative", `{"redirect_uris":["/cb"]}`, 400, "invalid_redirect_uri", "absolute"},
		{"http client_uri", `{"redirect_uris":["https://ok.example/cb"],"client_uri":"http://ok.example"}`, 400, "invalid_client_metadata", "client_uri"},
		{"implicit grant", `{"redirect_uris":["https://ok.example/cb"],"grant_types":["implicit"]}`, 400, "invalid_client_metadata", "grant_types"},
		{"not JSON", `redirect_uris=x`, 400, "invalid_client_metadata", "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/oauth/register", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			w := serve(h, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 201 {
				var r map[string]any
				json.Unmarshal(w.Body.Bytes(), &r)
				if _, ok := st.clients[fmt.Sprint(r["client_id"])]; !ok || r["token_endpoint_auth_method"] != "none" {
					t.Errorf("registration = %v, want a stored client_id and token_endpoint_auth_method none", r)
				}
				// An optional member the client did not send is absent, never
				// "" (the TypeScript SDK rejects an empty client_uri).
				for k, v := range r {
					if v == "" {
						t.Errorf("registration answers %s: \"\"; omit it", k)
					}
				}
				return
			}
			code, desc := oauthErrorOf(t, w)
			if code != tc.code || !strings.Contains(desc, tc.want) {
				t.Errorf("error %s %q, want %s naming %s", code, desc, tc.code, tc.want)
			}
		})
	}
}

func authorizeQuery(mod func(url.Values)) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {"oc_app"}, "redirect_uri": {"http://127.0.0.1:8765/callback"},
		"code_challenge": {tenant.PKCEChallenge(strings.Repeat("a", 43))}, "code_challenge_method": {"S256"},
		"resource": {testBase + "/t/acme/mcp"}, "scope": {"mcp"}, "state": {"xyz"},
	}
	if mod != nil {
		mod(q)
	}
	return q.Encode()
}

func TestOAuthAuthorize(t *testing.T) {
	h, _ := newOAuthTest(t, nil)
	tests := []struct {
		name     string
		mod      func(url.Values)
		redirect bool   // the error goes back to the client
		code     string // "" means success: on to the consent page
		want     string
	}{
		{"good", nil, false, "", ""},
		{"no scope means mcp", func(q url.Values) { q.Del("scope") }, false, "", ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "oc_nope") }, false, "invalid_client", "client_id"},
		{"no client", func(q url.Values) { q.Del("client_id") }, false, "invalid_request", "client_id"},
		{"redirect not registered", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, false, "invalid_request", "redirect_uri"},
		{"redirect differs by a trailing slash", func(q url.Values) { q.Set("redirect_uri", "https://app.example/cb/") }, false, "invalid_request", "redirect_uri"},
		{"redirect differs by port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8766/callback") }, false, "invalid_request", "redirect_uri"},
		{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, false, "invalid_request", "redirect_uri"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request", "code_challenge"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request", "code_challenge_method"},
		{"method missing", func(q url.Values) { q.Del("code_challenge_method") }, true, "invalid_request", "code_challenge_method"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, true, "invalid_request", "code_challenge"},
		{"token response", func(q url.Values) { q.Set("response_type", "token") }, true, "unsupported_response_type", "response_type"},
		{"no resource", func(q url.Values) { q.Del("resource") }, true, "invalid_request", "resource"},
		{"resource of an unknown tenant", func(q url.Values) { q.Set("resource", testBase+"/t/nope/mcp") }, true, "invalid_target", "resource"},
		{"resource elsewhere", func(q url.Values) { q.Set("resource", "https://other.example/t/acme/mcp") }, true, "invalid_target", "resource"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "mcp admin") }, true, "invalid_scope", "scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, httptest.NewRequest("GET", "/oauth/authorize?"+authorizeQuery(tc.mod), nil))
			loc, _ := url.Parse(w.Header().Get("Location"))
			switch {
			case tc.code == "":
				if w.Code != 302 || loc.Path != "/oauth/consent" {
					t.Fatalf("%d to %q, want 302 to the consent page: %s", w.Code, loc, w.Body)
				}
			case tc.redirect:
				q := loc.Query()
				if w.Code != 302 || loc.Host != "127.0.0.1:8765" || q.Get("error") != tc.code ||
					!strings.Contains(q.Get("error_description"), tc.want) || q.Get("state") != "xyz" || q.Get("iss") != testBase {
					t.Fatalf("%d to %q, want 302 to the client with error %s naming %s, state and iss", w.Code, loc, tc.code, tc.want)
				}
			default:
				if w.Code/100 != 4 || loc.String() != "" {
					t.Fatalf("%d to %q, want an error shown here, never a redirect to an unchecked URI", w.Code, loc)
				}
				code, desc := oauthErrorOf(t, w)
				if code != tc.code || !strings.Contains(desc, tc.want) {
					t.Errorf("error %s %q, want %s naming %s", code, desc, tc.code, tc.want)
				}
			}
		})
	}
	// A parameter given twice is refused (RFC 6749 §3.1).
	w := serve(h, httptest.NewRequest("GET", "/oauth/authorize?"+authorizeQuery(nil)+"&client_id=oc_app", nil))
	if code, desc := oauthErrorOf(t, w); code != "invalid_request" || !strings.Contains(desc, "client_id") {
		t.Errorf("repeated client_id: %s %q", code, desc)
	}
	// The consent endpoints need a signed-in user.
	if w := serve(h, httptest.NewRequest("GET", "/oauth/authorize/details?"+authorizeQuery(nil), nil)); w.Code != 401 {
		t.Errorf("details without a session: %d, want 401", w.Code)
	}
}

func TestOAuthToken(t *testing.T) {
	h, st := newOAuthTest(t, nil)
	verifier := strings.Repeat("v", 43)
	good := func(mod func(url.Values)) url.Values {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {"oac_x"}, "redirect_uri": {"http://127.0.0.1:8765/callback"},
			"code_verifier": {verifier}, "client_id": {"oc_app"}, "resource": {testBase + "/t/acme/mcp"}}
		if mod != nil {
			mod(v)
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		want   string
	}{
		{"store refusal becomes invalid_grant", good(nil), 400, "invalid_grant", "code: the authorization code expired"},
		{"no verifier", good(func(v url.Values) { v.Del("code_verifier") }), 400, "invalid_request", "code_verifier"},
		{"short verifier", good(func(v url.Values) { v.Set("code_verifier", "abc") }), 400, "invalid_request", "code_verifier"},
		{"bad verifier characters", good(func(v url.Values) { v.Set("code_verifier", strings.Repeat("é", 43)) }), 400, "invalid_request", "code_verifier"},
		{"no code", good(func(v url.Values) { v.Del("code") }), 400, "invalid_request", "code"},
		{"no redirect_uri", good(func(v url.Values) { v.Del("redirect_uri") }), 400, "invalid_request", "redirect_uri"},
		{"no resource", good(func(v url.Values) { v.Del("resource") }), 400, "invalid_request", "resource"},
		{"another server's resource", good(func(v url.Values) { v.Set("resource", "https://x.example/t/acme/mcp") }), 400, "invalid_target", "resource"},
		{"unknown client", good(func(v url.Values) { v.Set("client_id", "oc_nope") }), 401, "invalid_client", "client_id"},
		{"no client", good(func(v url.Values) { v.Del("client_id") }), 400, "invalid_request", "client_id"},
		{"no grant type", good(func(v url.Values) { v.Del("grant_type") }), 400, "invalid_request", "grant_type"},
		{"password grant", good(func(v url.Values) { v.Set("grant_type", "password") }), 400, "unsupported_grant_type", "grant_type"},
		{"client credentials", good(func(v url.Values) { v.Set("grant_type", "client_credentials") }), 400, "unsupported_grant_type", "grant_type"},
		{"refresh without token", good(func(v url.Values) { v.Set("grant_type", "refresh_token") }), 400, "invalid_request", "refresh_token"},
		{"refresh with an unknown token", refreshForm("ort_nope", ""), 400, "invalid_grant", "refresh_token"},
		{"refresh with another tenant's resource", refreshForm("ort_acme", testBase+"/t/other/mcp"), 400, "invalid_target", "resource"},
		{"refresh reaches the store without a resource", refreshForm("ort_acme", ""), 400, "invalid_grant", "refresh_token: already used"},
		{"refresh with its own resource", refreshForm("ort_acme", testBase+"/t/acme/mcp"), 400, "invalid_grant", "refresh_token: already used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, form("/oauth/token", tc.form))
			code, desc := oauthErrorOf(t, w)
			if w.Code != tc.status || code != tc.code || !strings.Contains(desc, tc.want) {
				t.Errorf("%d %s %q, want %d %s naming %s", w.Code, code, desc, tc.status, tc.code, tc.want)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("token error response is cacheable")
			}
		})
	}
	if len(st.refreshed) != 2 || st.refreshed[0] != "acme ort_acme oc_app" {
		t.Errorf("store saw refreshes %q, want two for tenant acme", st.refreshed)
	}
	if len(st.exchanged) != 1 || st.exchanged[0] != "acme oac_x oc_app http://127.0.0.1:8765/callback "+verifier {
		t.Errorf("store saw %q, want one exchange for tenant acme with the request's values", st.exchanged)
	}
	// JSON instead of a form, and a repeated parameter.
	req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
	req.Header.Set("Content-Type", "application/json")
	if code, desc := oauthErrorOf(t, serve(h, req)); code != "invalid_request" || !strings.Contains(desc, "Content-Type") {
		t.Errorf("JSON body: %s %q", code, desc)
	}
	dup := good(nil).Encode() + "&code=oac_y"
	req = httptest.NewRequest("POST", "/oauth/token", strings.NewReader(dup))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, desc := oauthErrorOf(t, serve(h, req)); code != "invalid_request" || !strings.Contains(desc, "code") {
		t.Errorf("repeated code: %s %q", code, desc)
	}
	// Revocation of an unknown token is still 200 (RFC 7009 §2.2).
	if w := serve(h, form("/oauth/revoke", url.Values{"token": {"oat_unknown"}, "client_id": {"oc_app"}})); w.Code != 200 {
		t.Errorf("revoke unknown token: %d, want 200", w.Code)
	}
	if code, desc := oauthErrorOf(t, serve(h, form("/oauth/revoke", url.Values{"client_id": {"oc_app"}}))); code != "invalid_request" || !strings.Contains(desc, "token") {
		t.Errorf("revoke without token: %s %q", code, desc)
	}
}

func refreshForm(token, resource string) url.Values {
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {"oc_app"}}
	if resource != "" {
		v.Set("resource", resource)
	}
	return v
}

func TestClientIDMetadataDocument(t *testing.T) {
	var fetches atomic.Int32
	docs := map[string]func(self string) (int, string){}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		self := "https://" + r.Host + r.URL.Path
		f, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		status, body := f(self)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	doc := func(clientID string, extra string) string {
		return `{"client_id":"` + clientID + `","client_name":"Doc App","redirect_uris":["http://127.0.0.1:4000/cb"]` + extra + `}`
	}
	docs["/good"] = func(self string) (int, string) { return 200, doc(self, "") }
	docs["/mismatch"] = func(string) (int, string) { return 200, doc("https://elsewhere.example/app", "") }
	docs["/secret"] = func(self string) (int, string) { return 200, doc(self, `,"client_secret":"s"`) }
	docs["/jwt"] = func(self string) (int, string) {
		return 200, doc(self, `,"token_endpoint_auth_method":"private_key_jwt"`)
	}
	docs["/badredirect"] = func(self string) (int, string) {
		return 200, `{"client_id":"` + self + `","redirect_uris":["http://app.example/cb"]}`
	}
	docs["/noredirect"] = func(self string) (int, string) { return 200, `{"client_id":"` + self + `"}` }
	docs["/notjson"] = func(string) (int, string) { return 200, `<html>` }
	docs["/gone"] = func(string) (int, string) { return 500, `{}` }
	docs["/huge"] = func(self string) (int, string) { return 200, doc(self, `,"x":"`+strings.Repeat("a", 20000)+`"`) }

	cache := newCIMDCache(srv.Client())
	ctx := context.Background()
	for _, tc := range []struct{ path, want string }{
		{"/good", ""},
		{"/mismatch", "must equal the document's URL"},
		{"/secret", "client_secret"},
		{"/jwt", "token_endpoint_auth_method"},
		{"/badredirect", "redirect_uris[0]"},
		{"/noredirect", "redirect_uris"},
		{"/notjson", "not a JSON object"},
		{"/gone", "HTTP 500"},
		{"/huge", "larger than"},
		{"/missing", "HTTP 404"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c, err := cache.get(ctx, srv.URL+tc.path)
			if tc.want == "" {
				if err != nil || c.ID != srv.URL+tc.path || c.Name != "Doc App" || len(c.RedirectURIs) != 1 {
					t.Fatalf("good document: %+v, %v", c, err)
				}
				return
			}
			var oe *oauthError
			if !errors.As(err, &oe) || oe.Code != "invalid_client" || !strings.Contains(oe.Description, tc.want) {
				t.Fatalf("error %v, want invalid_client naming %q", err, tc.want)
			}
		})
	}
	// Cached: asking again fetches nothing, for good and bad documents.
	before := fetches.Load()
	cache.get(ctx, srv.URL+"/good")
	cache.get(ctx, srv.URL+"/mismatch")
	if fetches.Load() != before {
		t.Errorf("cached documents were fetched again (%d fetches)", fetches.Load()-before)
	}
	// URLs that are not document URLs are refused without a fetch.
	for _, bad := range []string{"https://host.example", "https://host.example/", "https://host.example/a/../b", "https://u:p@host.example/x", "https://host.example/x#f"} {
		if _, err := cache.get(ctx, bad); err == nil {
			t.Errorf("client_id %q accepted", bad)
		}
	}
	if fetches.Load() != before {
		t.Error("a malformed client_id URL was fetched")
	}

	// Through the authorization endpoint: a document client needs no registration.
	h, _ := newOAuthTest(t, srv.Client())
	q := authorizeQuery(func(q url.Values) {
		q.Set("client_id", srv.URL+"/good")
		q.Set("redirect_uri", "http://127.0.0.1:4000/cb")
	})
	if w := serve(h, httptest.NewRequest("GET", "/oauth/authorize?"+q, nil)); w.Code != 302 || !strings.HasPrefix(w.Header().Get("Location"), "/oauth/consent?") {
		t.Errorf("authorize with a document client: %d %s", w.Code, w.Body)
	}
}

// The grant routes are exercised against the real store end to end
// (e2e TestOAuthWithGoSDKClient); the fake refuses them.
func (f *fakeStore) OAuthGrants(context.Context, string) ([]tenant.OAuthGrant, error) {
	return nil, unexpected("OAuthGrants")
}

func (f *fakeStore) RevokeOAuthGrant(context.Context, string, string, string) error {
	return unexpected("RevokeOAuthGrant")
}

// TestCIMDFetchErrorIsGeneric: a failed metadata fetch tells an
// unauthenticated caller nothing of sockets or resolvers.
func TestCIMDFetchErrorIsGeneric(t *testing.T) {
	client := &http.Client{Transport: failingTransport{}}
	_, err := newCIMDCache(client).get(context.Background(), "https://[::1%25lo]:5432/x.json")
	var oe *oauthError
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Fatalf("err %v, want invalid_client", err)
	}
	for _, leak := range []string{"dial", "connection refused", "5432"} {
		if strings.Contains(strings.ReplaceAll(oe.Description, "https://[::1%25lo]:5432/x.json", ""), leak) {
			t.Errorf("description %q leaks %q", oe.Description, leak)
		}
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp [::1%lo]:5432: connect: connection refused")
}
