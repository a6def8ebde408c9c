package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// fakeStore implements Store with one func per method; a test sets only the
// ones it expects to be called, and an unexpected call fails as an error.
type fakeStore struct {
	CreateTenantFn     func(ctx context.Context, t *tenant.Tenant, actor string) error
	TenantFn           func(ctx context.Context, id string) (*tenant.Tenant, error)
	TenantsFn          func(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error)
	UpdateTenantFn     func(ctx context.Context, id string, p tenant.TenantPatch, actor string) (*tenant.Tenant, error)
	DeleteTenantFn     func(ctx context.Context, id, actor string) error
	PutCredentialFn    func(ctx context.Context, tenantID string, c tenant.Credential, value, actor string) error
	CredentialsFn      func(ctx context.Context, tenantID string) ([]tenant.Credential, error)
	DeleteCredentialFn func(ctx context.Context, tenantID, name, actor string) error
	CreatePromptFn     func(ctx context.Context, tenantID string, p tenant.Prompt, actor string) (tenant.Prompt, error)
	UpdatePromptFn     func(ctx context.Context, tenantID, name string, p tenant.Prompt, actor string) (tenant.Prompt, error)
	DeletePromptFn     func(ctx context.Context, tenantID, name, actor string) error
	PromptsFn          func(ctx context.Context, tenantID string) ([]tenant.Prompt, error)
	PromptFn           func(ctx context.Context, tenantID, name string) (tenant.Prompt, error)
	CreateTokenFn      func(ctx context.Context, tenantID, name string, expiresAt *time.Time, actor string) (tenant.Token, string, error)
	CreateTokenForFn   func(ctx context.Context, tenantID string, nt tenant.NewToken, actor string) (tenant.Token, string, error)
	CreateToolsetFn    func(ctx context.Context, tenantID string, ts tenant.Toolset, actor string) (tenant.Toolset, error)
	UpdateToolsetFn    func(ctx context.Context, tenantID, name string, ts tenant.Toolset, actor string) (tenant.Toolset, error)
	DeleteToolsetFn    func(ctx context.Context, tenantID, name, actor string) error
	ToolsetsFn         func(ctx context.Context, tenantID string) ([]tenant.Toolset, error)
	ToolsetFn          func(ctx context.Context, tenantID, name string) (tenant.Toolset, error)
	TokensFn           func(ctx context.Context, tenantID string) ([]tenant.Token, error)
	RevokeTokenFn      func(ctx context.Context, tenantID, tokenID, actor string) error
	CreateAPIKeyFn     func(ctx context.Context, tenantID, name string, scopes []string, by tenant.Minter, actor string) (tenant.APIKey, string, error)
	APIKeysFn          func(ctx context.Context, tenantID string) ([]tenant.APIKey, error)
	RevokeAPIKeyFn     func(ctx context.Context, tenantID, keyID, actor string) error
	VerifyAPIKeyFn     func(ctx context.Context, secret string) (tenant.APIKey, error)
	ActorNamesFn       func(ctx context.Context, entries []tenant.AuditEntry) (map[string]string, error)
	AuditFn            func(ctx context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error)
	PingFn             func(ctx context.Context) error
	fakeAccounts
}

func unexpected(name string) error { return errors.New("fake: unexpected call to " + name) }

func (f *fakeStore) CreateTenant(ctx context.Context, t *tenant.Tenant, actor string) error {
	if f.CreateTenantFn == nil {
		return unexpected("CreateTenant")
	}
	return f.CreateTenantFn(ctx, t, actor)
}

func (f *fakeStore) Tenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	if f.TenantFn == nil {
		return nil, unexpected("Tenant")
	}
	return f.TenantFn(ctx, id)
}

func (f *fakeStore) Tenants(ctx context.Context, fl tenant.TenantFilter) ([]*tenant.Tenant, error) {
	if f.TenantsFn == nil {
		return nil, unexpected("Tenants")
	}
	return f.TenantsFn(ctx, fl)
}

func (f *fakeStore) UpdateTenant(ctx context.Context, id string, p tenant.TenantPatch, actor string) (*tenant.Tenant, error) {
	if f.UpdateTenantFn == nil {
		return nil, unexpected("UpdateTenant")
	}
	return f.UpdateTenantFn(ctx, id, p, actor)
}

func (f *fakeStore) DeleteTenant(ctx context.Context, id, actor string) error {
	if f.DeleteTenantFn == nil {
		return unexpected("DeleteTenant")
	}
	return f.DeleteTenantFn(ctx, id, actor)
}

func (f *fakeStore) PutCredential(ctx context.Context, tenantID string, c tenant.Credential, value, actor string) error {
	if f.PutCredentialFn == nil {
		return unexpected("PutCredential")
	}
	return f.PutCredentialFn(ctx, tenantID, c, value, actor)
}

func (f *fakeStore) CreatePrompt(ctx context.Context, tenantID string, p tenant.Prompt, actor string) (tenant.Prompt, error) {
	if f.CreatePromptFn == nil {
		return tenant.Prompt{}, unexpected("CreatePrompt")
	}
	return f.CreatePromptFn(ctx, tenantID, p, actor)
}

func (f *fakeStore) UpdatePrompt(ctx context.Context, tenantID, name string, p tenant.Prompt, actor string) (tenant.Prompt, error) {
	if f.UpdatePromptFn == nil {
		return tenant.Prompt{}, unexpected("UpdatePrompt")
	}
	return f.UpdatePromptFn(ctx, tenantID, name, p, actor)
}

func (f *fakeStore) DeletePrompt(ctx context.Context, tenantID, name, actor string) error {
	if f.DeletePromptFn == nil {
		return unexpected("DeletePrompt")
	}
	return f.DeletePromptFn(ctx, tenantID, name, actor)
}

func (f *fakeStore) Prompts(ctx context.Context, tenantID string) ([]tenant.Prompt, error) {
	if f.PromptsFn == nil {
		return nil, unexpected("Prompts")
	}
	return f.PromptsFn(ctx, tenantID)
}

func (f *fakeStore) Prompt(ctx context.Context, tenantID, name string) (tenant.Prompt, error) {
	if f.PromptFn == nil {
		return tenant.Prompt{}, unexpected("Prompt")
	}
	return f.PromptFn(ctx, tenantID, name)
}

func (f *fakeStore) Credentials(ctx context.Context, tenantID string) ([]tenant.Credential, error) {
	if f.CredentialsFn == nil {
		return nil, unexpected("Credentials")
	}
	return f.CredentialsFn(ctx, tenantID)
}

func (f *fakeStore) DeleteCredential(ctx context.Context, tenantID, name, actor string) error {
	if f.DeleteCredentialFn == nil {
		return unexpected("DeleteCredential")
	}
	return f.DeleteCredentialFn(ctx, tenantID, name, actor)
}

// CreateTokenFor calls CreateTokenForFn, or CreateTokenFn for a token
// restricted to no toolset.
func (f *fakeStore) CreateTokenFor(ctx context.Context, tenantID string, nt tenant.NewToken, actor string) (tenant.Token, string, error) {
	if f.CreateTokenForFn != nil {
		return f.CreateTokenForFn(ctx, tenantID, nt, actor)
	}
	if f.CreateTokenFn == nil || len(nt.Toolsets) > 0 {
		return tenant.Token{}, "", unexpected("CreateTokenFor")
	}
	return f.CreateTokenFn(ctx, tenantID, nt.Name, nt.ExpiresAt, actor)
}

func (f *fakeStore) CreateToolset(ctx context.Context, tenantID string, ts tenant.Toolset, actor string) (tenant.Toolset, error) {
	if f.CreateToolsetFn == nil {
		return tenant.Toolset{}, unexpected("CreateToolset")
	}
	return f.CreateToolsetFn(ctx, tenantID, ts, actor)
}

func (f *fakeStore) UpdateToolset(ctx context.Context, tenantID, name string, ts tenant.Toolset, actor string) (tenant.Toolset, error) {
	if f.UpdateToolsetFn == nil {
		return tenant.Toolset{}, unexpected("UpdateToolset")
	}
	return f.UpdateToolsetFn(ctx, tenantID, name, ts, actor)
}

func (f *fakeStore) DeleteToolset(ctx context.Context, tenantID, name, actor string) error {
	if f.DeleteToolsetFn == nil {
		return unexpected("DeleteToolset")
	}
	return f.DeleteToolsetFn(ctx, tenantID, name, actor)
}

func (f *fakeStore) Toolsets(ctx context.Context, tenantID string) ([]tenant.Toolset, error) {
	if f.ToolsetsFn == nil {
		return nil, unexpected("Toolsets")
	}
	return f.ToolsetsFn(ctx, tenantID)
}

// CheckToolsets accepts every name, as the real one does for toolsets
// that exist.
func (f *fakeStore) CheckToolsets(context.Context, string, []string) error { return nil }

func (f *fakeStore) Toolset(ctx context.Context, tenantID, name string) (tenant.Toolset, error) {
	if f.ToolsetFn == nil {
		return tenant.Toolset{}, unexpected("Toolset")
	}
	return f.ToolsetFn(ctx, tenantID, name)
}

func (f *fakeStore) Tokens(ctx context.Context, tenantID string) ([]tenant.Token, error) {
	if f.TokensFn == nil {
		return nil, unexpected("Tokens")
	}
	return f.TokensFn(ctx, tenantID)
}

func (f *fakeStore) RevokeToken(ctx context.Context, tenantID, tokenID, actor string) error {
	if f.RevokeTokenFn == nil {
		return unexpected("RevokeToken")
	}
	return f.RevokeTokenFn(ctx, tenantID, tokenID, actor)
}

func (f *fakeStore) CreateAPIKey(ctx context.Context, tenantID, name string, scopes []string, by tenant.Minter, actor string) (tenant.APIKey, string, error) {
	if f.CreateAPIKeyFn == nil {
		return tenant.APIKey{}, "", unexpected("CreateAPIKey")
	}
	return f.CreateAPIKeyFn(ctx, tenantID, name, scopes, by, actor)
}

func (f *fakeStore) APIKeys(ctx context.Context, tenantID string) ([]tenant.APIKey, error) {
	if f.APIKeysFn == nil {
		return nil, unexpected("APIKeys")
	}
	return f.APIKeysFn(ctx, tenantID)
}

func (f *fakeStore) RevokeAPIKey(ctx context.Context, tenantID, keyID, actor string) error {
	if f.RevokeAPIKeyFn == nil {
		return unexpected("RevokeAPIKey")
	}
	return f.RevokeAPIKeyFn(ctx, tenantID, keyID, actor)
}

// VerifyAPIKey defaults to the test keys below so most tests need not set it.
func (f *fakeStore) VerifyAPIKey(ctx context.Context, secret string) (tenant.APIKey, error) {
	if f.VerifyAPIKeyFn != nil {
		return f.VerifyAPIKeyFn(ctx, secret)
	}
	if k, ok := testKeys[secret]; ok {
		return k, nil
	}
	return tenant.APIKey{}, tenant.ErrNotFound
}

func (f *fakeStore) AuditPage(ctx context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
	if f.AuditFn == nil {
		return nil, unexpected("AuditPage")
	}
	return f.AuditFn(ctx, q)
}

func (f *fakeStore) ActorNames(ctx context.Context, entries []tenant.AuditEntry) (map[string]string, error) {
	if f.ActorNamesFn == nil {
		return map[string]string{}, nil
	}
	return f.ActorNamesFn(ctx, entries)
}

func (f *fakeStore) Ping(ctx context.Context) error {
	if f.PingFn == nil {
		return nil
	}
	return f.PingFn(ctx)
}

type fakeRuntime struct {
	ActivateFn      func(ctx context.Context, id, actor string) (*tenant.Tenant, error)
	DeactivateFn    func(ctx context.Context, id, actor string) (*tenant.Tenant, error)
	ToolsFn         func(ctx context.Context, id string) ([]tenant.Tool, error)
	CheckSettingsFn func(id string, s tenant.Settings) error
	CheckToolsetFn  func(id string, ts tenant.Toolset) error
	ToolsetToolsFn  func(ctx context.Context, id, name string) ([]tenant.Tool, error)
	ReloadFn        func(ctx context.Context, id string) error
}

func (f *fakeRuntime) Activate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	if f.ActivateFn == nil {
		return nil, unexpected("Activate")
	}
	return f.ActivateFn(ctx, id, actor)
}

func (f *fakeRuntime) Deactivate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	if f.DeactivateFn == nil {
		return nil, unexpected("Deactivate")
	}
	return f.DeactivateFn(ctx, id, actor)
}

func (f *fakeRuntime) Tools(ctx context.Context, id string) ([]tenant.Tool, error) {
	if f.ToolsFn == nil {
		return nil, unexpected("Tools")
	}
	return f.ToolsFn(ctx, id)
}

// CheckSettings defaults to accepting, as the real one does for a tenant
// that serves nothing.
func (f *fakeRuntime) CheckSettings(id string, s tenant.Settings) error {
	if f.CheckSettingsFn == nil {
		return nil
	}
	return f.CheckSettingsFn(id, s)
}

// CheckToolset defaults to accepting, as the real one does for a tenant
// that serves nothing.
func (f *fakeRuntime) CheckToolset(id string, ts tenant.Toolset) error {
	if f.CheckToolsetFn == nil {
		return nil
	}
	return f.CheckToolsetFn(id, ts)
}

// PreviewToolset defaults to "not active".
func (f *fakeRuntime) PreviewToolset(context.Context, string, tenant.Toolset) ([]tenant.Tool, error) {
	return nil, tenant.ErrNotFound
}

// ToolsetTools defaults to "not active".
func (f *fakeRuntime) ToolsetTools(ctx context.Context, id, name string) ([]tenant.Tool, error) {
	if f.ToolsetToolsFn == nil {
		return nil, tenant.ErrNotFound
	}
	return f.ToolsetToolsFn(ctx, id, name)
}

// Reload defaults to a no-op, as the real one is for inactive tenants.
func (f *fakeRuntime) Reload(ctx context.Context, id string) error {
	if f.ReloadFn == nil {
		return nil
	}
	return f.ReloadFn(ctx, id)
}

// Test API keys, by secret.
const (
	adminKey    = "pk_admin"
	t1Key       = "pk_t1"
	t1ReadKey   = "pk_t1_ro"
	adminReadOK = "pk_admin_ro"
)

var testKeys = map[string]tenant.APIKey{
	adminKey:    {ID: "k-admin", Scopes: []string{"read", "write"}},
	adminReadOK: {ID: "k-admin-ro", Scopes: []string{"read"}},
	t1Key:       {ID: "k-t1", TenantID: "t1", Scopes: []string{"read", "write"}, MinterRole: tenant.RoleOwner},
	t1ReadKey:   {ID: "k-t1-ro", TenantID: "t1", Scopes: []string{"read"}, MinterRole: tenant.RoleOwner},
}

var (
	t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	t1 = &tenant.Tenant{ID: "t1", Name: "Pets", BaseURL: "https://pets.example", SpecURL: "https://pets.example/openapi.json",
		Status: tenant.StatusPending, CreatedAt: t0, UpdatedAt: t0}
)

func cloneT1() *tenant.Tenant { c := *t1; return &c }

// newTestServer builds a server over the fakes, logging to the test.
func newTestServer(t *testing.T, st *fakeStore, rt *fakeRuntime) http.Handler {
	t.Helper()
	if st == nil {
		st = &fakeStore{}
	}
	if rt == nil {
		rt = &fakeRuntime{}
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	return New(Options{Store: st, Runtime: rt, Logger: log, BaseURL: "https://portico.example/"}).Handler()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// do sends one request; key "" sends none.
func do(t *testing.T, h http.Handler, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// Accounts. These default to "nobody": no sessions, users or memberships,
// no revoked keys; RecordEvent keeps the events for assertions.
type fakeAccounts struct {
	VerifySessionFn    func(ctx context.Context, secret string) (tenant.User, tenant.Session, error)
	FindUserFn         func(ctx context.Context, ref string) (tenant.User, error)
	RoleFn             func(ctx context.Context, tenantID, userID string) (tenant.Role, error)
	MembershipsFn      func(ctx context.Context, userID string) ([]tenant.Member, error)
	LoginFn            func(ctx context.Context, email, password, ip, ua string, ttl time.Duration) (tenant.User, tenant.Session, string, error)
	LogoutFn           func(ctx context.Context, secret string) error
	CreateUserFn       func(ctx context.Context, email, password string, operator bool, actor string) (tenant.User, error)
	UsersFn            func(ctx context.Context) ([]tenant.User, error)
	MembersFn          func(ctx context.Context, tenantID string) ([]tenant.Member, error)
	PutMemberFn        func(ctx context.Context, tenantID, userID string, role tenant.Role, actor string) (tenant.Member, error)
	DeleteMemberFn     func(ctx context.Context, tenantID, userID, actor string) error
	CreateUserAPIKeyFn func(ctx context.Context, userID, name string, scopes []string, actor string) (tenant.APIKey, string, error)
	UserAPIKeysFn      func(ctx context.Context, userID string) ([]tenant.APIKey, error)
	RevokeUserAPIKeyFn func(ctx context.Context, userID, keyID, actor string) error
	Events             []string // "tenant|actor|action"
}

func (f *fakeStore) IsRevokedAPIKey(context.Context, string) (tenant.APIKey, bool) {
	return tenant.APIKey{}, false
}

func (f *fakeStore) RecordEvent(_ context.Context, tenantID, actor, action string, _ map[string]any) error {
	f.Events = append(f.Events, tenantID+"|"+actor+"|"+action)
	return nil
}

func (f *fakeStore) VerifySession(ctx context.Context, secret string) (tenant.User, tenant.Session, error) {
	if f.VerifySessionFn == nil {
		return tenant.User{}, tenant.Session{}, tenant.ErrNotFound
	}
	return f.VerifySessionFn(ctx, secret)
}

func (f *fakeStore) FindUser(ctx context.Context, ref string) (tenant.User, error) {
	if f.FindUserFn == nil {
		return tenant.User{}, tenant.ErrNotFound
	}
	return f.FindUserFn(ctx, ref)
}

func (f *fakeStore) Role(ctx context.Context, tenantID, userID string) (tenant.Role, error) {
	if f.RoleFn == nil {
		return "", tenant.ErrNotFound
	}
	return f.RoleFn(ctx, tenantID, userID)
}

func (f *fakeStore) Memberships(ctx context.Context, userID string) ([]tenant.Member, error) {
	if f.MembershipsFn == nil {
		return nil, nil
	}
	return f.MembershipsFn(ctx, userID)
}

func (f *fakeStore) Login(ctx context.Context, email, password, ip, ua string, ttl time.Duration) (tenant.User, tenant.Session, string, error) {
	if f.LoginFn == nil {
		return tenant.User{}, tenant.Session{}, "", unexpected("Login")
	}
	return f.LoginFn(ctx, email, password, ip, ua, ttl)
}

func (f *fakeStore) Logout(ctx context.Context, secret string) error {
	if f.LogoutFn == nil {
		return unexpected("Logout")
	}
	return f.LogoutFn(ctx, secret)
}

func (f *fakeStore) CreateUser(ctx context.Context, email, password string, operator bool, actor string) (tenant.User, error) {
	if f.CreateUserFn == nil {
		return tenant.User{}, unexpected("CreateUser")
	}
	return f.CreateUserFn(ctx, email, password, operator, actor)
}

func (f *fakeStore) Users(ctx context.Context) ([]tenant.User, error) {
	if f.UsersFn == nil {
		return nil, unexpected("Users")
	}
	return f.UsersFn(ctx)
}

func (f *fakeStore) Members(ctx context.Context, tenantID string) ([]tenant.Member, error) {
	if f.MembersFn == nil {
		return nil, unexpected("Members")
	}
	return f.MembersFn(ctx, tenantID)
}

func (f *fakeStore) PutMember(ctx context.Context, tenantID, userID string, role tenant.Role, actor string) (tenant.Member, error) {
	if f.PutMemberFn == nil {
		return tenant.Member{}, unexpected("PutMember")
	}
	return f.PutMemberFn(ctx, tenantID, userID, role, actor)
}

func (f *fakeStore) DeleteMember(ctx context.Context, tenantID, userID, actor string) error {
	if f.DeleteMemberFn == nil {
		return unexpected("DeleteMember")
	}
	return f.DeleteMemberFn(ctx, tenantID, userID, actor)
}

func (f *fakeStore) CreateUserAPIKey(ctx context.Context, userID, name string, scopes []string, actor string) (tenant.APIKey, string, error) {
	if f.CreateUserAPIKeyFn == nil {
		return tenant.APIKey{}, "", unexpected("CreateUserAPIKey")
	}
	return f.CreateUserAPIKeyFn(ctx, userID, name, scopes, actor)
}

func (f *fakeStore) UserAPIKeys(ctx context.Context, userID string) ([]tenant.APIKey, error) {
	if f.UserAPIKeysFn == nil {
		return nil, unexpected("UserAPIKeys")
	}
	return f.UserAPIKeysFn(ctx, userID)
}

func (f *fakeStore) RevokeUserAPIKey(ctx context.Context, userID, keyID, actor string) error {
	if f.RevokeUserAPIKeyFn == nil {
		return unexpected("RevokeUserAPIKey")
	}
	return f.RevokeUserAPIKeyFn(ctx, userID, keyID, actor)
}
