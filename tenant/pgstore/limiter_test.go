package pgstore_test

import (
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// Two replicas (two limiters on one database) share one bucket: together
// they admit the burst, not twice it.
func TestLimiterSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := tenant.NewLimiter(f.store, "replica-a", nil)
	b := tenant.NewLimiter(f.store, "replica-b", nil)
	lim := tenant.RateLimit{PerSecond: 0.001, Burst: 20} // refills one token in 1,000 s
	w := tenant.Want{Key: "mcp:tenant:t1", Limit: lim}
	admitted := 0
	for i := range 60 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if refused, _ := l.Allow(w); refused < 0 {
			admitted++
		}
	}
	if admitted != 20 {
		t.Errorf("two replicas admitted %d calls, want the burst of 20", admitted)
	}
	if a.Leases()+b.Leases() >= 60 {
		t.Errorf("%d leases for 60 calls: refused calls must not ask the database each time", a.Leases()+b.Leases())
	}
	if a.Fallback() || a.FallbackDecisions() != 0 {
		t.Error("limiter fell back while the database answered")
	}
	// Another key is another bucket.
	if refused, _ := a.Allow(tenant.Want{Key: "mcp:tenant:t2", Limit: lim}); refused >= 0 {
		t.Error("another tenant's bucket was spent")
	}
}

// A refusal by the second bucket gives the first one's token back.
func TestLimiterAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l := tenant.NewLimiter(f.store, "r", nil)
	tenantW := tenant.Want{Key: "t", Limit: tenant.RateLimit{PerSecond: 0.001, Burst: 3}}
	tokenW := tenant.Want{Key: "k", Limit: tenant.RateLimit{PerSecond: 0.001, Burst: 1}}
	if r, _ := l.Allow(tenantW, tokenW); r != -1 {
		t.Fatalf("first call refused by %d", r)
	}
	if r, d := l.Allow(tenantW, tokenW); r != 1 || d <= 0 {
		t.Fatalf("second call: refused by %d after %v, want the token's bucket (1) with a retry time", r, d)
	}
	// The tenant bucket still has its 2 tokens: the refused call did not spend one.
	other := tenant.Want{Key: "k2", Limit: tenant.RateLimit{PerSecond: 0.001, Burst: 5}}
	n := 0
	for range 5 {
		if r, _ := l.Allow(tenantW, other); r == -1 {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the tenant bucket admitted %d more, want 2", n)
	}
}
