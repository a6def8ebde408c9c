package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestToolEditorInBrowser edits a real FastAPI app's tool in real Chromium
// (web/e2e/tooledit.mjs): rename it and an argument, fix an argument, add a
// jq projection, watch the preview, see an invalid jq and an unknown
// argument refused at their fields with nothing saved, shape a real call's
// answer, save. Then an MCP client must list exactly the tool the preview
// showed and get exactly the shaped answer it showed.
func TestToolEditorInBrowser(t *testing.T) {
	node, ok := browserTools(t)
	if !ok {
		return
	}
	e2e, _ := filepath.Abs(filepath.Join("..", "web", "e2e"))
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "axe-core", "axe.min.js")); err != nil {
		harness.SkipOrFail(t, "the accessibility check needs axe-core (cd web/e2e && npm ci); bash .ci/run installs it")
		return
	}
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	p := startPortico(t, dbURL)
	const email, password = "ada@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "shop", "base_url": fastapi.url,
		"settings": map[string]any{"upstream_timeout_ms": 20000}}, 201, &created)
	p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	token := p.token(t, created.ID)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := t.ArtifactDir()
	cmd := exec.CommandContext(ctx, node, "tooledit.mjs")
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "PORTICO_URL="+p.url, "PORTICO_EMAIL="+email, "PORTICO_PASSWORD="+password,
		"TENANT_ID="+created.ID, "OUT_DIR="+out)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	t.Logf("tooledit.mjs:\n%s", buf.String())
	if err != nil {
		t.Fatalf("tool editor walk failed: %v (screenshots in %s)", err, out)
	}

	var previewed, shaped any
	for f, v := range map[string]*any{"previewed-tool.json": &previewed, "previewed-result.json": &shaped} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// What an agent lists and gets, through the real MCP endpoint.
	cs := connect(ctx, t, created.MCPURL, token)
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed any
	for _, tool := range res.Tools {
		if tool.Name == "create_item_items_post" {
			t.Errorf("the old name is still listed")
		}
		if tool.Name == "add_item" {
			b, _ := json.Marshal(tool)
			json.Unmarshal(b, &listed)
		}
	}
	if diff := cmp.Diff(previewed, listed); diff != "" {
		t.Errorf("tools/list's add_item differs from what the editor previewed (-preview +agent):\n%s", diff)
	}
	call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add_item", Arguments: map[string]any{"title": "lamp", "price": 2.5}})
	if err != nil || call.IsError {
		t.Fatalf("add_item: %v %s", err, textOf(call))
	}
	var got any
	b, _ := json.Marshal(call.StructuredContent)
	json.Unmarshal(b, &got)
	if diff := cmp.Diff(shaped, got); diff != "" {
		t.Errorf("add_item's answer differs from the editor's shaped sample (-preview +agent):\n%s", diff)
	}
}
