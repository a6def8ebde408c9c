package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestToolsetRoutes: bad toolsets are refused naming the field before the
// store is asked (shape first, then the runtime's check against the
// serving document); answers carry the toolset's MCP URL and what it
// serves; a PUT without a name keeps the path's; a delete the store
// refuses is 409 naming the tokens; tokens take toolsets.
func TestToolsetRoutes(t *testing.T) {
	var reloads int
	var saved []tenant.Toolset
	st := &fakeStore{
		CreateToolsetFn: func(_ context.Context, _ string, ts tenant.Toolset, _ string) (tenant.Toolset, error) {
			saved = append(saved, ts)
			return ts, nil
		},
		UpdateToolsetFn: func(_ context.Context, _, _ string, ts tenant.Toolset, _ string) (tenant.Toolset, error) {
			saved = append(saved, ts)
			return ts, nil
		},
		DeleteToolsetFn: func(_ context.Context, _, name, _ string) error {
			if name == "used" {
				return &tenant.ToolsetInUseError{Toolset: name, Tokens: []string{"agent (mcp_abc…)"}}
			}
			return nil
		},
		CreateTokenForFn: func(_ context.Context, tenantID string, nt tenant.NewToken, _ string) (tenant.Token, string, error) {
			return tenant.Token{ID: "k", TenantID: tenantID, Name: nt.Name, Toolsets: nt.Toolsets}, "mcp_secret", nil
		},
	}
	rt := &fakeRuntime{
		ReloadFn: func(context.Context, string) error { reloads++; return nil },
		CheckToolsetFn: func(_ string, ts tenant.Toolset) error {
			if slices.Contains(ts.Tools, "get_usr") {
				var inv tenant.InvalidError
				inv.Add("tools[0]", `names no tool the tenant serves; did you mean "get_user"?`)
				return &inv
			}
			return nil
		},
		ToolsetToolsFn: func(context.Context, string, string) ([]tenant.Tool, error) {
			return []tenant.Tool{{Name: "get_user"}}, nil
		},
	}
	h := New(Options{Store: st, Runtime: rt, BaseURL: "https://portico.example"}).Handler()
	for _, tc := range []struct{ name, body, field, says string }{
		{"empty name", `{"name":""}`, "name", "is required"},
		{"bad name", `{"name":"Support Team"}`, "name", "lowercase"},
		{"empty tool", `{"name":"s","tools":[""]}`, "tools[0]", "is empty"},
		{"repeated tag", `{"name":"s","tags":["a","a"]}`, "tags[1]", "already named"},
		{"missing tool", `{"name":"s","tools":["get_usr"]}`, "tools[0]", `did you mean "get_user"?`},
	} {
		w := do(t, h, "POST", "/api/v1/tenants/t1/toolsets", adminKey, tc.body)
		var e struct {
			Error struct {
				Details struct {
					Fields []struct{ Field, Problem string }
				}
			}
		}
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 422 || len(e.Error.Details.Fields) == 0 || e.Error.Details.Fields[0].Field != tc.field || !strings.Contains(e.Error.Details.Fields[0].Problem, tc.says) {
			t.Errorf("%s: %d %s, want 422 naming %s saying %q", tc.name, w.Code, w.Body, tc.field, tc.says)
		}
	}
	if len(saved) != 0 || reloads != 0 {
		t.Fatalf("refused toolsets reached the store (%d) or reloaded (%d)", len(saved), reloads)
	}
	if w := do(t, h, "POST", "/api/v1/tenants/t1/toolsets", adminKey, `{"name":"s","tool":["x"]}`); w.Code != 400 || !strings.Contains(w.Body.String(), "tool") {
		t.Errorf("unknown field: %d %s, want 400 naming it", w.Code, w.Body)
	}
	w := do(t, h, "POST", "/api/v1/tenants/t1/toolsets", adminKey, `{"name":"support","tools":["get_user"],"read_only":true}`)
	var v struct {
		Name        string
		MCPURL      string `json:"mcp_url"`
		Tools, Tags []string
		Serves      []string
		ReadOnly    bool `json:"read_only"`
	}
	json.Unmarshal(w.Body.Bytes(), &v)
	if w.Code != 201 || v.MCPURL != "https://portico.example/t/t1/mcp/support" || !slices.Equal(v.Serves, []string{"get_user"}) || v.Tags == nil || !v.ReadOnly {
		t.Errorf("POST: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "PUT", "/api/v1/tenants/t1/toolsets/keep", adminKey, `{"tags":["users"]}`); w.Code != 200 || saved[len(saved)-1].Name != "keep" {
		t.Errorf("PUT without a name: %d %s, saved %+v", w.Code, w.Body, saved[len(saved)-1])
	}
	if w := do(t, h, "DELETE", "/api/v1/tenants/t1/toolsets/used", adminKey, ""); w.Code != 409 || !strings.Contains(w.Body.String(), "toolset_in_use") || !strings.Contains(w.Body.String(), "agent (mcp_abc") {
		t.Errorf("DELETE in use: %d %s, want 409 naming the token", w.Code, w.Body)
	}
	if w := do(t, h, "DELETE", "/api/v1/tenants/t1/toolsets/old", adminKey, ""); w.Code != 204 {
		t.Errorf("DELETE: %d %s", w.Code, w.Body)
	}
	if reloads != 3 {
		t.Errorf("reloads = %d, want 3 (one per saved change)", reloads)
	}
	if w := do(t, h, "POST", "/api/v1/tenants/t1/tokens", adminKey, `{"name":"agent","toolsets":["support"]}`); w.Code != 201 || !strings.Contains(w.Body.String(), `"toolsets":["support"]`) {
		t.Errorf("token restricted to a toolset: %d %s", w.Code, w.Body)
	}
}

// TestJSONBodyWithCurlsContentType: `curl -d '{…}'` labels its JSON
// application/x-www-form-urlencoded; the body must still reach the handler
// (it was once consumed by the form parsing of the NUL check, and every
// README example answered "request body is empty").
func TestJSONBodyWithCurlsContentType(t *testing.T) {
	st := &fakeStore{CreateTokenFn: func(_ context.Context, id, name string, _ *time.Time, _ string) (tenant.Token, string, error) {
		return tenant.Token{ID: "k", TenantID: id, Name: name}, "mcp_x", nil
	}}
	h := New(Options{Store: st, Runtime: &fakeRuntime{}}).Handler()
	req := httptest.NewRequest("POST", "/api/v1/tenants/t1/tokens", strings.NewReader(`{"name":"my agent"}`))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+adminKey)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"name":"my agent"`) {
		t.Errorf("%d %s; want 201 with the token", w.Code, w.Body)
	}
}
