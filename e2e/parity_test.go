package e2e

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
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
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
// mapping docs/clients.md documents: 4xx/5xx → isError naming the
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

type filePart struct {
	field, filename, contentType string
	content                      []byte
}

// multipartFiles encodes files, then fields (in order, names may repeat),
// the way a browser would.
func multipartFiles(t *testing.T, files []filePart, fields [][2]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range files {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.filename))
		h.Set("Content-Type", f.contentType)
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(f.content)
	}
	for _, kv := range fields {
		w.WriteField(kv[0], kv[1])
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
	uploadBody, uploadType := multipartFiles(t, []filePart{{"file", "notes.bin", "application/octet-stream", upload}}, [][2]string{{"description", "weekly"}})
	sum := sha256.Sum256(upload)
	bundleBody, bundleType := multipartFiles(t, []filePart{{"files", "1.txt", "text/plain", []byte("one")}, {"files", "2.bin", "application/octet-stream", upload}},
		[][2]string{{"labels", "x"}, {"labels", "y"}})
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
		{name: "string response, non-ASCII path parameter", tool: "greeting", args: map[string]any{"name": "Zoë & Ünal"},
			method: "GET", path: "/greeting/Zo%C3%AB%20%26%20%C3%9Cnal"},
		{name: "path parameter and body property of one name", tool: "put_note",
			args:   map[string]any{"title__path": "in path é", "title": "in body", "text": "x", "draft": true},
			method: "PUT", path: "/notes/in%20path%20%C3%A9?draft=true", header: jsonType, body: []byte(`{"title":"in body","text":"x"}`)},
		{name: "several files and a repeated form field", tool: "upload_bundle",
			args: map[string]any{"labels": []any{"x", "y"}, "files": []any{
				map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("one")), "filename": "1.txt", "content_type": "text/plain"},
				map[string]any{"content": base64.StdEncoding.EncodeToString(upload), "filename": "2.bin"}}},
			method: "POST", path: "/bundle", header: map[string]string{"Content-Type": bundleType}, body: bundleBody},
		{name: "null response", tool: "maybe", args: map[string]any{}, method: "GET", path: "/maybe"},
		{name: "integer or null response, integer", tool: "maybe", args: map[string]any{"present": true}, method: "GET", path: "/maybe?present=true"},
		{name: "500 from an unhandled exception", tool: "boom", args: map[string]any{}, method: "GET", path: "/boom"},
		{name: "integer response", tool: "count", args: map[string]any{"of": []any{1, 2, 39}}, method: "GET", path: "/count?of=1&of=2&of=39"},
		{name: "204 No Content", tool: "delete_item", args: map[string]any{"item_id": 3}, method: "DELETE", path: "/items/3"},
		{name: "404 on delete", tool: "delete_item", args: map[string]any{"item_id": 404}, method: "DELETE", path: "/items/404"},
		{name: "text/plain response", tool: "readme", args: map[string]any{"lang": "fr"}, method: "GET", path: "/readme?lang=fr"},
		{name: "image/png response", tool: "logo", args: map[string]any{}, method: "GET", path: "/logo.png"},
	}
	runParity(ctx, t, cs, fx.url, cases)

	// The upload case compares two upstream echoes; make sure they echo
	// the right file, not merely the same wrong one.
	for _, c := range cases {
		if c.tool != "upload_file" {
			continue
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatal(err)
		}
		if got := structured(t, res); !cmp.Equal(got, map[string]any{"filename": "notes.bin", "content_type": "application/octet-stream",
			"size": float64(len(upload)), "sha256": hex.EncodeToString(sum[:]), "description": "weekly"}) {
			t.Errorf("upload as the upstream saw it = %v", got)
		}
	}
}

// corpusSpec reads one document of the OpenAPI corpus (../shared/specs
// next to the repository). A clone without the corpus skips; CI, which
// always has it, fails.
func corpusSpec(t *testing.T, file string) []byte {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "specs", file)
	b, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("OpenAPI corpus document %s not found (%v): the test needs ../shared/specs next to the repository", file, err)
		harness.SkipOrFail(t, msg)
	}
	return b
}

// templateSecret is the bearer secret the template stub demands, stored as
// the tenant's upstream credential.
const templateSecret = "stub-secret-2448"

// templateStub serves the FastAPI template's 3.1 document (corpus
// full-stack-fastapi-template-pr2448) and a handful of its operations with
// canned answers that echo what the request carried, so that a request
// Portico built wrongly (path, query, body, content type, credential)
// answers differently from the direct one. Errors are FastAPI-shaped.
func templateStub(t *testing.T, doc []byte) string {
	t.Helper()
	const owner = "0b5c2f5e-8a7c-4d8e-9f61-3d2a1c0e9b71"
	known := "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	detail := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"detail": v})
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+templateSecret {
				w.Header().Set("WWW-Authenticate", "Bearer")
				detail(w, 401, "Not authenticated")
				return
			}
			h(w, r)
		}
	}
	uuidPath := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		id := r.PathValue("id")
		if len(id) != 36 || strings.Count(id, "-") != 4 {
			detail(w, 422, []any{map[string]any{"type": "uuid_parsing", "loc": []any{"path", "id"},
				"msg": "Input should be a valid UUID", "input": id}})
			return "", false
		}
		if id != known {
			detail(w, 404, "Item not found")
			return "", false
		}
		return id, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	mux.HandleFunc("POST /api/v1/login/access-token", func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			detail(w, 415, "expected a form, got "+mt)
			return
		}
		r.ParseForm()
		if r.PostForm.Get("password") != "pw-"+r.PostForm.Get("username") {
			detail(w, 400, "Incorrect email or password")
			return
		}
		reply(w, 200, map[string]any{"access_token": "tok." + r.PostForm.Encode(), "token_type": "bearer"})
	})
	mux.HandleFunc("GET /api/v1/items/", authed(func(w http.ResponseWriter, r *http.Request) {
		skip, limit := 0, 100
		fmt.Sscan(r.URL.Query().Get("skip"), &skip)
		fmt.Sscan(r.URL.Query().Get("limit"), &limit)
		data := []any{}
		for i := skip; i < skip+min(limit, 3); i++ {
			data = append(data, map[string]any{"title": fmt.Sprintf("item %d", i), "description": "query: " + r.URL.RawQuery,
				"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "owner_id": owner})
		}
		reply(w, 200, map[string]any{"data": data, "count": limit})
	}))
	mux.HandleFunc("GET /api/v1/items/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := uuidPath(w, r); ok {
			reply(w, 200, map[string]any{"title": "known", "description": nil, "id": id, "owner_id": owner})
		}
	}))
	mux.HandleFunc("PUT /api/v1/items/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		id, ok := uuidPath(w, r)
		if !ok {
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			detail(w, 415, "expected JSON, got "+mt)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			detail(w, 422, []any{map[string]any{"type": "json_invalid", "loc": []any{"body"}, "msg": err.Error()}})
			return
		}
		canon, _ := json.Marshal(body) // sorted keys: the echo ignores property order
		title, _ := body["title"].(string)
		reply(w, 200, map[string]any{"title": title, "description": "body: " + string(canon), "id": id, "owner_id": owner})
	}))
	mux.HandleFunc("DELETE /api/v1/items/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := uuidPath(w, r); ok {
			reply(w, 200, map[string]any{"message": "Item deleted successfully"})
		}
	}))
	mux.HandleFunc("POST /api/v1/documents/", authed(func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("file")
		if err != nil {
			detail(w, 422, []any{map[string]any{"type": "missing", "loc": []any{"body", "file"}, "msg": err.Error()}})
			return
		}
		content, _ := io.ReadAll(f)
		sum := sha256.Sum256(content)
		reply(w, 200, map[string]any{"filename": h.Filename, "content_type": h.Header.Get("Content-Type"), "size": len(content),
			"s3_key": hex.EncodeToString(sum[:]), "s3_url": nil, "extracted_text": string(content),
			"id": "11111111-2222-4333-8444-555555555555", "owner_id": owner})
	}))
	mux.HandleFunc("GET /api/v1/utils/health-check/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, true)
	})
	mux.HandleFunc("POST /api/v1/utils/test-email/", authed(func(w http.ResponseWriter, r *http.Request) {
		reply(w, 201, map[string]any{"message": "Test email sent to " + r.URL.Query().Get("email_to")})
	}))
	mux.HandleFunc("POST /api/v1/password-recovery-html-content/{email}", authed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<p>Reset the password of %s</p>\n<!-- raw path: %s -->\n", r.PathValue("email"), r.URL.EscapedPath())
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestParityOpenAPI31 is the parity test for an OpenAPI 3.1 document from
// the corpus (the FastAPI template, pydantic v2: anyOf+null, an OAuth2
// password form, a multipart upload), served with its operations by a Go
// stub: every call through MCP equals the direct call.
func TestParityOpenAPI31(t *testing.T) {
	doc := corpusSpec(t, "full-stack-fastapi-template-pr2448__openapi.json")
	if !bytes.Contains(doc, []byte(`"openapi": "3.1`)) && !bytes.Contains(doc, []byte(`"openapi":"3.1`)) {
		t.Fatal("the template document is no longer OpenAPI 3.1")
	}
	stub := templateStub(t, doc)
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "template", "base_url": stub}, 201, &created)
	p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/credentials/upstream", map[string]any{"type": "bearer", "value": templateSecret}, 204, nil)
	token := p.token(t, created.ID)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := connect(ctx, t, created.MCPURL, token)

	runParity(ctx, t, cs, stub, templateParityCases(t))
}

// templateParityCases are the parity calls of the FastAPI template's
// operations (templateStub): forms, queries, paths, JSON with nulls,
// multipart, non-object and text answers, and upstream errors.
func templateParityCases(t *testing.T) []parityCase {
	const known = "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	auth := map[string]string{"Authorization": "Bearer " + templateSecret}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	doc1 := []byte("%PDF-1.4 pretend\nsecond line")
	docBody, docType := multipartFiles(t, []filePart{{"file", "exam.pdf", "application/pdf", doc1}}, nil)
	return []parityCase{
		{name: "form login", tool: "login-login_access_token",
			args:   map[string]any{"username": "ada@example.com", "password": "pw-ada@example.com", "scope": "items:read items:write"},
			method: "POST", path: "/api/v1/login/access-token",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body:   []byte("username=ada%40example.com&password=pw-ada%40example.com&scope=items%3Aread+items%3Awrite")},
		{name: "form login refused (400)", tool: "login-login_access_token", args: map[string]any{"username": "ada", "password": "nope"},
			method: "POST", path: "/api/v1/login/access-token",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: []byte("username=ada&password=nope")},
		{name: "query parameters", tool: "items-read_items", args: map[string]any{"skip": 5, "limit": 2},
			method: "GET", path: "/api/v1/items/?skip=5&limit=2", header: auth},
		{name: "path parameter", tool: "items-read_item", args: map[string]any{"id": known},
			method: "GET", path: "/api/v1/items/" + known, header: auth},
		{name: "404", tool: "items-read_item", args: map[string]any{"id": "00000000-0000-4000-8000-000000000000"},
			method: "GET", path: "/api/v1/items/00000000-0000-4000-8000-000000000000", header: auth},
		{name: "422 for a malformed UUID", tool: "items-read_item", args: map[string]any{"id": "not-a-uuid"},
			method: "GET", path: "/api/v1/items/not-a-uuid", header: auth},
		{name: "JSON body with a null (anyOf+null)", tool: "items-update_item",
			args:   map[string]any{"id": known, "title": "renamed", "description": nil},
			method: "PUT", path: "/api/v1/items/" + known, header: with(auth, "Content-Type", "application/json"),
			body: []byte(`{"title":"renamed","description":null}`)},
		{name: "delete answers a message", tool: "items-delete_item", args: map[string]any{"id": known},
			method: "DELETE", path: "/api/v1/items/" + known, header: auth},
		{name: "multipart upload", tool: "documents-create_document",
			args: map[string]any{"file": map[string]any{"content": base64.StdEncoding.EncodeToString(doc1),
				"filename": "exam.pdf", "content_type": "application/pdf"}},
			method: "POST", path: "/api/v1/documents/", header: with(auth, "Content-Type", docType), body: docBody},
		{name: "boolean response", tool: "utils-health_check", args: map[string]any{}, method: "GET", path: "/api/v1/utils/health-check/"},
		{name: "201 with a required query parameter", tool: "utils-test_email", args: map[string]any{"email_to": "ops+alerts@example.com"},
			method: "POST", path: "/api/v1/utils/test-email/?email_to=ops%2Balerts%40example.com", header: auth},
		{name: "text/html response, escaped path", tool: "login-recover_password_html_content",
			args:   map[string]any{"email": "a b/c@example.com"},
			method: "POST", path: "/api/v1/password-recovery-html-content/a%20b%2Fc@example.com", header: auth},
	}
}
