package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// fakeLinked is a LinkedStore in memory; refreshes of one user take turns
// as they do on the database row.
type fakeLinked struct {
	mu      sync.Mutex
	rowLock sync.Mutex
	toks    map[string]tenant.LinkedTokens // by user
	reads   atomic.Int64
}

func (f *fakeLinked) LiveCredentials(context.Context, string) ([]tenant.LiveCredential, error) {
	return nil, nil
}

func (f *fakeLinked) LinkedAccountTokens(_ context.Context, _, _, user string) (tenant.LinkedTokens, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.toks[user]
	if !ok {
		return tenant.LinkedTokens{}, tenant.ErrNotFound
	}
	return t, nil
}

func (f *fakeLinked) RefreshLinkedAccount(_ context.Context, _, _, user string, refresh func(tenant.LinkedTokens) (tenant.LinkedTokens, bool, error)) (tenant.LinkedTokens, error) {
	f.rowLock.Lock()
	defer f.rowLock.Unlock()
	f.mu.Lock()
	cur, ok := f.toks[user]
	f.mu.Unlock()
	if !ok {
		return tenant.LinkedTokens{}, tenant.ErrNotFound
	}
	next, changed, err := refresh(cur)
	if err != nil || !changed {
		return cur, err
	}
	if next.RefreshToken == "" {
		next.RefreshToken = cur.RefreshToken
	}
	f.mu.Lock()
	f.toks[user] = next
	f.mu.Unlock()
	return next, nil
}

// tokenEndpoint answers refresh_token grants with a new pair, or
// invalid_grant once refuse is set, and counts them.
type tokenEndpoint struct {
	srv      *httptest.Server
	n        atomic.Int64
	refuse   atomic.Bool
	lastForm atomic.Value
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	e := &tokenEndpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		e.lastForm.Store(r.Form.Encode())
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("grant_type") != "refresh_token" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		if e.refuse.Load() {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
			return
		}
		n := e.n.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("access-%d", n), "refresh_token": fmt.Sprintf("refresh-%d", n), "token_type": "bearer", "expires_in": 3600})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func delegatedCred(tokenURL string) tenant.LiveCredential {
	return tenant.LiveCredential{Credential: tenant.Credential{Name: "notes", Type: tenant.CredOAuth2AuthorizationCode, OAuth2Config: tenant.OAuth2Config{
		AuthorizeURL: "https://idp.example/authorize", TokenURL: tokenURL, ClientID: "portico", Scopes: []string{"notes:read"}}}, Value: "client-secret"}
}

func newTestLinked(store LinkedStore, c *http.Client) *LinkedAccounts {
	la := NewLinkedAccounts(store, "https://portico.example", nil)
	la.client.Store(c)
	return la
}

// TestLinkedTokensShareOneRefresh: 50 concurrent calls of a user whose
// token expired read the store once and refresh once; 50 calls whose token
// the upstream refused refresh once more; a call that comes after another
// replica refreshed uses that token instead of refreshing again.
func TestLinkedTokensShareOneRefresh(t *testing.T) {
	ep := newTokenEndpoint(t)
	store := &fakeLinked{toks: map[string]tenant.LinkedTokens{
		"alice": {AccessToken: "old", RefreshToken: "refresh-0", Expiry: time.Now().Add(-time.Minute)},
	}}
	la := newTestLinked(store, ep.srv.Client())
	c := delegatedCred(ep.srv.URL)
	ctx := context.Background()
	concurrently := func(refused string) []string {
		var wg sync.WaitGroup
		got := make([]string, 50)
		for i := range got {
			wg.Go(func() {
				tok, err := la.token(ctx, "t1", c, "alice", refused)
				if err != nil {
					t.Error(err)
				}
				got[i] = tok.access
			})
		}
		wg.Wait()
		return got
	}
	for _, a := range concurrently("") {
		if a != "access-1" {
			t.Fatalf("a call got %q, want access-1", a)
		}
	}
	if n, reads := ep.n.Load(), store.reads.Load(); n != 1 || reads != 1 {
		t.Fatalf("after an expiry: %d refreshes and %d store reads, want 1 and 1", n, reads)
	}
	if form, _ := ep.lastForm.Load().(string); !strings.Contains(form, "refresh_token=refresh-0") {
		t.Errorf("refresh request %q does not carry the stored refresh token", form)
	}
	for _, a := range concurrently("access-1") {
		if a != "access-2" {
			t.Fatalf("after a 401 a call got %q, want access-2", a)
		}
	}
	if n, reads := ep.n.Load(), store.reads.Load(); n != 2 || reads != 2 {
		t.Fatalf("after 50 refusals of one token: %d refreshes and %d store reads in all, want 2 and 2", n, reads)
	}
	// Another replica refreshed (the store holds access-9): a call refused
	// with access-2 here takes it instead of refreshing.
	store.mu.Lock()
	store.toks["alice"] = tenant.LinkedTokens{AccessToken: "access-9", RefreshToken: "refresh-9", Expiry: time.Now().Add(time.Hour)}
	store.mu.Unlock()
	if tok, err := la.token(ctx, "t1", c, "alice", "access-2"); err != nil || tok.access != "access-9" || ep.n.Load() != 2 {
		t.Fatalf("refused after another replica refreshed: %q, %v, %d refreshes; want access-9 and no refresh", tok.access, err, ep.n.Load())
	}
}

// TestLinkedTokensForgetAndErrors: a forgotten entry is read again (an
// unlinked user then gets the link instruction); a refresh token the
// provider refuses asks the user to link again; a call without a user is
// refused naming the static token; nothing is sent in either case.
func TestLinkedTokensForgetAndErrors(t *testing.T) {
	ep := newTokenEndpoint(t)
	store := &fakeLinked{toks: map[string]tenant.LinkedTokens{
		"alice": {AccessToken: "alice-token", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)},
		"bob":   {AccessToken: "bob-old", RefreshToken: "r", Expiry: time.Now().Add(-time.Hour)},
	}}
	la := newTestLinked(store, ep.srv.Client())
	c := delegatedCred(ep.srv.URL)
	l := &live{linked: la}
	st := &state{tenant: &tenant.Tenant{ID: "t1"}, creds: []tenant.LiveCredential{c}}
	ctx := context.Background()
	apply := func(user string) (*http.Request, error) {
		req := httptest.NewRequest("GET", "https://api.example/notes", nil)
		_, err := l.applyUserTokens(ctx, req, st, caller{user: user, token: "tok"}, nil)
		return req, err
	}

	req, err := apply("alice")
	if err != nil || req.Header.Get("Authorization") != "Bearer alice-token" {
		t.Fatalf("alice: %q, %v", req.Header.Get("Authorization"), err)
	}
	store.mu.Lock()
	delete(store.toks, "alice")
	store.mu.Unlock()
	if _, err := apply("alice"); err != nil {
		t.Fatalf("alice, cached, before the unlink is heard: %v", err)
	}
	la.forget("t1", tenant.LinkedRef("notes", "alice"))
	_, err = apply("alice")
	if err == nil || !strings.Contains(err.Error(), "have not linked") || !strings.Contains(err.Error(), "https://portico.example/tenants/t1/accounts?link=notes") {
		t.Fatalf("alice after the unlink was heard: %v, want the link instruction", err)
	}

	ep.refuse.Store(true)
	_, err = apply("bob")
	if err == nil || !strings.Contains(err.Error(), "needs linking again") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("bob with a refused refresh token: %v, want the relink instruction", err)
	}

	req, err = apply("")
	if err == nil || !strings.Contains(err.Error(), "static MCP token") || req.Header.Get("Authorization") != "" {
		t.Fatalf("no user: %v (Authorization %q), want the user-bound token instruction and nothing set", err, req.Header.Get("Authorization"))
	}
	if _, err := (&live{}).applyUserTokens(ctx, req, st, caller{user: "alice"}, nil); err == nil {
		t.Fatal("a runtime without linked accounts sent something")
	}
	if !errors.Is(func() error { _, err := la.token(ctx, "t1", c, "carol", ""); return err }(), errNotLinked) {
		t.Error("a user who never linked: want errNotLinked")
	}
}
