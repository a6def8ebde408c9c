package bridge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// gatedStore is a tenantStore whose VerifyToken blocks until the test
// releases it, counting the calls that reached it.
type gatedStore struct {
	tenantStore
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
	tok     tenant.Token
}

func (s *gatedStore) VerifyToken(ctx context.Context, _ string) (tenant.Token, error) {
	s.calls.Add(1)
	s.entered <- struct{}{}
	select {
	case <-s.release:
		return s.tok, nil
	case <-ctx.Done():
		return tenant.Token{}, ctx.Err()
	}
}

// TestTokenCacheSharesDatabaseChecks: when a busy token's entry expires, its
// concurrent calls make one database check between them, not one each.
func TestTokenCacheSharesDatabaseChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gatedStore{entered: make(chan struct{}, 100), release: make(chan struct{}), tok: tenant.Token{ID: "tok1", TenantID: "ten1"}}
		c := newTokenCache(TokenCacheConfig{TTL: time.Second})
		now := time.Unix(1_700_000_000, 0)
		const callers = 50
		sources := make(chan string, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				tok, source, err := c.verify(context.Background(), st, "mcp_secret", now)
				if err != nil || tok.ID != "tok1" {
					t.Errorf("verify: %+v %v", tok, err)
				}
				sources <- source
			})
		}
		<-st.entered
		synctest.Wait() // every other caller waits for the check under way
		close(st.release)
		wg.Wait()
		close(sources)
		count := map[string]int{}
		for s := range sources {
			count[s]++
		}
		if got := st.calls.Load(); got != 1 {
			t.Errorf("%d database checks for %d concurrent calls, want 1", got, callers)
		}
		if count["database"] != 1 || count["shared"] != callers-1 {
			t.Errorf("sources %v, want 1 database and the rest shared", count)
		}
		if len(c.flights) != 0 {
			t.Errorf("%d checks still recorded as under way", len(c.flights))
		}
	})
}

// TestTokenCacheCallerGoneDoesNotFailOthers: a check whose own caller went
// away is retried by a caller that was waiting for it, not reported as a
// database failure.
func TestTokenCacheCallerGoneDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gatedStore{entered: make(chan struct{}, 100), release: make(chan struct{}), tok: tenant.Token{ID: "tok1", TenantID: "ten1"}}
		c := newTokenCache(TokenCacheConfig{TTL: time.Second})
		now := time.Unix(1_700_000_000, 0)
		leaderCtx, cancel := context.WithCancel(context.Background())
		leader := make(chan error, 1)
		go func() {
			_, _, err := c.verify(leaderCtx, st, "mcp_secret", now)
			leader <- err
		}()
		<-st.entered
		follower := make(chan string, 1)
		go func() {
			tok, source, err := c.verify(context.Background(), st, "mcp_secret", now)
			if err != nil || tok.ID != "tok1" {
				t.Errorf("waiting caller: %+v %v", tok, err)
			}
			follower <- source
		}()
		synctest.Wait() // the follower waits for the leader's check
		cancel()
		if err := <-leader; !errors.Is(err, context.Canceled) {
			t.Fatalf("leader: %v, want its own cancellation", err)
		}
		<-st.entered // the follower checks again itself
		close(st.release)
		if s := <-follower; s != "database" {
			t.Errorf("waiting caller's source %q, want database (its own check)", s)
		}
		if got := st.calls.Load(); got != 2 {
			t.Errorf("%d database checks, want 2", got)
		}
	})
}

// TestTokenCacheRevokedDuringCheck: a revocation while a database check is
// under way keeps that check's answer out of the cache and away from the
// calls waiting for it: they check again.
func TestTokenCacheRevokedDuringCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &gatedStore{entered: make(chan struct{}, 100), release: make(chan struct{}), tok: tenant.Token{ID: "tok1", TenantID: "ten1"}}
		c := newTokenCache(TokenCacheConfig{TTL: time.Second})
		now := time.Unix(1_700_000_000, 0)
		leader := make(chan string, 1)
		go func() {
			_, source, _ := c.verify(context.Background(), st, "mcp_secret", now)
			leader <- source
		}()
		<-st.entered
		follower := make(chan string, 1)
		go func() {
			_, source, _ := c.verify(context.Background(), st, "mcp_secret", now)
			follower <- source
		}()
		synctest.Wait() // the follower waits for the leader's check
		c.forget(func(tenant.Token) bool { return true })
		close(st.release)
		if s := <-leader; s != "database" {
			t.Errorf("leader's source %q, want database", s)
		}
		<-st.entered // the follower's own check
		if s := <-follower; s != "database" {
			t.Errorf("waiting caller's source %q, want database (its own check after the revocation)", s)
		}
		if got := st.calls.Load(); got != 2 {
			t.Errorf("%d database checks, want 2", got)
		}
	})
}

// panickyStore's VerifyToken panics once the test lets it.
type panickyStore struct {
	tenantStore
	entered, release chan struct{}
}

func (s *panickyStore) VerifyToken(context.Context, string) (tenant.Token, error) {
	s.entered <- struct{}{}
	<-s.release
	panic("store bug")
}

// TestTokenCacheCheckPanics: a check that panics releases the calls waiting
// for it with a failure, never with an empty token.
func TestTokenCacheCheckPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &panickyStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
		c := newTokenCache(TokenCacheConfig{TTL: time.Second})
		now := time.Unix(1_700_000_000, 0)
		go func() {
			defer func() { recover() }()
			c.verify(context.Background(), st, "mcp_secret", now)
		}()
		<-st.entered
		type answer struct {
			source string
			err    error
		}
		follower := make(chan answer, 1)
		go func() {
			_, source, err := c.verify(context.Background(), st, "mcp_secret", now)
			follower <- answer{source, err}
		}()
		synctest.Wait() // the follower waits for the leader's check
		close(st.release)
		select {
		case a := <-follower:
			if a.err == nil || a.source != "unavailable" {
				t.Errorf("waiting caller got source %q err %v, want unavailable with an error", a.source, a.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the waiting caller was never released")
		}
	})
}
