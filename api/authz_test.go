package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// authzEnv is a real store behind the real routes, with one user per role.
type authzEnv struct {
	store    *pgstore.Store
	h        http.Handler
	users    map[string]tenant.User // by role name: viewer, admin, owner, owner2, operator
	sessions map[string]authzCred   // by the same names
	adminKey string
	tenants  int
}

// authzCred is how one principal authenticates: a bearer key or a session cookie with its CSRF token.
type authzCred struct {
	key, cookie, csrf string
}

func (c authzCred) do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: secureSessionCookie, Value: c.cookie})
		req.Header.Set(csrfHeader, c.csrf)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func newAuthzEnv(t *testing.T) *authzEnv {
	t.Helper()
	pool := pgtest.NewPool(t)
	b := make([]byte, 32)
	rand.Read(b)
	sealer, err := tenant.NewSealer([]tenant.MasterKey{{ID: "k1", Key: b}})
	if err != nil {
		t.Fatal(err)
	}
	st := pgstore.NewStore(pool, sealer)
	rt := &fakeRuntime{
		ActivateFn:   func(ctx context.Context, id, _ string) (*tenant.Tenant, error) { return st.Tenant(ctx, id) },
		DeactivateFn: func(ctx context.Context, id, _ string) (*tenant.Tenant, error) { return st.Tenant(ctx, id) },
	}
	env := &authzEnv{store: st, users: map[string]tenant.User{}, sessions: map[string]authzCred{},
		h: New(Options{Store: st, Runtime: rt, BaseURL: "https://portico.example",
			ToolPreviewer: fakeToolPreviewer{func(context.Context, string, tenant.ToolPreviewRequest) (*tenant.ToolPreview, error) {
				return &tenant.ToolPreview{}, nil
			}}}).Handler()}
	ctx := context.Background()
	for _, name := range []string{"viewer", "admin", "owner", "owner2", "operator"} {
		u, err := st.CreateUser(ctx, name+"@example.com", "correct horse battery", name == "operator", "test")
		if err != nil {
			t.Fatal(err)
		}
		_, sess, secret, err := st.Login(ctx, u.Email, "correct horse battery", "127.0.0.1", "test", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		env.users[name], env.sessions[name] = u, authzCred{cookie: secret, csrf: sess.CSRFToken}
	}
	if _, env.adminKey, err = st.CreateAPIKey(ctx, "", "ops", []string{"read", "write"}, tenant.Minter{}, "test"); err != nil {
		t.Fatal(err)
	}
	return env
}

// newTenant makes a tenant with owner, owner2, admin and viewer as members.
func (e *authzEnv) newTenant(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	e.tenants++
	tn := &tenant.Tenant{Name: fmt.Sprintf("Pets %d", e.tenants), BaseURL: "https://pets.example"}
	if err := e.store.CreateTenant(ctx, tn, "test"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"viewer", "admin", "owner", "owner2"} {
		role := tenant.Role(strings.TrimSuffix(name, "2"))
		if _, err := e.store.PutMember(ctx, tn.ID, e.users[name].ID, role, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return tn.ID
}

// cred returns the principal's credentials for tenant id: "operator key",
// "<role> session", or "<role> session/<scope> key" for a key that principal
// minted through the REST API.
func (e *authzEnv) cred(t *testing.T, name, id string) authzCred {
	t.Helper()
	minter, scope, minted := strings.Cut(name, "/")
	var c authzCred
	switch who, _, _ := strings.Cut(minter, " "); {
	case minter == "operator key":
		c = authzCred{key: e.adminKey}
	default:
		c = e.sessions[who]
	}
	if !minted {
		return c
	}
	scopes := `["read"]`
	if strings.HasPrefix(scope, "write") {
		scopes = `["read","write"]`
	}
	w := c.do(t, e.h, "POST", "/api/v1/tenants/"+id+"/api-keys", `{"name":"minted","scopes":`+scopes+`}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("%s could not mint its key: %d %s", minter, w.Code, w.Body)
	}
	var got apiKeyCreated
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	return authzCred{key: got.Secret}
}

// TestAuthorizationMatrix drives every principal through every tenant
// action on the real routes and store: a principal may do an action iff
// its effective role reaches the action's; a key never carries more than
// the principal that minted it.
func TestAuthorizationMatrix(t *testing.T) {
	env := newAuthzEnv(t)
	ctx := context.Background()

	principals := []struct {
		name string
		role tenant.Role // effective role in the tenant
	}{
		{"viewer session", tenant.RoleViewer},
		{"admin session", tenant.RoleAdmin},
		{"owner session", tenant.RoleOwner},
		{"operator session", tenant.RoleOwner},
		{"operator key", tenant.RoleOwner},
		{"admin session/read key", tenant.RoleViewer},
		{"admin session/write key", tenant.RoleAdmin},
		{"owner session/read key", tenant.RoleViewer},
		{"owner session/write key", tenant.RoleOwner},
		{"operator session/read key", tenant.RoleViewer},
		{"operator session/write key", tenant.RoleOwner},
		{"operator key/read key", tenant.RoleViewer},
		{"operator key/write key", tenant.RoleOwner},
	}
	type action struct {
		name         string
		need         tenant.Role
		method, path string // path below /api/v1/tenants/{id}; {viewer} etc. name users, {key} a key
		body         string
	}
	actions := []action{
		{"read tenant", tenant.RoleViewer, "GET", "", ""},
		{"update tenant", tenant.RoleAdmin, "PATCH", "", `{"name":"Renamed {id}"}`},
		{"change settings", tenant.RoleAdmin, "PUT", "/settings", `{}`},
		{"preview tools", tenant.RoleAdmin, "POST", "/preview", `{}`},
		{"list credentials", tenant.RoleViewer, "GET", "/credentials", ""},
		{"put credential", tenant.RoleAdmin, "PUT", "/credentials/api", `{"type":"bearer","value":"s3cret"}`},
		{"list tokens", tenant.RoleViewer, "GET", "/tokens", ""},
		{"mint token", tenant.RoleAdmin, "POST", "/tokens", `{"name":"agent"}`},
		{"list toolsets", tenant.RoleViewer, "GET", "/toolsets", ""},
		{"create toolset", tenant.RoleAdmin, "POST", "/toolsets", `{"name":"support"}`},
		{"preview toolset", tenant.RoleAdmin, "POST", "/toolsets?dry_run=true", `{"name":"support"}`},
		{"list api keys", tenant.RoleViewer, "GET", "/api-keys", ""},
		{"mint api key", tenant.RoleAdmin, "POST", "/api-keys", `{"name":"ci","scopes":["read"]}`},
		{"revoke api key", tenant.RoleAdmin, "DELETE", "/api-keys/{key}", ""},
		{"list members", tenant.RoleViewer, "GET", "/members", ""},
		{"add member", tenant.RoleOwner, "PUT", "/members/{operator}", `{"role":"viewer"}`},
		{"promote viewer", tenant.RoleOwner, "PUT", "/members/{viewer}", `{"role":"admin"}`},
		{"promote admin to owner", tenant.RoleOwner, "PUT", "/members/{admin}", `{"role":"owner"}`},
		{"remove owner", tenant.RoleOwner, "DELETE", "/members/{owner2}", ""},
		{"activate", tenant.RoleAdmin, "POST", "/activate", ""},
		{"deactivate", tenant.RoleAdmin, "POST", "/deactivate", ""},
		{"delete tenant", tenant.RoleOwner, "DELETE", "", ""},
	}
	for _, p := range principals {
		for _, a := range actions {
			t.Run(p.name+"/"+a.name, func(t *testing.T) {
				id := env.newTenant(t)
				cred := env.cred(t, p.name, id)
				_, victim, err := env.store.CreateAPIKey(ctx, id, "victim", []string{"read"}, tenant.Minter{}, "test")
				if err != nil {
					t.Fatal(err)
				}
				vk, err := env.store.VerifyAPIKey(ctx, victim)
				if err != nil {
					t.Fatal(err)
				}
				path := "/api/v1/tenants/" + id + a.path
				path = strings.ReplaceAll(path, "{key}", vk.ID)
				for name, u := range env.users {
					path = strings.ReplaceAll(path, "{"+name+"}", u.Email)
				}
				w := cred.do(t, env.h, a.method, path, strings.ReplaceAll(a.body, "{id}", id))
				allowed := p.role.AtLeast(a.need)
				switch {
				case allowed && (w.Code < 200 || w.Code > 299):
					t.Errorf("%s %s as %s (%s) = %d %s, want success", a.method, path, p.name, p.role, w.Code, w.Body)
				case !allowed && w.Code != http.StatusForbidden:
					t.Errorf("%s %s as %s (%s) = %d %s, want 403 (needs %s)", a.method, path, p.name, p.role, w.Code, w.Body, a.need)
				}
			})
		}
	}
}

// TestAPIKeyFollowsItsMinter: a key minted by a member loses what its
// minter loses, and a tenant key from before minters were recorded is at
// most admin.
func TestAPIKeyFollowsItsMinter(t *testing.T) {
	env := newAuthzEnv(t)
	ctx := context.Background()
	status := func(c authzCred, method, path, body string) int {
		t.Helper()
		return c.do(t, env.h, method, path, body).Code
	}
	for _, tt := range []struct {
		name   string
		change func(id string) error // done to the minter after minting
		want   map[string]int        // action → status
	}{
		{
			name: "owner demoted to admin",
			change: func(id string) error {
				_, err := env.store.PutMember(ctx, id, env.users["owner"].ID, tenant.RoleAdmin, "test")
				return err
			},
			want: map[string]int{"read": 200, "mint token": 201, "promote": 403, "delete": 403},
		},
		{
			name:   "owner removed",
			change: func(id string) error { return env.store.DeleteMember(ctx, id, env.users["owner"].ID, "test") },
			want:   map[string]int{"read": 403, "mint token": 403, "promote": 403, "delete": 403},
		},
		{
			name:   "owner unchanged",
			change: func(string) error { return nil },
			want:   map[string]int{"read": 200, "mint token": 201, "promote": 200, "delete": 204},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := env.newTenant(t)
			key := env.cred(t, "owner session/write key", id)
			if err := tt.change(id); err != nil {
				t.Fatal(err)
			}
			base := "/api/v1/tenants/" + id
			got := map[string]int{
				"read":       status(key, "GET", base, ""),
				"mint token": status(key, "POST", base+"/tokens", `{"name":"a"}`),
				"promote":    status(key, "PUT", base+"/members/"+env.users["admin"].Email, `{"role":"owner"}`),
			}
			got["delete"] = status(key, "DELETE", base, "")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("legacy tenant key is admin at most", func(t *testing.T) {
		id := env.newTenant(t)
		_, secret, err := env.store.CreateAPIKey(ctx, id, "old", []string{"read", "write"}, tenant.Minter{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		key := authzCred{key: secret}
		base := "/api/v1/tenants/" + id
		if got := status(key, "POST", base+"/tokens", `{"name":"a"}`); got != http.StatusCreated {
			t.Errorf("mint token = %d, want 201", got)
		}
		if got := status(key, "PUT", base+"/members/"+env.users["admin"].Email, `{"role":"owner"}`); got != http.StatusForbidden {
			t.Errorf("promote = %d, want 403", got)
		}
		if got := status(key, "DELETE", base, ""); got != http.StatusForbidden {
			t.Errorf("delete = %d, want 403", got)
		}
	})
	t.Run("key minted by a key keeps the first minter's cap", func(t *testing.T) {
		id := env.newTenant(t)
		parent := env.cred(t, "admin session/write key", id)
		base := "/api/v1/tenants/" + id
		w := parent.do(t, env.h, "POST", base+"/api-keys", `{"name":"child","scopes":["read","write"]}`)
		var got apiKeyCreated
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusCreated {
			t.Fatalf("mint = %d %s", w.Code, w.Body)
		}
		if got.APIKey.MintedBy.UserID != env.users["admin"].ID {
			t.Errorf("child key minted_by = %+v, want user %s", got.APIKey.MintedBy, env.users["admin"].ID)
		}
		child := authzCred{key: got.Secret}
		if got := status(child, "POST", base+"/tokens", `{"name":"a"}`); got != http.StatusCreated {
			t.Errorf("mint token = %d, want 201", got)
		}
		if got := status(child, "DELETE", base, ""); got != http.StatusForbidden {
			t.Errorf("delete = %d, want 403", got)
		}
	})
	t.Run("key of a revoked operator key", func(t *testing.T) {
		id := env.newTenant(t)
		_, opSecret, err := env.store.CreateAPIKey(ctx, "", "ops2", []string{"read", "write"}, tenant.Minter{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		op, _ := env.store.VerifyAPIKey(ctx, opSecret)
		w := authzCred{key: opSecret}.do(t, env.h, "POST", "/api/v1/tenants/"+id+"/api-keys", `{"name":"m","scopes":["read","write"]}`)
		var got apiKeyCreated
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 201 {
			t.Fatalf("mint = %d %s", w.Code, w.Body)
		}
		if err := env.store.RevokeAPIKey(ctx, "", op.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if got := status(authzCred{key: got.Secret}, "GET", "/api/v1/tenants/"+id, ""); got != http.StatusForbidden {
			t.Errorf("read after the minting operator key was revoked = %d, want 403", got)
		}
	})
}
