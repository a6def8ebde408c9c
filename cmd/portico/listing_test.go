package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); err != nil {
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
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
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
