package bridge

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// fakeStore is a tenantStore whose methods are the …Fn fields; unset ones panic.
type fakeStore struct {
	tenantStore
	verifyTokenFn func(ctx context.Context, secret string) (tenant.Token, error)
	tenantFn      func(ctx context.Context, id string) (*tenant.Tenant, error)
	setStatusFn   func(ctx context.Context, id string, to tenant.Status, reason, actor string) (*tenant.Tenant, error)
	latestSpecFn  func(ctx context.Context, tenantID string) (tenant.SpecVersion, error)
}

func (f *fakeStore) VerifyToken(ctx context.Context, secret string) (tenant.Token, error) {
	return f.verifyTokenFn(ctx, secret)
}

func (f *fakeStore) Tenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	return f.tenantFn(ctx, id)
}

func (f *fakeStore) SetStatus(ctx context.Context, id string, to tenant.Status, reason, actor string) (*tenant.Tenant, error) {
	return f.setStatusFn(ctx, id, to, reason, actor)
}

func (f *fakeStore) LatestSpec(ctx context.Context, tenantID string) (tenant.SpecVersion, error) {
	return f.latestSpecFn(ctx, tenantID)
}

func (f *fakeStore) LiveCredentials(context.Context, string) ([]tenant.LiveCredential, error) {
	return nil, nil
}

func TestTokenCache(t *testing.T) {
	var calls atomic.Int32
	var expires *time.Time
	store := &fakeStore{verifyTokenFn: func(_ context.Context, secret string) (tenant.Token, error) {
		calls.Add(1)
		if secret != "mcp_good" {
			return tenant.Token{}, tenant.ErrNotFound
		}
		return tenant.Token{ID: "tok1", TenantID: "t1", ExpiresAt: expires}, nil
	}}
	ctx := context.Background()
	r := &Runtime{store: store, tokens: newTokenCache(time.Minute)}
	verify := func(secret string) (string, error) {
		tok, err := r.tokens.verify(ctx, store, secret)
		return tok.TenantID, err
	}

	if id, err := verify("mcp_good"); err != nil || id != "t1" {
		t.Fatalf("first verify = %q, %v; want t1", id, err)
	}
	verify("mcp_good")
	if n := calls.Load(); n != 1 {
		t.Errorf("store asked %d times for two verifications within the TTL, want 1", n)
	}
	for range 2 {
		if _, err := verify("mcp_bad"); err == nil {
			t.Fatal("unknown token verified")
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("store asked %d times, want 3: failures must not be cached", n)
	}
	r.InvalidateToken("tok1")
	verify("mcp_good")
	if n := calls.Load(); n != 4 {
		t.Errorf("store asked %d times after InvalidateToken, want 4", n)
	}
	r.InvalidateTenantTokens("t1")
	past := time.Now().Add(-time.Second)
	expires = &past // the token expires before the TTL would end
	verify("mcp_good")
	verify("mcp_good")
	if n := calls.Load(); n != 6 {
		t.Errorf("store asked %d times for an expiring token, want 6: never cache past expiry", n)
	}
}

// BenchmarkTokenCheck is the per-call cost of authenticating an MCP request
// whose token was verified recently.
func BenchmarkTokenCheck(b *testing.B) {
	store := &fakeStore{verifyTokenFn: func(context.Context, string) (tenant.Token, error) {
		return tenant.Token{ID: "tok1", TenantID: "t1"}, nil
	}}
	c := newTokenCache(time.Minute)
	ctx := context.Background()
	secret := "mcp_" + "abcdefghijklmnopqrstuvwxyz234567"
	c.verify(ctx, store, secret)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.verify(ctx, store, secret); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// SpecStatus serves the one version latestSpecFn holds.
func (f *fakeStore) SpecStatus(ctx context.Context, tenantID string) (tenant.SpecStatus, error) {
	v, err := f.latestSpecFn(ctx, tenantID)
	if err != nil {
		return tenant.SpecStatus{TenantID: tenantID}, nil
	}
	return tenant.SpecStatus{TenantID: tenantID, NewestVersion: v.Version, ServingVersion: v.Version}, nil
}

func (f *fakeStore) Spec(ctx context.Context, tenantID string, version int) (tenant.SpecVersion, error) {
	return f.latestSpecFn(ctx, tenantID)
}

func (f *fakeStore) TenantGenerations(context.Context) ([]tenant.TenantGeneration, error) {
	return nil, nil
}
