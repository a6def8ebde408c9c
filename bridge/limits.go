package bridge

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// callLimits meters one tenant's tool calls: one bucket for the tenant and
// one per MCP token, shared by every replica (tenant.Limiter). The buckets
// live in the limiter, keyed by tenant and token, so reconfiguring (a
// settings reload) keeps their state and is no way to reset a limit.
type callLimits struct {
	fleet     *tenant.Limiter
	tenantKey string // the tenant's bucket, "mcp:tenant:<id>"

	mu       sync.Mutex
	tenantRL tenant.RateLimit
	tokenRL  tenant.RateLimit
}

// limitsFor picks the tenant's own limits, falling back to the operator's defaults.
func limitsFor(s tenant.Settings, tenantDef, tokenDef tenant.RateLimit) (tenant.RateLimit, tenant.RateLimit) {
	t, k := tenantDef, tokenDef
	if s.RateLimitPerSecond > 0 {
		t = tenant.RateLimit{PerSecond: s.RateLimitPerSecond, Burst: s.RateLimitBurst}
	}
	if s.TokenRateLimitPerSecond > 0 {
		k = tenant.RateLimit{PerSecond: s.TokenRateLimitPerSecond, Burst: s.TokenRateLimitBurst}
	}
	return t, k
}

func (c *callLimits) configure(tenantRL, tokenRL tenant.RateLimit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tenantRL, c.tokenRL = tenantRL, tokenRL
}

// allow takes one call from the tenant's and the token's buckets, or says
// which limit was reached and how long until a call would pass.
func (c *callLimits) allow(token string) error {
	c.mu.Lock()
	tenantRL, tokenRL := c.tenantRL, c.tokenRL
	c.mu.Unlock()
	if tenantRL.Off() && (tokenRL.Off() || token == "") {
		return nil
	}
	tw := tenant.Want{}
	if token != "" && !tokenRL.Off() {
		tw = tenant.Want{Key: "mcp:token:" + token, Limit: tokenRL}
	}
	refused, d := c.fleet.Allow(tenant.Want{Key: c.tenantKey, Limit: tenantRL}, tw)
	switch refused {
	case -1:
		return nil
	case 0:
		return &RateLimitError{What: "this tenant", Limit: tenantRL, RetryAfter: d}
	default:
		return &RateLimitError{What: "this MCP token", Limit: tokenRL, RetryAfter: d}
	}
}

// RateLimitError is a tool call refused by a rate limit.
type RateLimitError struct {
	What       string
	Limit      tenant.RateLimit
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	secs := math.Max(1, math.Ceil(e.RetryAfter.Seconds()))
	return fmt.Sprintf("rate limit reached for %s (%g calls per second (bursts of %d)); retry in %.0f s",
		e.What, e.Limit.PerSecond, e.Limit.BurstSize(), secs)
}

// concLimit caps a tenant's concurrent upstream calls. Unlike a buffered
// channel its limit can change while calls are in flight (a settings
// reload): raising it admits waiters at once; lowering it lets the calls in
// flight finish and admits new ones only below the new limit.
type concLimit struct {
	mu      sync.Mutex
	limit   int
	used    int
	waiters int
	wake    chan struct{} // closed (and replaced) when a slot may have freed
}

func newConcLimit(n int) *concLimit {
	return &concLimit{limit: n, wake: make(chan struct{})}
}

// acquire takes a slot, waiting until one is free or ctx ends.
func (c *concLimit) acquire(ctx context.Context) error {
	c.mu.Lock()
	for c.used >= c.limit {
		c.waiters++
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			c.mu.Lock()
			c.waiters--
			c.mu.Unlock()
			return ctx.Err()
		}
		c.mu.Lock()
		c.waiters--
	}
	c.used++
	c.mu.Unlock()
	return nil
}

func (c *concLimit) release() {
	c.mu.Lock()
	c.used--
	c.broadcast()
	c.mu.Unlock()
}

// setLimit changes the limit; calls in flight keep their slots.
func (c *concLimit) setLimit(n int) {
	c.mu.Lock()
	c.limit = n
	c.broadcast()
	c.mu.Unlock()
}

func (c *concLimit) current() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit
}

// broadcast wakes the waiters (they re-check under mu); c.mu is held.
func (c *concLimit) broadcast() {
	if c.waiters > 0 {
		close(c.wake)
		c.wake = make(chan struct{})
	}
}
