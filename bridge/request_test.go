package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/portico-mcp/portico/bridge/openapi"
	"golang.org/x/tools/txtar"
)

// seen is what the test upstream received.
type seen struct {
	Method string
	URI    string // raw request URI: escaped path and query as sent
	Header map[string]string
	Body   string
	Parts  []string // multipart parts as name|filename|content type|content
}

func upstream(t *testing.T) (*httptest.Server, *seen) {
	t.Helper()
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{Method: r.Method, URI: r.RequestURI, Header: map[string]string{}}
		for _, h := range []string{"Content-Type", "Cookie", "X-Request-Id", "X-Trace"} {
			if v := r.Header.Get(h); v != "" {
				got.Header[h] = v
			}
		}
		if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			got.Header["Content-Type"] = mt
			mr := multipart.NewReader(r.Body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				got.Parts = append(got.Parts, p.FormName()+"|"+p.FileName()+"|"+p.Header.Get("Content-Type")+"|"+string(b))
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		got.Body = string(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func specOps(t *testing.T, file string) map[string]*openapi.Operation {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var spec []byte
	for _, f := range ar.Files {
		if f.Name == "spec.json" || f.Name == "spec.yaml" {
			spec = f.Data
		}
	}
	conv, err := Convert(spec, openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	ops := make(map[string]*openapi.Operation)
	for _, op := range conv.Operations {
		ops[op.Name] = op
	}
	return ops
}

func TestNewRequest(t *testing.T) {
	ops := specOps(t, "testdata/fastapi_302.txtar")
	for _, f := range []string{"testdata/request.txtar", "testdata/upload.txtar"} {
		for name, op := range specOps(t, f) {
			ops[name] = op
		}
	}
	tests := []struct {
		name   string
		op     string
		prefix string // path prefix on the base URL
		args   map[string]any
		want   seen
	}{
		{
			name: "path param and default query",
			op:   "read_user_users",
			args: map[string]any{"user_id": float64(42)},
			want: seen{Method: "GET", URI: "/users/42", Header: map[string]string{}},
		},
		{
			name:   "base URL with a path prefix",
			op:     "read_user_users",
			prefix: "/api/v1/",
			args:   map[string]any{"user_id": float64(7), "verbose": true},
			want:   seen{Method: "GET", URI: "/api/v1/users/7?verbose=true", Header: map[string]string{}},
		},
		{
			name: "query array explode, header, cookie, unknown args ignored",
			op:   "list_users_users_get",
			args: map[string]any{
				"limit": float64(5), "sort": "desc", "tags": []any{"a b", "c&d"},
				"x-request-id": "r1", "session": "s 1/a:b;c", "bogus": 1,
			},
			want: seen{
				Method: "GET",
				URI:    "/users?limit=5&sort=desc&tags=a+b&tags=c%26d",
				Header: map[string]string{"X-Request-Id": "r1", "Cookie": "session=s%201/a:b%3Bc"},
			},
		},
		{
			name: "flattened JSON body gathered back",
			op:   "create_user_users_post",
			args: map[string]any{"name": "Ann", "address": map[string]any{"street": "Main"}},
			want: seen{
				Method: "POST", URI: "/users",
				Header: map[string]string{"Content-Type": "application/json"},
				Body:   `{"name":"Ann","address":{"street":"Main"}}`,
			},
		},
		{
			name: "null is a value for a required nullable body property",
			op:   "create_user_users_post",
			args: map[string]any{"name": "Ann", "address": nil},
			want: seen{
				Method: "POST", URI: "/users",
				Header: map[string]string{"Content-Type": "application/json"},
				Body:   `{"name":"Ann","address":null}`,
			},
		},
		{
			name: "path escaping and collision suffixes",
			op:   "update_item",
			args: map[string]any{"id__path": "a/b c", "id__query": "q", "id": "body-id", "name": "n"},
			want: seen{
				Method: "PUT", URI: "/items/a%2Fb%20c?id=q",
				Header: map[string]string{"Content-Type": "application/json"},
				Body:   `{"id":"body-id","name":"n"}`,
			},
		},
		{
			name: "non-object body under body",
			op:   "add_tags",
			args: map[string]any{"item_id": float64(1), "body": []any{"x", "y"}},
			want: seen{
				Method: "POST", URI: "/items/1/tags",
				Header: map[string]string{"Content-Type": "application/json"},
				Body:   `["x","y"]`,
			},
		},
		{
			name: "query styles",
			op:   "search",
			args: map[string]any{
				"csv": []any{"a", "b"}, "space": []any{"a", "b"}, "pipe": []any{"a", "b"},
				"filter": map[string]any{"color": "red", "size": float64(2)},
			},
			want: seen{
				Method: "GET",
				URI:    "/search?csv=a,b&space=a%20b&pipe=a|b&filter%5Bcolor%5D=red&filter%5Bsize%5D=2",
				Header: map[string]string{},
			},
		},
		{
			name: "JSON content parameter and object query styles",
			op:   "search",
			args: map[string]any{
				"where": map[string]any{"a": float64(1)},
				"obj":   map[string]any{"r": float64(1), "g": float64(2)},
				"flat":  map[string]any{"r": float64(1), "g": float64(2)},
			},
			want: seen{
				Method: "GET",
				URI:    "/search?where=%7B%22a%22%3A1%7D&g=2&r=1&flat=g,2,r,1",
				Header: map[string]string{},
			},
		},
		{
			name:   "base URL with a query string",
			op:     "search",
			prefix: "/v2?api-version=3",
			args:   map[string]any{"csv": []any{"x"}},
			want:   seen{Method: "GET", URI: "/v2/search?api-version=3&csv=x", Header: map[string]string{}},
		},
		{
			name: "form body",
			op:   "login",
			args: map[string]any{"username": "a@b.c", "password": "p w", "scope": []any{"r", "w"}},
			want: seen{
				Method: "POST", URI: "/login",
				Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
				Body:   "username=a%40b.c&password=p+w&scope=r&scope=w",
			},
		},
		{
			name: "multipart files and fields",
			op:   "upload_file",
			args: map[string]any{
				"files": []any{
					map[string]any{"content": "aGVsbG8=", "filename": "a.txt", "content_type": "text/plain"},
					"d29ybGQ", // bare base64, unpadded
				},
				"meta": "m",
			},
			want: seen{
				Method: "POST", URI: "/file-upload",
				Header: map[string]string{"Content-Type": "multipart/form-data"},
				Parts: []string{
					"files|a.txt|text/plain|hello",
					"files|files|application/octet-stream|world",
					"meta|||m",
				},
			},
		},
		{
			name: "multipart with encoding content type and a JSON part",
			op:   "put_avatar",
			args: map[string]any{"image": map[string]any{"content": "iVBO"}, "meta": map[string]any{"alt": "me"}},
			want: seen{
				Method: "PUT", URI: "/avatar",
				Header: map[string]string{"Content-Type": "multipart/form-data"},
				Parts: []string{
					"image|image|image/png|\x89PN",
					`meta||application/json|{"alt":"me"}`,
				},
			},
		},
		{
			name: "raw binary body",
			op:   "uploadImage",
			args: map[string]any{"petId": float64(3), "body": map[string]any{"content": "AAEC", "content_type": "image/jpeg"}},
			want: seen{
				Method: "POST", URI: "/pet/3/uploadImage",
				Header: map[string]string{"Content-Type": "image/jpeg"},
				Body:   "\x00\x01\x02",
			},
		},
		{
			name: "form body with deepObject encoding",
			op:   "PostCustomers",
			args: map[string]any{"email": "a@b.c", "metadata": map[string]any{"k": "v"}, "expand": []any{"x", "y"}},
			want: seen{
				Method: "POST", URI: "/v1/customers",
				Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
				Body:   "email=a%40b.c&metadata%5Bk%5D=v&expand%5B0%5D=x&expand%5B1%5D=y",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, ok := ops[tt.op]
			if !ok {
				t.Fatalf("no operation %q", tt.op)
			}
			srv, got := upstream(t)
			req, err := op.NewRequest(context.Background(), srv.URL+tt.prefix, tt.args)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("upstream saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewRequestMissingArgument(t *testing.T) {
	ops := specOps(t, "testdata/fastapi_302.txtar")
	for name, op := range specOps(t, "testdata/upload.txtar") {
		ops[name] = op
	}
	tests := []struct {
		name string
		op   string
		args map[string]any
		want string
	}{
		{"path parameter", "read_user_users", map[string]any{"verbose": true}, "user_id"},
		{"null path parameter", "read_user_users", map[string]any{"user_id": nil}, "user_id"},
		{"body property", "create_user_users_post", map[string]any{"name": "Ann"}, "address"},
		{"whole body", "create_user_users_post", map[string]any{}, "name"},
		{"file", "upload_file", map[string]any{"meta": "m"}, "files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ops[tt.op].NewRequest(context.Background(), "http://upstream.test", tt.args)
			var me *openapi.MissingArgumentError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *MissingArgumentError", err)
			}
			if me.Arg != tt.want {
				t.Errorf("missing %q, want %q (error: %v)", me.Arg, tt.want, err)
			}
		})
	}
}

func TestNewRequestBadValues(t *testing.T) {
	ops := specOps(t, "testdata/fastapi_302.txtar")
	for name, op := range specOps(t, "testdata/upload.txtar") {
		ops[name] = op
	}
	tests := []struct {
		name string
		op   string
		args map[string]any
		want string
	}{
		{"empty path parameter", "read_user_users", map[string]any{"user_id": ""}, `"user_id"`},
		{"header with a line break", "list_users_users_get", map[string]any{"x-request-id": "a\r\nX-Evil: 1"}, `"x-request-id"`},
		{"file that is not base64", "upload_file", map[string]any{"files": []any{"***"}}, `"files"`},
		{"file without content", "upload_file", map[string]any{"files": map[string]any{"filename": "a"}}, `"files"`},
		{"bad base URL", "read_user_users", map[string]any{"user_id": 1}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "http://upstream.test"
			if tt.want == "base URL" {
				base = "http://[::1"
			}
			_, err := ops[tt.op].NewRequest(context.Background(), base, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

// TestOperationRoundTrip checks that operations survive JSON (the tool-set
// cache stores them so) and still build the same request.
func TestOperationRoundTrip(t *testing.T) {
	ops := specOps(t, "testdata/request.txtar")
	op := ops["update_item"]
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	var back openapi.Operation
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(op, &back, cmpopts.IgnoreUnexported(openapi.Operation{})); diff != "" {
		t.Fatalf("round trip changed the operation (-want +got):\n%s", diff)
	}
	args := map[string]any{"id__path": "x", "name": "n"}
	r1, err := op.NewRequest(context.Background(), "http://h/p", args)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := back.NewRequest(context.Background(), "http://h/p", args)
	if err != nil {
		t.Fatal(err)
	}
	if r1.URL.String() != r2.URL.String() {
		t.Errorf("URLs differ: %s vs %s", r1.URL, r2.URL)
	}
}

// TestNewRequestPathArguments: a path argument stays inside its segment.
// Reserved characters are percent-encoded, so ?, # and / never start a
// query, a fragment or a new segment; a value that is, or decodes to, a dot
// segment (".", "..", "%2e%2e", "../admin") is refused with a tool error
// naming the argument, since an upstream or a proxy in front of it would
// resolve it to another route.
func TestNewRequestPathArguments(t *testing.T) {
	ops := specOps(t, "testdata/fastapi_302.txtar")
	op := ops["read_user_users"] // GET /users/{user_id}
	label := &openapi.Operation{Method: "GET", Path: "/files/{name}",
		Params: []openapi.Param{{Arg: "name", Name: "name", In: "path", Style: "label", Required: true}}}
	twoInOne := &openapi.Operation{Method: "GET", Path: "/files/{a}{b}",
		Params: []openapi.Param{{Arg: "a", Name: "a", In: "path", Required: true}, {Arg: "b", Name: "b", In: "path", Required: true}}}
	tests := []struct {
		name string
		op   *openapi.Operation
		args map[string]any
		want string // the request URI the upstream sees, or "refused NAME"
	}{
		{"two dots", op, map[string]any{"user_id": ".."}, `refused "user_id"`},
		{"one dot", op, map[string]any{"user_id": "."}, `refused "user_id"`},
		{"encoded dots", op, map[string]any{"user_id": "%2e%2e"}, `refused "user_id"`},
		{"encoded dots, uppercase", op, map[string]any{"user_id": "%2E%2E"}, `refused "user_id"`},
		{"half encoded", op, map[string]any{"user_id": ".%2e"}, `refused "user_id"`},
		{"encoded one dot", op, map[string]any{"user_id": "%2e"}, `refused "user_id"`},
		{"double encoded", op, map[string]any{"user_id": "%252e%252e"}, `refused "user_id"`},
		{"dots then a slash", op, map[string]any{"user_id": "../admin"}, `refused "user_id"`},
		{"dots then an encoded slash", op, map[string]any{"user_id": "..%2fadmin"}, `refused "user_id"`},
		{"dots inside", op, map[string]any{"user_id": "a/../b"}, `refused "user_id"`},
		{"dots then a backslash", op, map[string]any{"user_id": `..\admin`}, `refused "user_id"`},
		{"trailing dot segment", op, map[string]any{"user_id": "a/.."}, `refused "user_id"`},
		{"label style makes two dots", label, map[string]any{"name": "."}, `refused "name"`},
		{"two arguments make two dots", twoInOne, map[string]any{"a": ".", "b": "."}, `refused "b"`},
		{"slash is encoded", op, map[string]any{"user_id": "a/b"}, "/users/a%2Fb"},
		{"question mark is encoded", op, map[string]any{"user_id": "a?b=1"}, "/users/a%3Fb=1"},
		{"hash is encoded", op, map[string]any{"user_id": "a#b"}, "/users/a%23b"},
		{"percent is encoded", op, map[string]any{"user_id": "%41"}, "/users/%2541"},
		{"three dots are a name", op, map[string]any{"user_id": "..."}, "/users/..."},
		{"leading dot", op, map[string]any{"user_id": ".hidden"}, "/users/.hidden"},
		{"dots in the middle", op, map[string]any{"user_id": "a..b"}, "/users/a..b"},
		{"label style", label, map[string]any{"name": "x"}, "/files/.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := upstream(t)
			req, err := tt.op.NewRequest(context.Background(), srv.URL, tt.args)
			if arg, ok := strings.CutPrefix(tt.want, "refused "); ok {
				if err == nil {
					t.Fatalf("built %s, want a refusal naming %s", req.URL.EscapedPath(), arg)
				}
				if !strings.Contains(err.Error(), "argument "+arg) || !strings.Contains(err.Error(), "dot segment") {
					t.Errorf("error %q: want one naming argument %s and saying why", err, arg)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.URI != tt.want {
				t.Errorf("upstream saw %q, want %q", got.URI, tt.want)
			}
		})
	}
}
