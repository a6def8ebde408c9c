package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// rateLimits meters REST requests per caller, per tenant, per caller
// within a tenant and per login source, with buckets shared by every
// replica (tenant.Limiter, keys prefixed "rest:").
//
// A tenant's REST limits are its settings (rest_rate_limit_*,
// rest_caller_rate_limit_*) with the operator's defaults; they are read
// through settingsOf and cached per tenant for at most settingsTTL. A
// settings change drops the cached entry at once on this replica
// (forget, after a successful change) and on every other replica through
// the tenant change listener (TenantChanged), the way the MCP runtime
// learns of it.
type rateLimits struct {
	caller, tenant, login tenant.RateLimit
	settingsOf            func(ctx context.Context, id string) (tenant.Settings, error)

	// fail throttles failed API-key and OAuth token-endpoint attempts
	// (Options.FailureThrottle; nil throttles nothing), loginFail failed
	// sign-ins per source and per (email, source) at the login rate.
	fail, loginFail *FailureThrottle

	fleet  *tenant.Limiter
	mu     sync.Mutex
	cached map[string]tenantRates
}

// tenantRates are one tenant's effective REST limits. caller is zero when
// the tenant sets no per-caller limit of its own (the operator's caller
// limit, checked at authentication, still applies everywhere).
type tenantRates struct {
	tenant, caller tenant.RateLimit
	at             time.Time
}

// settingsTTL bounds how stale a tenant's cached REST limits can be when a
// change notification was missed (the listener also resyncs).
const settingsTTL = 30 * time.Second

func newRateLimits(caller, tenantRL, login tenant.RateLimit, fleet *tenant.Limiter, settingsOf func(context.Context, string) (tenant.Settings, error)) *rateLimits {
	if fleet == nil {
		fleet = tenant.NewLimiter(nil, "", nil)
	}
	return &rateLimits{caller: caller, tenant: tenantRL, login: login, settingsOf: settingsOf, fleet: fleet,
		loginFail: NewFailureThrottle(login, false), cached: map[string]tenantRates{}}
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
func restLimitsFor(s tenant.Settings, tenantDef tenant.RateLimit) (tenantRL, callerRL tenant.RateLimit) {
	burst := func(perSecond float64, b int) int {
		if b > 0 {
			return b
		}
		return max(1, int(math.Ceil(perSecond)))
	}
	tenantRL = tenantDef
	if s.RESTRateLimitPerSecond > 0 {
		tenantRL = tenant.RateLimit{PerSecond: s.RESTRateLimitPerSecond, Burst: burst(s.RESTRateLimitPerSecond, s.RESTRateLimitBurst)}
	}
	if s.RESTCallerRateLimitPerSecond > 0 {
		callerRL = tenant.RateLimit{PerSecond: s.RESTCallerRateLimitPerSecond, Burst: burst(s.RESTCallerRateLimitPerSecond, s.RESTCallerRateLimitBurst)}
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

// allow takes one token from key's bucket (shared by every replica) or
// returns a 429 naming the limit and when to retry.
func (l *rateLimits) allow(key string, lim tenant.RateLimit, who string) error {
	if l == nil || lim.Off() {
		return nil
	}
	refused, d := l.fleet.Allow(tenant.Want{Key: "rest:" + key, Limit: lim})
	if refused < 0 {
		return nil
	}
	secs := max(1, int(math.Ceil(d.Seconds())))
	return &apiError{
		Status:     http.StatusTooManyRequests,
		Code:       "rate_limited",
		Message:    fmt.Sprintf("too many requests for %s: the limit is %s; retry in %d s", who, lim, secs),
		Details:    map[string]any{"retry_after_s": secs, "limit_per_second": lim.PerSecond, "burst": lim.BurstSize()},
		RetryAfter: secs,
	}
}
