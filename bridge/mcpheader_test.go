package bridge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
)

// headerSpec has an operation with header parameters: region (string,
// annotated), X-Count (integer, annotated), ratio (number: not allowed),
// X-Api-Token (a credential: not mirrored), and Region (the same header
// name in another case: only the first is annotated).
const headerSpec = `{"openapi":"3.1.0","info":{"title":"h","version":"1"},"paths":{
"/regional":{"get":{"operationId":"regional","parameters":[
  {"name":"region","in":"header","required":true,"schema":{"type":"string"}},
  {"name":"X-Count","in":"header","schema":{"type":"integer"}},
  {"name":"ratio","in":"header","schema":{"type":"number"}},
  {"name":"X-Api-Token","in":"header","schema":{"type":"string"}},
  {"name":"Region","in":"header","schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`

func TestMCPHeaderAnnotations(t *testing.T) {
	conv, err := Convert([]byte(headerSpec), openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(conv.Operations[0].InputSchema, &s); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for name, p := range s.Properties {
		if h, ok := p["x-mcp-header"]; ok {
			got[name] = h
		}
	}
	want := map[string]any{"region": "region", "X-Count": "X-Count"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("x-mcp-header annotations %v, want %v (number, credential and repeated names are not annotated)", got, want)
	}
}

// TestMCPHeaderValidation: a 2026-07-28 tools/call of a tool with
// x-mcp-header properties has its Mcp-Param-* headers checked against the
// arguments (the fast path hands such calls to the SDK, which checks them);
// older versions have no such headers and keep the fast path.
func TestMCPHeaderValidation(t *testing.T) {
	var gotRegion atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotRegion.Store(r.Header.Get("region"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"region":%q}`, r.Header.Get("region"))
	}))
	defer up.Close()
	var doc atomic.Value
	doc.Store(headerSpec)
	r := newFastRuntimeWith(t, up.URL, Config{}, &doc)
	call := func(args string, v26 bool) string {
		meta := ""
		if v26 {
			meta = `,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
		}
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"regional","arguments":` + args + meta + `}}`
	}
	h26 := []string{"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "regional"}
	for _, tc := range []struct {
		name    string
		args    string
		headers []string
		ok      bool
		region  string
	}{
		{"plain value", `{"region":"eu-west"}`, []string{"Mcp-Param-region", "eu-west"}, true, "eu-west"},
		{"base64 value", `{"region":"Hello"}`, []string{"Mcp-Param-region", "=?base64?SGVsbG8=?="}, true, "Hello"},
		{"integer checked as a number", `{"region":"a","X-Count":3}`, []string{"Mcp-Param-region", "a", "Mcp-Param-X-Count", "3"}, true, "a"},
		{"header missing", `{"region":"eu-west"}`, nil, false, ""},
		{"header differs", `{"region":"eu-west"}`, []string{"Mcp-Param-region", "us-east"}, false, ""},
		{"bad base64 padding", `{"region":"Hello"}`, []string{"Mcp-Param-region", "=?base64?SGVsbG8?="}, false, ""},
		{"header without argument", `{"region":"a"}`, []string{"Mcp-Param-region", "a", "Mcp-Param-X-Count", "3"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotRegion.Store("")
			w := mcpPost(t, r, "mcp_ok", call(tc.args, true), append(append([]string{}, h26...), tc.headers...)...)
			body := w.Body.String()
			if tc.ok {
				if w.Code != 200 || strings.Contains(body, `"error"`) || gotRegion.Load() != tc.region {
					t.Errorf("%d %s (upstream got region %q); want a result for region %q", w.Code, body, gotRegion.Load(), tc.region)
				}
				return
			}
			if w.Code != 400 || !strings.Contains(body, "-32020") || gotRegion.Load() != "" {
				t.Errorf("%d %s (upstream got region %q); want 400 with -32020 and no upstream call", w.Code, body, gotRegion.Load())
			}
		})
	}
	// A 2025-11-25 call has no Mcp-Param headers to check: the fast path
	// answers it.
	before := r.fastCalls.Load()
	w := mcpPost(t, r, "mcp_ok", call(`{"region":"eu-west"}`, false), "Mcp-Protocol-Version", "2025-11-25")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `eu-west`) || r.fastCalls.Load() != before+1 {
		t.Errorf("2025-11-25: %d %s, fast %v; want a result from the fast path", w.Code, w.Body.String(), r.fastCalls.Load() > before)
	}
}
