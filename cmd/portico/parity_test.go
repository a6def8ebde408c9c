package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// parityCase is one tool call and the HTTP request it stands for.
type parityCase struct {
	name string
	tool string
	args map[string]any
	// The direct request: method, path with its query, extra headers, body.
	method, path string
	header       map[string]string
	body         []byte
}

// direct is what the upstream answered when called without Portico.
type direct struct {
	status      int
	contentType string
	body        []byte
}

// call sends c's request straight to the upstream at base.
func (c parityCase) call(t *testing.T, base string) direct {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return direct{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// checkParity compares a tool result with the direct answer under the
// mapping docs/architecture.md documents: 4xx/5xx → isError naming the
// status and quoting the body; 204 → a success carrying no data; JSON →
// structuredContent (non-objects, and results of a wrapping output schema,
// as {"result": ...}) plus the same JSON as text; text/* → the same text;
// image/* → image content with the same bytes and MIME type.
func checkParity(t *testing.T, outputSchema any, d direct, res *mcp.CallToolResult) {
	t.Helper()
	if d.status >= 400 {
		text := textOf(res)
		if !res.IsError {
			t.Fatalf("upstream answered HTTP %d but the tool result is not an error: %s", d.status, text)
		}
		if !strings.Contains(text, fmt.Sprintf("HTTP %d", d.status)) {
			t.Errorf("error result %q does not name HTTP %d", text, d.status)
		}
		if want := string(bytes.TrimSpace(d.body)); !strings.Contains(text, want) {
			t.Errorf("error result %q does not carry the upstream body %q", text, want)
		}
		return
	}
	if res.IsError {
		t.Fatalf("upstream answered HTTP %d but the tool result is an error: %s", d.status, textOf(res))
	}
	if d.status == http.StatusNoContent {
		if len(d.body) != 0 {
			t.Fatalf("a 204 with a body: %q", d.body)
		}
		// An explicit empty result: no data, whichever way it is spelled.
		if sc := structured(t, res); sc != nil && !cmp.Equal(sc, map[string]any{}) && !cmp.Equal(sc, map[string]any{"result": nil}) {
			t.Errorf("204 result carries structured content %v, want none", sc)
		}
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); !ok || strings.ContainsAny(tc.Text, "{[") {
				t.Errorf("204 result carries content %#v, want at most a note", c)
			}
		}
		return
	}
	mt, _, _ := mime.ParseMediaType(d.contentType)
	switch {
	case mt == "application/json":
		var want any
		if err := json.Unmarshal(d.body, &want); err != nil {
			t.Fatalf("upstream JSON: %v: %s", err, d.body)
		}
		wantSC := want
		if _, isObject := want.(map[string]any); !isObject || wrapsResult(outputSchema) {
			wantSC = map[string]any{"result": want}
		}
		if diff := cmp.Diff(wantSC, structured(t, res)); diff != "" {
			t.Errorf("structuredContent differs from the direct call (-want +got):\n%s", diff)
		}
		var text any
		if err := json.Unmarshal([]byte(textOf(res)), &text); err != nil || !(cmp.Equal(want, text) || cmp.Equal(wantSC, text)) {
			t.Errorf("text content %q is not the direct call's JSON %s", textOf(res), d.body)
		}
	case strings.HasPrefix(mt, "text/"):
		if got := textOf(res); got != string(d.body) {
			t.Errorf("text content = %q, want the direct body %q", got, d.body)
		}
		if res.StructuredContent != nil {
			t.Errorf("a %s answer got structured content %v", mt, res.StructuredContent)
		}
	case strings.HasPrefix(mt, "image/"):
		if len(res.Content) != 1 {
			t.Fatalf("an image answer gave %d content items, want 1", len(res.Content))
		}
		img, ok := res.Content[0].(*mcp.ImageContent)
		if !ok {
			t.Fatalf("an image answer gave %T, want image content", res.Content[0])
		}
		if img.MIMEType != mt || !bytes.Equal(img.Data, d.body) {
			t.Errorf("image content %s (%d bytes), want %s with the direct call's %d bytes", img.MIMEType, len(img.Data), mt, len(d.body))
		}
	default:
		t.Fatalf("no parity rule for content type %q", d.contentType)
	}
}

// structured returns res's structuredContent as plain JSON values.
func structured(t *testing.T, res *mcp.CallToolResult) any {
	t.Helper()
	if res.StructuredContent == nil {
		return nil
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// wrapsResult reports whether an output schema is the {"result": ...}
// wrapper Portico (like FastMCP) gives non-object results.
func wrapsResult(schema any) bool {
	b, _ := json.Marshal(schema)
	var s struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
		Wrap       bool           `json:"x-fastmcp-wrap-result"`
	}
	json.Unmarshal(b, &s)
	_, hasResult := s.Properties["result"]
	return s.Wrap || (len(s.Properties) == 1 && hasResult && len(s.Required) == 1 && s.Required[0] == "result")
}

// runParity calls every case through MCP and directly, and compares.
func runParity(ctx context.Context, t *testing.T, cs *mcp.ClientSession, upstream string, cases []parityCase) {
	t.Helper()
	schemas := map[string]any{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		schemas[tool.Name] = tool.OutputSchema
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema, ok := schemas[c.tool]
			if !ok {
				t.Fatalf("no tool %q among %d tools", c.tool, len(schemas))
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
			if err != nil {
				t.Fatal(err)
			}
			checkParity(t, schema, c.call(t, upstream), res)
		})
	}
}

// multipartBody encodes fields and one file the way a browser would.
func multipartBody(t *testing.T, fields map[string]string, field, filename, contentType string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, filename))
	h.Set("Content-Type", contentType)
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// TestParityFastAPI registers a feature-rich Debian FastAPI app (OpenAPI
// 3.0.2, testdata/parity_app.py) and checks that every call through MCP
// equals the same call made directly over HTTP, status and body.
func TestParityFastAPI(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "parity_app:app")
	p := startPortico(t, dbURL)
	_, mcpURL, token := p.register(t, "parity", fx.url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := connect(ctx, t, mcpURL, token)

	upload := []byte("weekly notes\nline 2 \x00\xff binary tail")
	uploadBody, uploadType := multipartBody(t, map[string]string{"description": "weekly"}, "file", "notes.bin", "application/octet-stream", upload)
	sum := sha256.Sum256(upload)
	tree := map[string]any{"name": "root", "children": []any{
		map[string]any{"name": "a", "children": []any{map[string]any{"name": "a1", "children": []any{}}}},
		map[string]any{"name": "b", "children": []any{}},
	}}
	treeJSON, _ := json.Marshal(tree)
	order := map[string]any{
		"customer": map[string]any{"name": "Ada", "address": map[string]any{"street": "1 Analytical Way", "city": "London"}},
		"lines":    []any{map[string]any{"sku": "gear", "qty": 3, "unit_price": 2.5}, map[string]any{"sku": "cam", "qty": 1, "unit_price": 10}},
		"note":     "fragile",
	}
	orderJSON, _ := json.Marshal(order)
	emptyOrder := map[string]any{"customer": order["customer"], "lines": []any{}}
	emptyOrderJSON, _ := json.Marshal(emptyOrder)
	jsonType := map[string]string{"Content-Type": "application/json"}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	cases := []parityCase{
		{name: "path, query, header and cookie parameters", tool: "get_item",
			args:   map[string]any{"item_id": 7, "q": "a b&c/d", "verbose": true, "x-request-id": "req-42", "session": "s3ss/on:1"},
			method: "GET", path: "/items/7?q=a+b%26c%2Fd&verbose=true",
			header: map[string]string{"X-Request-Id": "req-42", "Cookie": "session=s3ss/on:1"}},
		{name: "optional parameters left out", tool: "get_item", args: map[string]any{"item_id": 8},
			method: "GET", path: "/items/8"},
		{name: "404", tool: "get_item", args: map[string]any{"item_id": 404}, method: "GET", path: "/items/404"},
		{name: "enum and list query parameters, list response", tool: "search",
			args:   map[string]any{"color": "green", "tags": []any{"x", "y z"}, "limit": 4},
			method: "GET", path: "/search?color=green&tags=x&tags=y+z&limit=4"},
		{name: "nested models", tool: "create_order", args: order, method: "POST", path: "/orders", header: jsonType, body: orderJSON},
		{name: "422 from a model validator", tool: "create_order", args: emptyOrder, method: "POST", path: "/orders", header: jsonType, body: emptyOrderJSON},
		{name: "recursive model", tool: "summarize_tree", args: tree, method: "POST", path: "/trees", header: jsonType, body: treeJSON},
		{name: "form login", tool: "login",
			args:   map[string]any{"username": "alice", "password": "secret-alice", "scope": "read write"},
			method: "POST", path: "/token", header: form, body: []byte("username=alice&password=secret-alice&scope=read+write")},
		{name: "form login refused (401)", tool: "login", args: map[string]any{"username": "alice", "password": "guess"},
			method: "POST", path: "/token", header: form, body: []byte("username=alice&password=guess")},
		{name: "file upload", tool: "upload_file",
			args: map[string]any{"description": "weekly", "file": map[string]any{
				"content": base64.StdEncoding.EncodeToString(upload), "filename": "notes.bin", "content_type": "application/octet-stream"}},
			method: "POST", path: "/upload", header: map[string]string{"Content-Type": uploadType}, body: uploadBody},
		{name: "string response", tool: "greeting", args: map[string]any{"name": "Ada Lovelace"}, method: "GET", path: "/greeting/Ada%20Lovelace"},
		{name: "integer response", tool: "count", args: map[string]any{"of": []any{1, 2, 39}}, method: "GET", path: "/count?of=1&of=2&of=39"},
		{name: "204 No Content", tool: "delete_item", args: map[string]any{"item_id": 3}, method: "DELETE", path: "/items/3"},
		{name: "404 on delete", tool: "delete_item", args: map[string]any{"item_id": 404}, method: "DELETE", path: "/items/404"},
		{name: "text/plain response", tool: "readme", args: map[string]any{"lang": "fr"}, method: "GET", path: "/readme?lang=fr"},
		{name: "image/png response", tool: "logo", args: map[string]any{}, method: "GET", path: "/logo.png"},
	}
	runParity(ctx, t, cs, fx.url, cases)

	// The upload case compares two upstream echoes; make sure they echo
	// the right file, not merely the same wrong one.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "upload_file", Arguments: cases[9].args})
	if err != nil {
		t.Fatal(err)
	}
	if got := structured(t, res); !cmp.Equal(got, map[string]any{"filename": "notes.bin", "content_type": "application/octet-stream",
		"size": float64(len(upload)), "sha256": hex.EncodeToString(sum[:]), "description": "weekly"}) {
		t.Errorf("upload as the upstream saw it = %v", got)
	}
}
