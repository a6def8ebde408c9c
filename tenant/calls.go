package tenant

import (
	"math"
	"time"
)

// CallRecord is one MCP tool call or resource read as the call history
// keeps it. It never carries arguments, results or secrets: only the tool's
// name, the outcome, timings and sizes, and the start of a failed call's
// (redacted) message.
type CallRecord struct {
	ID             int64     `json:"-"` // the history's row id, for cursors
	TenantID       string    `json:"-"`
	At             time.Time `json:"at"`
	Kind           string    `json:"kind"` // tool or resource
	Tool           string    `json:"tool"`
	TokenID        string    `json:"token_id,omitempty"`
	Status         string    `json:"status"` // ok, or the error class: upstream_4xx, upstream_5xx, transport, timeout, ... (the metrics' status label)
	IsError        bool      `json:"is_error"`
	UpstreamStatus int       `json:"upstream_status,omitempty"` // the upstream's HTTP status, when it answered
	LatencyMS      float64   `json:"latency_ms"`                // the whole call as Portico saw it
	UpstreamMS     float64   `json:"upstream_ms"`               // waiting for the tenant's service
	GatewayMS      float64   `json:"gateway_ms"`                // Portico's own share: latency_ms - upstream_ms
	Bytes          int64     `json:"bytes"`                     // the upstream's response body
	Error          string    `json:"error,omitempty"`
}

// CallErrorText is how many bytes of a failed call's message are kept.
const CallErrorText = 200

// CallFilter selects calls of one tenant: Tool, Status and TokenID match
// exactly when set; Status "error" matches every failed call. Since and
// Until bound the time (Until exclusive; zero means now). Limit caps the
// page; After is the cursor of the last call of the previous page.
type CallFilter struct {
	Tool    string
	Status  string
	TokenID string
	Since   time.Time
	Until   time.Time
	Limit   int
	After   string
}

// CallPage is one page of calls, newest first. Next is the cursor of the
// following page, empty on the last.
type CallPage struct {
	Calls []CallRecord
	Next  string
}

// CallBucket aggregates one minute of calls.
type CallBucket struct {
	Start         time.Time `json:"start"`
	Calls         int       `json:"calls"`
	Errors        int       `json:"errors"`
	LatencySumMS  float64   `json:"latency_sum_ms"`
	LatencyMaxMS  float64   `json:"latency_max_ms"`
	UpstreamSumMS float64   `json:"upstream_sum_ms"`
}

// UsageQuery asks for a tenant's usage from From to To (exclusive) in
// buckets of Bucket (minute, hour or day); Tool, when set, keeps one tool.
type UsageQuery struct {
	From, To time.Time
	Bucket   string
	Tool     string
}

// Usage is a tenant's calls over a time range: per bucket (every tool) and
// per tool (the whole range).
type Usage struct {
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	Bucket  string       `json:"bucket"`
	Buckets []UsageStats `json:"buckets"`
	Tools   []UsageStats `json:"tools"`
	Total   UsageStats   `json:"total"`
}

// UsageStats are the calls of one bucket or one tool. Percentiles are
// estimated from the histograms of LatencyBounds (interpolated within a
// bucket); counts and bytes are exact.
type UsageStats struct {
	Start      *time.Time `json:"start,omitempty"`
	Tool       string     `json:"tool,omitempty"`
	Calls      int64      `json:"calls"`
	Errors     int64      `json:"errors"`
	Bytes      int64      `json:"upstream_bytes"`
	Portico    Latency    `json:"portico_ms"`
	Upstream   Latency    `json:"upstream_ms"`
	gatewayH   Histogram
	upstreamH  Histogram
	latencySum float64
}

// Latency are percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// UsageDay is one tenant's metered usage on one UTC day.
type UsageDay struct {
	TenantID      string    `json:"tenant_id"`
	Day           time.Time `json:"day"`
	Calls         int64     `json:"calls"`
	Errors        int64     `json:"errors"`
	UpstreamBytes int64     `json:"upstream_bytes"`
}

// LatencyBounds are the upper bounds, in milliseconds, of the latency
// histograms the rollups keep: 50 µs growing by a quarter each step up to
// about 80 s, then one bucket for everything slower. An estimate is off by
// at most an eighth of the true value.
var LatencyBounds = func() []float64 {
	b := make([]float64, 64)
	for i := range b {
		b[i] = 0.05 * math.Pow(1.25, float64(i))
	}
	return b
}()

// Histogram counts latencies per LatencyBounds bucket (one more for the overflow).
type Histogram []int64

// NewHistogram returns an empty histogram.
func NewHistogram() Histogram { return make(Histogram, len(LatencyBounds)+1) }

// Observe counts one latency of ms milliseconds.
func (h Histogram) Observe(ms float64) {
	lo, hi := 0, len(LatencyBounds)
	for lo < hi { // first bound >= ms
		m := (lo + hi) / 2
		if LatencyBounds[m] < ms {
			lo = m + 1
		} else {
			hi = m
		}
	}
	h[lo]++
}

// Add adds o's counts into h.
func (h Histogram) Add(o Histogram) {
	for i := range min(len(h), len(o)) {
		h[i] += o[i]
	}
}

// Quantile estimates the q-quantile (0 < q ≤ 1) by linear interpolation
// inside the bucket that holds it; 0 when h is empty.
func (h Histogram) Quantile(q float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var seen int64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if float64(seen+c) >= rank {
			lo := 0.0
			if i > 0 {
				lo = LatencyBounds[i-1]
			}
			hi := lo * 1.25
			if i < len(LatencyBounds) {
				hi = LatencyBounds[i]
			}
			frac := (rank - float64(seen)) / float64(c)
			return math.Round((lo+(hi-lo)*frac)*1000) / 1000
		}
		seen += c
	}
	return LatencyBounds[len(LatencyBounds)-1]
}

// add folds one rollup row into s.
func (s *UsageStats) Add(calls, errors, bytes int64, latencySum float64, gh, uh Histogram) {
	s.Calls += calls
	s.Errors += errors
	s.Bytes += bytes
	s.latencySum += latencySum
	if s.gatewayH == nil {
		s.gatewayH, s.upstreamH = NewHistogram(), NewHistogram()
	}
	s.gatewayH.Add(gh)
	s.upstreamH.Add(uh)
}

// finish computes s's percentiles.
func (s *UsageStats) Finish() {
	if s.gatewayH == nil {
		return
	}
	s.Portico = Latency{s.gatewayH.Quantile(0.5), s.gatewayH.Quantile(0.95), s.gatewayH.Quantile(0.99)}
	s.Upstream = Latency{s.upstreamH.Quantile(0.5), s.upstreamH.Quantile(0.95), s.upstreamH.Quantile(0.99)}
}

// UsageBuckets are the bucket sizes Usage accepts.
var UsageBuckets = map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}

// MaxUsageBuckets caps how many buckets one usage query returns.
const MaxUsageBuckets = 1500
