package bridge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// fastSpec is a FastAPI-shaped document whose upstream (fastUpstream)
// answers every kind of body a tool result is built from.
const fastSpec = `{"openapi":"3.1.0","info":{"title":"fast","version":"1"},"paths":{
"/r/{kind}":{"get":{"operationId":"get_r","parameters":[
  {"name":"kind","in":"path","required":true,"schema":{"type":"string"}},
  {"name":"q","in":"query","schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}},
"/items":{"post":{"operationId":"create_item","requestBody":{"required":true,"content":{"application/json":{"schema":{
  "type":"object","required":["name"],"properties":{"name":{"type":"string"},"price":{"type":"number"}}}}}},
  "responses":{"200":{"description":"ok"}}}}}}`

func fastUpstream(w http.ResponseWriter, r *http.Request) {
	if r.Method == "POST" {
		w.Header().Set("Content-Type", "application/json")
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"got":%s}`, b)
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/r/") {
	case "obj":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": 42, "q": %q, "nested": {"a": [1, 2.50, 1e3]}}`, r.URL.Query().Get("q"))
	case "arr":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(` [1,"two",null] `))
	case "html":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte("{\"h\":\"<b>&amp;</b> é \u2028 \\u2029\"}"))
	case "text":
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("plain <text> & more"))
	case "empty":
		w.WriteHeader(http.StatusNoContent)
	case "binary":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0xff, 0xfe, 0x00, 0x01})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"detail":"Not Found"}`))
	}
}

// upstreamMS matches the upstream latency in a result's _meta and in a
// log message's status line.
var upstreamMS = regexp.MustCompile(`("portico/upstream_ms":)[0-9.e+-]+|( → [0-9]{3} in )[0-9.]+ ms`)

// newFastRuntime returns a runtime serving one active tenant "t1" over the
// upstream at url, with a fake store.
func newFastRuntime(t testing.TB, url string) *Runtime {
	return newFastRuntimeWith(t, url, Config{}, nil)
}

// newFastRuntimeWith is newFastRuntime with cfg (loopback upstreams are
// always allowed) and, when spec is not nil, the document it holds (a
// string) instead of fastSpec, read at every build. Tokens: mcp_ok is
// "tok", mcp_other is "tok2", both of t1.
func newFastRuntimeWith(t testing.TB, url string, cfg Config, spec *atomic.Value) *Runtime {
	t.Helper()
	return newFastRuntimeSettings(t, url, cfg, spec, tenant.Settings{})
}

// newFastRuntimeSettings is newFastRuntimeWith for a tenant with settings s.
func newFastRuntimeSettings(t testing.TB, url string, cfg Config, spec *atomic.Value, s tenant.Settings) *Runtime {
	t.Helper()
	ten := &tenant.Tenant{ID: "t1", Name: "fast", BaseURL: url, Status: tenant.StatusPending, Settings: s}
	store := &fakeStore{
		verifyTokenFn: func(_ context.Context, secret string) (tenant.Token, error) {
			switch secret {
			case "mcp_ok":
				return tenant.Token{ID: "tok", TenantID: "t1"}, nil
			case "mcp_other":
				return tenant.Token{ID: "tok2", TenantID: "t1"}, nil
			}
			return tenant.Token{}, tenant.ErrNotFound
		},
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			c := *ten
			c.Status = to
			ten.Status = to
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			if spec != nil {
				doc := spec.Load().(string)
				return tenant.SpecVersion{Version: len(doc), Raw: []byte(doc)}, nil
			}
			return tenant.SpecVersion{Version: 1, Raw: []byte(fastSpec)}, nil
		},
	}
	cfg.AllowCIDRs = append(cfg.AllowCIDRs, netip.MustParsePrefix("127.0.0.0/8"))
	r := New(store, cfg)
	if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// TestFastCallMatchesSDK sends each request through the fast path and through
// the SDK and requires the same status, headers and bytes; and it requires
// the fast path to have answered the requests it is meant for.
func TestFastCallMatchesSDK(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntime(t, up.URL)
	rx, _ := xfRuntime(t, xfSettings()) // tools reshaped by settings.tools
	call := func(id, name, args string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`
	}
	type req struct {
		name    string
		body    string
		version string // Mcp-Protocol-Version
		accept  string
		ctype   string
		header  map[string]string // more headers
		fast    bool              // the fast path must answer it
		xf      bool              // sent to rx
	}
	// 2026-07-28 requests carry _meta and name method and tool in headers.
	call26 := func(id, name, args, meta string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `,"_meta":` + meta + `}}`
	}
	meta26 := func(extra string) string {
		return `{"io.modelcontextprotocol/protocolVersion":"2026-07-28"` + extra + `}`
	}
	const info, caps = `,"io.modelcontextprotocol/clientInfo":{"name":"go-client","version":"v1.8.0"}`, `,"io.modelcontextprotocol/clientCapabilities":{}`
	v26 := "2026-07-28"
	h26 := func(method, name string) map[string]string {
		return map[string]string{"Mcp-Method": method, "Mcp-Name": name}
	}
	hGet := h26("tools/call", "get_r")
	reqs := []req{
		{name: "object result", body: call("1", "get_r", `{"kind":"obj","q":"x y"}`), fast: true},
		{name: "string id", body: call(`"abc-1"`, "get_r", `{"kind":"obj"}`), fast: true},
		{name: "html in string id", body: call(`"a<b>&c"`, "get_r", `{"kind":"obj"}`), fast: true},
		{name: "negative zero id", body: call("-0", "get_r", `{"kind":"obj"}`), fast: true},
		{name: "array wrapped", body: call("2", "get_r", `{"kind":"arr"}`), fast: true},
		{name: "html and line separators", body: call("3", "get_r", `{"kind":"html"}`), fast: true},
		{name: "text", body: call("4", "get_r", `{"kind":"text"}`), fast: true},
		{name: "no content", body: call("5", "get_r", `{"kind":"empty"}`), fast: true},
		{name: "binary", body: call("6", "get_r", `{"kind":"binary"}`), fast: true},
		{name: "upstream 404", body: call("7", "get_r", `{"kind":"nope"}`), fast: true},
		{name: "missing argument", body: call("8", "get_r", `{}`), fast: true},
		{name: "arguments null", body: call("9", "get_r", `null`), fast: true},
		{name: "arguments not an object", body: call("10", "get_r", `5`), fast: true},
		{name: "no arguments", body: `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"get_r"}}`, fast: true},
		{name: "json body", body: call("12", "create_item", `{"name":"lamp","price":12.5}`), fast: true},
		{name: "whitespace and key order", body: "\n { \"params\" : { \"arguments\" : {\"kind\":\"obj\"} , \"name\" : \"get_r\" } , \"method\":\"tools/call\", \"id\" : 13 ,\"jsonrpc\":\"2.0\" } ", fast: true},
		{name: "version 2025-03-26", body: call("14", "get_r", `{"kind":"obj"}`), version: "2025-03-26", fast: true},
		{name: "version 2025-11-25", body: call("15", "get_r", `{"kind":"obj"}`), version: "2025-11-25", fast: true},
		{name: "no version header", body: call("16", "get_r", `{"kind":"obj"}`), version: "-", fast: true},
		{name: "accept */*", body: call("17", "get_r", `{"kind":"obj"}`), accept: "*/*", fast: true},
		{name: "content type with charset", body: call("18", "get_r", `{"kind":"obj"}`), ctype: "application/json; charset=utf-8", fast: true},
		{name: "2026 object result", body: call26("40", "get_r", `{"kind":"obj","q":"x"}`, meta26(info+caps)), version: v26, header: hGet, fast: true},
		{name: "2026 string id", body: call26(`"s-41"`, "get_r", `{"kind":"html"}`, meta26(caps+info)), version: v26, header: hGet, fast: true},
		{name: "2026 upstream 404", body: call26("42", "get_r", `{"kind":"nope"}`, meta26(info+caps)), version: v26, header: hGet, fast: true},
		{name: "2026 no content", body: call26("43", "get_r", `{"kind":"empty"}`, meta26(info+caps)), version: v26, header: hGet, fast: true},
		{name: "2026 invalid arguments", body: call26("44", "get_r", `{}`, meta26(info+caps)), version: v26, header: hGet, fast: true},
		{name: "2026 no client info", body: call26("45", "get_r", `{"kind":"obj"}`, meta26(caps)), version: v26, header: hGet, fast: true},
		{name: "2026 capabilities and log level", body: call26("46", "create_item", `{"name":"lamp"}`, meta26(info+`,"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true},"sampling":{},"elicitation":{}},"io.modelcontextprotocol/logLevel":"debug"`)), version: v26, header: h26("tools/call", "create_item")}, // a log level: the SDK's path sends the call's log message
		{name: "2026 capabilities", body: call26("49", "create_item", `{"name":"lamp"}`, meta26(info+`,"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true},"sampling":{},"elicitation":{}}`)), version: v26, header: h26("tools/call", "create_item"), fast: true},
		{name: "2026 meta first", body: `{"jsonrpc":"2.0","id":47,"method":"tools/call","params":{"_meta":` + meta26(info+caps) + `,"name":"get_r"}}`, version: v26, header: hGet, fast: true},
		{name: "2026 json only accept", body: call26("48", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: hGet, accept: "application/json"},
		{name: "transformed tool", body: call("32", "repos", `{"search":"x","org":"evil"}`), xf: true, fast: true},
		{name: "transformed tool missing argument", body: call("33", "repos", `{}`), xf: true, fast: true},
		{name: "transformed tool select", body: call("34", "create_issue", `{"title":"t","_select":"{b: .got.body}"}`), xf: true, fast: true},
		{name: "transformed tool cut", body: call("35", "create_issue", `{"title":"`+strings.Repeat("y", 80)+`"}`), xf: true, fast: true},
		{name: "2026 transformed tool", body: call26("36", "repos", `{"search":"x"}`, meta26(info+caps)), version: v26, header: h26("tools/call", "repos"), fast: true, xf: true},
		{name: "hidden tool", body: call("37", "wipe", `{}`), xf: true},
		{name: "2026 extra Mcp-Param header", body: call26("49", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "get_r", "Mcp-Param-Kind": "obj"}, fast: true},
		// Left to the SDK.
		{name: "unknown tool", body: call("20", "nope", `{}`)},
		{name: "progress token", body: `{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"},"_meta":{"progressToken":"p"}}}`},
		{name: "fractional id", body: call("22.5", "get_r", `{"kind":"obj"}`)},
		{name: "huge id", body: call("1152921504606846976", "get_r", `{"kind":"obj"}`)},
		{name: "escaped string id", body: call(`"a\"b"`, "get_r", `{"kind":"obj"}`)},
		{name: "notification", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`},
		{name: "batch", body: `[` + call("23", "get_r", `{"kind":"obj"}`) + `]`, version: "2025-03-26"},
		{name: "tools/list", body: `{"jsonrpc":"2.0","id":24,"method":"tools/list","params":{}}`},
		{name: "upper-case key", body: `{"jsonrpc":"2.0","id":25,"METHOD":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`},
		{name: "wrong version tag", body: `{"jsonrpc":"1.0","id":26,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`},
		{name: "malformed", body: `{"jsonrpc":"2.0","id":27,"method":"tools/call","params":{"name":"get_r"`},
		{name: "version 2026-07-28 without _meta", body: call("28", "get_r", `{"kind":"obj"}`), version: v26, header: hGet},
		{name: "2026 no Mcp-Method", body: call26("50", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: map[string]string{"Mcp-Name": "get_r"}},
		{name: "2026 wrong Mcp-Method", body: call26("51", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: h26("tools/list", "get_r")},
		{name: "2026 no Mcp-Name", body: call26("52", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: map[string]string{"Mcp-Method": "tools/call"}},
		{name: "2026 wrong Mcp-Name", body: call26("53", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: v26, header: h26("tools/call", "create_item")},
		{name: "2026 meta version differs", body: call26("54", "get_r", `{"kind":"obj"}`, `{"io.modelcontextprotocol/protocolVersion":"2025-11-25"`+info+caps+`}`), version: v26, header: hGet},
		{name: "2026 no meta version", body: call26("55", "get_r", `{"kind":"obj"}`, `{`+info[1:]+caps+`}`), version: v26, header: hGet},
		{name: "2026 no capabilities", body: call26("56", "get_r", `{"kind":"obj"}`, meta26(info)), version: v26, header: hGet},
		{name: "2026 capabilities null", body: call26("57", "get_r", `{"kind":"obj"}`, meta26(info+`,"io.modelcontextprotocol/clientCapabilities":null`)), version: v26, header: hGet},
		{name: "2026 capabilities invalid", body: call26("58", "get_r", `{"kind":"obj"}`, meta26(info+`,"io.modelcontextprotocol/clientCapabilities":{"roots":5}`)), version: v26, header: hGet},
		{name: "2026 client info invalid", body: call26("59", "get_r", `{"kind":"obj"}`, meta26(`,"io.modelcontextprotocol/clientInfo":{"name":5}`+caps)), version: v26, header: hGet},
		{name: "2026 client info null", body: call26("60", "get_r", `{"kind":"obj"}`, meta26(`,"io.modelcontextprotocol/clientInfo":null`+caps)), version: v26, header: hGet},
		{name: "2026 progress token", body: call26("61", "get_r", `{"kind":"obj"}`, meta26(info+caps+`,"progressToken":"p"`)), version: v26, header: hGet},
		{name: "2026 other meta", body: call26("62", "get_r", `{"kind":"obj"}`, meta26(info+caps+`,"trace":"x"`)), version: v26, header: hGet},
		{name: "2026 meta not an object", body: call26("63", "get_r", `{"kind":"obj"}`, `"x"`), version: v26, header: hGet},
		{name: "2026 escaped meta", body: call26("64", "get_r", `{"kind":"obj"}`, meta26(`,"io.modelcontextprotocol/clientInfo":{"name":"a"b","version":"1"}`+caps)), version: v26, header: hGet},
		{name: "2026 unknown tool", body: call26("65", "nope", `{}`, meta26(info+caps)), version: v26, header: h26("tools/call", "nope")},
		{name: "2026 meta on 2025-11-25", body: call26("66", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: "2025-11-25", header: hGet},
		{name: "2026 meta without version header", body: call26("67", "get_r", `{"kind":"obj"}`, meta26(info+caps)), version: "-", header: hGet},
		{name: "later version", body: call26("68", "get_r", `{"kind":"obj"}`, `{"io.modelcontextprotocol/protocolVersion":"2027-01-01"`+info+caps+`}`), version: "2027-01-01", header: hGet},
		{name: "unsupported version", body: call("29", "get_r", `{"kind":"obj"}`), version: "1999-01-01"},
		{name: "accept json only", body: call("30", "get_r", `{"kind":"obj"}`), accept: "application/json"},
		{name: "wrong content type", body: call("31", "get_r", `{"kind":"obj"}`), ctype: "text/plain"},
	}
	send := func(q req) *httptest.ResponseRecorder {
		hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(q.body))
		hr.Header.Set("Authorization", "Bearer mcp_ok")
		hr.Header.Set("Content-Type", "application/json")
		if q.ctype != "" {
			hr.Header.Set("Content-Type", q.ctype)
		}
		hr.Header.Set("Accept", "application/json, text/event-stream")
		if q.accept != "" {
			hr.Header.Set("Accept", q.accept)
		}
		for k, v := range q.header {
			hr.Header.Set(k, v)
		}
		switch q.version {
		case "":
			hr.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		case "-":
		default:
			hr.Header.Set("Mcp-Protocol-Version", q.version)
		}
		w := httptest.NewRecorder()
		rt := r
		if q.xf {
			rt = rx
		}
		rt.Handler().ServeHTTP(w, hr)
		return w
	}
	for _, jsonResponse := range []bool{false, true} {
		for _, rt := range []*Runtime{r, rx} {
			rt.mcpOpts.JSONResponse = jsonResponse
			rt.stateless = mcp.NewStreamableHTTPHandler(rt.serverFor, rt.mcpOpts)
		}
		for _, q := range reqs {
			t.Run(fmt.Sprintf("json=%v/%s", jsonResponse, q.name), func(t *testing.T) {
				r := r
				if q.xf {
					r = rx
				}
				// The upstream's timing is the one field two calls cannot share.
				want, got := matchSDK(t, r, func() *httptest.ResponseRecorder { return send(q) }, q.fast,
					func(s string) string { return upstreamMS.ReplaceAllString(s, "$1$2") })
				// The fast path does not flush its single event (net/http
				// frames it with a Content-Length); other answers are the SDK's.
				if q.fast && got.Flushed {
					t.Errorf("fast path flushed its response; it should leave the framing to net/http")
				} else if !q.fast && want.Flushed != got.Flushed {
					t.Errorf("flushed: SDK %v, second SDK answer %v", want.Flushed, got.Flushed)
				}
			})
		}
	}
}

// matchSDK sends a request twice through r, first with the fast path off,
// and reports where the fast path's answer (status, headers, body after
// norm removes what two calls cannot share) differs from the SDK's, and
// whether the fast path answered as fast says. It returns both answers.
func matchSDK(t *testing.T, r *Runtime, send func() *httptest.ResponseRecorder, fast bool, norm func(string) string) (want, got *httptest.ResponseRecorder) {
	t.Helper()
	r.noFastPath = true
	want = send()
	r.noFastPath = false
	before := r.fastCalls.Load()
	got = send()
	if answered := r.fastCalls.Load() > before; answered != fast {
		t.Errorf("fast path answered: %v, want %v", answered, fast)
	}
	if want.Code != got.Code {
		t.Errorf("status: SDK %d, fast path %d", want.Code, got.Code)
	}
	if diff := cmp.Diff(want.Header(), got.Header()); diff != "" {
		t.Errorf("headers (-SDK +fast path):\n%s", diff)
	}
	if diff := cmp.Diff(norm(want.Body.String()), norm(got.Body.String())); diff != "" {
		t.Errorf("body (-SDK +fast path):\n%s", diff)
	}
	return want, got
}

// bearer adds a token to every request of a client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}

// TestGoSDKClientTakesFastPath connects the go-sdk's own client, which
// speaks 2026-07-28 (per-request _meta, Mcp-Method and Mcp-Name headers),
// and requires its tools/list and tools/call to be answered by the fast
// paths, with the results the SDK would give.
func TestGoSDKClientTakesFastPath(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntime(t, up.URL)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "fast-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   srv.URL + "/t/t1/mcp",
		HTTPClient: &http.Client{Transport: bearer{"mcp_ok", http.DefaultTransport}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if v := cs.InitializeResult().ProtocolVersion; v != version20260728 {
		t.Fatalf("negotiated protocol %q, want %s (the test is about 2026-07-28 clients)", v, version20260728)
	}
	calls, lists := r.fastCalls.Load(), r.fastLists.Load()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 2 {
		t.Errorf("listed %d tools, want 2", len(tools.Tools))
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_r", Arguments: map[string]any{"kind": "obj", "q": "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || !strings.Contains(fmt.Sprint(res.StructuredContent), "go") {
		t.Errorf("tools/call result: isError %v, structured %v", res.IsError, res.StructuredContent)
	}
	if n := r.fastLists.Load() - lists; n != 1 {
		t.Errorf("fast path answered %d tools/list, want 1", n)
	}
	if n := r.fastCalls.Load() - calls; n != 1 {
		t.Errorf("fast path answered %d tools/call, want 1", n)
	}
}
