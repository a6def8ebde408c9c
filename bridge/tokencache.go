package bridge

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TokenCacheConfig tunes the verified MCP token cache. Zero values mean the
// documented defaults.
type TokenCacheConfig struct {
	// TTL is how long a verified token is trusted without asking the
	// database again (default 10 s). It bounds how long a revocation made on
	// another replica takes to bite when no invalidation reaches this one.
	TTL time.Duration
	// MaxStale is how long past its TTL a verified token keeps being
	// accepted while the database is unreachable (default 1 h), so agents
	// keep working through a Postgres outage. A token the database says is
	// gone is dropped at once.
	MaxStale time.Duration
	// MaxEntries caps the cache (default 100 000).
	MaxEntries int
}

func (c *TokenCacheConfig) setDefaults() {
	if c.TTL <= 0 {
		c.TTL = 10 * time.Second
	}
	if c.MaxStale <= 0 {
		c.MaxStale = time.Hour
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 100_000
	}
}

// tokenCache remembers MCP tokens the database verified, keyed by the
// SHA-256 of the secret (the secret itself is never kept).
//
// Concurrent checks of one token that find no fresh entry share a single
// database check (see verify), so when a busy tenant's entry expires its
// hundreds of in-flight calls do not all queue for the database pool, which
// every tenant's token checks and the REST API share.
type tokenCache struct {
	cfg     TokenCacheConfig
	mu      sync.Mutex
	m       map[[32]byte]cachedToken
	flights map[[32]byte]*tokenFlight // database checks under way
	// forgets counts invalidations: a check that started before one may
	// have read a token since revoked, so its answer is neither cached nor
	// shared.
	forgets uint64
}

// tokenFlight is one database check of a token that other calls with the
// same token wait for instead of asking the database themselves.
type tokenFlight struct {
	done    chan struct{}
	forgets uint64 // tokenCache.forgets when the check started
	tok     tenant.Token
	source  string
	err     error
}

type cachedToken struct {
	tok      tenant.Token
	verified time.Time
}

func newTokenCache(cfg TokenCacheConfig) *tokenCache {
	cfg.setDefaults()
	return &tokenCache{cfg: cfg, m: make(map[[32]byte]cachedToken), flights: make(map[[32]byte]*tokenFlight)}
}

// verify returns the token for secret: from the cache while fresh, else from
// the database, else (database unreachable) from a stale entry. The source
// names where the answer came from, for metrics: "shared" is a call that
// waited for another call's database check of the same token.
func (c *tokenCache) verify(ctx context.Context, store tenantStore, secret string, now time.Time) (tenant.Token, string, error) {
	key := secretKey(secret)
	for {
		c.mu.Lock()
		e, ok := c.m[key]
		if ok && e.tok.ExpiresAt != nil && !now.Before(*e.tok.ExpiresAt) {
			delete(c.m, key)
			c.mu.Unlock()
			return tenant.Token{}, "denied", tenant.ErrNotFound
		}
		if ok && now.Sub(e.verified) < c.cfg.TTL {
			c.mu.Unlock()
			return e.tok, "cache", nil
		}
		f := c.flights[key]
		if f == nil {
			f = &tokenFlight{done: make(chan struct{}), forgets: c.forgets}
			c.flights[key] = f
			c.mu.Unlock()
			// Release the waiting calls however the check ends; should it
			// panic, they see a failed check, never an empty success.
			f.source, f.err = "unavailable", errors.New("verify token: the check did not finish")
			func() {
				defer func() {
					c.mu.Lock()
					delete(c.flights, key)
					c.mu.Unlock()
					close(f.done)
				}()
				f.tok, f.source, f.err = c.check(ctx, store, secret, key, e, ok, now, f.forgets)
			}()
			return f.tok, f.source, f.err
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return tenant.Token{}, "unavailable", ctx.Err()
		}
		c.mu.Lock()
		revoked := c.forgets != f.forgets
		c.mu.Unlock()
		if revoked { // a token was revoked while the check ran: this call checks afresh
			continue
		}
		// A check that failed because its own caller went away says
		// nothing about this call's token: check again.
		if f.err != nil && f.source == "unavailable" && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue
		}
		switch f.source {
		case "database":
			return f.tok, "shared", nil
		case "stale": // the leader's answer holds for this call too, for the same reason
			return f.tok, "stale", nil
		default:
			return f.tok, f.source, f.err
		}
	}
}

// check asks the database about secret and updates the cache unless a token
// was forgotten since forgets was read; e and ok are the cache entry found
// before.
func (c *tokenCache) check(ctx context.Context, store tenantStore, secret string, key [32]byte, e cachedToken, ok bool, now time.Time, forgets uint64) (tenant.Token, string, error) {
	tok, err := store.VerifyToken(ctx, secret)
	switch {
	case err == nil:
		c.put(key, cachedToken{tok: tok, verified: now}, forgets)
		return tok, "database", nil
	case errors.Is(err, tenant.ErrNotFound):
		c.drop(key)
		return tenant.Token{}, "denied", err
	case ok && now.Sub(e.verified) < c.cfg.TTL+c.cfg.MaxStale && ctx.Err() == nil:
		return e.tok, "stale", nil
	default:
		return tenant.Token{}, "unavailable", err
	}
}

// secretKey is the SHA-256 of secret, hashed from a stack copy when the
// secret is of an ordinary size, so a cache hit allocates nothing.
func secretKey(secret string) [32]byte {
	var buf [128]byte
	if len(secret) <= len(buf) {
		return sha256.Sum256(append(buf[:0], secret...))
	}
	return sha256.Sum256([]byte(secret))
}

func (c *tokenCache) put(key [32]byte, e cachedToken, forgets uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgets != forgets {
		return // maybe revoked since it was read
	}
	if _, ok := c.m[key]; !ok && len(c.m) >= c.cfg.MaxEntries {
		for k := range c.m { // evict an arbitrary tenth; the map is a cache, not the truth
			delete(c.m, k)
			if len(c.m) < c.cfg.MaxEntries*9/10 {
				break
			}
		}
	}
	c.m[key] = e
}

func (c *tokenCache) drop(key [32]byte) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// forget drops every cached token that matches.
func (c *tokenCache) forget(match func(tenant.Token) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets++
	for k, e := range c.m {
		if match(e.tok) {
			delete(c.m, k)
		}
	}
}

// ForgetToken drops MCP token tokenID from this process's verified-token
// cache, so its next use is checked against the database. Call it when a
// token is revoked (here, or on another replica via LISTEN/NOTIFY).
func (r *Runtime) ForgetToken(tokenID string) {
	r.tokens.forget(func(t tenant.Token) bool { return t.ID == tokenID })
}

// ForgetTenantTokens drops every cached MCP token of tenant tenantID.
func (r *Runtime) ForgetTenantTokens(tenantID string) {
	r.tokens.forget(func(t tenant.Token) bool { return t.TenantID == tenantID })
}
