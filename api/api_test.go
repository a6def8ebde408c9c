package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

// check returns an error (and so a 500 in the test) when a fake got an
// argument it should not have, so success cases also prove what was passed.
func check(what string, got, want any) error {
	if diff := cmp.Diff(want, got); diff != "" {
		return fmt.Errorf("fake: %s mismatch (-want +got):\n%s", what, diff)
	}
	return nil
}

func jsonOf(t *testing.T, s string) any {
	t.Helper()
	if s == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

const t1JSON = `{"id":"t1","name":"Pets","base_url":"https://pets.example","spec_url":"https://pets.example/openapi.json",
 "status":"%s","settings":{},"spec_version":0,"created_at":"2026-11-01T12:00:00Z","updated_at":"2026-11-01T12:00:00Z",
 "mcp_url":"https://portico.example/t/t1/mcp"}`

func TestEndpointsSuccess(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		method     string
		path       string
		key        string
		body       string
		store      *fakeStore
		rt         *fakeRuntime
		wantStatus int
		wantBody   string // JSON; "" means no body
	}{
		{
			name: "create tenant defaults spec_url", method: "POST", path: "/api/v1/tenants", key: adminKey,
			body: `{"name":"Pets","base_url":"https://pets.example"}`,
			store: &fakeStore{CreateTenantFn: func(_ context.Context, tn *tenant.Tenant, actor string) error {
				if err := check("tenant", tn, &tenant.Tenant{Name: "Pets", BaseURL: "https://pets.example", SpecURL: "https://pets.example/openapi.json"}); err != nil {
					return err
				}
				if err := check("actor", actor, "apikey:k-admin"); err != nil {
					return err
				}
				*tn = *cloneT1()
				return nil
			}},
			wantStatus: 201, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "list tenants as admin", method: "GET", path: "/api/v1/tenants?status=pending", key: adminKey,
			store: &fakeStore{TenantsFn: func(_ context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error) {
				return []*tenant.Tenant{cloneT1()}, check("filter", f, tenant.TenantFilter{Status: tenant.StatusPending})
			}},
			wantStatus: 200, wantBody: `{"tenants":[` + fmt.Sprintf(t1JSON, "pending") + `]}`,
		},
		{
			name: "list tenants as tenant key is confined", method: "GET", path: "/api/v1/tenants", key: t1ReadKey,
			store: &fakeStore{TenantsFn: func(_ context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error) {
				return nil, check("filter", f, tenant.TenantFilter{IDs: []string{"t1"}})
			}},
			wantStatus: 200, wantBody: `{"tenants":[]}`,
		},
		{
			name: "get tenant with its own key", method: "GET", path: "/api/v1/tenants/t1", key: t1ReadKey,
			store: &fakeStore{TenantFn: func(_ context.Context, id string) (*tenant.Tenant, error) {
				return cloneT1(), check("id", id, "t1")
			}},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "patch name does not reload", method: "PATCH", path: "/api/v1/tenants/t1", key: t1Key,
			body: `{"name":"Pets 2"}`,
			store: &fakeStore{UpdateTenantFn: func(_ context.Context, id string, p tenant.TenantPatch, actor string) (*tenant.Tenant, error) {
				name := "Pets 2"
				return cloneT1(), check("patch", []any{id, p, actor}, []any{"t1", tenant.TenantPatch{Name: &name}, "apikey:k-t1"})
			}},
			rt:         &fakeRuntime{ReloadFn: func(context.Context, string) error { return fmt.Errorf("fake: reload not expected") }},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "patch base_url reloads", method: "PATCH", path: "/api/v1/tenants/t1", key: adminKey,
			body: `{"base_url":"http://pets.internal:8000"}`,
			store: &fakeStore{UpdateTenantFn: func(_ context.Context, id string, p tenant.TenantPatch, _ string) (*tenant.Tenant, error) {
				u := "http://pets.internal:8000"
				return cloneT1(), check("patch", p, tenant.TenantPatch{BaseURL: &u})
			}},
			rt:         &fakeRuntime{ReloadFn: func(_ context.Context, id string) error { return check("id", id, "t1") }},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "delete inactive tenant", method: "DELETE", path: "/api/v1/tenants/t1", key: adminKey,
			store: &fakeStore{
				TenantFn: func(context.Context, string) (*tenant.Tenant, error) { return cloneT1(), nil },
				DeleteTenantFn: func(_ context.Context, id, actor string) error {
					return check("args", []string{id, actor}, []string{"t1", "apikey:k-admin"})
				},
			},
			wantStatus: 204,
		},
		{
			name: "activate", method: "POST", path: "/api/v1/tenants/t1/activate", key: t1Key,
			rt: &fakeRuntime{ActivateFn: func(_ context.Context, id, actor string) (*tenant.Tenant, error) {
				tn := cloneT1()
				tn.Status = tenant.StatusActive
				return tn, check("args", []string{id, actor}, []string{"t1", "apikey:k-t1"})
			}},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "active"),
		},
		{
			name: "deactivate", method: "POST", path: "/api/v1/tenants/t1/deactivate", key: t1Key,
			rt: &fakeRuntime{DeactivateFn: func(_ context.Context, id, _ string) (*tenant.Tenant, error) {
				tn := cloneT1()
				tn.Status = tenant.StatusInactive
				return tn, check("id", id, "t1")
			}},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "inactive"),
		},
		{
			name: "put settings replaces and reloads", method: "PUT", path: "/api/v1/tenants/t1/settings", key: t1Key,
			body: `{"route_maps":[{"pattern":"^/admin","mcp_type":"exclude"}],"upstream_timeout_ms":5000}`,
			store: &fakeStore{UpdateTenantFn: func(_ context.Context, id string, p tenant.TenantPatch, _ string) (*tenant.Tenant, error) {
				want := tenant.Settings{RouteMaps: []tenant.RouteMap{{Pattern: "^/admin", MCPType: "exclude"}}, UpstreamTimeoutMS: 5000}
				return cloneT1(), check("patch", p, tenant.TenantPatch{Settings: &want})
			}},
			rt:         &fakeRuntime{ReloadFn: func(_ context.Context, id string) error { return check("id", id, "t1") }},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "put settings with browser origins", method: "PUT", path: "/api/v1/tenants/t1/settings", key: t1Key,
			body: `{"cors_origins":["https://app.example.com","http://127.0.0.1:5173"]}`,
			store: &fakeStore{UpdateTenantFn: func(_ context.Context, id string, p tenant.TenantPatch, _ string) (*tenant.Tenant, error) {
				want := tenant.Settings{CORSOrigins: []string{"https://app.example.com", "http://127.0.0.1:5173"}}
				return cloneT1(), check("patch", p, tenant.TenantPatch{Settings: &want})
			}},
			rt:         &fakeRuntime{ReloadFn: func(_ context.Context, id string) error { return check("id", id, "t1") }},
			wantStatus: 200, wantBody: fmt.Sprintf(t1JSON, "pending"),
		},
		{
			name: "put settings: bad browser origins are named, nothing saved", method: "PUT", path: "/api/v1/tenants/t1/settings", key: t1Key,
			body: `{"cors_origins":["https://ok.example","*","https://app.example.com/mcp"]}`,
			store: &fakeStore{UpdateTenantFn: func(context.Context, string, tenant.TenantPatch, string) (*tenant.Tenant, error) {
				return nil, errors.New("invalid settings must not be saved")
			}},
			wantStatus: 422,
			wantBody: `{"error":{"code":"invalid_input","message":"2 fields are invalid: settings.cors_origins[1] \"*\" is not allowed: the endpoint takes bearer tokens and must check where browser requests come from; list each origin that may call it, such as https://app.example.com; settings.cors_origins[2] \"https://app.example.com/mcp\" is a URL, not an origin: an origin is scheme, host and port only; write \"https://app.example.com\"",
				"details":{"fields":[{"field":"settings.cors_origins[1]","problem":"\"*\" is not allowed: the endpoint takes bearer tokens and must check where browser requests come from; list each origin that may call it, such as https://app.example.com"},
				{"field":"settings.cors_origins[2]","problem":"\"https://app.example.com/mcp\" is a URL, not an origin: an origin is scheme, host and port only; write \"https://app.example.com\""}]}}}`,
		},
		{
			name: "put credential", method: "PUT", path: "/api/v1/tenants/t1/credentials/upstream", key: t1Key,
			body: `{"type":"header","header":"X-Api-Key","value":"s3cret-value"}`,
			store: &fakeStore{PutCredentialFn: func(_ context.Context, id string, c tenant.Credential, value, _ string) error {
				return check("args", []any{id, c, value}, []any{"t1", tenant.Credential{Name: "upstream", Type: "header", Header: "X-Api-Key"}, "s3cret-value"})
			}},
			rt:         &fakeRuntime{ReloadFn: func(_ context.Context, id string) error { return check("id", id, "t1") }},
			wantStatus: 204,
		},
		{
			name: "list credentials", method: "GET", path: "/api/v1/tenants/t1/credentials", key: t1ReadKey,
			store: &fakeStore{CredentialsFn: func(_ context.Context, id string) ([]tenant.Credential, error) {
				return []tenant.Credential{{Name: "upstream", Type: "bearer", CreatedAt: t0, UpdatedAt: t0}}, check("id", id, "t1")
			}},
			wantStatus: 200, wantBody: `{"credentials":[{"name":"upstream","type":"bearer","created_at":"2026-11-01T12:00:00Z","updated_at":"2026-11-01T12:00:00Z"}]}`,
		},
		{
			name: "delete credential reloads", method: "DELETE", path: "/api/v1/tenants/t1/credentials/upstream", key: t1Key,
			store: &fakeStore{DeleteCredentialFn: func(_ context.Context, id, name, _ string) error {
				return check("args", []string{id, name}, []string{"t1", "upstream"})
			}},
			rt:         &fakeRuntime{ReloadFn: func(_ context.Context, id string) error { return check("id", id, "t1") }},
			wantStatus: 204,
		},
		{
			name: "create token shows secret once", method: "POST", path: "/api/v1/tenants/t1/tokens", key: t1Key,
			body: `{"name":"claude","expires_at":"2030-01-02T03:04:05Z"}`,
			store: &fakeStore{CreateTokenFn: func(_ context.Context, id, name string, e *time.Time, _ string) (tenant.Token, string, error) {
				return tenant.Token{ID: "tok1", TenantID: id, Name: name, Prefix: "mcp_abcd", CreatedAt: t0, ExpiresAt: e}, "mcp_abcdefgh",
					check("args", []any{id, name, e}, []any{"t1", "claude", &exp})
			}},
			wantStatus: 201,
			wantBody: `{"token":{"id":"tok1","tenant_id":"t1","name":"claude","prefix":"mcp_abcd","created_at":"2026-11-01T12:00:00Z",
				"expires_at":"2030-01-02T03:04:05Z"},"secret":"mcp_abcdefgh"}`,
		},
		{
			name: "list tokens", method: "GET", path: "/api/v1/tenants/t1/tokens", key: t1ReadKey,
			store: &fakeStore{TokensFn: func(context.Context, string) ([]tenant.Token, error) {
				return []tenant.Token{{ID: "tok1", TenantID: "t1", Name: "claude", Prefix: "mcp_abcd", CreatedAt: t0}}, nil
			}},
			wantStatus: 200, wantBody: `{"tokens":[{"id":"tok1","tenant_id":"t1","name":"claude","prefix":"mcp_abcd","created_at":"2026-11-01T12:00:00Z"}]}`,
		},
		{
			name: "revoke token", method: "DELETE", path: "/api/v1/tenants/t1/tokens/tok1", key: t1Key,
			store: &fakeStore{RevokeTokenFn: func(_ context.Context, id, tok, _ string) error {
				return check("args", []string{id, tok}, []string{"t1", "tok1"})
			}},
			wantStatus: 204,
		},
		{
			name: "create tenant api key", method: "POST", path: "/api/v1/tenants/t1/api-keys", key: t1Key,
			body: `{"name":"ci","scopes":["read"]}`,
			store: &fakeStore{CreateAPIKeyFn: func(_ context.Context, id, name string, scopes []string, _ tenant.Minter, _ string) (tenant.APIKey, string, error) {
				return tenant.APIKey{ID: "k2", TenantID: id, Name: name, Prefix: "pk_zz", Scopes: scopes, CreatedAt: t0}, "pk_zzzz",
					check("args", []any{id, name, scopes}, []any{"t1", "ci", []string{"read"}})
			}},
			wantStatus: 201,
			wantBody:   `{"api_key":{"id":"k2","tenant_id":"t1","name":"ci","prefix":"pk_zz","scopes":["read"],"created_at":"2026-11-01T12:00:00Z"},"secret":"pk_zzzz"}`,
		},
		{
			name: "list tenant api keys", method: "GET", path: "/api/v1/tenants/t1/api-keys", key: t1ReadKey,
			store: &fakeStore{APIKeysFn: func(_ context.Context, id string) ([]tenant.APIKey, error) {
				return nil, check("id", id, "t1")
			}},
			wantStatus: 200, wantBody: `{"api_keys":[]}`,
		},
		{
			name: "revoke tenant api key", method: "DELETE", path: "/api/v1/tenants/t1/api-keys/k2", key: t1Key,
			store: &fakeStore{RevokeAPIKeyFn: func(_ context.Context, id, key, _ string) error {
				return check("args", []string{id, key}, []string{"t1", "k2"})
			}},
			wantStatus: 204,
		},
		{
			name: "create admin api key", method: "POST", path: "/api/v1/api-keys", key: adminKey,
			body: `{"name":"ops","scopes":["read","write"]}`,
			store: &fakeStore{CreateAPIKeyFn: func(_ context.Context, id, name string, scopes []string, _ tenant.Minter, _ string) (tenant.APIKey, string, error) {
				return tenant.APIKey{ID: "k3", Name: name, Prefix: "pk_yy", Scopes: scopes, CreatedAt: t0}, "pk_yyyy", check("tenant id", id, "")
			}},
			wantStatus: 201,
			wantBody:   `{"api_key":{"id":"k3","name":"ops","prefix":"pk_yy","scopes":["read","write"],"created_at":"2026-11-01T12:00:00Z"},"secret":"pk_yyyy"}`,
		},
		{
			name: "list admin api keys", method: "GET", path: "/api/v1/api-keys", key: adminKey,
			store: &fakeStore{APIKeysFn: func(_ context.Context, id string) ([]tenant.APIKey, error) {
				return nil, check("tenant id", id, "")
			}},
			wantStatus: 200, wantBody: `{"api_keys":[]}`,
		},
		{
			name: "revoke admin api key", method: "DELETE", path: "/api/v1/api-keys/k3", key: adminKey,
			store: &fakeStore{RevokeAPIKeyFn: func(_ context.Context, id, key, _ string) error {
				return check("args", []string{id, key}, []string{"", "k3"})
			}},
			wantStatus: 204,
		},
		{
			name: "tools", method: "GET", path: "/api/v1/tenants/t1/tools", key: t1ReadKey,
			rt: &fakeRuntime{ToolsFn: func(_ context.Context, id string) ([]tenant.Tool, error) {
				return []tenant.Tool{{Name: "list_pets", Kind: "tool", Method: "GET", Path: "/pets", Description: "List pets.",
					InputSchema: json.RawMessage(`{"type":"object"}`)}}, check("id", id, "t1")
			}},
			wantStatus: 200,
			wantBody:   `{"tools":[{"name":"list_pets","kind":"tool","method":"GET","path":"/pets","description":"List pets.","input_schema":{"type":"object"}}]}`,
		},
		{
			name: "audit with limit", method: "GET", path: "/api/v1/tenants/t1/audit?limit=5", key: t1ReadKey,
			store: &fakeStore{AuditFn: func(_ context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
				return []tenant.AuditEntry{{ID: 1, TenantID: "t1", Actor: "apikey:k-t1", Action: "credential.put", CreatedAt: t0}},
					check("query", q, tenant.AuditQuery{TenantID: "t1", Limit: 5})
			}},
			wantStatus: 200,
			wantBody:   `{"audit":[{"id":1,"tenant_id":"t1","actor":"apikey:k-t1","action":"credential.put","created_at":"2026-11-01T12:00:00Z"}]}`,
		},
		{
			name: "audit default limit", method: "GET", path: "/api/v1/tenants/t1/audit", key: adminKey,
			store: &fakeStore{AuditFn: func(_ context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
				return nil, check("limit", q.Limit, 100)
			}},
			wantStatus: 200, wantBody: `{"audit":[]}`,
		},
		{
			name: "operator audit: filters, cursor, next page", method: "GET",
			path: "/api/v1/audit?action=auth.&since=2026-11-01T00:00:00Z&cursor=40&limit=1", key: adminKey,
			store: &fakeStore{AuditFn: func(_ context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
				return []tenant.AuditEntry{{ID: 39, Actor: "anonymous", Action: "auth.login_failed", CreatedAt: t0}},
					check("query", q, tenant.AuditQuery{TenantID: "", Before: 40, Limit: 1, Action: "auth.",
						Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
			}},
			wantStatus: 200,
			wantBody:   `{"audit":[{"id":39,"tenant_id":"","actor":"anonymous","action":"auth.login_failed","created_at":"2026-11-01T12:00:00Z"}],"next_cursor":"39"}`,
		},
		{
			name: "operator audit refuses a tenant key", method: "GET", path: "/api/v1/audit", key: t1Key,
			wantStatus: 403,
			wantBody:   `{"error":{"code":"forbidden","message":"this needs an operator: an admin API key or an operator user","details":{}}}`,
		},
		{
			name: "audit: bad cursor and since name the parameter", method: "GET", path: "/api/v1/audit?cursor=x&since=yesterday", key: adminKey,
			wantStatus: 422,
			wantBody:   `{"error":{"code":"invalid_input","message":"2 fields are invalid: cursor must be the next_cursor of a previous page; since must be an RFC 3339 time such as 2026-01-02T15:04:05Z","details":{"fields":[{"field":"cursor","problem":"must be the next_cursor of a previous page"},{"field":"since","problem":"must be an RFC 3339 time such as 2026-01-02T15:04:05Z"}]}}}`,
		},
		{
			name: "audit by actor, named for people", method: "GET", path: "/api/v1/tenants/t1/audit?actor=user:u1", key: t1ReadKey,
			store: &fakeStore{
				AuditFn: func(_ context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
					return []tenant.AuditEntry{{ID: 2, TenantID: "t1", Actor: "user:u1", Action: "tenant.update", CreatedAt: t0}},
						check("query", q, tenant.AuditQuery{TenantID: "t1", Limit: 100, Actor: "user:u1"})
				},
				ActorNamesFn: func(_ context.Context, es []tenant.AuditEntry) (map[string]string, error) {
					return map[string]string{"user:u1": "ada@example.test"}, check("entries", len(es), 1)
				},
			},
			wantStatus: 200,
			wantBody:   `{"audit":[{"id":2,"tenant_id":"t1","actor":"user:u1","action":"tenant.update","created_at":"2026-11-01T12:00:00Z","actor_name":"ada@example.test"}]}`,
		},
		{
			name: "audit: an actor that is not one names the parameter", method: "GET", path: "/api/v1/tenants/t1/audit?actor=%3Cscript%3E", key: t1ReadKey,
			wantStatus: 422,
			wantBody:   `{"error":{"code":"invalid_input","message":"1 field is invalid: actor must be an actor of the log, such as \"user:ID\", \"apikey:ID\", \"system\" or \"oauth:CLIENT\" (the actor field of an entry)","details":{"fields":[{"field":"actor","problem":"must be an actor of the log, such as \"user:ID\", \"apikey:ID\", \"system\" or \"oauth:CLIENT\" (the actor field of an entry)"}]}}}`,
		},
		{
			name: "progress: none running", method: "GET", path: "/api/v1/tenants/t1/progress", key: t1ReadKey,
			store: &fakeStore{TenantFn: func(_ context.Context, id string) (*tenant.Tenant, error) {
				return &tenant.Tenant{ID: id}, nil
			}},
			wantStatus: 200, wantBody: `{"progress":null}`,
		},
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz", method: "GET", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ready","checks":{"ready":"ok"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, rt := tt.store, tt.rt
			if rt == nil {
				rt = &fakeRuntime{}
			}
			w := do(t, newTestServer(t, st, rt), tt.method, tt.path, tt.key, tt.body)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if diff := cmp.Diff(jsonOf(t, tt.wantBody), jsonOf(t, w.Body.String())); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestDeleteActiveTenantDeactivatesFirst(t *testing.T) {
	var calls []string
	st := &fakeStore{
		TenantFn: func(context.Context, string) (*tenant.Tenant, error) {
			tn := cloneT1()
			tn.Status = tenant.StatusActive
			return tn, nil
		},
		DeleteTenantFn: func(context.Context, string, string) error { calls = append(calls, "delete"); return nil },
	}
	rt := &fakeRuntime{DeactivateFn: func(context.Context, string, string) (*tenant.Tenant, error) {
		calls = append(calls, "deactivate")
		return nil, nil
	}}
	w := do(t, newTestServer(t, st, rt), "DELETE", "/api/v1/tenants/t1", adminKey, "")
	if w.Code != http.StatusNoContent {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	if diff := cmp.Diff([]string{"deactivate", "delete"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestMCPMountedAndNotAuthenticatedByAPIKeys(t *testing.T) {
	st := &fakeStore{}
	mcp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "mcp %s %s", r.Method, r.URL.Path)
	})
	h := New(Options{Store: st, Runtime: &fakeRuntime{}, MCP: mcp}).Handler()
	for _, m := range []string{"GET", "POST", "DELETE"} {
		w := do(t, h, m, "/t/t1/mcp", "", "")
		if got, want := w.Body.String(), "mcp "+m+" /t/t1/mcp"; w.Code != 200 || got != want {
			t.Errorf("%s: %d %q, want 200 %q", m, w.Code, got, want)
		}
	}
}

func TestRequestID(t *testing.T) {
	h := newTestServer(t, nil, nil)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{name: "generated when absent", sent: ""},
		{name: "kept from proxy", sent: "abc-123.x_y", keep: true},
		{name: "replaced when malformed", sent: "bad id\"<>"},
		{name: "replaced when too long", sent: strings.Repeat("a", 65)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/healthz", nil)
			if tt.sent != "" {
				req.Header.Set("X-Request-Id", tt.sent)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			got := w.Header().Get("X-Request-Id")
			if tt.keep && got != tt.sent {
				t.Errorf("id = %q, want %q kept", got, tt.sent)
			}
			if !tt.keep && (got == tt.sent || len(got) != 24) {
				t.Errorf("id = %q, want a fresh 24-hex id", got)
			}
		})
	}
}

func TestMetricsRoute(t *testing.T) {
	s := New(Options{Store: &fakeStore{}, Runtime: &fakeRuntime{},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "up 1") })})
	w := do(t, s.Handler(), "GET", "/metrics", "", "")
	if w.Code != 200 || w.Body.String() != "up 1" || w.Header().Get("X-Request-Id") == "" {
		t.Errorf("got %d %q (request id %q)", w.Code, w.Body, w.Header().Get("X-Request-Id"))
	}
}

func TestMCPURLFromRequestWhenNoBaseURL(t *testing.T) {
	st := &fakeStore{TenantFn: func(context.Context, string) (*tenant.Tenant, error) { return cloneT1(), nil }}
	h := New(Options{Store: st, Runtime: &fakeRuntime{}}).Handler()
	w := do(t, h, "GET", "/api/v1/tenants/t1", adminKey, "")
	var got struct {
		MCPURL string `json:"mcp_url"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.MCPURL != "http://example.com/t/t1/mcp" {
		t.Errorf("mcp_url = %q (%v), want http://example.com/t/t1/mcp", got.MCPURL, err)
	}
}
