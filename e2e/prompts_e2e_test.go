package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestPromptsAcrossReplicas: prompts created, changed and deleted through
// one `portico serve` reach sessions connected to another one (the go-sdk
// and the TypeScript SDK clients) as prompts/list_changed, render with
// their arguments and complete; bad input is a 422 naming the field, and
// nothing is saved.
func TestPromptsAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two portico processes")
	}
	nt := nodeTools(t)
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	fastapi := startFastAPI(t)
	adminKey := generateAdminKey()
	replicas := []*replica{startReplica(t, bin, dbURL, adminKey), startReplica(t, bin, dbURL, adminKey)}
	p := &portico{url: replicas[0].url, adminKey: adminKey, logs: replicas[0].logs, responses: &syncBuffer{}}
	id, _, token := p.register(t, "prompted", fastapi.url)
	other := replicas[1].url + "/t/" + id + "/mcp"
	waitTools(t, "the second replica after activation", other, token, toolsV1)
	base := "/api/v1/tenants/" + id + "/prompts"
	greet := map[string]any{"name": "greet", "description": "Greet a user", "arguments": []map[string]any{
		{"name": "user", "description": "whom", "required": true, "completions": []string{"alice", "bob"}}},
		"messages": []map[string]any{{"role": "user", "text": "Say hello to {{user}}."}}}
	p.do(t, "POST", base, greet, 201, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The other replica applies the prompt when the notification reaches it;
	// clients connect once it serves it, so each hears only the changes below.
	probe, err := mcp.NewClient(&mcp.Implementation{Name: "probe", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: other, HTTPClient: &http.Client{Transport: bearerTransport{token: token}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if res, err := probe.ListPrompts(ctx, nil); err == nil && len(res.Prompts) == 1 {
			break
		}
		if i == 200 {
			t.Fatal("the other replica never served the prompt")
		}
		time.Sleep(25 * time.Millisecond)
	}
	probe.Close()
	// The go-sdk client, a session on the other replica.
	changed := make(chan time.Time, 10)
	client := mcp.NewClient(&mcp.Implementation{Name: "prompts-e2e", Version: "1"}, &mcp.ClientOptions{
		PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { changed <- time.Now() }})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: other, HTTPClient: &http.Client{Transport: bearerTransport{token: token}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	// And a 2026-07-28 go-sdk client there, hearing changes on its
	// subscriptions/listen stream.
	changed26 := make(chan time.Time, 10)
	client26 := mcp.NewClient(&mcp.Implementation{Name: "prompts-e2e-2026", Version: "1"}, &mcp.ClientOptions{
		PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { changed26 <- time.Now() }})
	cs26, err := client26.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: other, HTTPClient: &http.Client{Transport: bearerTransport{token: token}}},
		&mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs26.Close()
	if got, err := cs26.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"user": "Eve"}}); err != nil || got.Messages[0].Content.(*mcp.TextContent).Text != "Say hello to Eve." {
		t.Fatalf("2026-07-28 prompts/get: %+v, %v", got, err)
	}
	got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"user": "Alice"}})
	if err != nil || got.Messages[0].Content.(*mcp.TextContent).Text != "Say hello to Alice." {
		t.Fatalf("go-sdk prompts/get: %+v, %v", got, err)
	}
	comp, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "greet"}, Argument: mcp.CompleteParamsArgument{Name: "user", Value: "a"}})
	if err != nil || !cmp.Equal(comp.Completion.Values, []string{"alice"}) {
		t.Errorf("go-sdk completion: %+v, %v", comp, err)
	}

	// The TypeScript SDK client, on the other replica too.
	next := tsClient(ctx, t, nt, "ts_prompts.mjs", "MCP_URL="+other, "MCP_TOKEN="+token,
		"PROMPT=greet", `PROMPT_ARGS={"user":"Bob"}`, "COMPLETE_ARG=user")
	ready := next("ready")
	if ready["step"] != "ready" || ready["prompts"] == nil || !cmp.Equal(ready["texts"], []any{"Say hello to Bob."}) || !cmp.Equal(ready["values"], []any{"alice", "bob"}) {
		t.Fatalf("ts client: %v", ready)
	}
	// A notification of the prompt made before the clients connected may
	// still reach a client that subscribed just after it (seen once, on a
	// heavily loaded machine, on the 2026-07-28 listen stream): let the
	// streams go quiet, so each step below is judged by its own notices.
	for settled := false; !settled; {
		select {
		case at := <-changed:
			t.Logf("a prompts/list_changed from before the first change reached the session client (%v ago)", time.Since(at).Round(time.Millisecond))
		case at := <-changed26:
			t.Logf("a prompts/list_changed from before the first change reached the 2026-07-28 client (%v ago)", time.Since(at).Round(time.Millisecond))
		case <-time.After(300 * time.Millisecond):
			settled = true
		}
	}

	// Each change through replica 0 reaches both clients on replica 1.
	for _, step := range []struct {
		name, method, path string
		body               any
		status             int
		want               []string
	}{
		{"create", "POST", base, map[string]any{"name": "bye", "messages": []map[string]any{{"role": "assistant", "text": "Goodbye."}}}, 201, []string{"bye", "greet"}},
		{"update", "PUT", base + "/bye", map[string]any{"name": "farewell", "messages": []map[string]any{{"role": "assistant", "text": "Farewell."}}}, 200, []string{"farewell", "greet"}},
		{"delete", "DELETE", base + "/farewell", nil, 204, []string{"greet"}},
	} {
		start := time.Now()
		p.do(t, step.method, step.path, step.body, step.status, nil)
		select {
		case at := <-changed:
			t.Logf("%s: go-sdk client on the other replica heard prompts/list_changed after %v", step.name, at.Sub(start).Round(time.Millisecond))
		case <-ctx.Done():
			t.Fatalf("%s: the go-sdk client heard no prompts/list_changed", step.name)
		}
		select {
		case at := <-changed26:
			t.Logf("%s: 2026-07-28 go-sdk client heard it on its listen stream after %v", step.name, at.Sub(start).Round(time.Millisecond))
		case <-ctx.Done():
			t.Fatalf("%s: the 2026-07-28 go-sdk client heard no prompts/list_changed", step.name)
		}
		var names []string
		for pr, err := range cs.Prompts(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, pr.Name)
		}
		if !cmp.Equal(names, step.want) {
			t.Errorf("%s: go-sdk client lists %v, want %v", step.name, names, step.want)
		}
		m := next("changed after " + step.name)
		t.Logf("%s: ts client heard it after %v", step.name, m["at"].(time.Time).Sub(start).Round(time.Millisecond))
		if m["step"] != "changed" || !cmp.Equal(m["names"], toAny(step.want)) {
			t.Errorf("%s: ts client: %v, want names %v", step.name, m, step.want)
		}
	}

	// Bad input: 422 naming the field; nothing saved.
	msg := []map[string]any{{"role": "user", "text": "x"}}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown placeholder", map[string]any{"name": "p1", "messages": []map[string]any{{"role": "user", "text": "{{nobody}}"}}}, "messages[0].text"},
		{"duplicate argument", map[string]any{"name": "p2", "arguments": []map[string]any{{"name": "a"}, {"name": "a"}}, "messages": msg}, "arguments[1].name"},
		{"bad role", map[string]any{"name": "p3", "messages": []map[string]any{{"role": "system", "text": "x"}}}, "messages[0].role"},
		{"empty name", map[string]any{"name": "", "messages": msg}, "name"},
		{"name clash", map[string]any{"name": "greet", "messages": msg}, "name"},
	} {
		var e struct {
			Error struct {
				Details struct {
					Fields []struct{ Field, Problem string }
				}
			}
		}
		p.do(t, "POST", base, tc.body, 422, &e)
		if f := e.Error.Details.Fields; len(f) == 0 || f[0].Field != tc.field {
			t.Errorf("%s: fields %+v, want %s first", tc.name, f, tc.field)
		}
	}
	p.do(t, "PUT", base+"/greet", map[string]any{"messages": []map[string]any{{"role": "user", "text": "{{who}}"}}}, 422, nil)
	var list struct {
		Prompts []struct {
			Name     string
			Messages []struct{ Text string }
		}
	}
	p.do(t, "GET", base, nil, 200, &list)
	if len(list.Prompts) != 1 || list.Prompts[0].Name != "greet" || list.Prompts[0].Messages[0].Text != "Say hello to {{user}}." {
		t.Errorf("after refused changes the prompts are %+v, want greet unchanged", list.Prompts)
	}
	if n := len(changed) + len(changed26); n != 0 {
		t.Errorf("refused changes sent %d prompts/list_changed", n)
	}
	var audit struct {
		Entries []struct{ Action string } `json:"audit"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/audit", nil, 200, &audit)
	var actions []string
	for _, e := range audit.Entries {
		if strings.HasPrefix(e.Action, "prompt.") {
			actions = append(actions, e.Action)
		}
	}
	slices.Sort(actions)
	if !cmp.Equal(actions, []string{"prompt.create", "prompt.create", "prompt.delete", "prompt.update"}) {
		t.Errorf("audit prompt actions %v", actions)
	}

	// The dashboard: an admin writes a prompt with the live check and
	// preview; prompts/get on the other replica returns what it showed.
	t.Run("dashboard", func(t *testing.T) {
		node, ok := browserTools(t)
		if !ok {
			return
		}
		out := runBrowserScript(ctx, t, node, "prompts.mjs", "PORTICO_URL="+p.url, "ADMIN_KEY="+adminKey, "TENANT_ID="+id)
		var shown struct {
			Name string
			Args map[string]string
			Text string
		}
		if err := json.Unmarshal(out, &shown); err != nil {
			t.Fatalf("prompts.mjs printed %q: %v", out, err)
		}
		for i := 0; ; i++ {
			got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: shown.Name, Arguments: shown.Args})
			if err == nil {
				if text := got.Messages[0].Content.(*mcp.TextContent).Text; text != shown.Text {
					t.Errorf("prompts/get on the other replica: %q; the dashboard's preview showed %q", text, shown.Text)
				}
				break
			}
			if i == 200 {
				t.Fatalf("the other replica never served the dashboard's prompt: %v", err)
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
}
