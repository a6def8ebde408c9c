package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestConvertJSONIsServed checks that `portico convert --json` shows the
// tools a tenant serves, byte for byte: each tool of its output, compacted,
// equals the same tool in the tenant's tools/list answer (annotations
// included), for the same document.
func TestConvertJSONIsServed(t *testing.T) {
	doc := corpusSpec(t, "full-stack-fastapi-template-pr2448__openapi.json")
	stub := templateStub(t, doc)
	p := startPortico(t, pgtest.NewDB(t))
	id, mcpURL, token := p.register(t, "template", stub)

	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	converted := convertTools(t, file)
	served := listToolsRaw(t, mcpURL, token)
	if len(converted) == 0 || len(converted) != len(served) {
		t.Fatalf("convert --json shows %d tools, tools/list serves %d", len(converted), len(served))
	}
	for i := range served {
		var c bytes.Buffer
		if err := json.Compact(&c, converted[i]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Bytes(), served[i]) {
			t.Errorf("tool %d differs:\nconvert --json: %s\ntools/list:     %s", i, c.Bytes(), served[i])
		}
		if !bytes.Contains(served[i], []byte(`"annotations":{`)) {
			t.Errorf("tool %d has no annotations: %s", i, served[i])
		}
	}
	// The report's cost measures those same bytes.
	var report struct {
		Cost struct {
			Tools []struct {
				Name   string `json:"name"`
				Bytes  int    `json:"bytes"`
				Tokens int    `json:"tokens"`
			} `json:"tools"`
		} `json:"cost"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/spec/report", nil, 200, &report)
	if len(report.Cost.Tools) != len(served) {
		t.Fatalf("/spec/report cost lists %d tools, tools/list serves %d", len(report.Cost.Tools), len(served))
	}
	for i, c := range report.Cost.Tools {
		var name struct{ Name string }
		json.Unmarshal(served[i], &name)
		if c.Name != name.Name || c.Bytes != len(served[i]) || c.Tokens <= 0 {
			t.Errorf("/spec/report cost of tool %d = %+v, want %s with %d bytes", i, c, name.Name, len(served[i]))
		}
	}
}

// convertTools runs `portico convert FILE --json` with extra flags and
// returns each tool of its output as printed.
func convertTools(t *testing.T, file string, flags ...string) []json.RawMessage {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{"convert", file, "--json"}, flags...)
	if err := cli.Run(context.Background(), args, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("portico %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	var l struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(out.Bytes(), &l); err != nil {
		t.Fatalf("convert --json output: %v", err)
	}
	return l.Tools
}

// listToolsRaw sends a bare tools/list and returns each tool of the answer
// as the bytes on the wire.
func listToolsRaw(t *testing.T, url, token string) []json.RawMessage {
	t.Helper()
	resp, body := rawMCP(t, url, token, "", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
	b := []byte(body)
	if resp.StatusCode != 200 {
		t.Fatalf("tools/list: status %d: %s", resp.StatusCode, b)
	}
	if i := bytes.Index(b, []byte("data: ")); i >= 0 {
		b = b[i+6:]
	}
	var msg struct {
		Result struct {
			Tools []json.RawMessage `json:"tools"`
		} `json:"result"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&msg); err != nil {
		t.Fatalf("tools/list answer: %v: %.200s", err, b)
	}
	return msg.Result.Tools
}

// TestLeanListing switches a tenant to settings.listing "lean" on one
// Portico and checks another one sharing its database (a second replica):
// a bad value is refused naming the field and changes nothing; lean
// listing serves what `portico convert --listing lean --json` shows, byte
// for byte, with every input schema identical to full listing; a connected
// go-sdk session hears list_changed; describe_tool gives back the full
// description and output schema; every parity call answers as in full
// listing; and going back to full lists the full tools again.
func TestLeanListing(t *testing.T) {
	doc := corpusSpec(t, "full-stack-fastapi-template-pr2448__openapi.json")
	stub := templateStub(t, doc)
	dbURL := pgtest.NewDB(t)
	p1 := startPortico(t, dbURL)
	p2 := startPortico(t, dbURL)
	id, _, token := p1.register(t, "template", stub)
	p1.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/upstream", map[string]any{"type": "bearer", "value": templateSecret}, 204, nil)
	url2 := p2.url + "/t/" + id + "/mcp"

	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	full := convertTools(t, file)
	lean := convertTools(t, file, "--listing", "lean")
	compact := func(b json.RawMessage) []byte {
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			t.Fatal(err)
		}
		return c.Bytes()
	}
	waitListing := func(what string, want []json.RawMessage) {
		t.Helper()
		var got []json.RawMessage
		for begin := time.Now(); time.Since(begin) < 15*time.Second; time.Sleep(20 * time.Millisecond) {
			got = listToolsRaw(t, url2, token)
			if len(got) == len(want) {
				same := true
				for i := range got {
					same = same && bytes.Equal(got[i], compact(want[i]))
				}
				if same {
					return
				}
			}
		}
		t.Fatalf("%s: the second replica lists %d tools, not the %d `convert --json` shows (first: %.300s)", what, len(got), len(want), got[0])
	}
	// The second replica serves the tenant once it has heard of the
	// activation made on the first.
	waitFor(t, 15*time.Second, "the second replica to serve the tenant", func() bool {
		resp, _ := rawMCP(t, url2, token, "", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
		return resp.StatusCode == 200
	})
	waitListing("full", full)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changed := make(chan struct{}, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "lean-e2e", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} }})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url2,
		HTTPClient: &http.Client{Transport: bearerTransport{token: token}}, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	// A bad value: 422 naming the field, nothing stored.
	var bad struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	p1.do(t, "PATCH", "/api/v1/tenants/"+id, map[string]any{"settings": map[string]any{"listing": "short"}}, 422, &bad)
	if b, _ := json.Marshal(bad); !strings.Contains(string(b), "settings.listing") {
		t.Errorf("422 for listing \"short\" = %s, want it to name settings.listing", b)
	}
	var got struct {
		Settings map[string]any `json:"settings"`
	}
	p1.do(t, "GET", "/api/v1/tenants/"+id, nil, 200, &got)
	if _, ok := got.Settings["listing"]; ok {
		t.Errorf("settings after a refused change = %v, want no listing", got.Settings)
	}

	p1.do(t, "PATCH", "/api/v1/tenants/"+id, map[string]any{"settings": map[string]any{"listing": "lean"}}, 200, nil)
	waitListing("lean", lean)
	select {
	case <-changed:
	case <-time.After(30 * time.Second):
		t.Error("the connected session heard no tools/list_changed after the switch to lean listing")
	}
	for i := range full {
		var f, l struct {
			Name         string          `json:"name"`
			InputSchema  json.RawMessage `json:"inputSchema"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		}
		json.Unmarshal(full[i], &f)
		json.Unmarshal(lean[i], &l)
		if f.Name != l.Name || !bytes.Equal(compact(f.InputSchema), compact(l.InputSchema)) || l.OutputSchema != nil {
			t.Errorf("lean %s: input schema differs from full listing or an output schema is listed", f.Name)
		}
	}
	if len(lean) != len(full)+1 || !bytes.Contains(lean[len(lean)-1], []byte(`"describe_tool"`)) {
		t.Fatalf("lean listing has %d tools, want the %d of full listing and describe_tool", len(lean), len(full))
	}
	var fullItem struct {
		Description  string         `json:"description"`
		OutputSchema map[string]any `json:"outputSchema"`
	}
	for _, f := range full {
		if bytes.Contains(f, []byte(`"items-read_items"`)) {
			json.Unmarshal(f, &fullItem)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "describe_tool", Arguments: map[string]any{"name": "items-read_items"}})
	if err != nil || res.IsError {
		t.Fatalf("describe_tool: %v %+v", err, res)
	}
	var described struct {
		Description  string         `json:"description"`
		OutputSchema map[string]any `json:"outputSchema"`
	}
	if err := json.Unmarshal([]byte(textOf(res)), &described); err != nil || described.Description != fullItem.Description ||
		fullItem.OutputSchema == nil || !reflect.DeepEqual(described.OutputSchema, fullItem.OutputSchema) {
		t.Errorf("describe_tool(items-read_items) = %s, want the full description %q and output schema", textOf(res), fullItem.Description)
	}

	// Calls in lean listing answer what the upstream answers.
	runParity(ctx, t, cs, stub, templateParityCases(t))

	p1.do(t, "PATCH", "/api/v1/tenants/"+id, map[string]any{"settings": map[string]any{"listing": "full"}}, 200, nil)
	waitListing("back to full", full)
}
