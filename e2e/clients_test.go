package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestClientMatrix has each MCP client Portico is checked with (docs/clients.md)
// connect to a tenant, list its tools, call one, read a resource and a
// resource template, and learn of a tool-list change after a spec refresh:
// the go-sdk client, the TypeScript SDK client (testdata/ts_client.mjs) and
// the Inspector CLI (one-shot: it sees the change by listing again).
func TestClientMatrix(t *testing.T) {
	tools := nodeTools(t)
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	id, token := conformanceTenant(t, p, fx.url)
	url := p.url + "/t/" + id + "/mcp"

	// deploy restarts the upstream as variant (v1, or v2 with one more
	// operation) and refreshes the tenant's spec, as a deploy hook would.
	deploy := func(t *testing.T, variant string) {
		t.Helper()
		fx.restart(t, "E2E_VARIANT="+variant)
		var res struct{ Changed bool }
		p.do(t, "POST", "/api/v1/tenants/"+id+"/spec/refresh", nil, 200, &res)
		if !res.Changed {
			t.Fatalf("refresh to %s: changed = false", variant)
		}
	}

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run("go-sdk/"+version, func(t *testing.T) { goClientMatrix(t, url, token, version, deploy) })
	}
	t.Run("typescript-sdk", func(t *testing.T) { tsClientMatrix(t, tools, url, token, deploy) })
	t.Run("inspector-cli", func(t *testing.T) { inspectorMatrix(t, tools, url, token, deploy) })
}

// TestClientMatrixRun has the same clients use `portico run --transport
// http` over the same fixture service and settings as TestClientMatrix:
// the tenant endpoint's code without a database or a token. A local run
// reads its spec once (no refresher), so no tool-list change is checked.
func TestClientMatrixRun(t *testing.T) {
	tools := nodeTools(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	settings := filepath.Join(t.TempDir(), "settings.json")
	b, _ := json.Marshal(conformanceSettings)
	os.WriteFile(settings, b, 0o600)
	url := startRunHTTPFor(t, fx.url, fx.url+"/openapi.json", "--settings", settings)

	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run("go-sdk/"+version, func(t *testing.T) { goClientMatrix(t, url, "", version, nil) })
	}
	t.Run("typescript-sdk", func(t *testing.T) { tsClientMatrix(t, tools, url, "", nil) })
	t.Run("inspector-cli", func(t *testing.T) { inspectorMatrix(t, tools, url, "", nil) })
}

// tsClientMatrix is the TypeScript SDK client's part of the matrix
// (testdata/ts_client.mjs), with a bearer token unless token is empty.
// deploy, when not nil, changes the tool list once the client is ready.
func tsClientMatrix(t *testing.T, tools nodeToolsDir, url, token string, deploy func(*testing.T, string)) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script, _ := filepath.Abs(filepath.Join("testdata", "ts_client.mjs"))
	cmd := exec.CommandContext(ctx, tools.node, script)
	cmd.Env = append(os.Environ(), "MCP_URL="+url, "MCP_TOKEN="+token, "NODE_MODULES="+filepath.Join(tools.dir, "node_modules"))
	if deploy == nil {
		cmd.Env = append(cmd.Env, "MCP_WAIT_LIST_CHANGED=0")
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(stdout)
	deployed := false
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Logf("ts client: %s", sc.Text())
			continue
		}
		step, _ := m["step"].(string)
		steps[step] = m
		t.Logf("ts client: %s", sc.Text())
		if step == "ready" && deploy != nil {
			deploy(t, "v2")
			deployed = true
		}
	}
	err = cmd.Wait()
	if deployed {
		deploy(t, "v1")
	}
	if err != nil {
		t.Fatalf("ts client: %v\n%s", err, stderr.String())
	}
	// The SDK opens a 2025-11-25 session (it speaks no 2026-07-28).
	if c := steps["connected"]; c["protocol"] != "2025-11-25" || c["sessionId"] == "" {
		t.Errorf("connected = %v, want a 2025-11-25 session", c)
	}
	if got := steps["call"]["text"]; got != "This is a simple text response for testing." {
		t.Errorf("call text = %v", got)
	}
	// Its second call's stream was cut after the priming event: the SDK
	// resumed with Last-Event-ID and got the lost-answer error at once.
	if got, _ := steps["resume"]["error"].(string); !strings.Contains(got, "may or may not have been carried out") {
		t.Errorf("call with its stream cut: error %q, want Portico's lost-answer error", got)
	}
	if got := steps["resource"]["text"]; got != "This is the content of the static text resource." {
		t.Errorf("resource text = %v", got)
	}
	if got, _ := steps["template"]["text"].(string); !strings.Contains(got, "Data for ID: 7") {
		t.Errorf("template text = %q", got)
	}
	if deploy != nil {
		names, _ := steps["list_changed"]["names"].([]any)
		if !slices.Contains(names, any("added_in_v2")) {
			t.Errorf("after list_changed the tools are %v, want added_in_v2", names)
		}
	}
	t.Logf("TypeScript SDK %v negotiated protocol %v", steps["connected"]["sdk"], steps["connected"]["protocol"])
}

// inspectorMatrix is the Inspector CLI's part of the matrix over
// Streamable HTTP, with a bearer token unless token is empty. The CLI is
// one-shot: when deploy is not nil it sees the change by listing again.
func inspectorMatrix(t *testing.T, tools nodeToolsDir, url, token string, deploy func(*testing.T, string)) {
	// Inspector CLI 1.0.x needs a package.json one directory up.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private":true}`), 0o644)
	work := filepath.Join(dir, "run")
	os.Mkdir(work, 0o755)
	cli := filepath.Join(tools.dir, "node_modules", "@modelcontextprotocol", "inspector-cli", "build", "cli.js")
	base := []string{cli, "--cli", url, "--transport", "http"}
	if token != "" {
		base = append(base, "--header", "Authorization: Bearer "+token)
	}
	inspect := func(t *testing.T, args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tools.node, append(slices.Clone(base), args...)...)
		cmd.Dir = work
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("inspector %v: %v\n%s\n%s", args, err, out, stderr)
		}
		// The result is the JSON document after any banner lines.
		s := string(out)
		var m map[string]any
		if i := strings.Index(s, "{"); i < 0 || json.Unmarshal([]byte(s[i:]), &m) != nil {
			t.Fatalf("inspector %v printed no JSON result:\n%s", args, out)
		}
		return m
	}
	toolList := func(t *testing.T) []string {
		var names []string
		for _, tl := range inspect(t, "--method", "tools/list")["tools"].([]any) {
			names = append(names, tl.(map[string]any)["name"].(string))
		}
		return names
	}
	if names := toolList(t); !slices.Contains(names, "test_simple_text") || slices.Contains(names, "added_in_v2") {
		t.Fatalf("tools = %v", names)
	}
	call := inspect(t, "--method", "tools/call", "--tool-name", "test_simple_text")
	if text := call["content"].([]any)[0].(map[string]any)["text"]; text != "This is a simple text response for testing." {
		t.Errorf("call = %v", call)
	}
	res := inspect(t, "--method", "resources/read", "--uri", "test://static-text")
	if text := res["contents"].([]any)[0].(map[string]any)["text"]; text != "This is the content of the static text resource." {
		t.Errorf("resource = %v", res)
	}
	tpls := inspect(t, "--method", "resources/templates/list")
	if uri := tpls["resourceTemplates"].([]any)[0].(map[string]any)["uriTemplate"]; uri != "test://template/{id}/data" {
		t.Errorf("templates = %v", tpls)
	}
	tpl := inspect(t, "--method", "resources/read", "--uri", "test://template/7/data")
	if text, _ := tpl["contents"].([]any)[0].(map[string]any)["text"].(string); !strings.Contains(text, "Data for ID: 7") {
		t.Errorf("template = %v", tpl)
	}
	if deploy == nil {
		return
	}
	// One-shot: the CLI exits before any notification could arrive, so
	// it sees a change by listing again.
	deploy(t, "v2")
	defer deploy(t, "v1")
	if names := toolList(t); !slices.Contains(names, "added_in_v2") {
		t.Errorf("tools after the change = %v, want added_in_v2", names)
	}
}

// goClientMatrix is the go-sdk client's part of the matrix, speaking
// protocol version, with a bearer token unless token is empty. deploy, when
// not nil, changes the tool list, and the client must hear of it.
func goClientMatrix(t *testing.T, url, token, version string, deploy func(*testing.T, string)) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	changed := make(chan struct{}, 1)
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-go-client", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	// 2025-11-25: a session, notifications arrive on its GET stream;
	// 2026-07-28: the client opens a subscriptions/listen stream.
	hc := http.DefaultClient
	if token != "" {
		hc = &http.Client{Transport: bearerTransport{token: token}}
	}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if names := toolNames(ctx, t, cs); !slices.Contains(names, "test_simple_text") {
		t.Fatalf("tools = %v, want test_simple_text among them", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"})
	if err != nil || textOf(res) != "This is a simple text response for testing." {
		t.Fatalf("call = %v, %v", res, err)
	}
	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://static-text"})
	if err != nil || rr.Contents[0].Text != "This is the content of the static text resource." {
		t.Fatalf("read resource = %+v, %v", rr, err)
	}
	rt, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://template/7/data"})
	if err != nil || !strings.Contains(rt.Contents[0].Text, "Data for ID: 7") {
		t.Fatalf("read template = %+v, %v", rt, err)
	}
	if deploy == nil {
		return
	}
	deploy(t, "v2")
	defer deploy(t, "v1")
	select {
	case <-changed:
	case <-time.After(20 * time.Second):
		t.Fatal("no notifications/tools/list_changed within 20 s of the refresh")
	}
	if names := toolNames(ctx, t, cs); !slices.Contains(names, "added_in_v2") {
		t.Errorf("tools after the change = %v, want added_in_v2", names)
	}
}
