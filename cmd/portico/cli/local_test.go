package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "run", "--openapi", upstream.URL+"/openapi.json", "--base-url", upstream.URL,
		"--header", "Authorization: Bearer "+DemoSecret)
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
	os.WriteFile(specFile, []byte(DemoSpec), 0o600)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, []string{"run", "--openapi", specFile, "--base-url", upstream.URL, "--transport", "http",
			"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--header", "Authorization: Bearer " + DemoSecret},
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
	err := Run(context.Background(), []string{"run", "--base-url", "ftp://x", "--header", "no-colon", "--transport", "carrier-pigeon"},
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
	os.WriteFile(specFile, []byte(DemoSpec), 0o600)
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"convert", specFile, "--json"}, func(string) string { return "" }, &out, &out); err != nil {
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
	if err := Run(context.Background(), []string{"convert", filepath.Join(t.TempDir(), "missing.json")}, func(string) string { return "" }, &out, &out); err == nil {
		t.Error("convert of a missing file succeeded")
	}
}

// startRunHTTP runs `portico run --transport http` in-process with extra
// flags and returns its /mcp URL; it stops with the test.
func startRunHTTP(t *testing.T, extra ...string) string {
	t.Helper()
	upstream := httptest.NewServer(newDemoAPI().handler())
	t.Cleanup(upstream.Close)
	specFile := filepath.Join(t.TempDir(), "openapi.json")
	os.WriteFile(specFile, []byte(DemoSpec), 0o600)
	return startRunHTTPFor(t, upstream.URL, specFile, append([]string{"--header", "Authorization: Bearer " + DemoSecret}, extra...)...)
}

// startRunHTTPFor runs `portico run --transport http` in-process for the
// service at baseURL described by spec, and returns its /mcp URL.
func startRunHTTPFor(t *testing.T, baseURL, spec string, extra ...string) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	args := append([]string{"--openapi", spec, "--base-url", baseURL, "--transport", "http",
		"--addr", fmt.Sprintf("127.0.0.1:%d", port)}, extra...)
	go func() { errc <- cmdRun(ctx, args, strings.NewReader(""), &syncBuffer{}, &syncBuffer{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("portico run: %v", err)
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	for i := 0; ; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url
		}
		if i == 200 {
			t.Fatal("portico run did not start listening")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// rawMCP posts one JSON-RPC message with the given headers and returns the
// status, the response headers and the JSON-RPC message (SSE unwrapped).
func runMCP(t *testing.T, url string, hdr map[string]string, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for _, line := range strings.Split(string(raw), "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				raw = []byte(d)
			}
		}
	}
	var msg map[string]any
	json.Unmarshal(raw, &msg)
	return resp.StatusCode, resp.Header, msg
}

// TestRunHTTPAnswersAsATenantEndpoint: `portico run --transport http` is
// served by the tenant endpoint's handler, so every protocol generation a
// tenant endpoint serves works here too, with the same answers.
func TestRunHTTPAnswersAsATenantEndpoint(t *testing.T) {
	url := startRunHTTP(t)
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`

	// A 2025-11-25 client opens a session and uses it.
	code, h, msg := runMCP(t, url, nil, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := h.Get("Mcp-Session-Id")
	if code != 200 || sid == "" || msg["result"] == nil {
		t.Fatalf("initialize: %d session %q %v", code, sid, msg)
	}
	code, _, msg = runMCP(t, url, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}, list)
	if tools := toolsOf(msg); code != 200 || len(tools) != 3 {
		t.Errorf("tools/list in the session: %d %v", code, msg)
	}
	// A request without a session is served session-less, not refused.
	code, _, msg = runMCP(t, url, map[string]string{"Mcp-Protocol-Version": "2025-06-18"}, list)
	if tools := toolsOf(msg); code != 200 || len(tools) != 3 {
		t.Errorf("session-less tools/list: %d %v", code, msg)
	}
	// 2026-07-28: a request carries its version; initialize is gone.
	code, _, msg = runMCP(t, url, map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"},
		`{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
	if tools := toolsOf(msg); code != 200 || len(tools) != 3 {
		t.Errorf("2026-07-28 tools/list: %d %v", code, msg)
	}
	code, _, msg = runMCP(t, url, map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "initialize"}, `{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if e, _ := msg["error"].(map[string]any); code != 404 || e["code"] != float64(-32601) {
		t.Errorf("2026-07-28 initialize: %d %v, want 404 / -32601", code, msg)
	}
	// An unknown session is a 404 that says what to send.
	code, _, _ = runMCP(t, url, map[string]string{"Mcp-Session-Id": "nope", "Mcp-Protocol-Version": "2025-11-25"}, list)
	if code != 404 {
		t.Errorf("unknown session: %d, want 404", code)
	}
}

func toolsOf(msg map[string]any) []any {
	res, _ := msg["result"].(map[string]any)
	tools, _ := res["tools"].([]any)
	return tools
}

// TestRunHTTPRefusesRebinding: a local server with no credential answers
// only requests that name this machine, so a web page whose DNS name
// rebinds to 127.0.0.1 cannot drive it.
func TestRunHTTPRefusesRebinding(t *testing.T) {
	url := startRunHTTP(t)
	port := strings.TrimSuffix(strings.TrimPrefix(url, "http://127.0.0.1:"), "/mcp")
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	for _, tc := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"Host": "evil.example:" + port}, 403},
		{map[string]string{"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port}, 403},
		{map[string]string{"Origin": "http://evil.example"}, 403},
		{map[string]string{"Origin": "null"}, 403},
		{map[string]string{"Host": "localhost:" + port, "Origin": "http://localhost:" + port}, 200},
		{map[string]string{"Host": "[::1]:" + port}, 200},
		{map[string]string{"Origin": "http://127.0.0.1:3000"}, 200}, // a page on this machine
		{nil, 200},
	} {
		tc.hdr = mergeHeaders(tc.hdr, map[string]string{"Mcp-Protocol-Version": "2025-06-18"})
		if code, _, msg := runMCP(t, url, tc.hdr, list); code != tc.want {
			t.Errorf("%v: %d %v, want %d", tc.hdr, code, msg, tc.want)
		}
	}
}

// TestRunHTTPCORSForLocalPages: a page on another loopback port (a local
// web app) may use `portico run` across origins: its preflight is answered
// without reaching the MCP handler, and its requests carry CORS headers so
// the page can read the answer and the session id. A foreign page's
// preflight and requests are refused, with no CORS header to read.
func TestRunHTTPCORSForLocalPages(t *testing.T) {
	url := startRunHTTP(t)
	const local = "http://localhost:5173"
	code, _, h := send(t, "OPTIONS", url, "", "Origin", local, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type,mcp-protocol-version, mcp-param-region,bad header,")
	if code != 204 || h.Get("Access-Control-Allow-Origin") != local || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Access-Control-Allow-Headers") != "content-type, mcp-protocol-version, mcp-param-region" {
		t.Errorf("preflight from %s: %d %v; want 204 allowing POST and the well-formed requested headers", local, code, h)
	}
	code, body, h := send(t, "POST", url, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		"Origin", local, "Content-Type", "application/json", "Accept", "application/json, text/event-stream")
	if code != 200 || h.Get("Access-Control-Allow-Origin") != local || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") || h.Get("Mcp-Session-Id") == "" {
		t.Errorf("initialize from %s: %d %v %.200s; want a session the page can read", local, code, h, body)
	}
	for _, method := range []string{"OPTIONS", "POST"} {
		code, body, h := send(t, method, url, `{}`, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST", "Content-Type", "application/json")
		if code != 403 || h.Get("Access-Control-Allow-Origin") != "" || !strings.Contains(body, "forbidden_origin") {
			t.Errorf("%s from a foreign page: %d %v %s; want 403 without CORS headers", method, code, h, body)
		}
	}
}

func mergeHeaders(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// TestRunRouteMapsAndSettings: --route-maps and --settings give a local run
// resources, templates and names, validated as the REST API validates them.
func TestRunRouteMapsAndSettings(t *testing.T) {
	dir := t.TempDir()
	maps := filepath.Join(dir, "maps.json")
	os.WriteFile(maps, []byte(`[{"methods":["GET"],"pattern":"^/books/","mcp_type":"resource_template"},{"methods":["GET"],"pattern":"^/books$","mcp_type":"resource"}]`), 0o600)
	url := startRunHTTP(t, "--route-maps", maps)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "maps-test", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 {
		t.Errorf("tools: %v %d, want only the POST left as a tool", err, len(tools.Tools))
	}
	res, err := cs.ListResources(ctx, nil)
	if err != nil || len(res.Resources) != 1 {
		t.Fatalf("resources: %v %v", err, res)
	}
	read, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.Resources[0].URI})
	if err != nil || len(read.Contents) != 1 || !strings.Contains(read.Contents[0].Text, "Pragmatic Programmer") {
		t.Errorf("read %s: %v %v", res.Resources[0].URI, err, read)
	}
	tpl, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tpl.ResourceTemplates) != 1 {
		t.Errorf("templates: %v %v", err, tpl)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"pattern":"(","mcp_type":"resource"}]`), 0o600)
	notJSON := filepath.Join(dir, "not.json")
	os.WriteFile(notJSON, []byte(`{"route_maps":`), 0o600)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--route-maps", bad}, []string{"--route-maps", "route_maps[0].pattern"}},
		{[]string{"--route-maps", filepath.Join(dir, "missing.json")}, []string{"--route-maps", "missing.json"}},
		{[]string{"--settings", notJSON}, []string{"--settings", "not a JSON object of tenant settings"}},
	} {
		err := cmdRun(context.Background(), append([]string{"--openapi", "x.json", "--base-url", "http://127.0.0.1:1"}, tc.args...), nil, &syncBuffer{}, &syncBuffer{})
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v does not say %q", tc.args, err, w)
			}
		}
	}
}

// TestRunStdioDrains: a client that sends its last request and closes
// stdin still gets the answer before `portico run` exits.
func TestRunStdioDrains(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			w.Write([]byte(`{"openapi":"3.0.2","info":{"title":"slow","version":"1"},"paths":{"/slow":{"get":{"operationId":"slow","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`))
			return
		}
		close(arrived)
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"done":true}`))
	}))
	defer upstream.Close()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- cmdRun(context.Background(), []string{"--openapi", upstream.URL + "/openapi.json", "--base-url", upstream.URL}, inR, outW, &syncBuffer{})
		outW.Close()
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	send := func(s string) {
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if l := <-lines; !strings.Contains(l, `"id":1`) {
		t.Fatalf("initialize answer: %s", l)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`)
	<-arrived
	inW.Close() // the client is done sending
	close(release)
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	if err := <-errc; err != nil {
		t.Errorf("portico run: %v", err)
	}
	if len(got) != 1 || !strings.Contains(got[0], `"id":2`) || !strings.Contains(got[0], `done`) {
		t.Errorf("after stdin closed, stdout carried %q; want the answer to id 2", got)
	}
}

// TestConvertPrintsEachChangeOnce: a name cut is printed as a "name cut"
// line, not again among the warnings.
func TestConvertPrintsEachChangeOnce(t *testing.T) {
	long := strings.Repeat("very_long_operation_name_", 4)
	spec := `{"openapi":"3.0.2","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"operationId":"` + long + `","responses":{"200":{"description":"ok"}}}}}}`
	specFile := filepath.Join(t.TempDir(), "openapi.json")
	os.WriteFile(specFile, []byte(spec), 0o600)
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"convert", specFile}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), strings.TrimSuffix(long, "_")); n != 1 {
		t.Errorf("the cut name's original appears %d times, want once (name cut line):\n%s", n, out.String())
	}
}
