package bridge

import (
	"context"
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
	// liveCredentialsFn, when set, gives the tenant credentials; nil means none.
	liveCredentialsFn func(ctx context.Context, tenantID string) ([]tenant.LiveCredential, error)
	promptsFn         func(ctx context.Context, tenantID string) ([]tenant.Prompt, error)
	toolsetsFn        func(ctx context.Context, tenantID string) ([]tenant.Toolset, error)
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

func (f *fakeStore) LiveCredentials(ctx context.Context, tenantID string) ([]tenant.LiveCredential, error) {
	if f.liveCredentialsFn == nil {
		return nil, nil
	}
	return f.liveCredentialsFn(ctx, tenantID)
}

// Prompts gives the tenant no prompts unless promptsFn is set.
func (f *fakeStore) Prompts(ctx context.Context, tenantID string) ([]tenant.Prompt, error) {
	if f.promptsFn == nil {
		return nil, nil
	}
	return f.promptsFn(ctx, tenantID)
}

// Toolsets gives the tenant no toolsets unless toolsetsFn is set.
func (f *fakeStore) Toolsets(ctx context.Context, tenantID string) ([]tenant.Toolset, error) {
	if f.toolsetsFn == nil {
		return nil, nil
	}
	return f.toolsetsFn(ctx, tenantID)
}

func BenchmarkTokenCheck(b *testing.B) {
	store := &fakeStore{verifyTokenFn: func(context.Context, string) (tenant.Token, error) {
		return tenant.Token{ID: "tok1", TenantID: "t1"}, nil
	}}
	c := newTokenCache(TokenCacheConfig{TTL: time.Minute})
	ctx := context.Background()
	secret := "mcp_" + "abcdefghijklmnopqrstuvwxyz234567"
	c.verify(ctx, store, secret, time.Now())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.verify(ctx, store, secret, time.Now()); err != nil {
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
