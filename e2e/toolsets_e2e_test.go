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

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// tsClient runs a TypeScript SDK client script from testdata that prints
// one JSON line per step; next returns the next step (failing the test
// when the script ends or ctx does first). Closing its stdin (at cleanup)
// ends it.
func tsClient(ctx context.Context, t *testing.T, nt nodeToolsDir, script string, env ...string) (next func(what string) map[string]any) {
	t.Helper()
	path, _ := filepath.Abs(filepath.Join("testdata", script))
	cmd := exec.CommandContext(ctx, nt.node, path)
	cmd.Env = append(append(os.Environ(), "NODE_MODULES="+filepath.Join(nt.dir, "node_modules")), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	steps := make(chan map[string]any, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				m["at"] = time.Now()
				steps <- m
			}
		}
		close(steps)
	}()
	return func(what string) map[string]any {
		t.Helper()
		select {
		case m, ok := <-steps:
			if !ok {
				t.Fatalf("%s ended before %s: %s", script, what, stderr.String())
			}
			return m
		case <-ctx.Done():
			t.Fatalf("%s: no %s: %s", script, what, stderr.String())
		}
		return nil
	}
}

// TestToolsetsAcrossReplicas is the toolsets user story on two `portico
// serve` processes and a real FastAPI app: a read-only "support" toolset
// made through replica 0 is served at its own URL by replica 1, to a token
// restricted to it (the go-sdk at 2025-11-25 and 2026-07-28, and the
// TypeScript SDK), which lists and calls only its tools and is refused
// (403) on the tenant's endpoint; editing the toolset reaches all three as
// tools/list_changed, while a session on the tenant's endpoint hears
// nothing; bad input is a 422 naming the field, with nothing saved; a
// toolset a token is restricted to cannot be deleted until the token is
// revoked; once deleted its URL is 404 on every replica.
func TestToolsetsAcrossReplicas(t *testing.T) {
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
	id, _, token := p.register(t, "curated", fastapi.url)
	waitTools(t, "the second replica after activation", replicas[1].url+"/t/"+id+"/mcp", token, toolsV1)
	base := "/api/v1/tenants/" + id + "/toolsets"

	// Bad input first: each a 422 naming the field, nothing saved.
	type fieldErr struct {
		Error struct {
			Details struct {
				Fields []struct{ Field, Problem string }
			}
		}
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
		says  string
	}{
		{"missing tool", map[string]any{"name": "s1", "tools": []string{"get_user_users", "get_usr_users"}}, "tools[1]", `did you mean "get_user_users"?`},
		{"missing tag", map[string]any{"name": "s2", "tags": []string{"nope"}}, "tags[0]", "no tag"},
		{"bad name", map[string]any{"name": "Support Team"}, "name", "lowercase"},
	} {
		var e fieldErr
		p.do(t, "POST", base, tc.body, 422, &e)
		if f := e.Error.Details.Fields; len(f) == 0 || f[0].Field != tc.field || !strings.Contains(f[0].Problem, tc.says) {
			t.Errorf("%s: fields %+v, want %s saying %q", tc.name, f, tc.field, tc.says)
		}
	}
	var created struct {
		MCPURL string   `json:"mcp_url"`
		Serves []string `json:"serves"`
	}
	p.do(t, "POST", base, map[string]any{"name": "support", "description": "Read-only lookups",
		"tools": []string{"get_user_users", "whoami_whoami_get", "delete_user_users"}, "read_only": true}, 201, &created)
	if want := []string{"get_user_users", "whoami_whoami_get"}; !cmp.Equal(created.Serves, want) || created.MCPURL != p.url+"/t/"+id+"/mcp/support" {
		t.Fatalf("created %+v, want it to serve %v (read_only leaves delete out) at /t/%s/mcp/support", created, want, id)
	}
	var list struct {
		Toolsets []struct{ Name string }
	}
	p.do(t, "GET", base, nil, 200, &list)
	if len(list.Toolsets) != 1 {
		t.Fatalf("toolsets %+v after refused ones, want support only", list.Toolsets)
	}
	var tok struct {
		Secret string
	}
	var e fieldErr
	p.do(t, "POST", "/api/v1/tenants/"+id+"/tokens", map[string]any{"name": "x", "toolsets": []string{"billing"}}, 422, &e)
	if f := e.Error.Details.Fields; len(f) == 0 || f[0].Field != "toolsets[0]" {
		t.Errorf("token for a missing toolset: %+v, want toolsets[0]", f)
	}
	p.do(t, "POST", "/api/v1/tenants/"+id+"/tokens", map[string]any{"name": "support agent", "toolsets": []string{"support"}}, 201, &tok)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	support := replicas[1].url + "/t/" + id + "/mcp/support"
	want := []string{"get_user_users", "whoami_whoami_get"}
	waitTools(t, "the toolset on the second replica", support, tok.Secret, want)

	// The restricted token is refused on the tenant's endpoint, on both replicas.
	for _, r := range replicas {
		code, body := postInitialize(t, r.url+"/t/"+id+"/mcp", tok.Secret)
		if code != 403 || !strings.Contains(body, "forbidden_toolset") || !strings.Contains(body, "/mcp/support") {
			t.Errorf("restricted token on the tenant endpoint of %s: %d %s, want 403 naming the toolset's URL", r.url, code, body)
		}
	}

	// Clients on the second replica: go-sdk at both versions, the TypeScript SDK,
	// and a go-sdk session on the tenant's endpoint that must hear nothing.
	sessions := map[string]chan time.Time{}
	var clients []*mcp.ClientSession
	for _, c := range []struct{ name, url, token, version string }{
		{"go-sdk 2025-11-25", support, tok.Secret, "2025-11-25"},
		{"go-sdk 2026-07-28", support, tok.Secret, "2026-07-28"},
		{"tenant endpoint", replicas[1].url + "/t/" + id + "/mcp", token, "2025-11-25"},
	} {
		ch := make(chan time.Time, 10)
		cl := mcp.NewClient(&mcp.Implementation{Name: "toolsets-e2e", Version: "1"}, &mcp.ClientOptions{
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { ch <- time.Now() }})
		cs, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: c.url, HTTPClient: &http.Client{Transport: bearerTransport{token: c.token}}},
			&mcp.ClientSessionOptions{ProtocolVersion: c.version})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		defer cs.Close()
		sessions[c.name] = ch
		clients = append(clients, cs)
	}
	for _, cs := range clients[:2] {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 7}})
		if err != nil || res.IsError || !strings.Contains(textOf(res), `"id":7`) {
			t.Errorf("call through the toolset: %s, %v", textOf(res), err)
		}
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_user_users", Arguments: map[string]any{"user_id": 7}})
		if err == nil && !res.IsError {
			t.Errorf("the toolset called delete_user_users, which it does not serve: %s", textOf(res))
		}
	}
	next := tsClient(ctx, t, nt, "ts_toolset.mjs", "MCP_URL="+support, "MCP_TOKEN="+tok.Secret,
		"CALL_TOOL=get_user_users", `CALL_ARGS={"user_id":3}`)
	ready := next("ready")
	if ready["step"] != "ready" || !cmp.Equal(ready["names"], toAny(want)) || !strings.Contains(ready["text"].(string), `"id":3`) || ready["session"] == "" {
		t.Fatalf("ts client: %v", ready)
	}

	// A notice of the toolset's tools registered just before a client
	// subscribed may still reach it: let the streams go quiet first, so the
	// edit below is judged by its own notices.
	for settled := false; !settled; {
		select {
		case <-sessions["go-sdk 2025-11-25"]:
		case <-sessions["go-sdk 2026-07-28"]:
		case <-sessions["tenant endpoint"]:
			t.Error("the tenant endpoint's session heard tools/list_changed before any change")
		case <-time.After(300 * time.Millisecond):
			settled = true
		}
	}
	// An edit through replica 0 reaches the toolset's clients on replica 1.
	start := time.Now()
	p.do(t, "PUT", base+"/support", map[string]any{"tools": []string{"get_user_users", "whoami_whoami_get", "create_item_items_post"}}, 200, nil)
	want = []string{"create_item_items_post", "get_user_users", "whoami_whoami_get"}
	for _, name := range []string{"go-sdk 2025-11-25", "go-sdk 2026-07-28"} {
		select {
		case at := <-sessions[name]:
			t.Logf("%s on the other replica heard tools/list_changed after %v", name, at.Sub(start).Round(time.Millisecond))
		case <-ctx.Done():
			t.Fatalf("%s heard no tools/list_changed", name)
		}
	}
	m := next("changed")
	t.Logf("ts client heard it after %v", m["at"].(time.Time).Sub(start).Round(time.Millisecond))
	if m["step"] != "changed" || !cmp.Equal(m["names"], toAny(want)) {
		t.Errorf("ts client after the edit: %v, want %v", m, want)
	}
	var names []string
	for tl, err := range clients[1].Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if !cmp.Equal(names, want) {
		t.Errorf("2026-07-28 client lists %v after the edit, want %v", names, want)
	}

	// The dashboard: an admin makes a toolset with the live preview and a
	// token restricted to it; an agent there lists what the preview showed.
	t.Run("dashboard", func(t *testing.T) {
		node, ok := browserTools(t)
		if !ok {
			return
		}
		out := runBrowserScript(ctx, t, node, "toolsets.mjs", "PORTICO_URL="+p.url, "ADMIN_KEY="+adminKey, "TENANT_ID="+id)
		var got struct {
			Preview     []string
			URL, Secret string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("toolsets.mjs printed %q: %v", out, err)
		}
		waitTools(t, "the dashboard's toolset on the other replica", strings.Replace(got.URL, p.url, replicas[1].url, 1), got.Secret, got.Preview)
		if code, body := postInitialize(t, replicas[1].url+"/t/"+id+"/mcp", got.Secret); code != 403 {
			t.Errorf("the dashboard's restricted token on the tenant endpoint: %d %s, want 403", code, body)
		}
	})

	// Deleting is refused while the token is restricted to it.
	var conflict struct {
		Error struct{ Code, Message string }
	}
	p.do(t, "DELETE", base+"/support", nil, 409, &conflict)
	if conflict.Error.Code != "toolset_in_use" || !strings.Contains(conflict.Error.Message, "support agent") {
		t.Errorf("delete in use: %+v", conflict)
	}
	var toks struct {
		Tokens []struct{ ID, Name string }
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/tokens", nil, 200, &toks)
	for _, k := range toks.Tokens {
		if k.Name == "support agent" {
			p.do(t, "DELETE", "/api/v1/tenants/"+id+"/tokens/"+k.ID, nil, 204, nil)
		}
	}
	p.do(t, "DELETE", base+"/support", nil, 204, nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := postInitialize(t, support, token)
		if code == 404 && strings.Contains(body, "toolset_not_found") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted toolset's URL on the other replica: %d %s, want 404", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(sessions["tenant endpoint"]); n != 0 {
		t.Errorf("the tenant endpoint's session heard %d tools/list_changed; its tools never changed", n)
	}
	var audit struct {
		Entries []struct{ Action string } `json:"audit"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/audit", nil, 200, &audit)
	var actions []string
	for _, e := range audit.Entries {
		if strings.HasPrefix(e.Action, "toolset.") {
			actions = append(actions, e.Action)
		}
	}
	slices.Sort(actions)
	if actions = slices.Compact(actions); !cmp.Equal(actions, []string{"toolset.create", "toolset.delete", "toolset.update"}) {
		t.Errorf("audit toolset actions %v", actions)
	}
}

// runBrowserScript runs a web/e2e script with node (within two minutes),
// its screenshots going to web/e2e/out, logs its stderr (its steps) and
// returns its stdout: the JSON line it prints for the Go test to check.
func runBrowserScript(ctx context.Context, t *testing.T, node, script string, env ...string) []byte {
	t.Helper()
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, node, script)
	cmd.Dir = e2e
	cmd.Env = append(append(os.Environ(), "OUT_DIR="+filepath.Join(e2e, "out")), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("%s:\n%s", script, stderr.String())
	if err != nil {
		t.Fatalf("%s failed: %v", script, err)
	}
	return out
}

// postInitialize POSTs a 2025-11-25 initialize to url with token and
// returns the status and body.
func postInitialize(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil || b.Len() > 1<<16 {
			break
		}
	}
	return resp.StatusCode, b.String()
}
