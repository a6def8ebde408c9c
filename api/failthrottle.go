package api

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/portico-mcp/portico/tenant"
)

// FailureThrottle slows down the guessing of secrets (API keys, MCP tokens,
// OAuth codes and refresh tokens, passwords): every failed attempt takes a
// token from its keys' buckets (the client address, and where it applies the
// secret's public prefix or the email), and a key with an empty bucket is
// refused with 429 until it refills. Successes take nothing, and the prefix
// and email buckets are judged only after the secret proved wrong, so a
// client that gets its secret right is never slowed down by failures from
// other addresses. Clients sharing one address (a NAT, a hosted connector's
// egress) share its bucket: while one of them keeps failing, all of them
// wait (at most the refill interval after the failures stop).
//
// Buckets live in this process only: with several replicas each replica
// throttles on its own (docs/security.md). Buckets that are full again are
// swept, and the map never holds more than maxFailureKeys.
type FailureThrottle struct {
	lim    tenant.RateLimit
	source func(*http.Request) string

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweep   time.Time
}

// maxFailureKeys bounds the throttle's memory under a flood of sources.
const maxFailureKeys = 100_000

// NewFailureThrottle allows lim.Burst failures per key, refilling at
// lim.PerSecond. trustProxy takes the client address from X-Forwarded-For,
// as Options.TrustProxy does for the REST API; otherwise it is the
// connection's remote address. A zero lim throttles nothing.
func NewFailureThrottle(lim tenant.RateLimit, trustProxy bool) *FailureThrottle {
	t := &FailureThrottle{lim: lim, source: echo.ExtractIPDirect(), buckets: map[string]*rate.Limiter{}}
	if trustProxy {
		t.source = echo.ExtractIPFromXFFHeader()
	}
	return t
}

// Source returns the client address failures are counted against.
func (t *FailureThrottle) Source(req *http.Request) string {
	if t == nil {
		return echo.ExtractIPDirect()(req)
	}
	return t.source(req)
}

// Wait reports how long the caller behind keys must wait before another
// attempt is judged: 0 when every key may try now.
func (t *FailureThrottle) Wait(keys ...string) time.Duration {
	if t == nil || t.lim.Off() {
		return 0
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		b := t.buckets[k]
		if b == nil {
			continue
		}
		if tokens := b.TokensAt(now); tokens < 1 {
			wait = max(wait, time.Duration((1-tokens)/t.lim.PerSecond*float64(time.Second)))
		}
	}
	return wait
}

// Fail counts one failed attempt against each key.
func (t *FailureThrottle) Fail(keys ...string) {
	if t == nil || t.lim.Off() {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.sweep) > time.Minute || len(t.buckets) >= maxFailureKeys {
		for k, b := range t.buckets {
			if b.TokensAt(now) >= float64(b.Burst()) {
				delete(t.buckets, k)
			}
		}
		t.sweep = now
		// Still full: forget arbitrary keys rather than grow without bound.
		for k := range t.buckets {
			if len(t.buckets) < maxFailureKeys {
				break
			}
			delete(t.buckets, k)
		}
	}
	for _, k := range keys {
		b := t.buckets[k]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(t.lim.PerSecond), t.lim.BurstSize())
			t.buckets[k] = b
		}
		b.AllowN(now, 1)
	}
}

// RetryAfter is the whole number of seconds to announce in Retry-After for
// a wait (at least 1).
func RetryAfter(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

// check returns a 429 when keys must wait; what names the attempts in the
// message ("failed sign-ins from your address").
func (t *FailureThrottle) check(what string, keys ...string) error {
	wait := t.Wait(keys...)
	if wait <= 0 {
		return nil
	}
	secs := RetryAfter(wait)
	return &apiError{
		Status:     http.StatusTooManyRequests,
		Code:       "too_many_failures",
		Message:    fmt.Sprintf("too many %s; retry in %d s (the limit is %d failures, refilling at %g per second)", what, secs, t.lim.BurstSize(), t.lim.PerSecond),
		Details:    map[string]any{"retry_after_s": secs},
		RetryAfter: secs,
	}
}

// secretPrefix is the public part of a secret that failures are also
// counted against: the part an API key or token list shows.
func secretPrefix(secret string) string { return "prefix:" + secret[:min(len(secret), 12)] }
