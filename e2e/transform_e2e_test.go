package e2e

import (
	"bufio"
	"context"
	"encoding/json"
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

// TestToolTransformEndToEnd reshapes a real FastAPI app's tools through
// PUT /settings and uses them through the go-sdk and TypeScript SDK
// clients: bad settings are refused naming the field with nothing saved;
// good ones reach a connected session as list_changed; a renamed, fixed
// and hidden argument reaches FastAPI under its original name with the
// fixed value; a jq projection is exactly the projected JSON, and the
// TypeScript SDK (which validates structuredContent against the listed
// output schema) accepts it.
func TestToolTransformEndToEnd(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	p := startPortico(t, dbURL)
	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "shop", "base_url": fastapi.url}, 201, &created)
	token := p.token(t, created.ID)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs, changed := connectSession(ctx, t, created.MCPURL, token)

	settingsPath := "/api/v1/tenants/" + created.ID + "/settings"
	for _, tc := range []struct {
		name  string
		tools map[string]any
		field string
	}{
		{"invalid jq", map[string]any{"create_item_items_post": map[string]any{"response": map[string]any{"jq": "{name,"}}}, `settings.tools[\"create_item_items_post\"].response.jq`},
		{"unknown argument", map[string]any{"create_item_items_post": map[string]any{"args": map[string]any{"prise": map[string]any{"description": "x"}}}}, `did you mean \"price\"?`},
		{"fixed value the schema refuses", map[string]any{"create_item_items_post": map[string]any{"args": map[string]any{"price": map[string]any{"fixed": "cheap"}}}}, `settings.tools[\"create_item_items_post\"].args[\"price\"].fixed`},
		{"unknown tool", map[string]any{"create_itme_items_post": map[string]any{"title": "x"}}, `did you mean \"create_item_items_post\"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body json.RawMessage
			p.do(t, "PUT", settingsPath, map[string]any{"tools": tc.tools}, 422, &body)
			if !strings.Contains(string(body), tc.field) {
				t.Errorf("422 %s does not name %s", body, tc.field)
			}
		})
	}
	var got struct {
		Settings map[string]any `json:"settings"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+created.ID, nil, 200, &got)
	if _, ok := got.Settings["tools"]; ok {
		t.Fatalf("refused settings were saved: %v", got.Settings)
	}

	p.do(t, "PUT", settingsPath, map[string]any{"tools": map[string]any{
		"create_item_items_post": map[string]any{
			"name": "add_item", "description": "Add an item to the shop.",
			"args": map[string]any{
				"name":  map[string]any{"name": "title", "description": "What the item is called."},
				"tags":  map[string]any{"fixed": []string{"agent"}},
				"price": map[string]any{"hidden": true, "default": 2.5},
			},
			"response": map[string]any{"jq": "{name, total, tags}"},
		},
		"get_user_users": map[string]any{"response": map[string]any{"select": true}},
	}}, 200, nil)
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no notifications/tools/list_changed after the settings change")
	}

	tools := map[string]*mcp.Tool{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		tools[tool.Name] = tool
	}
	add := tools["add_item"]
	if add == nil || tools["create_item_items_post"] != nil {
		t.Fatalf("tools %v: want add_item instead of create_item_items_post", keys(tools))
	}
	in, _ := json.Marshal(add.InputSchema)
	var schema struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	json.Unmarshal(in, &schema)
	if _, ok := schema.Properties["title"]; !ok || schema.Properties["name"] != nil || schema.Properties["tags"] != nil || schema.Properties["price"] != nil ||
		!cmp.Equal(schema.Required, []string{"title"}) {
		t.Errorf("add_item input schema %s: want title (required) and note only", in)
	}

	// What FastAPI answers the original request, projected.
	direct := fastapi.call(t, "POST", "/items", `{"name":"lamp","price":2.5,"tags":["agent"],"note":"n"}`, false).(map[string]any)
	want := map[string]any{"name": direct["name"], "total": direct["total"], "tags": direct["tags"]}
	if want["total"] != 5.0 || !cmp.Equal(want["tags"], []any{"agent"}) {
		t.Fatalf("FastAPI answered %v", direct)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add_item", Arguments: map[string]any{"title": "lamp", "note": "n", "tags": []string{"evil"}}})
	if err != nil || res.IsError {
		t.Fatalf("add_item: %v %s", err, textOf(res))
	}
	var structured, text any
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &structured)
	if diff := cmp.Diff(want, structured); diff != "" {
		t.Errorf("structured content (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(textOf(res)), &text); err != nil || !cmp.Equal(want, text) {
		t.Errorf("text %s: want the projected JSON", textOf(res))
	}

	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 7, "_select": ".name"}})
	if err != nil || res.IsError || textOf(res) != `"Alice"` {
		t.Errorf("_select: %v %s", err, textOf(res))
	}

	// The TypeScript SDK validates the result against the output schema.
	tsTransform(t, created.MCPURL, token, "add_item", `{"title":"lamp","note":"n"}`, want)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sortedCopy(out)
}

// tsTransform calls tool through the TypeScript SDK and requires the
// structured result to be want, with the tool listed with an output schema.
func tsTransform(t *testing.T, url, token, tool, args string, want any) {
	t.Helper()
	nt := nodeTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	script, _ := filepath.Abs(filepath.Join("testdata", "ts_transform.mjs"))
	cmd := exec.CommandContext(ctx, nt.node, script)
	cmd.Env = append(os.Environ(), "MCP_URL="+url, "MCP_TOKEN="+token, "NODE_MODULES="+filepath.Join(nt.dir, "node_modules"),
		"MCP_TOOL="+tool, "MCP_ARGS="+args)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			s, _ := m["step"].(string)
			steps[s] = m
		}
		t.Logf("ts client: %s", sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ts client: %v\n%s", err, stderr.String())
	}
	listed, _ := steps["tool"]["tool"].(map[string]any)
	if listed == nil || listed["outputSchema"] == nil {
		t.Errorf("TypeScript SDK listed %v: want %s with an output schema", steps["tool"], tool)
	}
	if diff := cmp.Diff(want, steps["call"]["structured"]); diff != "" || steps["call"]["isError"] != false {
		t.Errorf("TypeScript SDK result (-want +got):\n%s\n%v", diff, steps["call"])
	}
}

// TestToolTransformAcrossReplicas: a settings.tools change saved through
// one replica reaches sessions connected to every replica as list_changed,
// and each then lists the transformed tool.
func TestToolTransformAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two portico processes")
	}
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	fastapi := startFastAPI(t)
	adminKey := generateAdminKey()
	replicas := []*replica{startReplica(t, bin, dbURL, adminKey), startReplica(t, bin, dbURL, adminKey)}
	p := &portico{url: replicas[0].url, adminKey: adminKey, logs: replicas[0].logs, responses: &syncBuffer{}}
	id, _, token := p.register(t, "replicated", fastapi.url)
	waitTools(t, "the second replica after activation", replicas[1].url+"/t/"+id+"/mcp", token, toolsV1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type conn struct {
		cs      *mcp.ClientSession
		changed chan struct{}
	}
	var conns []conn
	for _, r := range replicas {
		cs, changed := connectSession(ctx, t, r.url+"/t/"+id+"/mcp", token)
		conns = append(conns, conn{cs, changed})
	}
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/settings", map[string]any{"tools": map[string]any{
		"get_user_users": map[string]any{"name": "user", "response": map[string]any{"jq": "{name}"}},
	}}, 200, nil)
	for i, c := range conns {
		select {
		case <-c.changed:
		case <-ctx.Done():
			t.Fatalf("replica %d: no list_changed after the settings change", i)
		}
		var names []string
		for tool, err := range c.cs.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, tool.Name)
		}
		if !slices.Contains(names, "user") || slices.Contains(names, "get_user_users") {
			t.Errorf("replica %d lists %v: want user", i, names)
		}
		res, err := c.cs.CallTool(ctx, &mcp.CallToolParams{Name: "user", Arguments: map[string]any{"user_id": 3}})
		if err != nil || textOf(res) != `{"name":"Alice"}` {
			t.Errorf("replica %d: user = %v %s", i, err, textOf(res))
		}
	}
}
