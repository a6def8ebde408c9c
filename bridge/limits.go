package bridge

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/portico-mcp/portico/tenant"
)

// RateLimit is a token bucket: PerSecond calls per second on average, in
// bursts of up to Burst. The zero value means no limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

func (r RateLimit) String() string {
	return fmt.Sprintf("%g calls per second (bursts of %d)", r.PerSecond, max(r.Burst, 1))
}

// callLimits meters one tenant's tool calls: one bucket for the tenant and
// one per MCP token. Reconfiguring (a settings reload) keeps the buckets'
// state, so a reload is no way to reset a limit.
type callLimits struct {
	mu       sync.Mutex
	tenantRL RateLimit
	tokenRL  RateLimit
	tenant   *rate.Limiter
	tokens   map[string]*rate.Limiter
	sweep    time.Time
}

// limitsFor picks the tenant's own limits, falling back to the operator's defaults.
func limitsFor(s tenant.Settings, tenantDef, tokenDef RateLimit) (RateLimit, RateLimit) {
	t, k := tenantDef, tokenDef
	if s.RateLimitPerSecond > 0 {
		t = RateLimit{s.RateLimitPerSecond, s.RateLimitBurst}
	}
	if s.TokenRateLimitPerSecond > 0 {
		k = RateLimit{s.TokenRateLimitPerSecond, s.TokenRateLimitBurst}
	}
	return t, k
}

func (c *callLimits) configure(tenantRL, tokenRL RateLimit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tenantRL, c.tokenRL = tenantRL, tokenRL
	c.tenant = reconfigure(c.tenant, tenantRL)
	for k, b := range c.tokens {
		c.tokens[k] = reconfigure(b, tokenRL)
	}
}

func reconfigure(b *rate.Limiter, rl RateLimit) *rate.Limiter {
	if rl.PerSecond <= 0 {
		return nil
	}
	if b == nil {
		return rate.NewLimiter(rate.Limit(rl.PerSecond), max(rl.Burst, 1))
	}
	b.SetLimit(rate.Limit(rl.PerSecond))
	b.SetBurst(max(rl.Burst, 1))
	return b
}

// allow takes one call from the tenant's and the token's buckets, or says
// which limit was reached and how long until a call would pass.
func (c *callLimits) allow(token string) error {
	now := time.Now()
	c.mu.Lock()
	var tb *rate.Limiter
	if c.tokenRL.PerSecond > 0 && token != "" {
		if c.tokens == nil {
			c.tokens = map[string]*rate.Limiter{}
		}
		if now.Sub(c.sweep) > time.Minute {
			for k, b := range c.tokens {
				if b.TokensAt(now) >= float64(b.Burst()) {
					delete(c.tokens, k)
				}
			}
			c.sweep = now
		}
		if tb = c.tokens[token]; tb == nil {
			tb = reconfigure(nil, c.tokenRL)
			c.tokens[token] = tb
		}
	}
	tenantB, tenantRL, tokenRL := c.tenant, c.tenantRL, c.tokenRL
	c.mu.Unlock()

	var rs []*rate.Reservation
	cancel := func() {
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	for _, b := range []struct {
		lim  *rate.Limiter
		rl   RateLimit
		what string
	}{{tenantB, tenantRL, "this tenant"}, {tb, tokenRL, "this MCP token"}} {
		if b.lim == nil {
			continue
		}
		r := b.lim.ReserveN(now, 1)
		rs = append(rs, r)
		if d := r.DelayFrom(now); d > 0 || !r.OK() {
			cancel()
			return &RateLimitError{What: b.what, Limit: b.rl, RetryAfter: d}
		}
	}
	return nil
}

// RateLimitError is a tool call refused by a rate limit.
type RateLimitError struct {
	What       string
	Limit      RateLimit
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	secs := math.Max(1, math.Ceil(e.RetryAfter.Seconds()))
	return fmt.Sprintf("rate limit reached for %s (%s); retry in %.0f s", e.What, e.Limit, secs)
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
