package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// TestTenantRESTLimits: a tenant's settings replace the operator's default,
// a read failure falls back to the default, the cache is dropped by forget
// and by a change notification, and a changed rate keeps the bucket's level.
func TestTenantRESTLimits(t *testing.T) {
	settings := map[string]tenant.Settings{"a": {RESTRateLimitPerSecond: 0.001, RESTRateLimitBurst: 2}}
	reads := 0
	rl := newRateLimits(tenant.RateLimit{}, tenant.RateLimit{PerSecond: 0.001, Burst: 5}, tenant.RateLimit{}, nil, func(_ context.Context, id string) (tenant.Settings, error) {
		reads++
		s, ok := settings[id]
		if !ok {
			return tenant.Settings{}, errors.New("no such tenant")
		}
		return s, nil
	})
	ctx := context.Background()
	allowN := func(id, caller string, n int) (ok int, err error) {
		for range n {
			if err = rl.allowTenant(ctx, id, caller); err != nil {
				return ok, err
			}
			ok++
		}
		return ok, nil
	}
	if ok, err := allowN("a", "k1", 3); ok != 2 || err == nil || !strings.Contains(err.Error(), "tenant a") {
		t.Fatalf("tenant a (burst 2): %d allowed, err %v", ok, err)
	}
	if reads != 1 {
		t.Errorf("settings read %d times for 3 requests, want 1 (cached)", reads)
	}
	if ok, _ := allowN("b", "k1", 6); ok != 5 {
		t.Errorf("tenant b without settings (operator burst 5): %d allowed", ok)
	}

	// Raise a's burst: the bucket keeps its (empty) level, so the change is
	// no way to reset it, and nothing is read until the cache is dropped.
	settings["a"] = tenant.Settings{RESTRateLimitPerSecond: 0.001, RESTRateLimitBurst: 4}
	if ok, _ := allowN("a", "k1", 1); ok != 0 {
		t.Errorf("before forget: %d allowed", ok)
	}
	(&Server{limits: rl}).TenantChanged(tenant.Change{TenantID: "a", Kind: "tenant"})
	if ok, _ := allowN("a", "k1", 1); ok != 0 {
		t.Errorf("after the change, the drained bucket allowed %d", ok)
	}
	if reads < 3 {
		t.Errorf("settings not re-read after the change notification (%d reads)", reads)
	}

	// Per caller within the tenant; a burst of 0 is one second's worth.
	settings["c"] = tenant.Settings{RESTCallerRateLimitPerSecond: 2}
	if ok, err := allowN("c", "k1", 3); ok != 2 || err == nil || !strings.Contains(err.Error(), "this API key or session in tenant c") {
		t.Errorf("caller k1 in c: %d allowed, err %v", ok, err)
	}
	if ok, _ := allowN("c", "k2", 2); ok != 2 {
		t.Errorf("caller k2 in c has its own bucket: %d allowed", ok)
	}
}
