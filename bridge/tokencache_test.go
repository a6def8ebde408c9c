package bridge

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// tokenStore is a tenantStore whose VerifyToken the test controls.
type tokenStore struct {
	tenantStore
	calls  int
	verify func(secret string) (tenant.Token, error)
}

func (s *tokenStore) VerifyToken(_ context.Context, secret string) (tenant.Token, error) {
	s.calls++
	return s.verify(secret)
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	good := tenant.Token{ID: "tok1", TenantID: "ten1"}
	dbDown := errors.New("verify token: database unavailable")
	st := &tokenStore{verify: func(string) (tenant.Token, error) { return good, nil }}
	c := newTokenCache(TokenCacheConfig{TTL: time.Second, MaxStale: time.Minute})
	now := time.Unix(1_700_000_000, 0)
	check := func(name, wantSource string, wantErr error, wantCalls int) {
		t.Helper()
		tok, source, err := c.verify(ctx, st, "mcp_secret", now)
		if source != wantSource || !errors.Is(err, wantErr) || st.calls != wantCalls {
			t.Fatalf("%s: source %q err %v calls %d; want %q %v %d", name, source, err, st.calls, wantSource, wantErr, wantCalls)
		}
		if err == nil && tok.ID != good.ID {
			t.Fatalf("%s: token %+v", name, tok)
		}
	}
	check("first use asks the database", "database", nil, 1)
	check("fresh entry", "cache", nil, 1)
	now = now.Add(2 * time.Second)
	st.verify = func(string) (tenant.Token, error) { return tenant.Token{}, dbDown }
	check("database down: stale entry serves", "stale", nil, 2)
	now = now.Add(2 * time.Minute)
	check("too stale: refused", "unavailable", dbDown, 3)

	now = now.Add(-2 * time.Minute)
	st.verify = func(string) (tenant.Token, error) { return good, nil }
	check("database back", "database", nil, 4)
	st.verify = func(string) (tenant.Token, error) { return tenant.Token{}, tenant.ErrNotFound }
	now = now.Add(2 * time.Second)
	check("revoked: dropped at once", "denied", tenant.ErrNotFound, 5)
	st.verify = func(string) (tenant.Token, error) { return tenant.Token{}, dbDown }
	check("revoked token never served stale", "unavailable", dbDown, 6)

	// ForgetToken: an entry forgotten is checked against the database again.
	st.verify = func(string) (tenant.Token, error) { return good, nil }
	check("re-verified", "database", nil, 7)
	c.forget(func(tk tenant.Token) bool { return tk.ID == "tok1" })
	check("forgotten", "database", nil, 8)

	exp := now.Add(time.Millisecond)
	st.verify = func(string) (tenant.Token, error) {
		return tenant.Token{ID: "tok1", TenantID: "ten1", ExpiresAt: &exp}, nil
	}
	c.forget(func(tenant.Token) bool { return true })
	check("expiring token", "database", nil, 9)
	now = now.Add(time.Second / 2)
	check("expired while cached", "denied", tenant.ErrNotFound, 9)
}
