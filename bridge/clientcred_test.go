package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

const ccSecret = "cc-secret-4b1d"

// tokenServer is an OAuth2 token endpoint (RFC 6749 §4.4) that issues
// numbered tokens and counts its requests.
type tokenServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	form     map[string][]string
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		r.ParseForm()
		ts.mu.Lock()
		ts.form = r.PostForm
		ts.mu.Unlock()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if id != "portico" || secret != ccSecret || r.PostForm.Get("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			// A careless endpoint that echoes what it was sent.
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"client authentication failed for secret %s"}`, secret)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%d}`, n, expiresIn)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// ccTenant activates a tenant whose upstream is up and whose one
// credential is creds, and returns a function that calls get_r.
func ccTenant(t *testing.T, upstream http.Handler, cred tenant.LiveCredential) (*Runtime, *live, func(ctx context.Context) *mcp.CallToolResult) {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	ten := &tenant.Tenant{ID: "t1", Name: "cc", BaseURL: up.URL, Status: tenant.StatusPending}
	store := &fakeStore{
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			c := *ten
			c.Status = to
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, Raw: []byte(fastSpec)}, nil
		},
		liveCredentialsFn: func(context.Context, string) ([]tenant.LiveCredential, error) {
			return []tenant.LiveCredential{cred}, nil
		},
	}
	r := New(store, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	l := r.lookup("t1")
	return r, l, func(ctx context.Context) *mcp.CallToolResult {
		st := l.state.Load()
		res, _ := l.call(ctx, st, st.ops["tool:get_r"], &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "get_r", Arguments: json.RawMessage(`{"kind":"obj"}`)}})
		return res
	}
}

func ccCredential(tokenURL string) tenant.LiveCredential {
	return tenant.LiveCredential{
		Credential: tenant.Credential{Name: "m2m", Type: tenant.CredOAuth2ClientCredentials, OAuth2Config: tenant.OAuth2Config{
			TokenURL: tokenURL, ClientID: "portico", Scopes: []string{"read", "write"}, Audience: "https://api.example",
		}},
		Value: ccSecret,
	}
}

// bearerUpstream answers get_r when the request carries one of the tokens
// ok accepts, else 401, and counts requests.
func bearerUpstream(n *atomic.Int64, ok func(tok string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || !ok(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"detail":"bad token"}`))
			return
		}
		fastUpstream(w, r)
	})
}

// TestClientCredentialsOneFetchAfterExpiry: a token is fetched once and
// reused; once it expires, 100 concurrent calls cause exactly one token
// request, and every call succeeds with the new token.
func TestClientCredentialsOneFetchAfterExpiry(t *testing.T) {
	ts := newTokenServer(t, 300)
	var upstream atomic.Int64
	_, l, call := ccTenant(t, bearerUpstream(&upstream, func(tok string) bool { return strings.HasPrefix(tok, "tok-") }), ccCredential(ts.URL+"/token"))
	cc := l.state.Load().clientCreds[0]
	var offset atomic.Int64 // the credential's clock runs this far ahead
	cc.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

	for range 3 {
		if res := call(context.Background()); res.IsError {
			t.Fatalf("call failed: %s", res.Content[0].(*mcp.TextContent).Text)
		}
	}
	if got := ts.requests.Load(); got != 1 {
		t.Fatalf("token requests after 3 calls = %d, want 1 (the token is cached)", got)
	}
	ts.mu.Lock()
	form := ts.form
	ts.mu.Unlock()
	if got := strings.Join(form["scope"], ","); got != "read write" {
		t.Errorf("scope sent = %q, want %q", got, "read write")
	}
	if got := strings.Join(form["audience"], ","); got != "https://api.example" {
		t.Errorf("audience sent = %q, want https://api.example", got)
	}

	offset.Store(int64(301 * time.Second)) // past expires_in
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 100 {
		wg.Go(func() {
			if res := call(context.Background()); res.IsError {
				failed.Add(1)
				t.Errorf("call after expiry failed: %s", res.Content[0].(*mcp.TextContent).Text)
			}
		})
	}
	wg.Wait()
	if got := ts.requests.Load(); got != 2 {
		t.Errorf("token requests after 100 concurrent calls past expiry = %d, want 2 (one more)", got)
	}
	if failed.Load() != 0 {
		t.Errorf("%d of 100 calls failed", failed.Load())
	}
}

// TestClientCredentialsRefreshOn401: a token the upstream refuses is
// replaced once and the call retried once; an upstream that refuses every
// token gets exactly one retry and the agent sees the 401.
func TestClientCredentialsRefreshOn401(t *testing.T) {
	t.Run("revoked token", func(t *testing.T) {
		ts := newTokenServer(t, 3600)
		var upstream atomic.Int64
		_, _, call := ccTenant(t, bearerUpstream(&upstream, func(tok string) bool { return tok != "tok-1" }), ccCredential(ts.URL+"/token"))
		res := call(context.Background())
		if res.IsError {
			t.Fatalf("call failed: %s", res.Content[0].(*mcp.TextContent).Text)
		}
		if got, want := [2]int64{ts.requests.Load(), upstream.Load()}, [2]int64{2, 2}; got != want {
			t.Errorf("token requests, upstream requests = %v, want %v", got, want)
		}
		call(context.Background())
		if got := ts.requests.Load(); got != 2 {
			t.Errorf("token requests after a second call = %d, want 2 (the new token is cached)", got)
		}
	})
	t.Run("upstream refuses every token", func(t *testing.T) {
		ts := newTokenServer(t, 3600)
		var upstream atomic.Int64
		_, _, call := ccTenant(t, bearerUpstream(&upstream, func(string) bool { return false }), ccCredential(ts.URL+"/token"))
		res := call(context.Background())
		text := res.Content[0].(*mcp.TextContent).Text
		if !res.IsError || !strings.Contains(text, "HTTP 401") {
			t.Errorf("result = %v %q, want the upstream's 401 as a tool error", res.IsError, text)
		}
		if got, want := [2]int64{ts.requests.Load(), upstream.Load()}, [2]int64{2, 2}; got != want {
			t.Errorf("token requests, upstream requests = %v, want %v (one refresh, one retry)", got, want)
		}
	})
}

// TestClientCredentialsErrors: a refused or unreachable token endpoint is
// a tool error naming the credential, the endpoint and its error code,
// never the secret; nothing reaches the upstream.
func TestClientCredentialsErrors(t *testing.T) {
	ts := newTokenServer(t, 3600)
	cases := []struct {
		name string
		cred func() tenant.LiveCredential
		want []string
	}{
		{"wrong secret", func() tenant.LiveCredential {
			c := ccCredential(ts.URL + "/token?tenant=x")
			c.Value = "wrong-secret-9a7"
			return c
		}, []string{`credential "m2m"`, ts.URL + "/token refused", "invalid_client", "[REDACTED]"}},
		{"client_secret_post, wrong client", func() tenant.LiveCredential {
			c := ccCredential(ts.URL + "/token")
			c.AuthMethod, c.ClientID = tenant.AuthMethodPost, "nobody"
			return c
		}, []string{`credential "m2m"`, "invalid_client"}},
		{"token endpoint outside the allow-list", func() tenant.LiveCredential {
			return ccCredential(strings.Replace(ts.URL, "127.0.0.1", "127.0.0.2", 1) + "/token")
		}, []string{`credential "m2m"`, "could not get an access token", "127.0.0.2", "PORTICO_ALLOW_UPSTREAM_CIDRS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var upstream atomic.Int64
			cred := tc.cred()
			_, _, call := ccTenant(t, bearerUpstream(&upstream, func(string) bool { return true }), cred)
			res := call(context.Background())
			text := res.Content[0].(*mcp.TextContent).Text
			if !res.IsError {
				t.Fatalf("call succeeded: %s", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("tool error %q does not contain %q", text, w)
				}
			}
			if strings.Contains(text, cred.Value.Reveal()) || strings.Contains(text, "tenant=x") {
				t.Errorf("tool error %q carries the secret or the token URL's query", text)
			}
			if upstream.Load() != 0 {
				t.Errorf("upstream got %d requests, want none", upstream.Load())
			}
		})
	}
}

// TestClientCredentialsKeptAcrossReload: a reload that does not change the
// credential keeps its cached token; changing it drops the token.
func TestClientCredentialsKeptAcrossReload(t *testing.T) {
	ts := newTokenServer(t, 3600)
	var upstream atomic.Int64
	cred := ccCredential(ts.URL + "/token")
	var mu sync.Mutex
	r, _, call := ccTenant(t, bearerUpstream(&upstream, func(string) bool { return true }), cred)
	r.store.(*fakeStore).liveCredentialsFn = func(context.Context, string) ([]tenant.LiveCredential, error) {
		mu.Lock()
		defer mu.Unlock()
		return []tenant.LiveCredential{cred}, nil
	}
	call(context.Background())
	if err := r.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	call(context.Background())
	if got := ts.requests.Load(); got != 1 {
		t.Errorf("token requests after a reload with the same credential = %d, want 1", got)
	}
	mu.Lock()
	cred.Scopes = []string{"read"}
	mu.Unlock()
	if err := r.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	call(context.Background())
	if got := ts.requests.Load(); got != 2 {
		t.Errorf("token requests after the credential changed = %d, want 2", got)
	}
}

// TestTestCredential: "Test connection" reports an issued token's type and
// lifetime, or the token endpoint's refusal; it leaves the live cache alone
// and refuses credentials that fetch nothing.
func TestTestCredential(t *testing.T) {
	ts := newTokenServer(t, 600)
	var upstream atomic.Int64
	good := ccCredential(ts.URL + "/token")
	bad := ccCredential(ts.URL + "/token")
	bad.Name, bad.Value = "bad", "nope"
	static := tenant.LiveCredential{Credential: tenant.Credential{Name: "static", Type: tenant.CredBearer}, Value: "v"}
	r, l, _ := ccTenant(t, bearerUpstream(&upstream, func(string) bool { return true }), good)
	r.store.(*fakeStore).liveCredentialsFn = func(context.Context, string) ([]tenant.LiveCredential, error) {
		return []tenant.LiveCredential{good, bad, static}, nil
	}
	res, err := r.TestCredential(context.Background(), "t1", "m2m", "", "")
	if err != nil || !res.OK || res.TokenType != "Bearer" || res.ExpiresIn < 590 || res.ExpiresIn > 600 {
		t.Errorf("TestCredential(m2m) = %+v, %v; want ok, Bearer, ~600 s", res, err)
	}
	if l.state.Load().clientCreds[0].tok != nil {
		t.Error("the test filled the live tenant's token cache")
	}
	res, err = r.TestCredential(context.Background(), "t1", "bad", "", "")
	if err != nil || res.OK || !strings.Contains(res.Error, "invalid_client") || strings.Contains(res.Error, "nope") {
		t.Errorf("TestCredential(bad) = %+v, %v; want not ok with invalid_client and no secret", res, err)
	}
	if _, err := r.TestCredential(context.Background(), "t1", "static", "", ""); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("TestCredential(static) error = %v, want ErrInvalid", err)
	}
	if _, err := r.TestCredential(context.Background(), "t1", "missing", "", ""); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("TestCredential(missing) error = %v, want ErrNotFound", err)
	}
}
