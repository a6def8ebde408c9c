package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// TestPerRouteTimeout: settings.timeouts_ms bounds one route; the others
// keep the tenant-wide timeout. Both routes of fastSpec answer after the
// same delay: the one with a short timeout fails with a tool error naming
// the route and the setting, the other succeeds.
func TestPerRouteTimeout(t *testing.T) {
	const delay = 300 * time.Millisecond
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		fastUpstream(w, r)
	}))
	defer up.Close()
	settings := tenant.Settings{UpstreamTimeoutMS: 20_000, TimeoutsMS: map[string]int{"post /items": 30}}
	if err := settings.Validate(); err != nil {
		t.Fatal(err)
	}
	ten := &tenant.Tenant{ID: "t1", Name: "slow", BaseURL: up.URL, Status: tenant.StatusPending, Settings: settings}
	store := &fakeStore{
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			c := *ten
			c.Status = to
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, Raw: []byte(fastSpec)}, nil
		},
	}
	r := New(store, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	l := r.lookup("t1")
	if l == nil {
		t.Fatal("tenant t1 is not live")
	}
	call := func(name, args string) *mcp.CallToolResult {
		st := l.state.Load()
		res, _ := l.call(context.Background(), st, st.ops["tool:"+name], &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: name, Arguments: json.RawMessage(args)}})
		return res
	}
	slow := call("create_item", `{"name": "lamp"}`)
	text := slow.Content[0].(*mcp.TextContent).Text
	if !slow.IsError || !strings.Contains(text, "upstream did not answer POST /items within 30ms") || !strings.Contains(text, "settings.timeouts_ms") {
		t.Errorf("slow route: isError %v, %q; want a tool error naming POST /items, 30ms and settings.timeouts_ms", slow.IsError, text)
	}
	ok := call("get_r", `{"kind": "obj"}`)
	if ok.IsError {
		t.Errorf("route with the default timeout failed: %v", ok.Content[0].(*mcp.TextContent).Text)
	}
}

func TestTimeoutFor(t *testing.T) {
	s := tenant.Settings{TimeoutsMS: map[string]int{"create_item": 100, "get /r/{kind}": 200, "POST /items": 300}}
	for _, tc := range []struct {
		id, method, path string
		want             time.Duration
		ok               bool
	}{
		{"create_item", "POST", "/items", 100 * time.Millisecond, true}, // operationId wins
		{"", "POST", "/items", 300 * time.Millisecond, true},
		{"get_r", "GET", "/r/{kind}", 200 * time.Millisecond, true},
		{"other", "GET", "/other", 0, false},
	} {
		got, ok := s.TimeoutFor(tc.id, tc.method, tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TimeoutFor(%q, %q, %q) = %v, %v; want %v, %v", tc.id, tc.method, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}
