package bridge

import (
	"github.com/portico-mcp/portico/tenant"

	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// Token cache defaults: a verification is trusted this long before the
// database is asked again, and at most this many verifications are kept.
const (
	defaultTokenTTL = 5 * time.Second
	maxCachedTokens = 100_000
)

// tokenCache remembers successful MCP token verifications for a short time,
// so a busy agent does not turn every call into a database round trip.
// Only successes are kept (a flood of wrong tokens cannot fill it), keyed by
// the token's SHA-256 like the database, and never past the token's expiry.
// Revocation through this process drops the entry at once (InvalidateToken);
// another replica's revocation is seen within the TTL.
type tokenCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	tenantID, tokenID string
	until             time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, m: make(map[[sha256.Size]byte]cachedToken)}
}

// verify returns the token (its id and tenant) that secret is, from the
// cache when a verification is fresh, else from store.VerifyToken.
func (c *tokenCache) verify(ctx context.Context, store tenantStore, secret string) (tenant.Token, error) {
	if c.ttl <= 0 {
		return store.VerifyToken(ctx, secret)
	}
	key := sha256.Sum256([]byte(secret))
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		return tenant.Token{ID: e.tokenID, TenantID: e.tenantID}, nil
	}
	tok, err := store.VerifyToken(ctx, secret)
	if err != nil {
		return tenant.Token{}, err
	}
	until := now.Add(c.ttl)
	if tok.ExpiresAt != nil && tok.ExpiresAt.Before(until) {
		until = *tok.ExpiresAt
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedTokens {
		for k := range c.m { // evict one arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[key] = cachedToken{tenantID: tok.TenantID, tokenID: tok.ID, until: until}
	c.mu.Unlock()
	return tok, nil
}

// drop removes every cached verification matching f.
func (c *tokenCache) drop(f func(cachedToken) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if f(e) {
			delete(c.m, k)
		}
	}
}

// InvalidateToken forgets any cached verification of token tokenID, so a
// revoked token is refused by this process on its next request. Call it
// after tenant.Store.RevokeToken.
func (r *Runtime) InvalidateToken(tokenID string) {
	r.tokens.drop(func(e cachedToken) bool { return e.tokenID == tokenID })
}

// InvalidateTenantTokens forgets every cached verification of tenant id's
// tokens (tenant deleted, tokens rotated).
func (r *Runtime) InvalidateTenantTokens(id string) {
	r.tokens.drop(func(e cachedToken) bool { return e.tenantID == id })
}
