package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
)

// TestInspectorRunsPorticoRun starts `portico run` over stdio from the MCP
// Inspector CLI, as the README shows: the Inspector takes `--header` for
// itself, so the credential is given as `-header` (Go's flags take one dash
// too) and must reach the upstream.
func TestInspectorRunsPorticoRun(t *testing.T) {
	tools := nodeTools(t)
	bin := buildBinary(t)
	upstream := httptest.NewServer(cli.DemoAPI())
	defer upstream.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private":true}`), 0o644)
	work := filepath.Join(dir, "run")
	os.Mkdir(work, 0o755)
	inspector := filepath.Join(tools.dir, "node_modules", "@modelcontextprotocol", "inspector-cli", "build", "cli.js")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tools.node, inspector, "--cli", bin, "run", "--openapi", upstream.URL+"/openapi.json",
		"--base-url", upstream.URL, "-header", "Authorization: Bearer "+cli.DemoSecret,
		"--method", "tools/call", "--tool-name", "create_book_books_post", "--tool-arg", "title=Snow Crash", "--tool-arg", "author=Neal Stephenson")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("inspector: %v\n%s", err, out)
	}
	s := string(out)
	var res map[string]any
	if i := strings.Index(s, "{"); i < 0 || json.Unmarshal([]byte(s[i:]), &res) != nil {
		t.Fatalf("inspector printed no JSON result:\n%s", out)
	}
	if res["isError"] == true || !strings.Contains(fmt.Sprint(res["structuredContent"]), "Snow Crash") {
		t.Errorf("create_book through the Inspector (needs the -header credential): %v", res)
	}
}
