package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestTargets checks each target's verdict, met or missed by how much.
func TestTargets(t *testing.T) {
	r := &report{o: options{concs: []int{1, 64}}}
	r.calls = relate([]result{
		{Target: "direct", Mode: "http", Concurrency: 64, RPS: 40000, P50ms: 1},
		{Target: "minimal go-sdk", Mode: "session", Concurrency: 64, RPS: 5000, P99ms: 20},
		{Target: "portico", Mode: "session", Concurrency: 64, RPS: 10000, P99ms: 25},
	})
	r.calls = append(r.calls, relate([]result{
		{Target: "direct", Mode: "http", Concurrency: 1, RPS: 10000, P50ms: 0.1},
		{Target: "portico", Mode: "session", Concurrency: 1, RPS: 5000, P50ms: 0.3},
	})...)
	r.lists = []loopbackList{{Document: "github", Mode: "session", N: 50, P50ms: 9, P99ms: 16}}
	var b bytes.Buffer
	r.targets(&b)
	for _, want := range []string{
		"| session c=64 ≥ 0.30× direct | 0.25× | **missed by 0.05×** (17% short) |",
		"| session c=64 ≥ 2.5× the minimal session proxy | 2.00× (10000 vs 5000 calls/s) | **missed by 0.50×** (20% short) |",
		"| session c=64 p99 below the minimal session proxy's | 25.00 vs 20.00 ms | **missed by 5.000 ms** |",
		"| session c=1 added p50 ≤ 0.3 ms | 0.200 ms | met |",
		"(p50 of 50) | 9.0 ms (first 0.0 ms) | met |",
		"| … and its p99 | 16.0 ms | **missed by 1.000 ms** |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("targets lack %q:\n%s", want, b.String())
		}
	}
}
