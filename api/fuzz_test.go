package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// FuzzRESTJSON sends arbitrary bodies to the JSON-taking routes. Every
// answer must be a success or a 4xx in the error shape, never a 500 or a
// panic: bad JSON is the client's fault and must be told as such.
//
//	go test ./api -run '^$' -fuzz '^FuzzRESTJSON$' -fuzztime 60s
func FuzzRESTJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"Pets","base_url":"https://pets.example"}`,
		`{"name":"x","base_url":"https://x.example","settings":{"route_maps":[{"pattern":"(","mcp_type":"tool"}]}}`,
		`{"type":"bearer","value":"v"}`, `{"name":"t","expires_at":"2099-01-01T00:00:00Z"}`,
		`{"name":"k","scopes":["read","write"]}`, `{"role":"owner"}`, `{"email":"a@b.c","password":"0123456789ab"}`,
		`[]`, `{"name":1e999}`, `{"settings":{"upstream_timeout_ms":-1}}`, "{\"name\":\"\xff\"}", `{"a":` + strings.Repeat("[", 10000),
	} {
		for route := range 7 {
			f.Add(uint8(route), s)
		}
	}
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/tenants"}, {"PATCH", "/api/v1/tenants/t1"}, {"PUT", "/api/v1/tenants/t1/settings"},
		{"PUT", "/api/v1/tenants/t1/credentials/up"}, {"POST", "/api/v1/tenants/t1/tokens"},
		{"POST", "/api/v1/tenants/t1/api-keys"}, {"PUT", "/api/v1/tenants/t1/members/u1"},
	}
	st := &fakeStore{
		CreateTenantFn: func(_ context.Context, t *tenant.Tenant, _ string) error { t.ID = "t2"; return nil },
		UpdateTenantFn: func(context.Context, string, tenant.TenantPatch, string) (*tenant.Tenant, error) {
			return cloneT1(), nil
		},
		PutCredentialFn: func(_ context.Context, _ string, c tenant.Credential, v, _ string) error {
			return c.Validate(v)
		},
		CreateTokenFn: func(context.Context, string, string, *time.Time, string) (tenant.Token, string, error) {
			return tenant.Token{ID: "x"}, "mcp_x", nil
		},
		CreateAPIKeyFn: func(context.Context, string, string, []string, string) (tenant.APIKey, string, error) {
			return tenant.APIKey{ID: "x"}, "pk_x", nil
		},
	}
	st.FindUserFn = func(context.Context, string) (tenant.User, error) { return tenant.User{ID: "u1"}, nil }
	st.PutMemberFn = func(_ context.Context, tid, uid string, r tenant.Role, _ string) (tenant.Member, error) {
		return tenant.Member{TenantID: tid, UserID: uid, Role: r}, nil
	}
	h := New(Options{Store: st, Runtime: &fakeRuntime{}, BodyLimit: 64 << 10}).Handler()
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := routes[int(route)%len(routes)]
		w := do(t, h, r.method, r.path, adminKey, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: status %d: %s", r.method, r.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.HasPrefix(w.Body.String(), `{"error":{"code":`) {
			t.Fatalf("%s %s with %q: %d without the error shape: %s", r.method, r.path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusCreated && w.Code != http.StatusNoContent && w.Code < 400 {
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}
