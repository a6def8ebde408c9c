package pgstore_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

// TestAuditForPeople: entries are named by email and key name, filtered by
// actor (a user's own keys included), and a tenant change carries its diff.
func TestAuditForPeople(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u, err := f.store.CreateUser(ctx, "ada@example.test", "correct horse battery staple", false, "system")
	if err != nil {
		t.Fatal(err)
	}
	ua, ub := "user:"+u.ID, "apikey:"
	tn := &tenant.Tenant{Name: "shop", BaseURL: "https://api.example.com/v1"}
	if err := f.store.CreateTenant(ctx, tn, ua); err != nil {
		t.Fatal(err)
	}
	key, _, err := f.store.CreateAPIKey(ctx, tn.ID, "deploy bot", []string{"read", "write"}, tenant.Minter{UserID: u.ID}, ua)
	if err != nil {
		t.Fatal(err)
	}
	ub += key.ID
	name, base := "shop2", "https://api.example.com/v2?key=s3cret"
	timeout := tenant.Settings{UpstreamTimeoutMS: 5000}
	if _, err := f.store.UpdateTenant(ctx, tn.ID, tenant.TenantPatch{Name: &name, BaseURL: &base, Settings: &timeout}, ua+"/"+ub); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateTenant(ctx, tn.ID, tenant.TenantPatch{Name: &tn.Name}, ub); err != nil {
		t.Fatal(err)
	}

	all, err := f.store.AuditPage(ctx, tenant.AuditQuery{TenantID: tn.ID})
	if err != nil {
		t.Fatal(err)
	}
	names, err := f.store.ActorNames(ctx, append(all, tenant.AuditEntry{Actor: "apikey:gone"}, tenant.AuditEntry{Actor: "system"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ua: "ada@example.test", ub: "API key “deploy bot”", ua + "/" + ub: "ada@example.test with API key “deploy bot”", "system": "Portico"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("ActorNames (-want +got):\n%s", d)
	}

	actions := func(q tenant.AuditQuery) []string {
		t.Helper()
		q.TenantID = tn.ID
		es, err := f.store.AuditPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Actor+" "+e.Action)
		}
		return out
	}
	// Newest first. The user's filter takes in what the user did with a key.
	if d := cmp.Diff([]string{ua + "/" + ub + " tenant.update", ua + " api_key.create", ua + " tenant.create"}, actions(tenant.AuditQuery{Actor: ua})); d != "" {
		t.Errorf("actor=%s (-want +got):\n%s", ua, d)
	}
	if d := cmp.Diff([]string{ub + " tenant.update", ua + "/" + ub + " tenant.update"}, actions(tenant.AuditQuery{Actor: ub})); d != "" {
		t.Errorf("actor=%s (-want +got):\n%s", ub, d)
	}
	if got := actions(tenant.AuditQuery{Actor: "user:" + u.ID[:5]}); len(got) != 0 {
		t.Errorf("a prefix of an id matched: %v", got)
	}

	// The first update's field-by-field diff: URLs with their query redacted,
	// each changed setting on its own.
	upd := all[1]
	if upd.Action != "tenant.update" {
		t.Fatalf("entry = %s, want tenant.update", upd.Action)
	}
	wantChanges := map[string]any{
		"name":                         map[string]any{"from": "shop", "to": "shop2"},
		"base_url":                     map[string]any{"from": "https://api.example.com/v1", "to": "https://api.example.com/v2?redacted"},
		"spec_url":                     map[string]any{"from": "https://api.example.com/v1/openapi.json", "to": "https://api.example.com/v2?redacted"},
		"settings.upstream_timeout_ms": map[string]any{"from": nil, "to": float64(5000)},
	}
	if d := cmp.Diff(wantChanges, upd.Details["changes"]); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}
