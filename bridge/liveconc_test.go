package bridge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// TestMaxConcurrencyAppliesLive: a settings change of max_concurrency is
// enforced by the running tenant without re-activation, on the replica that
// took the change (Reload) and on another replica that learns of it from the
// database (reconcile, what a NOTIFY leads to), and calls in flight when the
// limit shrinks finish normally.
//
// POST /items blocks in the upstream until the test releases it, so the
// calls holding slots are known exactly. A probe (GET /r/obj, answered at
// once) then tells whether a slot is free: with the limit full it can only
// fail with the concurrency error once its context ends; with a slot free it
// succeeds. Nothing depends on how fast anything runs.
func TestMaxConcurrencyAppliesLive(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 16)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		fastUpstream(w, r)
	}))
	defer up.Close()

	var mu sync.Mutex
	ten := &tenant.Tenant{ID: "t1", Name: "conc", BaseURL: up.URL, Status: tenant.StatusPending,
		Settings: tenant.Settings{MaxConcurrency: 2, UpstreamTimeoutMS: 20_000}}
	get := func() *tenant.Tenant { mu.Lock(); defer mu.Unlock(); c := *ten; return &c }
	store := &fakeStore{
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { return get(), nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			mu.Lock()
			ten.Status = to
			mu.Unlock()
			return get(), nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			return tenant.SpecVersion{Version: 1, Raw: []byte(fastSpec)}, nil
		},
	}
	cfg := Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	ctx := context.Background()
	r1 := New(store, cfg)
	if _, err := r1.Activate(ctx, "t1", "test"); err != nil {
		t.Fatal(err)
	}
	defer r1.Shutdown(ctx)
	r2 := New(store, cfg) // another replica on the same database
	if err := r2.reconcile(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	defer r2.Shutdown(ctx)

	for _, rep := range []struct {
		name  string
		rt    *Runtime
		apply func(*Runtime) error // how the replica learns of the change
	}{
		{"replica that took the change", r1, func(r *Runtime) error { return r.Reload(ctx, "t1") }},
		{"other replica", r2, func(r *Runtime) error { return r.reconcile(ctx, "t1") }},
	} {
		t.Run(rep.name, func(t *testing.T) {
			setConc := func(n int) {
				t.Helper()
				mu.Lock()
				ten.Settings.MaxConcurrency = n
				mu.Unlock()
				if err := rep.apply(rep.rt); err != nil {
					t.Fatal(err)
				}
			}
			setConc(2)
			l := rep.rt.lookup("t1")
			call := func(ctx context.Context, name, args string) *mcp.CallToolResult {
				st := l.state.Load()
				res, _ := l.call(ctx, st, st.ops["tool:"+name], &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: name, Arguments: json.RawMessage(args)}})
				return res
			}
			text := func(res *mcp.CallToolResult) string { return res.Content[0].(*mcp.TextContent).Text }
			var wg sync.WaitGroup
			var failed []string
			var fmu sync.Mutex
			hold := func(n int) { // n more calls holding a slot each
				for range n {
					wg.Go(func() {
						if res := call(ctx, "create_item", `{"name":"x"}`); res.IsError {
							fmu.Lock()
							failed = append(failed, text(res))
							fmu.Unlock()
						}
					})
					<-arrived
				}
			}
			full := func(want int) {
				t.Helper()
				pctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				res := call(pctx, "get_r", `{"kind":"obj"}`)
				if !res.IsError || !strings.Contains(text(res), "concurrency limit") {
					t.Errorf("probe with %d calls in flight: %v %q; want the concurrency limit error", want, res.IsError, text(res))
				}
			}
			free := func(inFlight int) {
				t.Helper()
				// The deadline only bounds a failure on a server that
				// ignores the change; a free slot answers at once.
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if res := call(pctx, "get_r", `{"kind":"obj"}`); res.IsError {
					t.Errorf("probe with %d calls in flight: %q; want a free slot", inFlight, text(res))
				}
			}

			hold(2)
			full(2)
			setConc(3) // raised live: one more slot at once
			free(2)
			hold(1)
			full(3)
			setConc(1) // lowered live: the three in flight go on
			release <- struct{}{}
			full(2)
			release <- struct{}{}
			full(1)
			release <- struct{}{}
			wg.Wait()
			free(0)
			if len(failed) > 0 {
				t.Errorf("calls in flight failed when the limit changed: %q", failed)
			}
		})
	}
}
