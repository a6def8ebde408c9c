package bridge

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestFastListMatchesSDK sends each tools/list through the fast path and
// through the SDK and requires the same status, headers and bytes, for a
// small spec and two corpus documents (Stripe's descriptions carry HTML,
// which the SDK does not escape).
func TestFastListMatchesSDK(t *testing.T) {
	type req struct {
		name    string
		body    string
		version string // Mcp-Protocol-Version; "-" for none
		method  string // Mcp-Method; "" for none
		fast    bool   // the fast path must answer it
	}
	const v26 = "2026-07-28"
	meta26 := func(extra string) string {
		return `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"` + extra + `}`
	}
	const info, caps = `,"io.modelcontextprotocol/clientInfo":{"name":"go-client","version":"v1.8.0"}`, `,"io.modelcontextprotocol/clientCapabilities":{}`
	list := func(id, params string) string {
		if params == "" {
			return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/list"}`
		}
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/list","params":` + params + `}`
	}
	list26 := req{name: "2026", body: list("10", `{`+meta26(info+caps)+`}`), version: v26, method: "tools/list", fast: true}
	reqs := []req{
		{name: "empty params", body: list("1", `{}`), fast: true},
		{name: "no params", body: list("2", ""), fast: true},
		{name: "cursor", body: list("3", `{"cursor":"abc"}`), fast: true},
		{name: "cursor base64", body: list("4", `{"cursor":"eyJsYXN0IjoiZ2V0X3IifQ=="}`), fast: true},
		{name: "string id", body: list(`"l-5"`, `{}`), fast: true},
		{name: "version 2025-03-26", body: list("6", `{}`), version: "2025-03-26", fast: true},
		{name: "version 2025-11-25", body: list("7", `{}`), version: "2025-11-25", fast: true},
		{name: "no version header", body: list("8", `{}`), version: "-", fast: true},
		{name: "key order", body: `{"params":{},"method":"tools/list","id":9,"jsonrpc":"2.0"}`, fast: true},
		list26,
		{name: "2026 cursor, no client info", body: list(`"l-11"`, `{"cursor":"abc",`+meta26(caps)+`}`), version: v26, method: "tools/list", fast: true},
		// Left to the SDK.
		{name: "params null", body: list("20", `null`)},
		{name: "progress token", body: list("21", `{"_meta":{"progressToken":"p"}}`)},
		{name: "cursor not a string", body: list("22", `{"cursor":5}`)},
		{name: "version 2026-07-28 without _meta", body: list("23", `{}`), version: v26, method: "tools/list"},
		{name: "2026 no Mcp-Method", body: list("26", `{`+meta26(info+caps)+`}`), version: v26},
		{name: "2026 wrong Mcp-Method", body: list("27", `{`+meta26(info+caps)+`}`), version: v26, method: "tools/call"},
		{name: "2026 no capabilities", body: list("28", `{`+meta26(info)+`}`), version: v26, method: "tools/list"},
		{name: "2026 progress token", body: list("29", `{`+meta26(info+caps+`,"progressToken":"p"`)+`}`), version: v26, method: "tools/list"},
		{name: "2026 meta on 2025-11-25", body: list("30", `{`+meta26(info+caps)+`}`), version: "2025-11-25", method: "tools/list"},
		{name: "notification", body: `{"jsonrpc":"2.0","method":"tools/list"}`},
		{name: "upper-case key", body: `{"jsonrpc":"2.0","id":24,"METHOD":"tools/list"}`},
		{name: "fractional id", body: list("25.5", `{}`)},
	}
	runtimes := map[string]func(t *testing.T) *Runtime{
		"fast": func(t *testing.T) *Runtime { return newFastRuntime(t, "http://127.0.0.1:1") },
		"transformed": func(t *testing.T) *Runtime {
			r, _ := xfRuntime(t, xfSettings())
			return r
		},
	}
	for _, file := range []string{"frigate__frigate-api.yaml", "stripe__spec3.json"} {
		runtimes[file] = func(t *testing.T) *Runtime {
			r := bigSpecRuntime(t, file)
			if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Shutdown(context.Background()) })
			return r
		}
	}
	for spec, newRuntime := range runtimes {
		t.Run(spec, func(t *testing.T) {
			r := newRuntime(t)
			send := func(q req) *httptest.ResponseRecorder {
				hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(q.body))
				hr.Header.Set("Authorization", "Bearer mcp_ok")
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("Accept", "application/json, text/event-stream")
				switch q.version {
				case "":
					hr.Header.Set("Mcp-Protocol-Version", "2025-06-18")
				case "-":
				default:
					hr.Header.Set("Mcp-Protocol-Version", q.version)
				}
				if q.method != "" {
					hr.Header.Set("Mcp-Method", q.method)
				}
				w := httptest.NewRecorder()
				r.Handler().ServeHTTP(w, hr)
				return w
			}
			for _, jsonResponse := range []bool{false, true} {
				r.mcpOpts.JSONResponse = jsonResponse
				r.stateless = mcp.NewStreamableHTTPHandler(r.serverFor, r.mcpOpts)
				for _, q := range reqs {
					t.Run(fmt.Sprintf("json=%v/%s", jsonResponse, q.name), func(t *testing.T) {
						r.noFastPath = true
						want := send(q)
						r.noFastPath = false
						before := r.fastLists.Load()
						got := send(q)
						if fast := r.fastLists.Load() > before; fast != q.fast {
							t.Errorf("fast path answered: %v, want %v", fast, q.fast)
						}
						if want.Code != got.Code {
							t.Errorf("status: SDK %d, fast path %d", want.Code, got.Code)
						}
						if diff := cmp.Diff(want.Header(), got.Header()); diff != "" {
							t.Errorf("headers (-SDK +fast path):\n%s", diff)
						}
						if w, g := want.Body.String(), got.Body.String(); w != g {
							t.Errorf("body differs (SDK %d bytes, fast path %d bytes):\n%s", len(w), len(g), cmp.Diff(w[:min(len(w), 2000)], g[:min(len(g), 2000)]))
						}
						if want.Flushed != got.Flushed {
							t.Errorf("flushed: SDK %v, fast path %v", want.Flushed, got.Flushed)
						}
					})
				}
			}
			// A new state (a refresh, a settings change, a Reload) lists
			// its own tools: the encoding belongs to the state.
			l := r.lookup("t1")
			old := l.state.Load()
			old.toolsListResult()
			old.toolsListResult26(l.impl)
			l.state.Store(&state{tenant: old.tenant, ops: old.ops, list: old.list, tools: old.tools[:1]})
			for _, fast := range []bool{false, true} {
				r.noFastPath = !fast
				for _, q := range []req{reqs[0], list26} {
					body := send(q).Body.String()
					if n := strings.Count(body, `"inputSchema"`); n != 1 {
						t.Errorf("fast=%v, %s: after the swap tools/list has %d tools, want 1", fast, q.name, n)
					}
				}
			}
			r.noFastPath = false
			l.state.Store(old)
		})
	}
}
