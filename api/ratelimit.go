package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/portico-mcp/portico/tenant"
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

// rateLimits holds one bucket per caller, per tenant, per caller within a
// tenant and per login source. Buckets idle long enough to be full again
// are dropped, so the maps stay as small as the set of recently active
// callers.
//
// A tenant's REST limits are its settings (rest_rate_limit_*,
// rest_caller_rate_limit_*) with the operator's defaults; they are read
// through settingsOf and cached per tenant for at most settingsTTL. A
// settings change drops the cached entry at once on this replica
// (forget, after a successful change) and on every other replica through
// the tenant change listener (TenantChanged), the way the MCP runtime
// learns of it.
type rateLimits struct {
	caller, tenant, login RateLimit
	settingsOf            func(ctx context.Context, id string) (tenant.Settings, error)

	// fail throttles failed API-key and OAuth token-endpoint attempts
	// (Options.FailureThrottle; nil throttles nothing), loginFail failed
	// sign-ins per source and per (email, source) at the login rate.
	fail, loginFail *FailureThrottle

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweep   time.Time
	cached  map[string]tenantRates
}

// tenantRates are one tenant's effective REST limits. caller is zero when
// the tenant sets no per-caller limit of its own (the operator's caller
// limit, checked at authentication, still applies everywhere).
type tenantRates struct {
	tenant, caller RateLimit
	at             time.Time
}

// settingsTTL bounds how stale a tenant's cached REST limits can be when a
// change notification was missed (the listener also resyncs).
const settingsTTL = 30 * time.Second

func newRateLimits(caller, tenantRL, login RateLimit, settingsOf func(context.Context, string) (tenant.Settings, error)) *rateLimits {
	return &rateLimits{caller: caller, tenant: tenantRL, login: login, settingsOf: settingsOf,
		loginFail: NewFailureThrottle(login, false),
		buckets:   map[string]*rate.Limiter{}, cached: map[string]tenantRates{}}
}

func (l *rateLimits) allowCaller(key string) error {
	return l.allow("caller:"+key, l.caller, "this API key or session")
}

// allowTenant counts one request on tenant id's routes by caller: against
// the tenant's bucket and, when the tenant sets one, the caller's bucket
// within this tenant.
func (l *rateLimits) allowTenant(ctx context.Context, id, caller string) error {
	if l == nil {
		return nil
	}
	r := l.ratesOf(ctx, id)
	// The caller's bucket first: a caller over its own limit must not spend
	// the tenant's budget that the tenant's other callers share.
	if err := l.allow("tenant:"+id+"/caller:"+caller, r.caller, "this API key or session in tenant "+id); err != nil {
		return err
	}
	return l.allow("tenant:"+id, r.tenant, "tenant "+id)
}

// ratesOf returns tenant id's effective REST limits: its settings where
// set, else the operator's defaults. When the settings cannot be read the
// defaults apply (the route itself reports a missing tenant).
func (l *rateLimits) ratesOf(ctx context.Context, id string) tenantRates {
	now := time.Now()
	l.mu.Lock()
	r, ok := l.cached[id]
	l.mu.Unlock()
	if ok && now.Sub(r.at) < settingsTTL {
		return r
	}
	r = tenantRates{tenant: l.tenant, at: now}
	if l.settingsOf != nil {
		s, err := l.settingsOf(ctx, id)
		if err != nil {
			return r // not cached: the next request tries again
		}
		r.tenant, r.caller = restLimitsFor(s, l.tenant)
	}
	l.mu.Lock()
	if len(l.cached) > 100_000 {
		clear(l.cached)
	}
	l.cached[id] = r
	l.mu.Unlock()
	return r
}

// restLimitsFor picks a tenant's own REST limits over the operator's
// default. A burst left at 0 is one second's worth of requests, so a rate
// alone never refuses the second of two quick requests.
func restLimitsFor(s tenant.Settings, tenantDef RateLimit) (tenantRL, callerRL RateLimit) {
	burst := func(perSecond float64, b int) int {
		if b > 0 {
			return b
		}
		return max(1, int(math.Ceil(perSecond)))
	}
	tenantRL = tenantDef
	if s.RESTRateLimitPerSecond > 0 {
		tenantRL = RateLimit{s.RESTRateLimitPerSecond, burst(s.RESTRateLimitPerSecond, s.RESTRateLimitBurst)}
	}
	if s.RESTCallerRateLimitPerSecond > 0 {
		callerRL = RateLimit{s.RESTCallerRateLimitPerSecond, burst(s.RESTCallerRateLimitPerSecond, s.RESTCallerRateLimitBurst)}
	}
	return tenantRL, callerRL
}

// forget drops tenant id's cached limits, so the next request reads the
// settings again. id "" drops every tenant's.
func (l *rateLimits) forget(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	if id == "" {
		clear(l.cached)
	} else {
		delete(l.cached, id)
	}
	l.mu.Unlock()
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
	} else if b.Limit() != rate.Limit(lim.PerSecond) || b.Burst() != lim.burst() {
		// The tenant changed its limit: keep the bucket's level, so a
		// settings change is no way to reset it, but apply the new rate.
		b.SetLimitAt(now, rate.Limit(lim.PerSecond))
		b.SetBurstAt(now, lim.burst())
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
