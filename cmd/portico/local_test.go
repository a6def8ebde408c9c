package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestRunStdio runs the real binary as a desktop client would: `portico run`
// over stdio, the local equivalent of FastMCP.from_fastapi.
func TestRunStdio(t *testing.T) {
	upstream := httptest.NewServer(newDemoAPI().handler())
	defer upstream.Close()
	bin := filepath.Join(t.TempDir(), "portico")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "run", "--openapi", upstream.URL+"/openapi.json", "--base-url", upstream.URL,
		"--header", "Authorization: Bearer "+demoSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	defer cs.Close()
	checkDemoTools(ctx, t, cs)
}

// TestRunHTTP serves one spec file over Streamable HTTP at /mcp.
func TestRunHTTP(t *testing.T) {
	upstream := httptest.NewServer(newDemoAPI().handler())
	defer upstream.Close()
	specFile := filepath.Join(t.TempDir(), "openapi.json")
	os.WriteFile(specFile, []byte(demoSpec), 0o600)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"run", "--openapi", specFile, "--base-url", upstream.URL, "--transport", "http",
			"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--header", "Authorization: Bearer " + demoSecret},
			func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	for i := 0; ; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			break
		}
		if i == 200 {
			t.Fatal("portico run did not start listening")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, nil).Connect(cctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDemoTools(cctx, t, cs)
	cs.Close()
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
}

func TestRunBadInput(t *testing.T) {
	err := run(context.Background(), []string{"run", "--base-url", "ftp://x", "--header", "no-colon", "--transport", "carrier-pigeon"},
		func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	for _, want := range []string{"--openapi is required", "--base-url must start with http", "--transport must be stdio or http", "--header"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

func checkDemoTools(ctx context.Context, t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 3 {
		t.Errorf("listed %d tools, want 3", len(res.Tools))
	}
	call, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_book_books_post", Arguments: map[string]any{"title": "Snow Crash", "author": "Neal Stephenson"}})
	if err != nil || call.IsError {
		t.Fatalf("create_book (needs the --header credential): %v %s", err, textOf(call))
	}
	got, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_book_books", Arguments: map[string]any{"book_id": 4}})
	if err != nil || got.IsError || !strings.Contains(textOf(got), "Snow Crash") {
		t.Fatalf("get_book 4: %v %s", err, textOf(got))
	}
}

// TestConvertJSON: `portico convert SPEC --json` prints what MCP clients would list.
func TestConvertJSON(t *testing.T) {
	specFile := filepath.Join(t.TempDir(), "openapi.json")
	os.WriteFile(specFile, []byte(demoSpec), 0o600)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"convert", specFile, "--json"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	var listing struct {
		Tools []struct {
			Name        string         `json:"name"`
			Description string         `json:"description"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
		Resources         []any `json:"resources"`
		ResourceTemplates []any `json:"resource_templates"`
		Report            struct {
			Operations int `json:"operations"`
		} `json:"report"`
	}
	if err := json.Unmarshal(out.Bytes(), &listing); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(listing.Tools) != 3 || listing.Report.Operations != 3 || listing.Resources == nil || listing.ResourceTemplates == nil {
		t.Errorf("listing = %+v", listing)
	}
	for _, tool := range listing.Tools {
		if tool.InputSchema["type"] != "object" || tool.Description == "" {
			t.Errorf("tool %s: type %v, description %q", tool.Name, tool.InputSchema["type"], tool.Description)
		}
	}
	if err := run(context.Background(), []string{"convert", filepath.Join(t.TempDir(), "missing.json")}, func(string) string { return "" }, &out, &out); err == nil {
		t.Error("convert of a missing file succeeded")
	}
}
