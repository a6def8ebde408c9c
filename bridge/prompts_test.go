package bridge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// promptRuntime serves plainSpec as tenant t1 with the prompts *ps holds
// (read at every build).
func promptRuntime(t *testing.T, mu *sync.Mutex, ps *[]tenant.Prompt) *Runtime {
	t.Helper()
	var doc = plainSpec
	r := completeRuntime(t, mu, &doc)
	fs := r.store.(*fakeStore)
	fs.promptsFn = func(context.Context, string) ([]tenant.Prompt, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]tenant.Prompt(nil), *ps...), nil
	}
	if err := r.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	return r
}

var testPrompts = []tenant.Prompt{
	{Name: "greet", Description: "Greets someone", Arguments: []tenant.PromptArgument{
		{Name: "who", Description: "whom", Required: true, Completions: []string{"world", "Wanda", "team"}},
		{Name: "mood"}},
		Messages: []tenant.PromptMessage{{Role: "user", Text: "Say hello to {{who}} {{ mood }}."}, {Role: "assistant", Text: "Hello, {{who}}!"}}},
	{Name: "rich", Messages: []tenant.PromptMessage{
		{Role: "user", Image: &tenant.PromptImage{Data: "iVBORw0KGgo=", MIMEType: "image/png"}},
		{Role: "user", Resource: &tenant.PromptResource{URI: "test://{{uri}}", MIMEType: "text/plain", Text: "about {{uri}}"}}},
		Arguments: []tenant.PromptArgument{{Name: "uri"}}},
}

func TestPromptsServed(t *testing.T) {
	var mu sync.Mutex
	ps := append([]tenant.Prompt(nil), testPrompts...)
	r := promptRuntime(t, &mu, &ps)
	ctx := context.Background()
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	changed := make(chan struct{}, 10)
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		PromptListChangedHandler: func(context.Context, *mcp.PromptListChangedRequest) { changed <- struct{}{} }})
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/t/t1/mcp",
		HTTPClient: &http.Client{Transport: bearer{"mcp_ok", http.DefaultTransport}}}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	caps := cs.InitializeResult().Capabilities
	if caps.Prompts == nil || !caps.Prompts.ListChanged || caps.Completions == nil {
		t.Fatalf("capabilities %+v: want prompts with listChanged and completions", caps)
	}
	list, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []*mcp.Prompt{
		{Name: "greet", Description: "Greets someone", Arguments: []*mcp.PromptArgument{{Name: "who", Description: "whom", Required: true}, {Name: "mood"}}},
		{Name: "rich", Arguments: []*mcp.PromptArgument{{Name: "uri"}}},
	}
	if diff := cmp.Diff(want, list.Prompts); diff != "" {
		t.Errorf("prompts/list (-want +got):\n%s", diff)
	}
	got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"who": "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got.Messages {
		texts = append(texts, string(m.Role)+": "+m.Content.(*mcp.TextContent).Text)
	}
	if diff := cmp.Diff([]string{"user: Say hello to Ada .", "assistant: Hello, Ada!"}, texts); diff != "" {
		t.Errorf("prompts/get greet (-want +got):\n%s", diff)
	}
	rich, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "rich", Arguments: map[string]string{"uri": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	img, ok1 := rich.Messages[0].Content.(*mcp.ImageContent)
	res, ok2 := rich.Messages[1].Content.(*mcp.EmbeddedResource)
	if !ok1 || img.MIMEType != "image/png" || len(img.Data) != 8 || !ok2 || res.Resource.URI != "test://x" || res.Resource.Text != "about x" {
		t.Errorf("prompts/get rich: %+v %+v", rich.Messages[0].Content, rich.Messages[1].Content)
	}
	for _, tc := range []struct {
		name string
		p    *mcp.GetPromptParams
		want string
	}{
		{"missing required", &mcp.GetPromptParams{Name: "greet"}, `prompt "greet" needs the argument(s) "who"`},
		{"unknown prompt", &mcp.GetPromptParams{Name: "nope"}, `no prompt named "nope"; prompts/list names this server's prompts (greet, rich)`},
		{"unknown argument", &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"who": "a", "x": "1"}}, `has no argument(s) "x"; its arguments are "who", "mood"`},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := cs.GetPrompt(ctx, tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "-32602") && !strings.Contains(err.Error(), "invalid params") {
				t.Errorf("error %v; want invalid params saying %q", err, tc.want)
			}
		})
	}
	comp, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "greet"}, Argument: mcp.CompleteParamsArgument{Name: "who", Value: "w"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mcp.CompletionResultDetails{Values: []string{"world", "Wanda"}, Total: 2}, comp.Completion); diff != "" {
		t.Errorf("completion (-want +got):\n%s", diff)
	}
	if _, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "greet"}, Argument: mcp.CompleteParamsArgument{Name: "zzz"}}); err == nil || !strings.Contains(err.Error(), `has no argument "zzz"`) {
		t.Errorf("completing an unknown argument: %v", err)
	}

	// A change reaches the session's stream as prompts/list_changed.
	mu.Lock()
	ps[0].Description = "Greets anyone"
	mu.Unlock()
	if err := r.Reload(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no prompts/list_changed after a prompt changed")
	}
	if list, err := cs.ListPrompts(ctx, nil); err != nil || list.Prompts[0].Description != "Greets anyone" {
		t.Errorf("after the change: %+v, %v", list, err)
	}
	// A rebuild that changes no prompt says nothing.
	if err := r.Reload(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	// Without prompts, the capability and the methods are gone.
	mu.Lock()
	ps = nil
	mu.Unlock()
	if err := r.Reload(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no prompts/list_changed after the prompts were removed")
	}
	if n := len(changed); n != 0 {
		t.Errorf("heard %d more prompts/list_changed (an unchanged rebuild must send none)", n)
	}
	if _, err := cs.ListPrompts(ctx, nil); err == nil || !strings.Contains(err.Error(), "method not found") {
		t.Errorf("prompts/list without prompts: %v, want method not found", err)
	}
	if caps := connect(t, r).InitializeResult().Capabilities; caps.Prompts != nil || caps.Completions != nil {
		t.Errorf("without prompts: capabilities %+v advertise prompts or completions", caps)
	}
}

// TestPromptsDiscover: 2026-07-28 requests see prompts in server/discover,
// list and get them, and without prompts get method-not-found.
func TestPromptsDiscover(t *testing.T) {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	post := func(r *Runtime, method, params string, headers ...string) *httptest.ResponseRecorder {
		return mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":{`+meta+params+`}}`,
			append([]string{"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", method}, headers...)...)
	}
	for _, with := range []bool{true, false} {
		var mu sync.Mutex
		var ps []tenant.Prompt
		if with {
			ps = append(ps, testPrompts...)
		}
		r := promptRuntime(t, &mu, &ps)
		d := post(r, "server/discover", "").Body.String()
		if got := strings.Contains(d, `"prompts":{"listChanged":true}`); got != with {
			t.Errorf("with prompts %v: discover advertises prompts = %v: %s", with, got, d)
		}
		l := post(r, "prompts/list", "")
		g := post(r, "prompts/get", `,"name":"greet","arguments":{"who":"Ada"}`, "Mcp-Name", "greet")
		if with {
			if l.Code != 200 || !strings.Contains(l.Body.String(), `"name":"greet"`) || !strings.Contains(l.Body.String(), `"ttlMs":0`) {
				t.Errorf("prompts/list: %d %s", l.Code, l.Body)
			}
			if g.Code != 200 || !strings.Contains(g.Body.String(), `Say hello to Ada`) || !strings.Contains(g.Body.String(), `"resultType":"complete"`) {
				t.Errorf("prompts/get: %d %s", g.Code, g.Body)
			}
		} else {
			for _, w := range []*httptest.ResponseRecorder{l, g} {
				if !strings.Contains(w.Body.String(), `-32601`) {
					t.Errorf("without prompts: %d %s, want -32601", w.Code, w.Body)
				}
			}
		}
	}
}
