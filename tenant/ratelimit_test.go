package tenant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

type downBuckets struct{ live int }

func (d downBuckets) LeaseTokens(context.Context, string, tenant.RateLimit, int) (int, float64, error) {
	return 0, 0, errors.New("connection refused")
}

func (d downBuckets) Heartbeat(context.Context, string) (int, error) { return d.live, nil }

// With the shared buckets unreachable, a replica enforces its share: the
// burst divided by the live replicas, and says so.
func TestLimiterFallsBackToShare(t *testing.T) {
	t.Parallel()
	l := tenant.NewLimiter(downBuckets{live: 3}, "r", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	for l.LiveReplicas() != 3 {
		// Run's first heartbeat is synchronous with its start; wait for it.
	}
	cancel()
	<-done
	w := tenant.Want{Key: "t", Limit: tenant.RateLimit{PerSecond: 0.001, Burst: 30}}
	n := 0
	for range 40 {
		if r, _ := l.Allow(w); r == -1 {
			n++
		}
	}
	if n != 10 {
		t.Errorf("admitted %d during the outage, want this replica's share of 10 (30 / 3 replicas)", n)
	}
	if !l.Fallback() || l.FallbackDecisions() < 39 {
		t.Errorf("fallback = %v after %d fallback decisions, want true and every call after the first", l.Fallback(), l.FallbackDecisions())
	}
}

// Without shared buckets, limits are local and behave as a token bucket.
func TestLimiterLocal(t *testing.T) {
	t.Parallel()
	l := tenant.NewLimiter(nil, "", nil)
	w := tenant.Want{Key: "t", Limit: tenant.RateLimit{PerSecond: 0.001, Burst: 4}}
	n := 0
	for range 10 {
		if r, _ := l.Allow(w, tenant.Want{Key: "off"}); r == -1 {
			n++
		}
	}
	if n != 4 {
		t.Errorf("admitted %d, want the burst of 4", n)
	}
	var nilL *tenant.Limiter
	if r, _ := nilL.Allow(w); r != -1 {
		t.Error("a nil limiter limits")
	}
}
