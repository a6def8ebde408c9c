package server

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/portico-mcp/portico/tenant"
)

// MemStore is a runtime's store for one tenant held in memory: Portico's
// own /mcp and `portico run`'s one service. Spec versions added are kept
// (the newest only); tokens, hooks and refresh records are not stored.
type MemStore struct {
	mu    sync.Mutex
	t     *tenant.Tenant
	spec  *tenant.SpecVersion
	creds []tenant.LiveCredential
	// prompts are served as they are (`portico run --prompts`), sorted by
	// name as the database lists them.
	prompts []tenant.Prompt
}

// NewMemStore holds t with its credentials, prompts (served as given) and,
// when spec is not nil, its document.
func NewMemStore(t *tenant.Tenant, creds []tenant.LiveCredential, prompts []tenant.Prompt, spec *tenant.SpecVersion) *MemStore {
	return &MemStore{t: t, creds: creds, prompts: prompts, spec: spec}
}

func (m *MemStore) Prompts(context.Context, string) ([]tenant.Prompt, error) {
	return slices.Clone(m.prompts), nil
}

// Toolsets: `portico run` serves one endpoint, the service's whole.
func (m *MemStore) Toolsets(context.Context, string) ([]tenant.Toolset, error) { return nil, nil }

func (m *MemStore) Tenant(_ context.Context, id string) (*tenant.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id != m.t.ID {
		return nil, tenant.ErrNotFound
	}
	c := *m.t
	return &c, nil
}

func (m *MemStore) Tenants(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error) {
	t, _ := m.Tenant(ctx, m.t.ID)
	if f.Status != "" && t.Status != f.Status {
		return nil, nil
	}
	return []*tenant.Tenant{t}, nil
}

func (m *MemStore) SetStatus(ctx context.Context, id string, to tenant.Status, reason, _ string) (*tenant.Tenant, error) {
	m.mu.Lock()
	if id != m.t.ID {
		m.mu.Unlock()
		return nil, tenant.ErrNotFound
	}
	m.t.Status, m.t.StatusReason = to, reason
	m.mu.Unlock()
	return m.Tenant(ctx, id)
}

func (m *MemStore) LiveCredentials(context.Context, string) ([]tenant.LiveCredential, error) {
	return m.creds, nil
}

func (m *MemStore) AddSpecVersion(_ context.Context, _ string, v tenant.SpecVersion) (tenant.SpecVersion, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v.Version = 1
	m.spec = &v
	return v, true, nil
}

func (m *MemStore) LatestSpec(context.Context, string) (tenant.SpecVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spec == nil {
		return tenant.SpecVersion{}, tenant.ErrNotFound
	}
	return *m.spec, nil
}

func (m *MemStore) VerifyToken(context.Context, string) (tenant.Token, error) {
	return tenant.Token{}, tenant.ErrNotFound // `portico run` serves no /t/<id>/mcp
}

// errNotHere answers what a single in-memory tenant cannot do.
var errNotHere = errors.New("not available without a database (portico run / Portico's own /mcp)")

func (m *MemStore) LatestSpecInfo(ctx context.Context, id string) (tenant.SpecVersion, error) {
	return m.LatestSpec(ctx, id)
}

func (m *MemStore) Spec(ctx context.Context, id string, version int) (tenant.SpecVersion, error) {
	s, err := m.LatestSpec(ctx, id)
	if err != nil || s.Version != version {
		return tenant.SpecVersion{}, tenant.ErrNotFound
	}
	return s, nil
}

func (m *MemStore) SpecVersions(ctx context.Context, id string) ([]tenant.SpecVersion, error) {
	s, err := m.LatestSpec(ctx, id)
	if err != nil {
		return []tenant.SpecVersion{}, nil
	}
	return []tenant.SpecVersion{s}, nil
}

func (m *MemStore) SpecStatus(_ context.Context, id string) (tenant.SpecStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := tenant.SpecStatus{TenantID: id}
	if m.spec != nil {
		st.NewestVersion, st.ServingVersion = m.spec.Version, m.spec.Version
	}
	return st, nil
}

func (m *MemStore) PinSpec(context.Context, string, int, string) error { return errNotHere }
func (m *MemStore) UnpinSpec(context.Context, string, string) error    { return errNotHere }
func (m *MemStore) RecordRefresh(context.Context, string, string) error {
	return nil
}

func (m *MemStore) TenantGenerations(context.Context) ([]tenant.TenantGeneration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []tenant.TenantGeneration{{ID: m.t.ID, Status: m.t.Status}}, nil
}

func (m *MemStore) WithRefreshLock(_ context.Context, _ string, _ bool, fn func() error) error {
	return fn()
}

func (m *MemStore) RotateHookSecret(context.Context, string, string) (string, error) {
	return "", errNotHere
}
func (m *MemStore) DeleteHookSecret(context.Context, string, string) error { return errNotHere }
func (m *MemStore) HookSecret(context.Context, string) (tenant.Secret, error) {
	return "", tenant.ErrNotFound
}
