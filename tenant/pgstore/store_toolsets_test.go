package pgstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portico-mcp/portico/tenant"
)

func TestToolsetCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.createTenant(t, "a"), f.createTenant(t, "b")
	ts := tenant.Toolset{Name: "support", Description: "Read-only support tools", Tools: []string{"get_user"}, Tags: []string{"tickets"}, ReadOnly: true}
	gen := generationOf(t, f, a.ID)
	created, err := f.store.CreateToolset(ctx, a.ID, ts, "alice")
	if err != nil {
		t.Fatalf("CreateToolset: %v", err)
	}
	if created.CreatedAt.IsZero() {
		t.Error("created toolset has no created_at")
	}
	if g := generationOf(t, f, a.ID); g <= gen {
		t.Errorf("generation %d after creating a toolset, want more than %d: replicas would not rebuild", g, gen)
	}
	ignore := cmpopts.IgnoreFields(tenant.Toolset{}, "CreatedAt", "UpdatedAt")
	got, err := f.store.Toolset(ctx, a.ID, "support")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ts, got, ignore); diff != "" {
		t.Errorf("stored toolset (-want +got):\n%s", diff)
	}
	if list, err := f.store.Toolsets(ctx, b.ID); err != nil || len(list) != 0 {
		t.Errorf("tenant b's toolsets = %v, %v; want none", list, err)
	}
	if _, err := f.store.Toolset(ctx, b.ID, "support"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("tenant b reading a's toolset: %v, want ErrNotFound", err)
	}
	// A second toolset of the same name is refused on name, and nothing changes.
	if _, err := f.store.CreateToolset(ctx, a.ID, tenant.Toolset{Name: "support"}, "alice"); !hasProblem(err, "name") {
		t.Errorf("duplicate name: %v, want a problem on name", err)
	}
	if _, err := f.store.CreateToolset(ctx, a.ID, tenant.Toolset{Name: "Bad Name"}, "alice"); !hasProblem(err, "name") {
		t.Errorf("bad name: %v, want a problem on name", err)
	}

	// A token restricted to it, and a prompt attached to it.
	tok, _, err := f.store.CreateTokenFor(ctx, a.ID, tenant.NewToken{Name: "agent", Toolsets: []string{"support"}}, "alice")
	if err != nil {
		t.Fatalf("CreateTokenFor: %v", err)
	}
	if !slices.Equal(tok.Toolsets, []string{"support"}) {
		t.Errorf("token toolsets = %v", tok.Toolsets)
	}
	if _, _, err := f.store.CreateTokenFor(ctx, a.ID, tenant.NewToken{Name: "x", Toolsets: []string{"nope"}}, "alice"); !hasProblem(err, "toolsets[0]") {
		t.Errorf("token for a missing toolset: %v, want a problem on toolsets[0]", err)
	}
	if _, _, err := f.store.CreateTokenFor(ctx, b.ID, tenant.NewToken{Name: "x", Toolsets: []string{"support"}}, "alice"); !hasProblem(err, "toolsets[0]") {
		t.Errorf("token of b for a's toolset: %v, want a problem on toolsets[0]", err)
	}
	p := tenant.Prompt{Name: "triage", Messages: []tenant.PromptMessage{{Role: "user", Text: "Triage"}}, Toolsets: []string{"support"}}
	if _, err := f.store.CreatePrompt(ctx, a.ID, p, "alice"); err != nil {
		t.Fatalf("CreatePrompt attached to a toolset: %v", err)
	}
	if _, err := f.store.CreatePrompt(ctx, a.ID, tenant.Prompt{Name: "x", Messages: p.Messages, Toolsets: []string{"nope"}}, "alice"); !hasProblem(err, "toolsets[0]") {
		t.Errorf("prompt attached to a missing toolset: %v, want a problem on toolsets[0]", err)
	}

	// Renaming carries the token and the prompt along.
	ts.Name, ts.ReadOnly = "helpdesk", false
	if _, err := f.store.UpdateToolset(ctx, a.ID, "support", ts, "alice"); err != nil {
		t.Fatalf("UpdateToolset: %v", err)
	}
	toks, _ := f.store.Tokens(ctx, a.ID)
	if len(toks) != 1 || !slices.Equal(toks[0].Toolsets, []string{"helpdesk"}) {
		t.Errorf("tokens after the rename = %+v, want restricted to helpdesk", toks)
	}
	if got, _ := f.store.Prompt(ctx, a.ID, "triage"); !slices.Equal(got.Toolsets, []string{"helpdesk"}) {
		t.Errorf("prompt toolsets after the rename = %v, want [helpdesk]", got.Toolsets)
	}
	if _, err := f.store.Toolset(ctx, a.ID, "support"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("old name after rename: %v, want ErrNotFound", err)
	}

	// Deleting it is refused while the token is restricted to it.
	err = f.store.DeleteToolset(ctx, a.ID, "helpdesk", "alice")
	var inUse *tenant.ToolsetInUseError
	if !errors.As(err, &inUse) || !errors.Is(err, tenant.ErrConflict) || !strings.Contains(err.Error(), "agent") {
		t.Fatalf("delete in use: %v, want ToolsetInUseError naming the token", err)
	}
	if _, err := f.store.Toolset(ctx, a.ID, "helpdesk"); err != nil {
		t.Errorf("refused delete removed the toolset: %v", err)
	}
	if err := f.store.RevokeToken(ctx, a.ID, tok.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteToolset(ctx, a.ID, "helpdesk", "alice"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, _ := f.store.Prompt(ctx, a.ID, "triage"); len(got.Toolsets) != 0 {
		t.Errorf("prompt toolsets after the delete = %v, want none", got.Toolsets)
	}
	if err := f.store.DeleteToolset(ctx, a.ID, "helpdesk", "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func hasProblem(err error, field string) bool {
	var inv *tenant.InvalidError
	if !errors.As(err, &inv) {
		return false
	}
	for _, p := range inv.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

func TestToolsetSelects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ts       tenant.Toolset
		name     string
		key      string
		tags     []string
		readOnly bool
		want     bool
	}{
		{tenant.Toolset{}, "any", "", nil, false, true},
		{tenant.Toolset{ReadOnly: true}, "delete_user", "", nil, false, false},
		{tenant.Toolset{ReadOnly: true}, "get_user", "", nil, true, true},
		{tenant.Toolset{Tools: []string{"get_user"}}, "get_user", "", nil, false, true},
		{tenant.Toolset{Tools: []string{"getUser"}}, "get_user", "getUser", nil, false, true},
		{tenant.Toolset{Tools: []string{"get_user"}}, "list_users", "", []string{"users"}, true, false},
		{tenant.Toolset{Tags: []string{"users"}}, "list_users", "", []string{"users"}, true, true},
		{tenant.Toolset{Tags: []string{"users"}, ReadOnly: true}, "delete_user", "", []string{"users"}, false, false},
	}
	for _, c := range cases {
		names := func(entry string) bool { return entry == c.name || c.key != "" && entry == c.key }
		if got := c.ts.Selects(names, c.tags, c.readOnly); got != c.want {
			t.Errorf("%+v.Selects(%q, %q, %v, %v) = %v, want %v", c.ts, c.name, c.key, c.tags, c.readOnly, got, c.want)
		}
	}
	tok := tenant.Token{Toolsets: []string{"support"}}
	if tok.Allows("") || tok.Allows("billing") || !tok.Allows("support") {
		t.Error("a token restricted to support must be allowed there only")
	}
	if !(tenant.Token{}).Allows("") || !(tenant.Token{}).Allows("support") {
		t.Error("an unrestricted token must be allowed everywhere")
	}
}
