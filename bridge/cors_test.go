package bridge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

const appOrigin = "https://app.example.com"

// corsFixture is tenant t1 active on two replicas of one fake database
// whose settings the test changes; r1 took the change, r2 learns of it as
// from a NOTIFY (reconcile). t2 exists and is inactive.
type corsFixture struct {
	mu     sync.Mutex
	ten    *tenant.Tenant
	r1, r2 *Runtime
}

func newCORSFixture(t *testing.T, s tenant.Settings) *corsFixture {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	t.Cleanup(up.Close)
	f := &corsFixture{ten: &tenant.Tenant{ID: "t1", Name: "cors", BaseURL: up.URL, Status: tenant.StatusPending, Settings: s}}
	get := func() *tenant.Tenant { f.mu.Lock(); defer f.mu.Unlock(); c := *f.ten; return &c }
	store := &fakeStore{
		verifyTokenFn: func(_ context.Context, secret string) (tenant.Token, error) {
			switch secret {
			case "mcp_ok":
				return tenant.Token{ID: "tok", TenantID: "t1"}, nil
			case "mcp_t2":
				return tenant.Token{ID: "tok2", TenantID: "t2"}, nil
			}
			return tenant.Token{}, tenant.ErrNotFound
		},
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { return get(), nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			f.mu.Lock()
			f.ten.Status = to
			f.mu.Unlock()
			return get(), nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, Raw: []byte(fastSpec)}, nil
		},
	}
	cfg := Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	ctx := context.Background()
	f.r1 = New(store, cfg)
	if _, err := f.r1.Activate(ctx, "t1", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.r1.Shutdown(ctx) })
	f.r2 = New(store, cfg)
	if err := f.r2.reconcile(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.r2.Shutdown(ctx) })
	for _, r := range []*Runtime{f.r1, f.r2} {
		r.SetPublicURL("https://portico.example.com")
	}
	return f
}

// set changes t1's settings on both replicas: r1 reloads, r2 reconciles.
func (f *corsFixture) set(t *testing.T, s tenant.Settings) {
	t.Helper()
	f.mu.Lock()
	f.ten.Settings = s
	f.mu.Unlock()
	if err := f.r1.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	if err := f.r2.reconcile(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
}

// do sends method to path with headers (name, value pairs) and body.
func do(r *Runtime, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = "portico.example.com"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	return w
}

func preflight(r *Runtime, path, origin string, extra ...string) *httptest.ResponseRecorder {
	return do(r, "OPTIONS", path, "", append([]string{"Origin", origin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version,mcp-session-id"}, extra...)...)
}

const listBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

func mcpHeaders(token, origin string) []string {
	h := []string{"Content-Type", "application/json", "Accept", "application/json, text/event-stream", "Mcp-Protocol-Version", "2025-11-25"}
	if token != "" {
		h = append(h, "Authorization", "Bearer "+token)
	}
	if origin != "" {
		h = append(h, "Origin", origin)
	}
	return h
}

// TestCORSPreflight: a preflight is answered without a credential; a listed
// origin gets what a browser needs to send an MCP request, with the
// tenant's forwarded headers and the 2026-07-28 parameter headers it asks
// for; any other origin is refused.
func TestCORSPreflight(t *testing.T) {
	f := newCORSFixture(t, tenant.Settings{CORSOrigins: []string{appOrigin, "http://127.0.0.1:5173"}, ForwardHeaders: []string{"X-User-Id"}})
	for _, r := range []*Runtime{f.r1, f.r2} {
		w := preflight(r, "/t/t1/mcp", appOrigin, "Access-Control-Request-Headers", "authorization, mcp-param-region, content-type")
		h := w.Header()
		if w.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != appOrigin || h.Get("Access-Control-Max-Age") == "" ||
			h.Get("Access-Control-Allow-Methods") != "GET, POST, DELETE, OPTIONS" || !strings.Contains(h.Get("Vary"), "Origin") {
			t.Fatalf("preflight of a listed origin: %d %v", w.Code, h)
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"authorization", "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name", "x-user-id", "mcp-param-region"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
			}
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("Access-Control-Allow-Credentials = %q: no cookie is ever needed", h.Get("Access-Control-Allow-Credentials"))
		}
		// A port is part of the origin.
		if w := preflight(r, "/t/t1/mcp", "http://127.0.0.1:5173"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:5173" {
			t.Errorf("preflight of a listed loopback origin: %d %v", w.Code, w.Header())
		}
		for _, o := range []string{"https://evil.example", "http://127.0.0.1:5174", "https://app.example.com.evil.example", "http://app.example.com", "null"} {
			w := preflight(r, "/t/t1/mcp", o)
			if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" ||
				!strings.Contains(w.Body.String(), "Origin "+o+" may not call") || !strings.Contains(w.Body.String(), "settings.cors_origins") {
				t.Errorf("preflight of %s: %d %v %s, want 403 naming the origin and the setting", o, w.Code, w.Header(), w.Body)
			}
		}
	}
	// A preflight carries no credential; a wrong one changes nothing.
	if w := preflight(f.r1, "/t/t1/mcp", appOrigin, "Authorization", "Bearer mcp_wrong"); w.Code != 204 {
		t.Errorf("preflight with a wrong token: %d %s", w.Code, w.Body)
	}
	// An OPTIONS without Origin (not a browser's) is answered too.
	if w := do(f.r1, "OPTIONS", "/t/t1/mcp", ""); w.Code != 204 || w.Header().Get("Allow") == "" || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("OPTIONS without Origin: %d %v", w.Code, w.Header())
	}
}

// TestCORSRevealsNoTenant: what a preflight or a cross-origin request with
// an unlisted origin gets is the same, byte for byte (the id aside), for
// an active tenant, an inactive one and one that does not exist, with or
// without a token; and an origin one tenant lists opens nothing of another.
func TestCORSRevealsNoTenant(t *testing.T) {
	f := newCORSFixture(t, tenant.Settings{CORSOrigins: []string{appOrigin}})
	type answer struct {
		code   int
		header http.Header
		body   string
	}
	norm := func(w *httptest.ResponseRecorder, id string) answer {
		return answer{w.Code, w.Header(), strings.ReplaceAll(w.Body.String(), id, "ID")}
	}
	f.set(t, tenant.Settings{}) // t1 active, no origin listed
	for _, c := range []struct {
		name string
		send func(path string) *httptest.ResponseRecorder
	}{
		{"preflight", func(p string) *httptest.ResponseRecorder { return preflight(f.r1, p, appOrigin) }},
		{"POST with a token", func(p string) *httptest.ResponseRecorder {
			return do(f.r1, "POST", p, listBody, mcpHeaders("mcp_ok", appOrigin)...)
		}},
		{"POST without a token", func(p string) *httptest.ResponseRecorder {
			return do(f.r1, "POST", p, listBody, mcpHeaders("", appOrigin)...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := norm(c.send("/t/t1/mcp"), "t1")
			if want.code != http.StatusForbidden {
				t.Fatalf("active tenant listing no origin: %d %s", want.code, want.body)
			}
			for _, id := range []string{"t2", "zzzzzzzzzzzzzzzzzzzzzzzzzz"} {
				got := norm(c.send("/t/"+id+"/mcp"), id)
				if got.code != want.code || got.body != want.body || !equalHeaders(got.header, want.header) {
					t.Errorf("tenant %s: %+v, active tenant: %+v; want the same answer", id, got, want)
				}
			}
		})
	}
	// t1 lists the origin: t2's token gets nothing of t1, and t2 (which
	// lists nothing) stays closed to that origin.
	f.set(t, tenant.Settings{CORSOrigins: []string{appOrigin}})
	if w := do(f.r1, "POST", "/t/t1/mcp", listBody, mcpHeaders("mcp_t2", appOrigin)...); w.Code != http.StatusUnauthorized {
		t.Errorf("another tenant's token from a listed origin: %d %s", w.Code, w.Body)
	}
	if w := preflight(f.r1, "/t/t2/mcp", appOrigin); w.Code != http.StatusForbidden {
		t.Errorf("preflight to t2 from t1's origin: %d", w.Code)
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// TestOriginValidation: on an MCP request, a listed Origin is served with
// CORS headers (a 401 too, so the page can read WWW-Authenticate), Portico's
// own origin is served without them, a request without Origin is
// unaffected, and any other Origin gets 403 before anything runs, token
// or not: a page on a rebound name (Host and Origin both the attacker's)
// included.
func TestOriginValidation(t *testing.T) {
	f := newCORSFixture(t, tenant.Settings{CORSOrigins: []string{appOrigin}})
	r := f.r2 // learned its settings as another replica does

	w := do(r, "POST", "/t/t1/mcp", listBody, mcpHeaders("mcp_ok", appOrigin)...)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"get_r"`) || w.Header().Get("Access-Control-Allow-Origin") != appOrigin ||
		!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") || !strings.Contains(w.Header().Get("Vary"), "Origin") {
		t.Fatalf("tools/list from a listed origin: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w = do(r, "POST", "/t/t1/mcp", initBody, mcpHeaders("mcp_ok", appOrigin)...)
	if w.Code != 200 || w.Header().Get("Mcp-Session-Id") == "" || w.Header().Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("initialize from a listed origin: %d %v", w.Code, w.Header())
	}
	w = do(r, "POST", "/t/t1/mcp", listBody, mcpHeaders("", appOrigin)...)
	if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin || w.Header().Get("WWW-Authenticate") == "" ||
		!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("no token from a listed origin: %d %v, want a 401 the page can read", w.Code, w.Header())
	}
	w = do(r, "POST", "/t/t1/mcp", listBody, mcpHeaders("mcp_ok", "https://portico.example.com")...)
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("same origin as the public URL (the dashboard): %d %v", w.Code, w.Header())
	}
	w = do(r, "POST", "/t/t1/mcp", listBody, mcpHeaders("mcp_ok", "")...)
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Vary") != "" {
		t.Errorf("no Origin: %d %v", w.Code, w.Header())
	}

	calls := r.fastCalls.Load()
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`
	for _, c := range []struct {
		name, origin, host string
		token              string
	}{
		{"foreign origin with a token", "https://evil.example", "portico.example.com", "mcp_ok"},
		{"foreign origin without a token", "https://evil.example", "portico.example.com", ""},
		{"DNS rebinding: Origin matches Host", "http://rebound.evil.example:8080", "rebound.evil.example:8080", "mcp_ok"},
		{"listed host, other scheme", "http://app.example.com", "portico.example.com", "mcp_ok"},
	} {
		req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(call))
		req.Host = c.host
		h := mcpHeaders(c.token, c.origin)
		for i := 0; i < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, req)
		body := w.Body.String()
		if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" || !strings.Contains(body, `"code":"origin_not_allowed"`) ||
			!strings.Contains(body, "Origin "+c.origin+" may not call") || !strings.Contains(body, `"setting":"settings.cors_origins"`) {
			t.Errorf("%s: %d %v %s, want 403 naming the origin and settings.cors_origins", c.name, w.Code, w.Header(), body)
		}
	}
	if r.fastCalls.Load() != calls {
		t.Error("a refused request reached a tool")
	}
}

// TestCORSOriginsApplyLive: adding and removing an origin takes effect on
// the replica that took the change and on one that learns of it from the
// database, with no re-activation.
func TestCORSOriginsApplyLive(t *testing.T) {
	f := newCORSFixture(t, tenant.Settings{})
	status := func(r *Runtime) int {
		return do(r, "POST", "/t/t1/mcp", listBody, mcpHeaders("mcp_ok", appOrigin)...).Code
	}
	for i, want := range []struct {
		origins []string
		status  int
	}{{nil, 403}, {[]string{appOrigin}, 200}, {[]string{"https://other.example"}, 403}, {[]string{"HTTPS://APP.example.com:443"}, 200}} {
		f.set(t, tenant.Settings{CORSOrigins: want.origins})
		for name, r := range map[string]*Runtime{"r1": f.r1, "r2": f.r2} {
			if got := status(r); got != want.status {
				t.Errorf("step %d (%v) on %s: %d, want %d", i, want.origins, name, got, want.status)
			}
		}
	}
}

// BenchmarkCheckOrigin is the cost the Origin check adds to an MCP request:
// none for a client that sends no Origin, a map lookup for a listed one.
func BenchmarkCheckOrigin(b *testing.B) {
	r := New(&fakeStore{}, Config{})
	r.SetPublicURL("https://portico.example.com")
	l := &live{id: "t1"}
	l.state.Store(&state{cors: newCORSPolicy(tenant.Settings{CORSOrigins: []string{"https://a.example", appOrigin}})})
	r.register(l)
	for _, c := range []struct{ name, origin string }{{"no origin", ""}, {"listed origin", appOrigin}, {"refused origin", "https://evil.example"}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("POST", "/t/t1/mcp", nil)
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				clear(w.Header())
				w.Body.Reset()
				r.checkOrigin(w, req, "t1")
			}
		})
	}
}
