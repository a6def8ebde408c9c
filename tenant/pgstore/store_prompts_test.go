package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portico-mcp/portico/tenant"
)

func generationOf(t *testing.T, f fixture, id string) int64 {
	t.Helper()
	gens, err := f.store.TenantGenerations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		if g.ID == id {
			return g.Generation
		}
	}
	t.Fatalf("no generation for tenant %s", id)
	return 0
}

func TestPromptCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.createTenant(t, "a"), f.createTenant(t, "b")
	p := tenant.Prompt{Name: "greet", Description: "Say hello", Arguments: []tenant.PromptArgument{{Name: "who", Required: true, Completions: []string{"world", "team"}}},
		Messages: []tenant.PromptMessage{{Role: "user", Text: "Hello, {{who}}!"}}}
	gen := generationOf(t, f, a.ID)
	created, err := f.store.CreatePrompt(ctx, a.ID, p, "alice")
	if err != nil {
		t.Fatalf("CreatePrompt: %v", err)
	}
	if created.CreatedAt.IsZero() {
		t.Error("created prompt has no created_at")
	}
	if g := generationOf(t, f, a.ID); g <= gen {
		t.Errorf("generation %d after creating a prompt, want more than %d: replicas would not rebuild", g, gen)
	}
	got, err := f.store.Prompt(ctx, a.ID, "greet")
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreFields(tenant.Prompt{}, "CreatedAt", "UpdatedAt")
	if diff := cmp.Diff(p, got, ignore); diff != "" {
		t.Errorf("stored prompt (-want +got):\n%s", diff)
	}
	// Another tenant sees none of it.
	if ps, err := f.store.Prompts(ctx, b.ID); err != nil || len(ps) != 0 {
		t.Errorf("tenant b's prompts = %v, %v; want none", ps, err)
	}
	if _, err := f.store.Prompt(ctx, b.ID, "greet"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("tenant b reading a's prompt: %v, want ErrNotFound", err)
	}
	// A clash is a field problem on name, and keeps the stored prompt.
	clash := p
	clash.Messages = []tenant.PromptMessage{{Role: "user", Text: "other"}}
	_, err = f.store.CreatePrompt(ctx, a.ID, clash, "alice")
	var inv *tenant.InvalidError
	if !errors.As(err, &inv) || inv.Problems[0].Field != "name" {
		t.Fatalf("CreatePrompt of a taken name = %v, want an InvalidError on name", err)
	}
	if got, _ := f.store.Prompt(ctx, a.ID, "greet"); got.Messages[0].Text != "Hello, {{who}}!" {
		t.Errorf("a refused create changed the stored prompt: %+v", got)
	}
	// Rename with update; renaming onto another prompt is refused.
	other := tenant.Prompt{Name: "other", Messages: []tenant.PromptMessage{{Role: "assistant", Text: "hi"}}}
	if _, err := f.store.CreatePrompt(ctx, a.ID, other, "alice"); err != nil {
		t.Fatal(err)
	}
	p.Name = "other"
	if _, err := f.store.UpdatePrompt(ctx, a.ID, "greet", p, "alice"); !errors.As(err, &inv) {
		t.Errorf("renaming onto another prompt = %v, want an InvalidError", err)
	}
	p.Name = "welcome"
	if _, err := f.store.UpdatePrompt(ctx, a.ID, "greet", p, "alice"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	ps, err := f.store.Prompts(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"other", "welcome"}, names); diff != "" {
		t.Errorf("prompts after rename (-want +got):\n%s", diff)
	}
	p.Name = "nope"
	if _, err := f.store.UpdatePrompt(ctx, a.ID, "nope", p, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("updating a missing prompt: %v, want ErrNotFound", err)
	}
	if err := f.store.DeletePrompt(ctx, a.ID, "welcome", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeletePrompt(ctx, a.ID, "welcome", "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Prompts(ctx, "nosuchtenant"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("prompts of a missing tenant: %v, want ErrNotFound", err)
	}
	entries, err := f.store.Audit(ctx, a.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "prompt.") {
			actions = append(actions, e.Action)
		}
	}
	if diff := cmp.Diff([]string{"prompt.delete", "prompt.update", "prompt.create", "prompt.create"}, actions); diff != "" {
		t.Errorf("audit actions, newest first (-want +got):\n%s", diff)
	}
}

func TestPromptValidate(t *testing.T) {
	ok := func() tenant.Prompt {
		return tenant.Prompt{Name: "p", Arguments: []tenant.PromptArgument{{Name: "a"}},
			Messages: []tenant.PromptMessage{{Role: "user", Text: "x {{a}}"}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*tenant.Prompt)
		field string
	}{
		{"empty name", func(p *tenant.Prompt) { p.Name = "" }, "name"},
		{"bad name", func(p *tenant.Prompt) { p.Name = "a b" }, "name"},
		{"unknown placeholder", func(p *tenant.Prompt) { p.Messages[0].Text = "{{ b }}" }, "messages[0].text"},
		{"duplicate argument", func(p *tenant.Prompt) { p.Arguments = append(p.Arguments, tenant.PromptArgument{Name: "a"}) }, "arguments[1].name"},
		{"bad role", func(p *tenant.Prompt) { p.Messages[0].Role = "system" }, "messages[0].role"},
		{"no messages", func(p *tenant.Prompt) { p.Messages = nil }, "messages"},
		{"two contents", func(p *tenant.Prompt) { p.Messages[0].Image = &tenant.PromptImage{Data: "AA==", MIMEType: "image/png"} }, "messages[0]"},
		{"bad image", func(p *tenant.Prompt) {
			p.Messages[0] = tenant.PromptMessage{Role: "user", Image: &tenant.PromptImage{Data: "!!", MIMEType: "text/plain"}}
		}, "messages[0].image.mime_type"},
		{"placeholder in resource uri", func(p *tenant.Prompt) {
			p.Messages[0] = tenant.PromptMessage{Role: "user", Resource: &tenant.PromptResource{URI: "{{c}}", Text: "t"}}
		}, "messages[0].resource.uri"},
		{"empty completion", func(p *tenant.Prompt) { p.Arguments[0].Completions = []string{""} }, "arguments[0].completions[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok()
			tc.edit(&p)
			err := p.Validate()
			var inv *tenant.InvalidError
			if !errors.As(err, &inv) || inv.Problems[0].Field != tc.field {
				t.Fatalf("Validate = %v, want a problem on %s first", err, tc.field)
			}
		})
	}
	p := ok()
	if err := p.Validate(); err != nil {
		t.Errorf("a good prompt: %v", err)
	}
	if got := tenant.Render("Hi {{a}}, {{ a }} and {{b}}", map[string]string{"a": "x"}); got != "Hi x, x and " {
		t.Errorf("Render = %q", got)
	}
}
