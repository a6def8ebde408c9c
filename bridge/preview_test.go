package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

const previewSpec = `{"openapi":"3.1.0","info":{"title":"Shop","version":"2"},"paths":{
 "/items":{"get":{"operationId":"list_items","tags":["items"],"responses":{"200":{"description":"ok"}}},
           "post":{"operationId":"create_item","responses":{"200":{"description":"ok"}}}},
 "/items/{id}":{"get":{"operationId":"get_item","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],"responses":{"200":{"description":"ok"}}}},
 "/admin":{"delete":{"operationId":"wipe","responses":{"204":{"description":"gone"}}}}}}`

func TestPreview(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/openapi.json":
			w.Write([]byte(previewSpec))
		case "/broken.json":
			w.Write([]byte(`{"hello":"world"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	ctx := context.Background()

	s := tenant.Settings{RouteMaps: []tenant.RouteMap{
		{Pattern: "^/admin", MCPType: tenant.KindExclude},
		{Methods: []string{"GET"}, Pattern: `\{`, MCPType: tenant.KindResourceTemplate},
	}}
	p, err := rt.Preview(ctx, srv.URL+"/openapi.json", s)
	if err != nil {
		t.Fatal(err)
	}
	names := func(items []tenant.PreviewItem) []string {
		out := []string{}
		for _, it := range items {
			out = append(out, it.Method+" "+it.Path+" "+it.Name)
		}
		return out
	}
	got := map[string][]string{"tools": names(p.Tools), "templates": names(p.ResourceTemplates), "resources": names(p.Resources),
		"excluded": p.Report.Excluded}
	want := map[string][]string{
		"tools":     {"GET /items list_items", "POST /items create_item"},
		"templates": {"GET /items/{id} get_item"},
		"resources": {},
		"excluded":  {"DELETE /admin"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}
	if p.Report.Title != "Shop" || p.Tools[0].OperationID != "list_items" || len(p.Tools[0].Tags) != 1 {
		t.Errorf("report or item details missing: %+v %+v", p.Report, p.Tools[0])
	}

	for _, c := range []struct{ name, url, code string }{
		{"unreachable", srv.URL + "/missing.json", "spec_unreachable"},
		{"not openapi", srv.URL + "/broken.json", "spec_invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := rt.Preview(ctx, c.url, tenant.Settings{})
			var ae *tenant.ActivationError
			if !errors.As(err, &ae) || ae.Code != c.code {
				t.Fatalf("err = %v, want ActivationError %s", err, c.code)
			}
		})
	}

	t.Run("guard refuses loopback unless allowed", func(t *testing.T) {
		_, err := New(nil, Config{}).Preview(ctx, srv.URL+"/openapi.json", tenant.Settings{})
		var ae *tenant.ActivationError
		if !errors.As(err, &ae) || ae.Code != "spec_unreachable" {
			t.Fatalf("err = %v, want spec_unreachable from the outbound guard", err)
		}
	})
}

// TestPreviewTransformed: a preview shows the tools as settings.tools
// makes them, and refuses settings.tools that do not fit, naming the key,
// as saving them would.
func TestPreviewTransformed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(xfSpec)) }))
	defer srv.Close()
	rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	ctx := context.Background()
	p, err := rt.Preview(ctx, srv.URL+"/openapi.json", xfSettings())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range p.Tools {
		names = append(names, it.Name)
		if it.Name == "repos" && (it.Title != "Repositories" || string(it.InputSchema) != `{"type":"object","properties":{"search":{"type":"string","description":"Words the repository name contains."}},"required":["search"]}`) {
			t.Errorf("repos previewed as %+v", it.Tool)
		}
	}
	if diff := cmp.Diff([]string{"repos", "create_issue"}, names); diff != "" {
		t.Errorf("previewed tools (-want +got):\n%s", diff)
	}
	// listed is what an MCP client lists from a tenant serving the same
	// document with the same settings.
	r, _ := xfRuntime(t, xfSettings())
	lt, err := connect(t, r).ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var served, listed any
	b, _ := json.Marshal(lt.Tools)
	json.Unmarshal(b, &served)
	json.Unmarshal(p.Listed, &listed)
	if diff := cmp.Diff(served, listed); diff != "" {
		t.Errorf("previewed listing differs from tools/list (-served +previewed):\n%s", diff)
	}
	_, err = rt.Preview(ctx, srv.URL+"/openapi.json", tenant.Settings{Tools: map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"per_page": {Fixed: json.RawMessage(`0`)}}}}})
	var inv *tenant.InvalidError
	if !errors.As(err, &inv) || inv.Problems[0].Field != `settings.tools["list_repos"].args["per_page"].fixed` {
		t.Errorf("bad fixed value previewed: %v", err)
	}
}

// TestPreviewTenant previews settings.tools against an active tenant's
// serving operations: the listing is what a tenant serving those settings
// lists, each tool says which key reshapes it, a sample and a live call are
// shaped by the previewed jq, and what cannot be previewed is a problem
// naming the field.
func TestPreviewTenant(t *testing.T) {
	r, _ := xfRuntime(t, tenant.Settings{})
	ctx := context.Background()
	p, err := r.PreviewTenant(ctx, "t1", tenant.ToolPreviewRequest{Settings: xfSettings()})
	if err != nil {
		t.Fatal(err)
	}
	served, _ := xfRuntime(t, xfSettings())
	lt, err := connect(t, served).ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	b, _ := json.Marshal(lt.Tools)
	json.Unmarshal(b, &want)
	json.Unmarshal(p.Listed, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("previewed listing differs from a tenant serving the settings (-served +previewed):\n%s", diff)
	}
	keys := map[string]string{}
	for _, it := range p.Tools {
		keys[it.Name] = it.SettingsKey
	}
	if diff := cmp.Diff(map[string]string{"repos": "list_repos", "create_issue": "POST /issues"}, keys); diff != "" {
		t.Errorf("settings keys (-want +got):\n%s", diff)
	}

	type shaped struct {
		StructuredContent map[string]any `json:"structuredContent"`
		IsError           bool           `json:"isError"`
	}
	for _, tc := range []struct {
		name string
		req  tenant.ToolPreviewRequest
		want map[string]any
	}{
		{"a sample, by the previewed name", tenant.ToolPreviewRequest{Sample: &tenant.PreviewSample{Tool: "repos", Body: raw(`{"total":1,"items":[{"id":1,"name":"api"}],"seen":{}}`)}},
			map[string]any{"total": 1.0, "names": []any{"api"}, "ids": []any{1.0}, "seen": map[string]any{}}},
		{"a sample, by the settings key", tenant.ToolPreviewRequest{Sample: &tenant.PreviewSample{Tool: "list_repos", Body: raw(`{"total":0,"items":[]}`)}},
			map[string]any{"total": 0.0, "names": []any{}, "ids": []any{}, "seen": nil}},
		{"a live call: fixed and hidden arguments sent under their names", tenant.ToolPreviewRequest{Call: &tenant.PreviewCall{Tool: "repos", Arguments: raw(`{"search":"x"}`)}},
			map[string]any{"total": 2.0, "names": []any{"api", "web"}, "ids": []any{1.0, 12345678901234567.0}, "seen": map[string]any{"path": "/orgs/acme/repos", "query": "per_page=5&q=x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Settings = xfSettings()
			p, err := r.PreviewTenant(ctx, "t1", tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if p.Sample == nil || p.Sample.Tool != "repos" {
				t.Fatalf("sample %+v", p.Sample)
			}
			var res shaped
			json.Unmarshal(p.Sample.Result, &res)
			if diff := cmp.Diff(tc.want, res.StructuredContent); diff != "" || res.IsError {
				t.Errorf("shaped (-want +got):\n%s\n%s", diff, p.Sample.Result)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		req   tenant.ToolPreviewRequest
		field string
	}{
		{"unknown argument", tenant.ToolPreviewRequest{Settings: tenant.Settings{Tools: map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"orgg": {Description: "x"}}}}}},
			`settings.tools["list_repos"].args["orgg"]`},
		{"invalid jq", tenant.ToolPreviewRequest{Settings: tenant.Settings{Tools: map[string]tenant.ToolTransform{"list_repos": {Response: &tenant.ResponseShape{JQ: "{"}}}}},
			`settings.tools["list_repos"].response.jq`},
		{"invalid jq of a key naming no tool", tenant.ToolPreviewRequest{Settings: tenant.Settings{Tools: map[string]tenant.ToolTransform{"nope": {Response: &tenant.ResponseShape{JQ: "{"}}}}},
			`settings.tools["nope"]`},
		{"a sample of a hidden tool", tenant.ToolPreviewRequest{Settings: xfSettings(), Sample: &tenant.PreviewSample{Tool: "wipe", Body: raw(`{}`)}}, "sample.tool"},
		{"a sample without a body", tenant.ToolPreviewRequest{Settings: xfSettings(), Sample: &tenant.PreviewSample{Tool: "repos"}}, "sample.body"},
		{"a call without a required argument", tenant.ToolPreviewRequest{Settings: xfSettings(), Call: &tenant.PreviewCall{Tool: "repos", Arguments: raw(`{"q":"x"}`)}}, "call.arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.PreviewTenant(ctx, "t1", tc.req)
			var inv *tenant.InvalidError
			if !errors.As(err, &inv) || inv.Problems[0].Field != tc.field {
				t.Errorf("err = %v, want a problem at %s first", err, tc.field)
			}
		})
	}
}
