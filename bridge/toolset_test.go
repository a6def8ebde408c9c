package bridge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

const toolsetSpec = `{"openapi":"3.1.0","info":{"title":"ts","version":"1"},"paths":{
"/users":{"get":{"operationId":"listUsers","tags":["users"],"responses":{"200":{"description":"ok"}}},
          "post":{"operationId":"createUser","tags":["users"],"responses":{"200":{"description":"ok"}}}},
"/tickets":{"get":{"operationId":"listTickets","tags":["tickets"],"responses":{"200":{"description":"ok"}}}},
"/tickets/{id}":{"delete":{"operationId":"deleteTicket","tags":["tickets"],"parameters":[
  {"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}}}}}}`

// toolsetRuntime serves toolsetSpec as tenant t1 with the toolsets and
// prompts *sets and *ps hold (read at every build). Token "mcp_ok" is
// unrestricted; "mcp_support" is restricted to toolset support.
func toolsetRuntime(t *testing.T, mu *sync.Mutex, sets *[]tenant.Toolset, ps *[]tenant.Prompt, noFast bool) *Runtime {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	t.Cleanup(up.Close)
	ten := &tenant.Tenant{ID: "t1", Name: "ts", BaseURL: up.URL, Status: tenant.StatusPending}
	store := &fakeStore{
		verifyTokenFn: func(_ context.Context, secret string) (tenant.Token, error) {
			if secret == "mcp_support" {
				return tenant.Token{ID: "sup", TenantID: "t1", Toolsets: []string{"support"}}, nil
			}
			return tenant.Token{ID: "tok", TenantID: "t1"}, nil
		},
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			ten.Status = to
			c := *ten
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, Raw: []byte(toolsetSpec)}, nil
		},
		toolsetsFn: func(context.Context, string) ([]tenant.Toolset, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(*sets), nil
		},
		promptsFn: func(context.Context, string) ([]tenant.Prompt, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(*ps), nil
		},
	}
	r := New(store, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	r.noFastPath = noFast
	if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	return names
}

// TestToolsetsServed: a toolset's URL lists and calls only its tools and
// prompts (on the fast paths and through the SDK alike, for 2025-11-25
// sessions and 2026-07-28 clients), a token restricted to it is refused
// elsewhere, an unknown toolset is 404, and a change to one toolset
// reaches that toolset's sessions as list_changed and no other's.
func TestToolsetsServed(t *testing.T) {
	for _, noFast := range []bool{false, true} {
		t.Run(map[bool]string{false: "fast paths", true: "sdk"}[noFast], func(t *testing.T) {
			var mu sync.Mutex
			sets := []tenant.Toolset{
				{Name: "support", Tags: []string{"tickets"}, ReadOnly: true},
				{Name: "admin", Tools: []string{"createUser", "DELETE /tickets/{id}"}},
			}
			ps := []tenant.Prompt{
				{Name: "onboard", Messages: []tenant.PromptMessage{{Role: "user", Text: "Onboard"}}},
				{Name: "triage", Messages: []tenant.PromptMessage{{Role: "user", Text: "Triage"}}, Toolsets: []string{"support"}},
			}
			r := toolsetRuntime(t, &mu, &sets, &ps, noFast)
			srv := httptest.NewServer(r.Handler())
			t.Cleanup(srv.Close)
			ctx := context.Background()
			type client struct {
				cs      *mcp.ClientSession
				changed chan struct{}
			}
			connectTo := func(path, secret, version string) client {
				t.Helper()
				ch := make(chan struct{}, 10)
				c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
					ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { ch <- struct{}{} }})
				cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + path,
					HTTPClient: &http.Client{Transport: bearer{secret, http.DefaultTransport}}}, &mcp.ClientSessionOptions{ProtocolVersion: version})
				if err != nil {
					t.Fatalf("connect %s: %v", path, err)
				}
				t.Cleanup(func() { cs.Close() })
				return client{cs, ch}
			}
			all := connectTo("/t/t1/mcp", "mcp_ok", "2025-11-25")
			support := connectTo("/t/t1/mcp/support", "mcp_support", "2025-11-25")
			support26 := connectTo("/t/t1/mcp/support", "mcp_support", "2026-07-28")
			admin := connectTo("/t/t1/mcp/admin", "mcp_ok", "2025-11-25")
			if got, want := toolNames(t, all.cs), []string{"createUser", "deleteTicket", "listTickets", "listUsers"}; !slices.Equal(got, want) {
				t.Errorf("tenant endpoint lists %v, want %v", got, want)
			}
			for _, c := range []client{support, support26} {
				if got := toolNames(t, c.cs); !slices.Equal(got, []string{"listTickets"}) {
					t.Errorf("support lists %v, want [listTickets] (tickets, read-only)", got)
				}
			}
			if got := toolNames(t, admin.cs); !slices.Equal(got, []string{"createUser", "deleteTicket"}) {
				t.Errorf("admin lists %v, want [createUser deleteTicket] (by operationId and by METHOD /path)", got)
			}
			// fastUpstream answers 404 for /tickets: the call reached it.
			if res, err := support.cs.CallTool(ctx, &mcp.CallToolParams{Name: "listTickets"}); err != nil || res.Meta[UpstreamMSMeta] == nil {
				t.Errorf("support calls listTickets: %+v, %v; want it to reach the upstream", res, err)
			}
			if res, err := support26.cs.CallTool(ctx, &mcp.CallToolParams{Name: "createUser"}); err == nil && !res.IsError {
				t.Errorf("support calls createUser, which it does not serve: %+v", res)
			}
			if res, err := support.cs.CallTool(ctx, &mcp.CallToolParams{Name: "deleteTicket", Arguments: map[string]any{"id": "1"}}); err == nil && !res.IsError {
				t.Errorf("support calls deleteTicket, which read_only leaves out: %+v", res)
			}
			// A toolset is no reason to leave the fast paths.
			if calls, lists := r.fastCalls.Load(), r.fastLists.Load(); !noFast && (calls == 0 || lists == 0) {
				t.Errorf("fast paths answered %d calls and %d lists of the toolsets; want both used", calls, lists)
			}
			prompts := func(cs *mcp.ClientSession) []string {
				res, err := cs.ListPrompts(ctx, nil)
				if err != nil {
					return []string{err.Error()}
				}
				var names []string
				for _, p := range res.Prompts {
					names = append(names, p.Name)
				}
				return names
			}
			if got := prompts(support.cs); !slices.Equal(got, []string{"triage"}) {
				t.Errorf("support prompts %v, want [triage]", got)
			}
			if got := prompts(all.cs); !slices.Equal(got, []string{"onboard", "triage"}) {
				t.Errorf("tenant prompts %v, want both", got)
			}
			if got := prompts(admin.cs); len(got) != 1 || !strings.Contains(got[0], "method not found") {
				t.Errorf("admin prompts %v, want method not found (none attached)", got)
			}

			// The restricted token is refused on the tenant's endpoint and on
			// another toolset; an unknown toolset is 404.
			for _, tc := range []struct {
				path, secret string
				code         int
				says         string
			}{
				{"/t/t1/mcp", "mcp_support", 403, "restricted to the toolset(s) support"},
				{"/t/t1/mcp/admin", "mcp_support", 403, "toolset admin is not among them"},
				{"/t/t1/mcp/nope", "mcp_ok", 404, "has no toolset nope"},
				{"/t/t1/mcp/a/b", "mcp_ok", 404, "a toolset's /t/"},
			} {
				hr := httptest.NewRequest("POST", tc.path, strings.NewReader(initBody))
				hr.Header.Set("Authorization", "Bearer "+tc.secret)
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("Accept", "application/json, text/event-stream")
				w := httptest.NewRecorder()
				r.Handler().ServeHTTP(w, hr)
				if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.says) {
					t.Errorf("%s with %s: %d %s, want %d saying %q", tc.path, tc.secret, w.Code, w.Body, tc.code, tc.says)
				}
			}

			// Adding the users tag to support tells support's sessions (both
			// versions), not admin's; the tenant's own list is unchanged.
			mu.Lock()
			sets[1].Tags = nil // unchanged
			sets[0].Tags = []string{"tickets", "users"}
			mu.Unlock()
			if err := r.Reload(ctx, "t1"); err != nil {
				t.Fatal(err)
			}
			for name, c := range map[string]client{"2025-11-25": support, "2026-07-28": support26} {
				select {
				case <-c.changed:
				case <-time.After(5 * time.Second):
					t.Fatalf("%s support session heard no tools/list_changed", name)
				}
				if got := toolNames(t, c.cs); !slices.Equal(got, []string{"listTickets", "listUsers"}) {
					t.Errorf("%s support lists %v after the change", name, got)
				}
			}
			// A deleted toolset's URL is 404 at once.
			mu.Lock()
			sets = sets[:1]
			mu.Unlock()
			if err := r.Reload(ctx, "t1"); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.cs.ListTools(ctx, nil); err == nil {
				t.Error("admin still lists tools after its toolset was deleted")
			}
			if n := len(all.changed); n != 0 {
				t.Errorf("the tenant endpoint's session heard %d list_changed; its tools did not change", n)
			}
		})
	}
}

// TestCheckToolset: names and tags the document lacks are refused with
// the closest match.
func TestCheckToolset(t *testing.T) {
	var mu sync.Mutex
	var sets []tenant.Toolset
	var ps []tenant.Prompt
	r := toolsetRuntime(t, &mu, &sets, &ps, false)
	err := r.CheckToolset("t1", tenant.Toolset{Name: "x", Tools: []string{"listUsers", "listTicket", "GET /tickets"}, Tags: []string{"user"}})
	msg := err.Error()
	for _, want := range []string{`tools[1]`, `did you mean "listTickets"?`, `tags[0]`, `did you mean "users"?`} {
		if !strings.Contains(msg, want) {
			t.Errorf("CheckToolset: %v; want it to say %s", err, want)
		}
	}
	if strings.Contains(msg, "tools[0]") || strings.Contains(msg, "tools[2]") {
		t.Errorf("CheckToolset refused a name that exists: %v", err)
	}
	if err := r.CheckToolset("t1", tenant.Toolset{Name: "x", Tags: []string{"tickets"}}); err != nil {
		t.Errorf("a good toolset: %v", err)
	}
}
