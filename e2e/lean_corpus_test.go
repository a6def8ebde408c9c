package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestLeanCallsMatchFull serves every corpus document from an echo upstream
// to two tenants, one in full and one in lean listing, and calls every tool
// of each with the go-sdk client and the same arguments (a minimal instance
// of the tool's input schema): the results must be the same, and lean
// listing must list the same tools with the same input schemas. Where the
// Node tools are installed, the TypeScript SDK client then calls every
// lean tool with the same arguments and must get the full results too (it
// validates structuredContent only for tools listed with an output schema).
func TestLeanCallsMatchFull(t *testing.T) {
	harness.HeavySuite(t, "activates 40 tenants over the whole corpus and calls ~8,000 tools")
	dir := filepath.Join("..", "..", "shared", "specs")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		corpusSpec(t, "manifest.json") // skips or fails, saying why
	}
	var manifest []struct {
		File string `json:"file"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/__spec/"); ok {
			http.ServeFile(w, r, filepath.Join(dir, filepath.Base(name)))
			return
		}
		// What the request carried, deterministically: the media type
		// without a multipart boundary, and no multipart body.
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(mt, "multipart/") {
			body = nil
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"content_type": mt, "body": string(body)})
	}))
	defer echo.Close()
	p := startPortico(t, pgtest.NewDB(t))
	node := nodeToolsDir{dir: os.Getenv("PORTICO_NODE_TOOLS")}
	if node.dir == "" {
		node.dir = filepath.Join("..", ".ci", "node")
	}
	node.dir, _ = filepath.Abs(node.dir)
	node.node = filepath.Join(node.dir, "node_modules", ".bin", "node")
	if _, err := os.Stat(node.node); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Node tools not installed in %s: run `cd .ci/node && npm ci`", node.dir)
		}
		t.Logf("TypeScript SDK part skipped: Node tools not installed in %s (run `cd .ci/node && npm ci`)", node.dir)
		node.node = ""
	}
	tsCalls := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	total, reached := 0, 0
	for _, m := range manifest {
		t.Run(m.File, func(t *testing.T) {
			sessions := map[string]*mcp.ClientSession{}
			urls, tokens := map[string]string{}, map[string]string{}
			for _, listing := range []string{"full", "lean"} {
				var created struct {
					ID     string `json:"id"`
					MCPURL string `json:"mcp_url"`
				}
				p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": listing + " " + m.File, "base_url": echo.URL,
					"spec_url": echo.URL + "/__spec/" + m.File, "settings": map[string]any{"listing": listing}}, 201, &created)
				token := p.token(t, created.ID)
				p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
				sessions[listing] = connect(ctx, t, created.MCPURL, token)
				urls[listing], tokens[listing] = created.MCPURL, token
			}
			list := func(cs *mcp.ClientSession) map[string]*mcp.Tool {
				out := map[string]*mcp.Tool{}
				for tool, err := range cs.Tools(ctx, nil) {
					if err != nil {
						t.Fatal(err)
					}
					out[tool.Name] = tool
				}
				return out
			}
			full, lean := list(sessions["full"]), list(sessions["lean"])
			type call struct {
				Name      string         `json:"name"`
				Arguments map[string]any `json:"arguments"`
			}
			var calls []call
			fullResults := map[string]string{}
			for name, f := range full {
				l, ok := lean[name]
				if !ok || !reflect.DeepEqual(f.InputSchema, l.InputSchema) || l.OutputSchema != nil {
					t.Errorf("%s: missing from lean listing, or its input schema differs, or it lists an output schema", name)
					continue
				}
				args, _ := minimalInstance(f.InputSchema, f.InputSchema, 0).(map[string]any)
				rf, err := sessions["full"].CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
				if err != nil {
					t.Fatalf("%s full: %v", name, err)
				}
				rl, err := sessions["lean"].CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
				if err != nil {
					t.Fatalf("%s lean: %v", name, err)
				}
				total++
				if !rf.IsError {
					reached++
				}
				if a, b := resultJSON(t, rf), resultJSON(t, rl); a != b {
					t.Errorf("%s with %v:\nfull %s\nlean %s", name, args, a, b)
				}
				calls = append(calls, call{name, args})
				fullResults[name] = resultJSON(t, rf)
			}
			if node.node != "" && len(calls) > 0 {
				tsCalls += tsLeanCalls(ctx, t, node, urls["lean"], tokens["lean"], calls, fullResults)
			}
			if len(lean) != len(full)+1 {
				if _, ok := full["describe_tool"]; !ok {
					t.Errorf("lean listing has %d tools, want the %d of full listing and describe_tool", len(lean), len(full))
				}
			}
		})
	}
	t.Logf("%d tools called in both listings, %d of them answered by the upstream (the rest refused the generated arguments in both)", total, reached)
	t.Logf("the TypeScript SDK client called %d lean tools with the same results", tsCalls)
	if total == 0 || reached < total/2 {
		t.Errorf("%d of %d calls reached the upstream: the argument generator no longer makes valid calls", reached, total)
	}
}

// tsLeanCalls runs testdata/ts_lean_calls.mjs against a lean tenant with
// calls and compares each result with the full tenant's (want, by name, as
// resultJSON). It returns how many calls matched.
func tsLeanCalls[C any](ctx context.Context, t *testing.T, node nodeToolsDir, url, token string, calls []C, want map[string]string) int {
	t.Helper()
	f := filepath.Join(t.TempDir(), "calls.json")
	b, _ := json.Marshal(calls)
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "ts_lean_calls.mjs"))
	cmd := exec.CommandContext(ctx, node.node, script)
	cmd.Env = append(os.Environ(), "MCP_URL="+url, "MCP_TOKEN="+token, "CALLS_FILE="+f, "NODE_MODULES="+filepath.Join(node.dir, "node_modules"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ts client: %v\n%s", err, tail(stderr.String(), 2000))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(calls)+1 || !strings.Contains(lines[0], `"withOutput":0`) {
		t.Fatalf("ts client printed %d lines for %d calls (first %.200s), want a listing with no output schema and one line per call", len(lines), len(calls), lines[0])
	}
	matched := 0
	for _, line := range lines[1:] {
		var got struct {
			Name       string `json:"name"`
			Error      string `json:"error"`
			Content    any    `json:"content"`
			Structured any    `json:"structured"`
			IsError    bool   `json:"isError"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil || got.Error != "" {
			t.Errorf("ts client: %s (%v)", line, err)
			continue
		}
		var w struct {
			Content    any  `json:"content"`
			Structured any  `json:"structured"`
			IsError    bool `json:"isError"`
		}
		json.Unmarshal([]byte(want[got.Name]), &w)
		if !reflect.DeepEqual(w.Content, got.Content) || !reflect.DeepEqual(w.Structured, got.Structured) || w.IsError != got.IsError {
			t.Errorf("ts client, lean %s: %s\nwant (go-sdk, full) %s", got.Name, line, want[got.Name])
			continue
		}
		matched++
	}
	return matched
}

// resultJSON is what a tool result says, without its _meta (timings).
func resultJSON(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Content    []mcp.Content `json:"content"`
		Structured any           `json:"structured"`
		IsError    bool          `json:"isError"`
	}{res.Content, res.StructuredContent, res.IsError})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// minimalInstance returns a small value s accepts, following local $refs
// into root's $defs: const, enum or default first, then one per type, an
// object's required properties only, the first alternative of anyOf and
// oneOf, allOf parts merged.
func minimalInstance(s, root any, depth int) any {
	o, ok := s.(map[string]any)
	if !ok || depth > 8 {
		return nil
	}
	if ref, ok := o["$ref"].(string); ok {
		if name, ok := strings.CutPrefix(ref, "#/$defs/"); ok {
			defs, _ := root.(map[string]any)["$defs"].(map[string]any)
			name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
			return minimalInstance(defs[name], root, depth+1)
		}
		return nil
	}
	if v, ok := o["const"]; ok {
		return v
	}
	if e, ok := o["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if v, ok := o["default"]; ok {
		return v
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := o[k].([]any); ok && len(alts) > 0 {
			for _, a := range alts { // a non-null alternative when there is one
				if am, ok := a.(map[string]any); !ok || am["type"] != "null" {
					return minimalInstance(a, root, depth+1)
				}
			}
			return nil
		}
	}
	if parts, ok := o["allOf"].([]any); ok && len(parts) > 0 {
		merged := map[string]any{}
		for _, part := range parts {
			v := minimalInstance(part, root, depth+1)
			pm, ok := v.(map[string]any)
			if !ok {
				return v
			}
			for k, x := range pm {
				merged[k] = x
			}
		}
		return merged
	}
	typ := o["type"]
	if ts, ok := typ.([]any); ok && len(ts) > 0 {
		typ = ts[0]
		if typ == "null" && len(ts) > 1 {
			typ = ts[1]
		}
	}
	if typ == nil && o["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := o["properties"].(map[string]any)
		req, _ := o["required"].([]any)
		for _, r := range req {
			name, _ := r.(string)
			out[name] = minimalInstance(props[name], root, depth+1)
			if out[name] == nil {
				out[name] = "x"
			}
		}
		return out
	case "array":
		n, _ := o["minItems"].(float64)
		out := []any{}
		for range int(n) {
			out = append(out, minimalInstance(o["items"], root, depth+1))
		}
		return out
	case "integer", "number":
		if v, ok := o["minimum"].(float64); ok {
			return v
		}
		if v, ok := o["exclusiveMinimum"].(float64); ok {
			return v + 1
		}
		return 1
	case "boolean":
		return true
	case "null":
		return nil
	}
	n, _ := o["minLength"].(float64)
	return strings.Repeat("x", max(1, int(n)))
}
