package cli

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestRunPrompts: `portico run --prompts FILE` serves the file's prompts
// (the API's shape) with their arguments filled in and completed.
func TestRunPrompts(t *testing.T) {
	upstream := httptest.NewServer(newDemoAPI().handler())
	defer upstream.Close()
	url := startRunHTTPFor(t, upstream.URL, upstream.URL+"/openapi.json", "--prompts", filepath.Join("..", "..", "..", "e2e", "testdata", "conformance_prompts.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "run-prompts", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if caps := cs.InitializeResult().Capabilities; caps.Prompts == nil || caps.Completions == nil {
		t.Errorf("capabilities %+v: want prompts and completions", caps)
	}
	list, err := cs.ListPrompts(ctx, nil)
	if err != nil || len(list.Prompts) != 4 {
		t.Fatalf("prompts/list: %+v, %v; want the file's 4 prompts", list, err)
	}
	got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "hello", "arg2": "world"}})
	if err != nil {
		t.Fatal(err)
	}
	if text := got.Messages[0].Content.(*mcp.TextContent).Text; text != "Prompt with arguments: arg1='hello', arg2='world'" {
		t.Errorf("rendered %q", text)
	}
	comp, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, Argument: mcp.CompleteParamsArgument{Name: "arg1", Value: "par"}})
	if err != nil || strings.Join(comp.Completion.Values, ",") != "paris,park,party" {
		t.Errorf("completion: %+v, %v; want paris, park, party", comp, err)
	}
}

func TestRunPromptsBadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"not a list", `{"name":"x"}`, "--prompts " + filepath.Join(dir, "not a list") + " is not a JSON list of prompts"},
		{"unknown placeholder", `[{"name":"a","messages":[{"role":"user","text":"{{nope}}"}]}]`, "--prompts: [0].messages[0].text has the placeholder {{nope}}"},
		{"duplicate", `[{"name":"a","messages":[{"role":"user","text":"x"}]},{"name":"a","messages":[{"role":"user","text":"y"}]}]`, `--prompts: [1].name "a" is the name of an earlier prompt`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, tc.name)
			os.WriteFile(f, []byte(tc.body), 0o600)
			err := cmdRun(context.Background(), []string{"--openapi", "x.json", "--base-url", "http://127.0.0.1:1", "--prompts", f}, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to say %q", err, tc.want)
			}
		})
	}
}
