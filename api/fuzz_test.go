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
		`{"rest_rate_limit_per_second":2.5,"rest_rate_limit_burst":3,"rest_caller_rate_limit_per_second":1e-300,"max_response_bytes":9007199254740993}`,
		`{"route_maps":[{"methods":["GET","*"],"pattern":"^/a(?P<x>b)$","tags":["t"],"mcp_type":"resource_template","mcp_tags":["m"]}],"names":{"GET /a":"n"},"uris":{"x":"test://a/{id}"},"tool_mode":"discovery","forward_headers":["X-A"]}`,
		`{"email":"op@x.example","password":"0123456789abcdef","operator":true}`, `{"spec_url":"https://s.example/openapi.json","settings":{"names":{"":""}}}`,
		`{"name":"a","scopes":["read","admin"],"expires_at":"not a time"}`, `{"type":"header","name":"X-Key","value":"v\r\nX: y"}`, `{"type":"basic","username":"u","password":"p"}`,
		`{"name":"x","base_url":"https://x.example","extra":1}`, `{"name":"x","name":"y"}`, `{"role":"operator"}`, `null`, `"str"`, `{"settings":null}`,
	} {
		for route := range 10 {
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
		CreateAPIKeyFn: func(context.Context, string, string, []string, tenant.Minter, string) (tenant.APIKey, string, error) {
			return tenant.APIKey{ID: "x"}, "pk_x", nil
		},
	}
	st.FindUserFn = func(context.Context, string) (tenant.User, error) { return tenant.User{ID: "u1"}, nil }
	st.CreateUserFn = func(_ context.Context, email, password string, op bool, _ string) (tenant.User, error) {
		return tenant.User{ID: "u2", Email: email, Operator: op}, nil
	}
	prev := fakePreviewer{PreviewFn: func(_ context.Context, specURL string, s tenant.Settings) (*tenant.Preview, error) {
		return &tenant.Preview{}, s.Validate()
	}}
	st.PutMemberFn = func(_ context.Context, tid, uid string, r tenant.Role, _ string) (tenant.Member, error) {
		return tenant.Member{TenantID: tid, UserID: uid, Role: r}, nil
	}
	h := New(Options{Store: st, Runtime: &fakeRuntime{}, Previewer: prev, BodyLimit: 64 << 10}).Handler()
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		if len(body) > 96<<10 {
			return // past the 64 KiB body limit every body is the same 413
		}
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
