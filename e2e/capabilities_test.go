package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestMCPCapabilities checks, with the go-sdk client against the conformance
// fixture, what Portico advertises and how it behaves: cancelling a call
// cancels the upstream request (the FastAPI app sees the disconnect),
// progress arrives while a call waits, ping answers, protocol errors carry
// the right JSON-RPC codes, and only working capabilities are advertised.
func TestMCPCapabilities(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	id, token := conformanceTenant(t, p, fx.url)
	url := p.url + "/t/" + id + "/mcp"

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) { testCapabilities(t, fx, url, token, version) })
	}
}

// testCapabilities runs TestMCPCapabilities's checks with a client speaking
// protocol version: 2025-11-25 is a session, 2026-07-28 is stateless.
func testCapabilities(t *testing.T, fx *fastAPI, url, token, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var progress []float64
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-capabilities", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		},
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport{token: token}}, MaxRetries: -1,
	}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if got := cs.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated protocol %s, want %s", got, version)
	}
	stateful := version < "2026-07-28"

	t.Run("advertises only what works", func(t *testing.T) {
		caps := cs.InitializeResult().Capabilities
		if caps.Tools == nil || !caps.Tools.ListChanged || caps.Resources == nil || !caps.Resources.ListChanged {
			t.Errorf("tools/resources capabilities = %+v %+v, want both with listChanged (spec refresh notifies)", caps.Tools, caps.Resources)
		}
		if caps.Prompts != nil || caps.Resources.Subscribe {
			t.Errorf("capabilities = %+v: prompts and subscribe must not be advertised", caps)
		}
		//lint:ignore SA1019 logging is deprecated in 2026-07-28 but still served
		if caps.Logging == nil {
			t.Errorf("capabilities = %+v: logging not advertised although calls report their upstream exchange", caps)
		}
		// The fixture's template parameter has an example to complete.
		if caps.Completions == nil {
			t.Errorf("capabilities = %+v: completions not advertised although test://template/{id}/data has an example", caps)
		}
	})

	t.Run("ping", func(t *testing.T) {
		if !stateful {
			t.Skip("2026-07-28 removed ping")
		}
		if err := cs.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("JSON-RPC error codes", func(t *testing.T) {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"})
		wantCode(t, "unknown tool", err, jsonrpc.CodeInvalidParams)
		_, err = cs.ListPrompts(ctx, nil)
		wantCode(t, "prompts/list", err, jsonrpc.CodeMethodNotFound)
		_, err = cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "x"}, Argument: mcp.CompleteParamsArgument{Name: "a", Value: "b"}})
		wantCode(t, "completion/complete of a prompt", err, jsonrpc.CodeInvalidParams)
		cr, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/resource", URI: "test://template/{id}/data"}, Argument: mcp.CompleteParamsArgument{Name: "id", Value: "1"}})
		if err != nil || len(cr.Completion.Values) != 1 || cr.Completion.Values[0] != "123" {
			t.Errorf("completing the template's id = %+v, %v; want [123] (the parameter's example)", cr, err)
		}
		_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://nothing-here"})
		if err == nil {
			t.Error("reading an unknown resource succeeded, want an error")
		}
		// An upstream failure is a tool result with isError, not a protocol error.
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_error_handling"})
		if err != nil || !res.IsError || !strings.Contains(textOf(res), "intentionally") {
			t.Errorf("upstream 500 = %+v, %v; want an isError result quoting the upstream", res, err)
		}
	})

	t.Run("progress while the upstream works", func(t *testing.T) {
		mu.Lock()
		progress = nil
		mu.Unlock()
		params := &mcp.CallToolParams{Name: "test_tool_with_progress"}
		params.SetProgressToken("p-1")
		if _, err := cs.CallTool(ctx, params); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(progress) < 2 || progress[0] != 0 || progress[len(progress)-1] <= progress[0] {
			t.Errorf("progress = %v, want at least two increasing notifications during a 3.5 s call", progress)
		}
	})

	t.Run("no progress without a token", func(t *testing.T) {
		mu.Lock()
		progress = nil
		mu.Unlock()
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(progress) != 0 {
			t.Errorf("progress = %v without a progress token, want none", progress)
		}
	})

	t.Run("cancelling a call cancels the upstream request", func(t *testing.T) {
		callCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: "slow_until_disconnect", Arguments: map[string]any{"tag": "cancel", "seconds": 20}})
			done <- err
		}()
		fx.waitMarker(t, "cancel")
		// A session client sends notifications/cancelled; a 2026-07-28
		// client closes the request.
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled call returned %v, want context.Canceled", err)
		}
		waitFile(t, filepath.Join(fx.markerDir, "cancel.disconnected"), 10*time.Second)
		os.Remove(filepath.Join(fx.markerDir, "cancel.started"))
		os.Remove(filepath.Join(fx.markerDir, "cancel.disconnected"))
		// The client is still usable.
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil {
			t.Fatal(err)
		}
	})
}

func wantCode(t *testing.T, what string, err error, code int64) {
	t.Helper()
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != code {
		t.Errorf("%s: error %v, want JSON-RPC code %d", what, err, code)
	}
}

func waitFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %s: the upstream request was not cancelled", filepath.Base(path), within)
}

// TestDiscoveryMode checks settings.tool_mode = "discovery": the tenant lists
// three meta-tools that search, describe and call its operations, and going
// back to the default lists the operations again.
func TestDiscoveryMode(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	settings := map[string]any{"tool_mode": "discovery", "uris": map[string]string{"static_text": "test://static-text"},
		"route_maps": []map[string]any{{"pattern": "^/resources/", "mcp_type": "resource"}}}
	var created struct{ ID string }
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "big", "base_url": fx.url, "settings": settings}, 201, &created)
	token := p.token(t, created.ID)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs := connect(ctx, t, p.url+"/t/"+created.ID+"/mcp", token)

	if diff := cmp.Diff([]string{"call_tool", "describe_tool", "search_tools"}, toolNames(ctx, t, cs)); diff != "" {
		t.Fatalf("tools in discovery mode (-want +got):\n%s", diff)
	}
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	var found struct {
		Tools []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(textOf(call("search_tools", map[string]any{"query": "simple text"}))), &found); err != nil || len(found.Tools) == 0 || found.Tools[0].Name != "test_simple_text" {
		t.Fatalf("search_tools(simple text) = %+v, %v; want test_simple_text first", found, err)
	}
	if d := textOf(call("describe_tool", map[string]any{"name": "slow_until_disconnect"})); !strings.Contains(d, `"inputSchema"`) || !strings.Contains(d, `"seconds"`) {
		t.Errorf("describe_tool = %s, want the input schema", d)
	}
	if res := call("call_tool", map[string]any{"name": "test_simple_text", "arguments": map[string]any{}}); res.IsError || textOf(res) != "This is a simple text response for testing." {
		t.Errorf("call_tool = %+v", res)
	}
	if res := call("call_tool", map[string]any{"name": "nope"}); !res.IsError {
		t.Errorf("call_tool of an unknown operation = %+v, want isError", res)
	}
	// Resources stay resources.
	if rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"}); err != nil || len(rr.Contents) != 1 {
		t.Errorf("read resource in discovery mode = %+v, %v", rr, err)
	}

	settings["tool_mode"] = ""
	p.do(t, "PATCH", "/api/v1/tenants/"+created.ID, map[string]any{"settings": settings}, 200, nil)
	waitTools(t, "back to one tool per operation", p.url+"/t/"+created.ID+"/mcp", token,
		sortedCopy([]string{"test_simple_text", "test_image_content", "test_audio_content", "test_error_handling", "test_header_param", "test_logging_tool", "test_tool_with_logging", "test_reconnection", "test_tool_with_progress", "slow_until_disconnect", "json_schema_2020_12_tool"}))
}
