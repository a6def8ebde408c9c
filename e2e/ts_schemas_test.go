package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestTypeScriptClientBigSpecs: the TypeScript SDK client accepts tools/list
// for the GitHub and Stripe documents of the corpus. Its Client.listTools
// rejects the whole list when one outputSchema does not compile with its Ajv,
// so an agent on that SDK would get no tools at all; the script
// (testdata/ts_big_tools.mjs) also compiles every inputSchema with the same
// Ajv and, when the list is rejected, every outputSchema too, naming each
// tool whose schema fails. Each document is served by a
// local stub as the tenant's spec URL.
func TestTypeScriptClientBigSpecs(t *testing.T) {
	harness.HeavySuite(t, "lists thousands of tools with the TypeScript SDK")
	tools := nodeTools(t)
	docs := map[string][]byte{}
	for _, name := range []string{"github", "stripe"} {
		file := map[string]string{"github": "github__api.github.com.json", "stripe": "stripe__spec3.json"}[name]
		docs[name] = corpusSpec(t, file)
	}
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	script, _ := filepath.Abs(filepath.Join("testdata", "ts_big_tools.mjs"))

	for _, name := range []string{"github", "stripe"} {
		t.Run(name, func(t *testing.T) {
			doc := docs[name]
			spec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/openapi.json" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write(doc)
			}))
			defer spec.Close()
			var created struct {
				ID     string `json:"id"`
				MCPURL string `json:"mcp_url"`
			}
			p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": name, "base_url": spec.URL, "spec_url": spec.URL + "/openapi.json"}, 201, &created)
			token := p.token(t, created.ID)
			p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
			var version struct {
				ToolCount int `json:"tool_count"`
			}
			p.do(t, "GET", "/api/v1/tenants/"+created.ID+"/spec/versions/1", nil, 200, &version)
			if version.ToolCount < 100 {
				t.Fatalf("the %s document converted to %d tools; expected hundreds", name, version.ToolCount)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, tools.node, "--max-old-space-size=6144", script)
			cmd.Env = append(os.Environ(), "MCP_URL="+created.MCPURL, "MCP_TOKEN="+token,
				"NODE_MODULES="+filepath.Join(tools.dir, "node_modules"))
			var stderr syncBuffer
			cmd.Stderr = &stderr
			start := time.Now()
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("TypeScript client: %v\n%s\n%s", err, out, tail(stderr.String(), 4000))
			}
			var rep struct {
				SDK       string `json:"sdk"`
				Protocol  string `json:"protocol"`
				Tools     int    `json:"tools"`
				Pages     int    `json:"pages"`
				Names     int    `json:"names"`
				Bytes     int    `json:"bytes"`
				Outputs   int    `json:"outputs"`
				Rejected  string `json:"rejected"`
				ListMS    int    `json:"list_ms"`
				CompileMS int    `json:"compile_ms"`
				Failures  []struct {
					Tool, Schema, Error string
				} `json:"failures"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("TypeScript client printed no report: %v\n%s", err, out)
			}
			if rep.Rejected != "" {
				t.Errorf("Client.listTools (SDK %s) rejected the %s tool list: %s", rep.SDK, name, rep.Rejected)
			}
			for _, f := range rep.Failures {
				t.Errorf("%s of tool %s does not compile with the SDK's Ajv: %s", f.Schema, f.Tool, f.Error)
			}
			if rep.Tools != version.ToolCount || rep.Names != rep.Tools {
				t.Errorf("the TypeScript client listed %d tools (%d distinct names) in %d page(s); the tenant has %d",
					rep.Tools, rep.Names, rep.Pages, version.ToolCount)
			}
			if rep.Outputs == 0 {
				t.Errorf("no %s tool has an outputSchema: the SDK compiled nothing", name)
			}
			t.Logf("%s: TypeScript SDK %s (protocol %s): Client.listTools took %d tools (%.1f MB of JSON, %d output schemas compiled) in %d page(s) in %d ms; %d input schemas compiled in %d ms; %s in all",
				name, rep.SDK, rep.Protocol, rep.Tools, float64(rep.Bytes)/1e6, rep.Outputs, rep.Pages, rep.ListMS, rep.Tools, rep.CompileMS, time.Since(start).Round(time.Second))
		})
	}
}
