package bridge

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the data plane's Prometheus series. A nil *Metrics records
// nothing, so tests and tools that need no metrics pass none.
//
// Tenant and tool are labels: one series per tenant × tool × status is what
// operators asked for, and is bounded by the tools tenants actually call.
type Metrics struct {
	calls       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	inflight    prometheus.Gauge
	breaker     *prometheus.GaugeVec
	breakerOpen *prometheus.CounterVec
	tokenCache  *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	fastPath    *prometheus.CounterVec

	// Children bound once per tenant × tool (and token-check source), so a
	// call does not hash its label values into the vectors every time.
	mu      sync.RWMutex
	series  map[seriesKey]*callSeries
	sources map[string]prometheus.Counter
}

type seriesKey struct{ tenant, tool string }

// callSeries are one tenant × tool's children: the ok counter (other
// outcomes are rare and looked up) and the two parts of the duration
// (upstream nil when bound by a call that did not wait upstream).
type callSeries struct {
	ok                prometheus.Counter
	gateway, upstream prometheus.Observer
}

// Call outcomes, the status label of portico_mcp_calls_total.
const (
	StatusOK           = "ok"             // upstream answered 1xx-3xx
	StatusUpstream4xx  = "upstream_4xx"   // upstream refused the request (a tool error the agent can fix)
	StatusUpstream5xx  = "upstream_5xx"   // upstream failed (counts against the circuit breaker)
	StatusTransport    = "transport"      // no HTTP answer: refused, reset, DNS (counts against the breaker)
	StatusTimeout      = "timeout"        // no answer within the tenant's timeout (counts against the breaker)
	StatusCircuitOpen  = "circuit_open"   // refused by the tenant's open circuit breaker
	StatusBusy         = "busy"           // the tenant's concurrency limit stayed full
	StatusInvalid      = "invalid_args"   // arguments could not be turned into a request
	StatusPanic        = "internal_error" // a bug in Portico, recovered
	StatusShuttingDown = "shutting_down"  // the tenant stopped while the call was starting
	StatusRateLimited  = "rate_limited"   // reserved for the rate limiter
	StatusCredential   = "credential"     // no upstream access token could be obtained (token endpoint refused or unreachable)
)

// NewMetrics registers the data plane's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_mcp_calls_total",
			Help: "MCP tool calls and resource reads, by tenant, tool and outcome.",
		}, []string{"tenant", "tool", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portico_mcp_call_duration_seconds",
			Help: "Time of MCP calls split into part=upstream (waiting for the tenant's service) and part=gateway (Portico's own share: auth, decoding, queueing, encoding).",
			// From sub-millisecond gateway work to the 30 s default upstream timeout.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"tenant", "tool", "part"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_mcp_inflight_requests",
			Help: "MCP HTTP requests being served now (long-lived listen streams excluded).",
		}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portico_circuit_state",
			Help: "Per-tenant upstream circuit breaker: 0 closed, 1 half-open (probing), 2 open.",
		}, []string{"tenant"}),
		breakerOpen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_circuit_opens_total",
			Help: "Times a tenant's circuit breaker opened.",
		}, []string{"tenant"}),
		tokenCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_mcp_token_checks_total",
			Help: "MCP token checks by source: cache (fresh), database, stale (cache used because the database was unreachable), denied, unavailable.",
		}, []string{"source"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_spec_refreshes_total",
			Help: "Spec refreshes by tenant and result (changed, unchanged, failed).",
		}, []string{"tenant", "result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_rate_limit_rejections_total",
			Help: "Requests refused by a rate limit, by tenant and scope (tenant, token, api_key).",
		}, []string{"tenant", "scope"}),
		fastPath: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_mcp_fast_path_total",
			Help: "MCP requests answered by the fast paths (fastcall.go, fastlist.go) instead of the SDK's per-request session, by method.",
		}, []string{"method"}),
	}
	reg.MustRegister(m.calls, m.duration, m.inflight, m.breaker, m.breakerOpen, m.tokenCache, m.refreshes, m.rateLimited, m.fastPath)
	return m
}

// call records one finished call: its outcome, the time spent upstream and
// Portico's share of the rest (total - upstream).
func (m *Metrics) call(tenantID, tool, status string, total, upstream time.Duration) {
	if m == nil {
		return
	}
	cs := m.callSeries(tenantID, tool, upstream > 0)
	if status == StatusOK {
		cs.ok.Inc()
	} else {
		m.calls.WithLabelValues(tenantID, tool, status).Inc()
	}
	gateway := max(total-upstream, 0)
	cs.gateway.Observe(gateway.Seconds())
	switch {
	case upstream <= 0:
	case cs.upstream != nil:
		cs.upstream.Observe(upstream.Seconds())
	default:
		m.duration.WithLabelValues(tenantID, tool, "upstream").Observe(upstream.Seconds())
	}
}

// callSeries returns tenant × tool's children, binding them on first use
// (the series appear when first recorded, as with WithLabelValues).
// The upstream part is bound only when the first call waited upstream, so
// no empty series appears for a tool whose calls never reached it.
func (m *Metrics) callSeries(tenantID, tool string, upstream bool) *callSeries {
	k := seriesKey{tenantID, tool}
	m.mu.RLock()
	cs := m.series[k]
	m.mu.RUnlock()
	if cs != nil {
		return cs
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cs = m.series[k]; cs == nil {
		if m.series == nil {
			m.series = map[seriesKey]*callSeries{}
		}
		cs = &callSeries{
			ok:      m.calls.WithLabelValues(tenantID, tool, StatusOK),
			gateway: m.duration.WithLabelValues(tenantID, tool, "gateway"),
		}
		if upstream {
			cs.upstream = m.duration.WithLabelValues(tenantID, tool, "upstream")
		}
		m.series[k] = cs
	}
	return cs
}

func (m *Metrics) inflightAdd(d float64) {
	if m != nil {
		m.inflight.Add(d)
	}
}

func (m *Metrics) breakerState(tenantID string, s breakerState, opened bool) {
	if m == nil {
		return
	}
	m.breaker.WithLabelValues(tenantID).Set(float64(s))
	if opened {
		m.breakerOpen.WithLabelValues(tenantID).Inc()
	}
}

// fast records a request the fast path for method answered.
func (m *Metrics) fast(method string) {
	if m != nil {
		m.fastPath.WithLabelValues(method).Inc()
	}
}

func (m *Metrics) tokenCheck(source string) {
	if m == nil {
		return
	}
	m.mu.RLock()
	c := m.sources[source]
	m.mu.RUnlock()
	if c == nil {
		m.mu.Lock()
		if c = m.sources[source]; c == nil {
			if m.sources == nil {
				m.sources = map[string]prometheus.Counter{}
			}
			c = m.tokenCache.WithLabelValues(source)
			m.sources[source] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

// forget drops a stopped tenant's gauges so they do not report a stale state.
func (m *Metrics) forget(tenantID string) {
	if m == nil {
		return
	}
	m.breaker.DeleteLabelValues(tenantID)
	m.mu.Lock()
	for k := range m.series {
		if k.tenant == tenantID {
			delete(m.series, k) // its series stay; only the cached handles go
		}
	}
	m.mu.Unlock()
}

// SpecRefresh records one spec refresh of a tenant: result is "changed",
// "unchanged" or "failed". It is the hook for the spec refresher.
func (m *Metrics) SpecRefresh(tenantID, result string) {
	if m != nil {
		m.refreshes.WithLabelValues(tenantID, result).Inc()
	}
}

// RateLimited records a request refused by a rate limit; scope says which
// limit ("tenant", "token", "api_key"). It is the hook for the rate limiter.
func (m *Metrics) RateLimited(tenantID, scope string) {
	if m != nil {
		m.rateLimited.WithLabelValues(tenantID, scope).Inc()
	}
}
