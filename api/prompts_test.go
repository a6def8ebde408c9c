package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// TestPromptRoutes: bad prompts are refused naming the field before the
// store is asked; a PUT without a name keeps the path's; every change
// reloads the tenant so its sessions hear list_changed.
func TestPromptRoutes(t *testing.T) {
	var reloads int
	var updated tenant.Prompt
	st := &fakeStore{
		CreatePromptFn: func(_ context.Context, _ string, p tenant.Prompt, _ string) (tenant.Prompt, error) { return p, nil },
		UpdatePromptFn: func(_ context.Context, _, name string, p tenant.Prompt, _ string) (tenant.Prompt, error) {
			updated = p
			return p, nil
		},
		DeletePromptFn: func(context.Context, string, string, string) error { return nil },
	}
	h := New(Options{Store: st, Runtime: &fakeRuntime{ReloadFn: func(context.Context, string) error { reloads++; return nil }}}).Handler()
	for _, tc := range []struct{ name, body, field string }{
		{"unknown placeholder", `{"name":"p","messages":[{"role":"user","text":"{{x}}"}]}`, "messages[0].text"},
		{"empty name", `{"name":"","messages":[{"role":"user","text":"x"}]}`, "name"},
		{"bad role", `{"name":"p","messages":[{"role":"robot","text":"x"}]}`, "messages[0].role"},
	} {
		st.CreatePromptFn = func(context.Context, string, tenant.Prompt, string) (tenant.Prompt, error) {
			t.Errorf("%s: the store was asked to save a bad prompt", tc.name)
			return tenant.Prompt{}, nil
		}
		w := do(t, h, "POST", "/api/v1/tenants/t1/prompts", adminKey, tc.body)
		var e struct {
			Error struct {
				Details struct{ Fields []struct{ Field string } }
			}
		}
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 422 || len(e.Error.Details.Fields) == 0 || e.Error.Details.Fields[0].Field != tc.field {
			t.Errorf("%s: %d %s, want 422 naming %s", tc.name, w.Code, w.Body, tc.field)
		}
	}
	if w := do(t, h, "POST", "/api/v1/tenants/t1/prompts", adminKey, `{"name":"p","messages":[{"role":"user","text":"x"}],"toolset":["a"]}`); w.Code != 400 || !strings.Contains(w.Body.String(), "toolset") {
		t.Errorf("unknown field: %d %s, want 400 naming it", w.Code, w.Body)
	}
	if w := do(t, h, "POST", "/api/v1/tenants/t1/prompts", adminKey, `{"name":"p","messages":[{"role":"user","text":"x"}],"toolsets":["Not a name"]}`); w.Code != 422 || !strings.Contains(w.Body.String(), "toolsets[0]") {
		t.Errorf("bad toolset name: %d %s, want 422 naming toolsets[0]", w.Code, w.Body)
	}
	if w := do(t, h, "PUT", "/api/v1/tenants/t1/prompts/keep", adminKey, `{"messages":[{"role":"user","text":"x"}]}`); w.Code != 200 || updated.Name != "keep" {
		t.Errorf("PUT without a name: %d %s, saved name %q", w.Code, w.Body, updated.Name)
	}
	if w := do(t, h, "DELETE", "/api/v1/tenants/t1/prompts/keep", adminKey, ""); w.Code != 204 {
		t.Errorf("DELETE: %d %s", w.Code, w.Body)
	}
	if reloads != 2 {
		t.Errorf("reloads = %d, want 2 (one per saved change)", reloads)
	}
}
