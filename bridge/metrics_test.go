package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsBoundSeries: the children bound once per tenant × tool count
// into the same series as the label lookups, across a forget.
func TestMetricsBoundSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.call("a", "get", StatusOK, 3*time.Millisecond, 2*time.Millisecond)
	m.call("a", "get", StatusUpstream5xx, 3*time.Millisecond, 2*time.Millisecond)
	m.call("a", "get", StatusBusy, time.Millisecond, 0)
	m.forget("a")
	m.call("a", "get", StatusOK, 3*time.Millisecond, 2*time.Millisecond)
	m.call("b", "get", StatusOK, 3*time.Millisecond, 0)
	m.tokenCheck("cache")
	m.tokenCheck("cache")
	m.tokenCheck("database")

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // "name{label values}" → counter value or histogram count
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			var vals []string
			for _, l := range mt.GetLabel() {
				vals = append(vals, l.GetValue())
			}
			k := f.GetName() + "{" + strings.Join(vals, ",") + "}"
			switch {
			case mt.GetCounter() != nil:
				got[k] = mt.GetCounter().GetValue()
			case mt.GetHistogram() != nil:
				got[k] = float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"portico_mcp_calls_total{ok,a,get}":                 2,
		"portico_mcp_calls_total{upstream_5xx,a,get}":       1,
		"portico_mcp_calls_total{busy,a,get}":               1,
		"portico_mcp_calls_total{ok,b,get}":                 1,
		"portico_mcp_token_checks_total{cache}":             2,
		"portico_mcp_token_checks_total{database}":          1,
		"portico_mcp_call_duration_seconds{gateway,a,get}":  4,
		"portico_mcp_call_duration_seconds{upstream,a,get}": 3,
		"portico_mcp_call_duration_seconds{gateway,b,get}":  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if n, ok := got["portico_mcp_call_duration_seconds{upstream,b,get}"]; ok {
		t.Errorf("b has an upstream series with %v observations; it never waited upstream", n)
	}
}
