package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestToolPreviewEndToEnd previews settings.tools against an active
// tenant's serving document (a real FastAPI app) with
// POST /tenants/{id}/preview: bad settings, samples and calls are 422s
// naming the field and nothing is saved; a good preview lists the tools
// exactly as tools/list lists them once the same settings are saved, shapes
// a given sample, and a live call reaches FastAPI under the original
// argument names with the fixed value and comes back projected.
func TestToolPreviewEndToEnd(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	p := startPortico(t, dbURL)
	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "shop", "base_url": fastapi.url,
		"settings": map[string]any{"upstream_timeout_ms": 20000}}, 201, &created)
	token := p.token(t, created.ID)
	preview := "/api/v1/tenants/" + created.ID + "/preview"

	// Before activation there is no stored version to preview against.
	var e409 json.RawMessage
	p.do(t, "POST", preview, map[string]any{}, 409, &e409)
	if !strings.Contains(string(e409), "not_serving") {
		t.Errorf("preview of a never-activated tenant: %s", e409)
	}
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)

	good := map[string]any{
		"create_item_items_post": map[string]any{
			"name": "add_item", "description": "Add an item to the shop.",
			"args": map[string]any{
				"name": map[string]any{"name": "title", "description": "What the item is called."},
				"tags": map[string]any{"fixed": []string{"agent"}},
			},
			"response": map[string]any{"jq": "{name, total, tags}"},
		},
		"get_user_users": map[string]any{"name": "user", "response": map[string]any{"jq": "{name}"}},
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
		text  string
	}{
		{"invalid jq", map[string]any{"settings": map[string]any{"tools": map[string]any{"create_item_items_post": map[string]any{"response": map[string]any{"jq": "{name,"}}}}},
			`settings.tools["create_item_items_post"].response.jq`, "not a valid jq expression"},
		{"unknown argument", map[string]any{"settings": map[string]any{"tools": map[string]any{"create_item_items_post": map[string]any{"args": map[string]any{"prise": map[string]any{"description": "x"}}}}}},
			`settings.tools["create_item_items_post"].args["prise"]`, `did you mean "price"?`},
		{"fixed value the schema refuses", map[string]any{"settings": map[string]any{"tools": map[string]any{"create_item_items_post": map[string]any{"args": map[string]any{"price": map[string]any{"fixed": "cheap"}}}}}},
			`settings.tools["create_item_items_post"].args["price"].fixed`, "does not fit"},
		{"sample of no tool", map[string]any{"settings": map[string]any{"tools": good}, "sample": map[string]any{"tool": "ad_item", "body": map[string]any{}}},
			"sample.tool", `did you mean "add_item"?`},
		{"sample without a body", map[string]any{"settings": map[string]any{"tools": good}, "sample": map[string]any{"tool": "add_item"}},
			"sample.body", "is required"},
		{"call under the old argument name", map[string]any{"settings": map[string]any{"tools": good}, "call": map[string]any{"tool": "add_item", "arguments": map[string]any{"name": "lamp"}}},
			"call.arguments", "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				Error struct {
					Details struct {
						Fields []struct{ Field, Problem string } `json:"fields"`
					} `json:"details"`
				} `json:"error"`
			}
			p.do(t, "POST", preview, tc.body, 422, &e)
			for _, f := range e.Error.Details.Fields {
				if f.Field == tc.field && strings.Contains(f.Problem, tc.text) {
					return
				}
			}
			t.Errorf("422 fields %+v: want %s saying %q", e.Error.Details.Fields, tc.field, tc.text)
		})
	}

	// A sample: the upstream JSON given, shaped by the previewed jq.
	type shaped struct {
		Listed json.RawMessage `json:"listed"`
		Sample struct {
			Tool     string `json:"tool"`
			Source   string `json:"source"`
			Upstream struct {
				Status int            `json:"status"`
				Body   map[string]any `json:"body"`
			} `json:"upstream"`
			Result struct {
				IsError           bool           `json:"isError"`
				StructuredContent map[string]any `json:"structuredContent"`
				Content           []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"result"`
		} `json:"sample"`
	}
	var sp shaped
	p.do(t, "POST", preview, map[string]any{"settings": map[string]any{"tools": good},
		"sample": map[string]any{"tool": "user", "body": map[string]any{"id": 7, "name": "Alice", "email": "a@example.test"}}}, 200, &sp)
	if sp.Sample.Tool != "user" || sp.Sample.Source != "sample" || sp.Sample.Result.IsError ||
		!cmp.Equal(sp.Sample.Result.StructuredContent, map[string]any{"name": "Alice"}) {
		t.Errorf("shaped sample %+v", sp.Sample)
	}

	// A live call: FastAPI gets name (renamed from title) and the fixed
	// tags; the answer comes back projected.
	var cp shaped
	p.do(t, "POST", preview, map[string]any{"settings": map[string]any{"tools": good},
		"call": map[string]any{"tool": "add_item", "arguments": map[string]any{"title": "lamp", "price": 2.5, "tags": []string{"evil"}}}}, 200, &cp)
	want := map[string]any{"name": "lamp", "total": 5.0, "tags": []any{"agent"}}
	if cp.Sample.Source != "call" || cp.Sample.Upstream.Status != 200 || cp.Sample.Upstream.Body["price"] != 2.5 ||
		!cmp.Equal(cp.Sample.Upstream.Body["tags"], []any{"agent"}) {
		t.Errorf("live call upstream %+v", cp.Sample.Upstream)
	}
	if diff := cmp.Diff(want, cp.Sample.Result.StructuredContent); diff != "" {
		t.Errorf("live call shaped (-want +got):\n%s", diff)
	}

	// Settings that change the conversion (a name override) convert the
	// stored version again; the transformation applies on top.
	var np shaped
	p.do(t, "POST", preview, map[string]any{"settings": map[string]any{"names": map[string]string{"get_user_users__user_id__get": "lookup_user"},
		"tools": map[string]any{"lookup_user": map[string]any{"description": "Find a user."}}}}, 200, &np)
	var listed []struct{ Name, Description string }
	json.Unmarshal(np.Listed, &listed)
	found := false
	for _, x := range listed {
		found = found || x.Name == "lookup_user" && x.Description == "Find a user."
	}
	if !found {
		t.Errorf("preview with a name override listed %+v", listed)
	}

	// Nothing was saved by any preview.
	var got struct {
		Settings map[string]any `json:"settings"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+created.ID, nil, 200, &got)
	if _, ok := got.Settings["tools"]; ok || got.Settings["upstream_timeout_ms"] != 20000.0 {
		t.Fatalf("a preview changed the stored settings: %v", got.Settings)
	}

	// Saved, the agent lists exactly what the preview listed.
	p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/settings", map[string]any{"upstream_timeout_ms": 20000, "tools": good}, 200, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := connect(ctx, t, created.MCPURL, token)
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	agent, _ := json.Marshal(res.Tools)
	var a, pv any
	json.Unmarshal(agent, &a)
	json.Unmarshal(cp.Listed, &pv)
	if diff := cmp.Diff(pv, a); diff != "" {
		t.Errorf("tools/list after saving differs from the preview (-preview +agent):\n%s", diff)
	}
}
