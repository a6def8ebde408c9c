package api

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: PerSecond requests per second on average,
// with bursts of up to Burst. The zero value means no limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

func (r RateLimit) off() bool { return r.PerSecond <= 0 }

func (r RateLimit) String() string {
	return fmt.Sprintf("%g per second (bursts of %d)", r.PerSecond, r.burst())
}

func (r RateLimit) burst() int { return max(r.Burst, 1) }

// rateLimits holds one bucket per caller, per tenant and per login source.
// Buckets idle long enough to be full again are dropped, so the maps stay
// as small as the set of recently active callers.
type rateLimits struct {
	caller, tenant, login RateLimit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweep   time.Time
}

func newRateLimits(caller, tenant, login RateLimit) *rateLimits {
	return &rateLimits{caller: caller, tenant: tenant, login: login, buckets: map[string]*rate.Limiter{}}
}

func (l *rateLimits) allowCaller(key string) error {
	return l.allow("caller:"+key, l.caller, "this API key or session")
}

func (l *rateLimits) allowTenant(id string) error {
	return l.allow("tenant:"+id, l.tenant, "tenant "+id)
}

func (l *rateLimits) allowLogin(key string) error {
	return l.allow("login:"+key, l.login, "sign-in attempts from here")
}

// allow takes one token from key's bucket or returns a 429 naming the limit
// and when to retry.
func (l *rateLimits) allow(key string, lim RateLimit, who string) error {
	if l == nil || lim.off() {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(b.Burst()) {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(lim.PerSecond), lim.burst())
		l.buckets[key] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		secs := int(math.Ceil(d.Seconds()))
		return &apiError{
			Status:     http.StatusTooManyRequests,
			Code:       "rate_limited",
			Message:    fmt.Sprintf("too many requests for %s: the limit is %s; retry in %d s", who, lim, secs),
			Details:    map[string]any{"retry_after_s": secs, "limit_per_second": lim.PerSecond, "burst": lim.burst()},
			RetryAfter: secs,
		}
	}
	return nil
}
