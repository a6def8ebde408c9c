package bridge

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// bigSpecRuntime returns a runtime with a fake store whose cached spec is
// file from the corpus (../shared/specs or PORTICO_SPECS_DIR), not yet
// activated; it skips when the corpus is missing.
func bigSpecRuntime(tb testing.TB, file string) *Runtime {
	tb.Helper()
	dir := os.Getenv("PORTICO_SPECS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "specs")
	}
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		tb.Skipf("corpus document not found (set PORTICO_SPECS_DIR): %v", err)
	}
	ten := &tenant.Tenant{ID: "t1", Name: "big", BaseURL: "http://127.0.0.1:1", Status: tenant.StatusPending}
	store := &fakeStore{
		verifyTokenFn: func(_ context.Context, secret string) (tenant.Token, error) {
			return tenant.Token{ID: "tok", TenantID: "t1"}, nil
		},
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			c := *ten
			c.Status = to
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, SHA256: "x", Raw: raw}, nil
		},
	}
	return New(store, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

var bigSpecs = []struct{ name, file string }{
	{"github", "github__api.github.com.json"},
	{"stripe", "stripe__spec3.json"},
	{"kubernetes", "kubernetes__swagger.json"},
}

// BenchmarkActivateBigSpec activates a tenant whose big spec is already in
// the cache (read, convert, build the state, register on the SDK server):
//
//	go test ./bridge -run '^$' -bench ActivateBigSpec -benchtime 2x -benchmem
func BenchmarkActivateBigSpec(b *testing.B) {
	for _, s := range bigSpecs {
		b.Run(s.name, func(b *testing.B) {
			r := bigSpecRuntime(b, s.file)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Activate(context.Background(), "t1", "bench"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				r.stop("t1")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkToolsListBigSpec times a stateless tools/list at the handler
// (in-process, response body built in an httptest.ResponseRecorder, whose
// buffer growth is most of the time) for each big spec, after the first.
//
//	go test ./bridge -run '^$' -bench ToolsListBigSpec -benchmem
func BenchmarkToolsListBigSpec(b *testing.B) {
	for _, s := range bigSpecs {
		b.Run(s.name, func(b *testing.B) {
			r := bigSpecRuntime(b, s.file)
			if _, err := r.Activate(context.Background(), "t1", "bench"); err != nil {
				b.Fatal(err)
			}
			defer r.Shutdown(context.Background())
			h := r.Handler()
			list := func(b *testing.B) *httptest.ResponseRecorder {
				req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
				req.Header.Set("Authorization", "Bearer mcp_ok")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("HTTP %d: %s", w.Code, w.Body)
				}
				return w
			}
			for _, path := range []string{"fast", "sdk"} {
				b.Run(path, func(b *testing.B) {
					r.noFastPath = path == "sdk"
					b.SetBytes(int64(list(b).Body.Len())) // the first list encodes the tool set
					b.ReportAllocs()
					for b.Loop() {
						list(b)
					}
				})
			}
		})
	}
}
