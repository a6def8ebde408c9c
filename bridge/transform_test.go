package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// xfSpec is a GitHub-shaped document: a listing whose org is always the
// same, whose page size a model should not pick, and whose answer is big.
const xfSpec = `{"openapi":"3.1.0","info":{"title":"xf","version":"1"},"paths":{
"/orgs/{org}/repos":{"get":{"operationId":"list_repos","description":"List an organisation's repositories.","parameters":[
  {"name":"org","in":"path","required":true,"schema":{"type":"string"}},
  {"name":"per_page","in":"query","schema":{"type":"integer","minimum":1,"maximum":100}},
  {"name":"q","in":"query","schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Page"}}}}}}},
"/issues":{"post":{"operationId":"create_issue","requestBody":{"required":true,"content":{"application/json":{"schema":{
  "type":"object","required":["title"],"properties":{"title":{"type":"string"},"body":{"type":"string"}}}}}},
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}},
"/admin":{"delete":{"operationId":"wipe","responses":{"204":{"description":"gone"}}}}},
"components":{"schemas":{
  "Page":{"type":"object","required":["total","items"],"properties":{"total":{"type":"integer"},"items":{"type":"array","items":{"$ref":"#/components/schemas/Repo"}},"seen":{"type":"object"}}},
  "Repo":{"type":"object","required":["id","name"],"properties":{"id":{"type":"integer"},"name":{"type":"string"},"private":{"type":"boolean"}}}}}}`

// xfUpstream answers list_repos with two repositories and what it was
// asked, and create_issue with the body it got.
func xfUpstream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == "POST" {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"got":%s}`, b)
		return
	}
	fmt.Fprintf(w, `{"total":2,"items":[{"id":1,"name":"api","private":false},{"id":12345678901234567,"name":"web","private":true}],"seen":{"path":%q,"query":%q}}`,
		r.URL.Path, r.URL.RawQuery)
}

func xfRuntime(t *testing.T, s tenant.Settings) (*Runtime, *httptest.Server) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(xfUpstream))
	t.Cleanup(up.Close)
	var doc atomic.Value
	doc.Store(xfSpec)
	return newFastRuntimeSettings(t, up.URL, Config{}, &doc, s), up
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func xfSettings() tenant.Settings {
	yes := true
	return tenant.Settings{Tools: map[string]tenant.ToolTransform{
		"list_repos": {Name: "repos", Title: "Repositories", Description: "Repositories of acme.", Tags: []string{"support"},
			Annotations: &tenant.ToolAnnotations{Title: "Repositories of acme", IdempotentHint: &yes},
			Args: map[string]tenant.ArgTransform{
				"org":      {Fixed: raw(`"acme"`)},
				"per_page": {Hidden: true, Default: raw(`5`)},
				"q":        {Name: "search", Description: "Words the repository name contains.", Required: &yes},
			},
			Response: &tenant.ResponseShape{JQ: `{total, names: [.items[] | .name], ids: [.items[].id], seen}`}},
		"POST /issues": {Args: map[string]tenant.ArgTransform{"body": {Default: raw(`"filed by an agent"`)}},
			Response: &tenant.ResponseShape{Select: true, MaxBytes: 60}},
		"wipe": {Hidden: true},
	}}
}

// TestToolTransform lists and calls transformed tools through the go-sdk
// client: the renamed tool with its new schema, arguments mapped back to
// the operation's (fixed and hidden ones sent, whatever the agent tries),
// the jq projection as structured content matching its output schema.
func TestToolTransform(t *testing.T) {
	r, _ := xfRuntime(t, xfSettings())
	cs := connect(t, r)
	ctx := context.Background()
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tools := map[string]*mcp.Tool{}
	for _, tl := range lt.Tools {
		tools[tl.Name] = tl
	}
	if _, ok := tools["list_repos"]; ok {
		t.Errorf("list_repos still listed under its old name")
	}
	if _, ok := tools["wipe"]; ok {
		t.Errorf("hidden tool wipe listed")
	}
	repos := tools["repos"]
	if repos == nil {
		t.Fatalf("repos not listed: %v", lt.Tools)
	}
	if repos.Title != "Repositories" || repos.Description != "Repositories of acme." || repos.Annotations.Title != "Repositories of acme" ||
		!repos.Annotations.IdempotentHint || !repos.Annotations.ReadOnlyHint {
		t.Errorf("repos = %+v, annotations %+v", repos, repos.Annotations)
	}
	// As served (the client decodes it into a map, losing the order).
	in := r.lookup("t1").state.Load().ops["tool:repos"].InputSchema
	if want := `{"type":"object","properties":{"search":{"type":"string","description":"Words the repository name contains."}},"required":["search"]}`; string(in) != want {
		t.Errorf("input schema\n got %s\nwant %s", in, want)
	}
	var out map[string]any
	b, _ := json.Marshal(repos.OutputSchema)
	json.Unmarshal(b, &out)
	props, _ := out["properties"].(map[string]any)
	if out["type"] != "object" || props == nil {
		t.Fatalf("output schema %s", b)
	}
	for name, want := range map[string]string{"total": `{"type":"integer"}`, "names": `{"items":{"type":"string"},"type":"array"}`,
		"ids": `{"items":{"type":"integer"},"type":"array"}`, "seen": `{"anyOf":[{"type":"object"},{"type":"null"}]}`} {
		if got := string(openapi.MustJSON(props[name])); got != want {
			t.Errorf("output schema of %s = %s, want %s", name, got, want)
		}
	}
	issue := tools["create_issue"]
	if issue == nil || issue.OutputSchema != nil {
		t.Fatalf("create_issue = %+v: a selectable tool lists no output schema", issue)
	}
	if b, _ := json.Marshal(issue.InputSchema); !strings.Contains(string(b), `"body":{"default":"filed by an agent","type":"string"}`) || !strings.Contains(string(b), `"_select":`) {
		t.Errorf("create_issue input schema %s: want body's default and _select", b)
	}

	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The agent cannot send org or per_page: they are not in the schema,
	// and under their own names they are dropped.
	res := call("repos", map[string]any{"search": "a b", "org": "evil", "per_page": 99})
	if res.IsError {
		t.Fatalf("repos: %v", res.Content[0].(*mcp.TextContent).Text)
	}
	want := `{"ids":[1,12345678901234567],"names":["api","web"],"seen":{"path":"/orgs/acme/repos","query":"per_page=5&q=a+b"},"total":2}`
	if got := res.Content[0].(*mcp.TextContent).Text; got != want {
		t.Errorf("text\n got %s\nwant %s", got, want)
	}
	// The client decodes numbers as float64, so compare as it does.
	var wantV any
	json.Unmarshal([]byte(want), &wantV)
	if diff := cmp.Diff(wantV, res.StructuredContent); diff != "" {
		t.Errorf("structured content (-want +got):\n%s", diff)
	}
	// The result matches the listed output schema.
	if err := checkOutput(&openapi.Operation{Name: "repos", OutputSchema: openapi.MustJSON(repos.OutputSchema)}, res.StructuredContent); err != nil {
		t.Errorf("result does not match the output schema: %v", err)
	}
	if res := call("repos", map[string]any{}); !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "search") {
		t.Errorf("missing renamed required argument: %+v", res.Content[0])
	}

	// Default sent, _select applied, max_bytes cut.
	res = call("create_issue", map[string]any{"title": "hello", "_select": ".got"})
	if got := res.Content[0].(*mcp.TextContent).Text; got != `{"body":"filed by an agent","title":"hello"}` {
		t.Errorf("select: %s", got)
	}
	res = call("create_issue", map[string]any{"title": "hi", "_select": ".got.title"})
	if got := string(openapi.MustJSON(res.StructuredContent)); got != `{"result":"hi"}` {
		t.Errorf("a non-object selection is wrapped: %s", got)
	}
	res = call("create_issue", map[string]any{"title": strings.Repeat("x", 100)})
	text := res.Content[0].(*mcp.TextContent).Text
	if res.StructuredContent != nil || !strings.Contains(text, "[result cut at 60 of ") || !strings.Contains(text, "_select") {
		t.Errorf("cut result: %q structured %v", text, res.StructuredContent)
	}
	res = call("create_issue", map[string]any{"title": "x", "_select": ".got |"})
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "not a valid jq expression") {
		t.Errorf("bad _select: %+v", res.Content[0])
	}
	res = call("create_issue", map[string]any{"title": "x", "_select": "$ENV"})
	if got := res.Content[0].(*mcp.TextContent).Text; got != `{}` {
		t.Errorf("$ENV = %s: an expression must see no environment", got)
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "wipe"}); err == nil {
		t.Errorf("hidden tool called: %+v", res)
	}
}

// checkOutput validates structured content against op's output schema.
func checkOutput(op *openapi.Operation, v any) error {
	root, err := op.OutSchema()
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(openapi.MustJSON(v)))
	d.UseNumber()
	var decoded any
	if err := d.Decode(&decoded); err != nil {
		return err
	}
	return root.Validate(decoded)
}

// TestToolTransformRefused: every bad key, argument, value and expression
// is named, with the closest existing name.
func TestToolTransformRefused(t *testing.T) {
	r, _ := xfRuntime(t, tenant.Settings{})
	yes, no := true, false
	for _, tc := range []struct {
		name  string
		tools map[string]tenant.ToolTransform
		want  []string
	}{
		{"unknown tool", map[string]tenant.ToolTransform{"list_repo": {Name: "x"}},
			[]string{`settings.tools["list_repo"] matches no tool`, `did you mean "list_repos"?`}},
		{"unknown argument", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"per_pag": {Description: "d"}}}},
			[]string{`settings.tools["list_repos"].args["per_pag"] is not an argument of tool list_repos; did you mean "per_page"?`}},
		{"fixed violates schema", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"per_page": {Fixed: raw(`1000`)}}}},
			[]string{`settings.tools["list_repos"].args["per_page"].fixed 1000 does not fit the parameter's schema`}},
		{"default of the wrong type", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"q": {Default: raw(`5`)}}}},
			[]string{`settings.tools["list_repos"].args["q"].default 5 does not fit`}},
		{"invalid jq", map[string]tenant.ToolTransform{"list_repos": {Response: &tenant.ResponseShape{JQ: `{total,`}}},
			[]string{`settings.tools["list_repos"].response.jq is not a valid jq expression`}},
		{"name clash", map[string]tenant.ToolTransform{"list_repos": {Name: "create_issue"}},
			[]string{`settings.tools["list_repos"].name "create_issue" is the name of another tool`}},
		{"argument name clash", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"q": {Name: "org"}}}},
			[]string{`settings.tools["list_repos"].args["q"].name "org" is already the name of argument org`}},
		{"optional without default", map[string]tenant.ToolTransform{"create_issue": {Args: map[string]tenant.ArgTransform{"title": {Required: &no}}}},
			[]string{`settings.tools["create_issue"].args["title"].required the operation requires title`}},
		{"hidden without default", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"q": {Hidden: true}}}},
			[]string{`settings.tools["list_repos"].args["q"].hidden a hidden argument needs a default`}},
		{"hidden and required", map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"q": {Hidden: true, Default: raw(`"x"`), Required: &yes}}}},
			[]string{`settings.tools["list_repos"].args["q"].required a hidden argument cannot be required`}},
		{"same tool twice", map[string]tenant.ToolTransform{"list_repos": {Title: "a"}, "GET /orgs/{org}/repos": {Title: "b"}},
			[]string{`names the same tool as settings.tools`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenant.Settings{Tools: tc.tools}
			err := s.Validate()
			if err == nil {
				err = r.CheckSettings("t1", s)
			}
			if err == nil {
				t.Fatalf("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if err := r.CheckSettings("t1", xfSettings()); err != nil {
		t.Errorf("good settings refused: %v", err)
	}
	// An inactive tenant has no document, but a jq expression is checked anyway.
	if err := r.CheckSettings("t9", tenant.Settings{Tools: map[string]tenant.ToolTransform{"x": {Response: &tenant.ResponseShape{JQ: "]"}}}}); err == nil {
		t.Errorf("invalid jq accepted for a tenant not active here")
	}
}

// TestShapedOutputSchema: the output schema follows the jq expression
// where its form says what comes out, and is "any value" elsewhere.
func TestShapedOutputSchema(t *testing.T) {
	conv, err := Convert([]byte(xfSpec), openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var list *openapi.Operation
	for _, op := range conv.Operations {
		if op.Name == "list_repos" {
			list = op
		}
	}
	for _, tc := range []struct{ jq, want string }{
		{`.total`, `{"properties":{"result":{"type":"integer"}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
		{`.items[0]`, `{"$defs":{"Repo":{"properties":{"id":{"type":"integer"},"name":{"type":"string"},"private":{"type":"boolean"}},"required":["id","name"],"type":"object"}},"properties":{"result":{"anyOf":[{"$ref":"#/$defs/Repo"},{"type":"null"}]}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
		{`{n: .total}`, `{"properties":{"n":{"type":"integer"}},"required":["n"],"type":"object"}`},
		{`.items | map({name})`, `{"properties":{"result":{"items":{"properties":{"name":{"type":"string"}},"required":["name"],"type":"object"},"type":"array"}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
		{`.items[] | .id`, `{"properties":{"result":{}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
		{`[.items[] | select(.private) | .name]`, `{"properties":{"result":{"items":{"type":"string"},"type":"array"}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
		{`reduce .items[] as $i (0; . + 1)`, `{"properties":{"result":{}},"required":["result"],"type":"object","x-fastmcp-wrap-result":true}`},
	} {
		t.Run(tc.jq, func(t *testing.T) {
			sh, out, err := openapi.NewShaper(list, &tenant.ResponseShape{JQ: tc.jq}, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("output schema\n got %s\nwant %s", out, tc.want)
			}
			if sh.Wrap != strings.Contains(tc.want, "x-fastmcp-wrap-result") {
				t.Errorf("wrap = %v", sh.Wrap)
			}
		})
	}
}

// TestShapeBounds: a jq run ends at its time bound and at its output bound.
func TestShapeBounds(t *testing.T) {
	conv, _ := Convert([]byte(xfSpec), openapi.Options{}, "")
	op := conv.Operations[0]
	sh, _, err := openapi.NewShaper(op, &tenant.ResponseShape{JQ: `[range(100000000)]`}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sh.Run(context.Background(), sh.Code, map[string]any{}); err == nil || !strings.Contains(err.Error(), "ran longer than") {
		t.Errorf("endless expression: %v", err)
	}
	sh, _, _ = openapi.NewShaper(op, &tenant.ResponseShape{JQ: `range(100000) | "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`}, 1<<16)
	if _, _, err := sh.Run(context.Background(), sh.Code, nil); err == nil || !strings.Contains(err.Error(), "more than 65536 bytes") {
		t.Errorf("big output: %v", err)
	}
}

// TestTransformedToolsOnFastPaths: a transformed tool is answered by the
// fast paths, byte for byte as the SDK answers it.
func TestTransformedToolsOnFastPaths(t *testing.T) {
	r, _ := xfRuntime(t, xfSettings())
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"repos","arguments":{"search":"x"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_issue","arguments":{"title":"t","_select":".got.body"}}}`,
	} {
		send := func() string {
			w := httptest.NewRecorder()
			hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
			hr.Header.Set("Authorization", "Bearer mcp_ok")
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("Accept", "application/json, text/event-stream")
			hr.Header.Set("Mcp-Protocol-Version", "2025-06-18")
			r.Handler().ServeHTTP(w, hr)
			return upstreamMS.ReplaceAllString(w.Body.String(), "$1")
		}
		r.noFastPath = true
		want := send()
		r.noFastPath = false
		calls, lists := r.fastCalls.Load(), r.fastLists.Load()
		got := send()
		if r.fastCalls.Load() == calls && r.fastLists.Load() == lists {
			t.Errorf("%s: not answered by a fast path", body)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-SDK +fast):\n%s", body, diff)
		}
	}
}
