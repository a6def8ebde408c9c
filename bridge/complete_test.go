package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// completeSpec has templates whose path parameters carry an enum, examples
// (schema and parameter level), an enum through a $ref made nullable,
// a numeric enum, and none; many holds 150 values to page. GET /plain is a
// template without values.
func completeSpec(colors []string) string {
	enum, _ := json.Marshal(colors)
	many := make([]string, 150)
	for i := range many {
		many[i] = fmt.Sprintf("v%03d", i)
	}
	manyJSON, _ := json.Marshal(many)
	return `{"openapi":"3.1.0","info":{"title":"c","version":"1"},
"components":{"schemas":{"Size":{"anyOf":[{"type":"string","enum":["small","medium","large"]},{"type":"null"}]}}},
"paths":{
"/colors/{color}/shades/{shade}":{"get":{"operationId":"shade","parameters":[
  {"name":"color","in":"path","required":true,"schema":{"type":"string","enum":` + string(enum) + `}},
  {"name":"shade","in":"path","required":true,"schema":{"type":"integer","enum":[100,200,300],"examples":[300,400]}}],
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}},
"/sizes/{size}":{"get":{"operationId":"size","parameters":[
  {"name":"size","in":"path","required":true,"schema":{"$ref":"#/components/schemas/Size"}}],
  "responses":{"200":{"description":"ok"}}}},
"/users/{user}":{"get":{"operationId":"user","parameters":[
  {"name":"user","in":"path","required":true,"schema":{"type":"string"},"examples":{"a":{"value":"Alina"},"b":{"value":"alice"}}}],
  "responses":{"200":{"description":"ok"}}}},
"/many/{m}":{"get":{"operationId":"many","parameters":[
  {"name":"m","in":"path","required":true,"schema":{"type":"string","enum":` + string(manyJSON) + `}}],
  "responses":{"200":{"description":"ok"}}}},
"/plain/{p}":{"get":{"operationId":"plain","parameters":[
  {"name":"p","in":"path","required":true,"schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok"}}}}}}`
}

// plainSpec has a template with no values to complete.
const plainSpec = `{"openapi":"3.1.0","info":{"title":"p","version":"1"},"paths":{
"/plain/{p}":{"get":{"operationId":"plain","parameters":[
  {"name":"p","in":"path","required":true,"schema":{"type":"string"}}],
  "responses":{"200":{"description":"ok"}}}}}}`

// completeRuntime serves *doc (read at every build) as tenant t1, every
// GET a resource template.
func completeRuntime(t *testing.T, mu *sync.Mutex, doc *string) *Runtime {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	t.Cleanup(up.Close)
	ten := &tenant.Tenant{ID: "t1", Name: "c", BaseURL: up.URL, Status: tenant.StatusPending,
		Settings: tenant.Settings{RouteMaps: []tenant.RouteMap{{Methods: []string{"GET"}, MCPType: tenant.KindResourceTemplate}}}}
	store := &fakeStore{
		verifyTokenFn: func(context.Context, string) (tenant.Token, error) {
			return tenant.Token{ID: "tok", TenantID: "t1"}, nil
		},
		tenantFn: func(context.Context, string) (*tenant.Tenant, error) { c := *ten; return &c, nil },
		setStatusFn: func(_ context.Context, _ string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
			ten.Status = to
			c := *ten
			return &c, nil
		},
		latestSpecFn: func(context.Context, string) (tenant.SpecVersion, error) {
			mu.Lock()
			defer mu.Unlock()
			return tenant.SpecVersion{Version: len(*doc), Raw: []byte(*doc)}, nil
		},
	}
	r := New(store, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if _, err := r.Activate(context.Background(), "t1", "test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

// connect opens a go-sdk client session on r's endpoint for t1.
func connect(t *testing.T, r *Runtime) *mcp.ClientSession {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: srv.URL + "/t/t1/mcp",
		HTTPClient: &http.Client{Transport: bearer{"mcp_ok", http.DefaultTransport}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestCompleteTemplateArguments(t *testing.T) {
	var mu sync.Mutex
	colors := []string{"red", "Rose", "green", "ruby", "red"}
	doc := completeSpec(colors)
	r := completeRuntime(t, &mu, &doc)
	cs := connect(t, r)
	ctx := context.Background()
	if cs.InitializeResult().Capabilities.Completions == nil {
		t.Fatalf("capabilities %+v: completions not advertised although templates have enum values", cs.InitializeResult().Capabilities)
	}
	ref := func(uri string) *mcp.CompleteReference { return &mcp.CompleteReference{Type: "ref/resource", URI: uri} }
	for _, tc := range []struct {
		name, uri, arg, typed string
		want                  mcp.CompletionResultDetails
	}{
		{"enum prefix ignores case, keeps order, drops repeats", "resource://shade/{color}/{shade}", "color", "r",
			mcp.CompletionResultDetails{Values: []string{"red", "Rose", "ruby"}, Total: 3}},
		{"empty prefix lists every value", "resource://shade/{color}/{shade}", "color", "",
			mcp.CompletionResultDetails{Values: []string{"red", "Rose", "green", "ruby"}, Total: 4}},
		{"no match", "resource://shade/{color}/{shade}", "color", "x",
			mcp.CompletionResultDetails{Values: []string{}}},
		{"enum then examples, numbers as written", "resource://shade/{color}/{shade}", "shade", "",
			mcp.CompletionResultDetails{Values: []string{"100", "200", "300", "400"}, Total: 4}},
		{"enum behind a $ref, nullable", "resource://size/{size}", "size", "",
			mcp.CompletionResultDetails{Values: []string{"small", "medium", "large"}, Total: 3}},
		{"parameter examples", "resource://user/{user}", "user", "al",
			mcp.CompletionResultDetails{Values: []string{"Alina", "alice"}, Total: 2}},
		{"a variable without values", "resource://plain/{p}", "p", "a",
			mcp.CompletionResultDetails{Values: []string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: ref(tc.uri), Argument: mcp.CompleteParamsArgument{Name: tc.arg, Value: tc.typed}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.Completion); diff != "" {
				t.Errorf("completion (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("at most 100 values, total and hasMore", func(t *testing.T) {
		res, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: ref("resource://many/{m}"), Argument: mcp.CompleteParamsArgument{Name: "m", Value: "v"}})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Completion
		if len(c.Values) != 100 || c.Total != 150 || !c.HasMore || c.Values[0] != "v000" || c.Values[99] != "v099" {
			t.Errorf("got %d values (%s … %s), total %d, hasMore %v; want 100 (v000 … v099), 150, true", len(c.Values), c.Values[0], c.Values[len(c.Values)-1], c.Total, c.HasMore)
		}
		res, err = cs.Complete(ctx, &mcp.CompleteParams{Ref: ref("resource://many/{m}"), Argument: mcp.CompleteParamsArgument{Name: "m", Value: "v14"}})
		if err != nil {
			t.Fatal(err)
		}
		if c := res.Completion; len(c.Values) != 10 || c.Total != 10 || c.HasMore {
			t.Errorf("v14: %+v; want 10 values, total 10, no more", c)
		}
	})
	for _, tc := range []struct {
		name string
		ref  *mcp.CompleteReference
		arg  string
		want string
	}{
		{"a prompt", &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, "arg1", `no prompt named "test_prompt_with_arguments"`},
		{"an unknown template", ref("resource://nope/{x}"), "x", `no resource template with uriTemplate "resource://nope/{x}"`},
		{"a variable the template lacks", ref("resource://shade/{color}/{shade}"), "hue", `has no variable "hue"; its variables are color, shade`},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: tc.ref, Argument: mcp.CompleteParamsArgument{Name: tc.arg, Value: "a"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "-32602") && !strings.Contains(err.Error(), "invalid params") {
				t.Errorf("error %v; want invalid params saying %q", err, tc.want)
			}
		})
	}

	// A spec refresh that leaves nothing to complete withdraws the
	// capability from new sessions, and the method from every session.
	mu.Lock()
	doc = plainSpec
	mu.Unlock()
	if err := r.Reload(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if caps := connect(t, r).InitializeResult().Capabilities; caps.Completions != nil {
		t.Errorf("after the refresh: completions still advertised: %+v", caps)
	}
	_, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: ref("resource://plain/{p}"), Argument: mcp.CompleteParamsArgument{Name: "p", Value: ""}})
	if err == nil || !strings.Contains(err.Error(), "method not found") {
		t.Errorf("after the refresh: %v; want method not found", err)
	}
	// And one that brings values back advertises it again.
	mu.Lock()
	doc = completeSpec([]string{"blue"})
	mu.Unlock()
	if err := r.Reload(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	cs2 := connect(t, r)
	if cs2.InitializeResult().Capabilities.Completions == nil {
		t.Errorf("after the second refresh: completions not advertised")
	}
	res, err := cs2.Complete(ctx, &mcp.CompleteParams{Ref: ref("resource://shade/{color}/{shade}"), Argument: mcp.CompleteParamsArgument{Name: "color", Value: ""}})
	if err != nil || !cmp.Equal(res.Completion.Values, []string{"blue"}) {
		t.Errorf("after the second refresh: %+v, %v; want [blue]", res, err)
	}
}

// TestCompleteDiscover: a 2026-07-28 client learns the capability from
// server/discover, with and without values to complete.
func TestCompleteDiscover(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{{completeSpec([]string{"red"}), true}, {plainSpec, false}} {
		var mu sync.Mutex
		doc := tc.doc
		r := completeRuntime(t, &mu, &doc)
		w := mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`,
			"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "server/discover")
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, `"capabilities"`) {
			t.Fatalf("server/discover: %d %s", w.Code, body)
		}
		if got := strings.Contains(body, `"completions"`); got != tc.want {
			t.Errorf("server/discover advertises completions = %v, want %v: %s", got, tc.want, body)
		}
	}
}

func TestTemplateVars(t *testing.T) {
	got := templateVars("resource://x/{a}/{+b}{?c,d*}{/e:3}")
	want := map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}
