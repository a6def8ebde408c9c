package tenant

import "time"

// CallRecord is one MCP tool call as the dashboard's Activity screen shows
// it. It never carries arguments, results or secrets: only the tool's name,
// the outcome and the timings, and the start of a failed call's message.
type CallRecord struct {
	At         time.Time `json:"at"`
	Tool       string    `json:"tool"`
	Status     string    `json:"status"` // ok, upstream_4xx, upstream_5xx, transport, timeout, ... (the metrics' status label)
	IsError    bool      `json:"is_error"`
	LatencyMS  float64   `json:"latency_ms"`  // the whole call as Portico saw it
	UpstreamMS float64   `json:"upstream_ms"` // waiting for the tenant's service
	GatewayMS  float64   `json:"gateway_ms"`  // Portico's own share: latency_ms - upstream_ms
	Error      string    `json:"error,omitempty"`
}

// CallFilter selects recent calls: Tool and Status match exactly when set;
// Status "error" matches every failed call. Limit caps the answer.
type CallFilter struct {
	Tool   string
	Status string
	Since  time.Time
	Limit  int
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
