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
	_, err = rt.Preview(ctx, srv.URL+"/openapi.json", tenant.Settings{Tools: map[string]tenant.ToolTransform{"list_repos": {Args: map[string]tenant.ArgTransform{"per_page": {Fixed: json.RawMessage(`0`)}}}}})
	var inv *tenant.InvalidError
	if !errors.As(err, &inv) || inv.Problems[0].Field != `settings.tools["list_repos"].args["per_page"].fixed` {
		t.Errorf("bad fixed value previewed: %v", err)
	}
}
