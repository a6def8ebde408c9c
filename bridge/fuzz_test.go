package bridge

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
)

// Fuzz targets. Run each for a bounded time (docs/security.md):
//
//	go test ./bridge -run '^$' -fuzz '^FuzzConvert$' -fuzztime 60s
//	go test ./bridge -run '^$' -fuzz '^FuzzNewRequest$' -fuzztime 60s
//
// Seeds live in testdata/fuzz/<target>; crashers the fuzzer finds land there
// too and then run as regression tests in every plain `go test`.

// FuzzConvert: any bytes a tenant serves as its spec must convert or fail
// with an error, never panic, and every tool it yields must be one the MCP
// SDK accepts (AddTool panics on a non-object input schema).
func FuzzConvert(f *testing.F) {
	// One realistic FastAPI document; the rest are small on purpose, so the
	// fuzzer spends its time mutating instead of parsing 16 KB documents.
	for _, name := range []string{"testdata/request.txtar"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		_, spec, _ := strings.Cut(string(b), "-- spec.json --\n")
		spec, _, _ = strings.Cut(spec, "\n-- ")
		f.Add([]byte(spec))
	}
	for _, s := range convertSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, spec []byte) {
		// libopenapi's cost grows with the document; mutations of the seeds
		// stay far below this, and 16 KB keeps one exec in milliseconds.
		if len(spec) > maxFuzzSpec {
			return
		}
		conv, err := Convert(spec, openapi.Options{}, "")
		if err != nil {
			return
		}
		for _, op := range conv.Operations {
			var s struct {
				Type any `json:"type"`
			}
			if err := json.Unmarshal(op.InputSchema, &s); err != nil || s.Type != "object" {
				t.Fatalf("operation %s: input schema %s is not a JSON object schema", op.Name, op.InputSchema)
			}
			if op.Name == "" || len(op.Name) > 64 || op.Description == "" {
				t.Fatalf("operation %+v: bad name or empty description", op)
			}
		}
	})
}

const maxFuzzSpec = 16 << 10

// convertSeeds are small documents of each dialect, with the shapes that
// have broken converters before: reference cycles (direct, through allOf,
// through arrays and additionalProperties), refs to missing or non-schema
// targets, JSON-pointer escapes, $ref siblings (3.1), nullable and type
// arrays, odd path keys, and YAML anchors.
var convertSeeds = []string{
	// External references of every kind (removed before parsing, external.go).
	"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    post:\n      parameters: [{$ref: 'p.yaml#/P'}]\n      requestBody: {$ref: 'b.yaml#/B'}\n      responses: {'200': {$ref: 'r.yaml#/R'}}\n  /b: {$ref: 'x.yaml#/b'}\n  /c:\n    put:\n      requestBody:\n        content: {application/json: {schema: {type: object, properties: {x: {$ref: 'https://e.example/s.json#/X'}}, required: [x]}}}\n      responses: {'200': {description: ok}}\ncomponents:\n  schemas:\n    A: &a {$ref: 's.yaml#/A'}\n    B: *a\n",
	`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"type":"string"}],"responses":{"200":{"description":"ok"}}}}}}`,
	`{"swagger":"2.0","info":{"title":"t","version":"1"},"basePath":"/v1","consumes":["application/x-www-form-urlencoded"],"paths":{"/p":{"post":{"operationId":"p","parameters":[{"name":"f","in":"formData","type":"file"},{"name":"b","in":"body","schema":{"$ref":"#/definitions/T"}}],"responses":{"200":{"description":"ok","schema":{"type":"array","items":{"$ref":"#/definitions/T"}}}}}}},"definitions":{"T":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/definitions/T"}}}}}}`,
	"openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
	`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}},"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/B"}}}}}}}},"components":{"schemas":{"A":{"allOf":[{"$ref":"#/components/schemas/B"}],"nullable":true},"B":{"type":"object","additionalProperties":{"$ref":"#/components/schemas/A"},"properties":{"a":{"type":"array","items":{"$ref":"#/components/schemas/A"}}}}}}}`,
	`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x/{a~1b}":{"parameters":[{"name":"a~1b","in":"path","required":true,"schema":{"type":["string","null"]}}],"get":{"operationId":"x__y","parameters":[{"name":"q","in":"query","schema":{"$ref":"#/components/schemas/Q","description":"sibling"}},{"name":"h","in":"header","schema":{"const":1}},{"name":"c","in":"cookie","schema":{"enum":["a",1,null]}}],"responses":{"default":{"description":"d"}}}}},"components":{"schemas":{"Q":{"oneOf":[{"$ref":"#/components/schemas/Q"},{"type":"integer","exclusiveMinimum":0}]}}}}`,
	`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/r":{"get":{"responses":{"200":{"$ref":"#/components/responses/Missing"}}},"put":{"requestBody":{"$ref":"#/paths/~1r/get"},"responses":{}}},"/":{"delete":{"parameters":[{"$ref":"#/components/schemas/NotAParam"}]}}},"components":{"schemas":{"NotAParam":{"type":"string"}}}}`,
	`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/d":{"get":{"operationId":"d","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$defs":{"n":{"$ref":"#/$defs/n"}},"$ref":"#"}}}}}}}},"webhooks":{"w":{"post":{"responses":{}}}}}`,
	`{"openapi":"3.0.2","info":{"title":"t","version":"1"},"servers":[{"url":"https://{h}.example/{v}","variables":{"h":{"default":"api"},"v":{"default":"v2","enum":["v2"]}}}],"paths":{"/f":{"post":{"operationId":"f","tags":["a"],"requestBody":{"required":true,"content":{"multipart/form-data":{"schema":{"type":"object","properties":{"file":{"type":"string","format":"binary"}}}},"text/plain":{"schema":{"type":"string"}}}},"responses":{"204":{"description":"none"}}}}}}`,
	"openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /y:\n    get:\n      parameters:\n        - &p {name: a, in: query, schema: {type: integer, default: 'x'}}\n        - *p\n      responses: {'200': {description: ok}}\n",
}

// FuzzNewRequest: whatever arguments an agent sends, request building
// either refuses them or builds a request to the tenant's own upstream:
// never a panic, never another host or scheme (a path parameter holding
// "//evil.example" or "@evil" must not move the request).
func FuzzNewRequest(f *testing.F) {
	ops := specOpsFuzz(f)
	f.Add("update_item", `{"id__path":"../../admin","name":"x"}`)
	f.Add("update_item", `{"id__path":"//evil.example/x","id__query":"@evil.example","name":"n"}`)
	f.Add("update_item", `{"id__path":"%2F%2Fevil","id":"a\r\nHost: evil","name":{"nested":[1,2,{"x":null}]}}`)
	f.Add("update_item", `{"id__path":"http://evil.example","name":"?#"}`)
	f.Add("add_tags", `{"item_id":1,"body":["a","b"]}`)
	f.Add("search", `{"csv":["a,b","c"],"space":["a b"],"pipe":["a|b"],"filter":{"x":{"y":[1,{"z":null}]}},"where":"w"}`)
	f.Add("login", `{"username":"a\r\nX-Injected: 1","password":"p&q=r","scope":["a b","c"]}`)
	f.Add("upload_file", `{"files":[{"filename":"../../etc/passwd","content":"aGk="},{"content":"!!"}]}`)
	f.Add("put_avatar", `{"image":{"content":"AAECAw==","filename":"a\r\nb","media_type":"text/html\r\nX: y"}}`)
	f.Add("PostCustomers", `{"email":"a@b","metadata":{"a[b]":"c","d":"e&f=g"},"expand":["x","y[z]"]}`)
	f.Add("addPet", `{"name":"rex","photoUrls":["http://x"],"category":{"id":1},"status":"sold"}`)
	f.Add("findPetsByStatus", `{"status":["available","sold,pending"],"fields":[],"limit":1e300}`)
	f.Add("updatePetWithForm", `{"petId":-9223372036854775808,"name":"n","status":"s"}`)
	f.Add("uploadFile", `{"petId":1,"additionalMetadata":"m","file":{"content":"eA==","filename":"\"q\".txt"}}`)
	f.Add("uploadImage", `{"petId":1.5,"body":{"content":"eA=="}}`)
	f.Add("createUsersWithArrayInput", `{"body":[{"username":"u"},null,[]]}`)
	f.Fuzz(func(t *testing.T, name, args string) {
		op := ops[name]
		if op == nil {
			return
		}
		a, err := decodeArgs(json.RawMessage(args))
		if err != nil {
			return
		}
		req, err := op.NewRequest(context.Background(), "https://upstream.example/base/", a)
		if err != nil {
			return
		}
		if req.URL.Scheme != "https" || req.URL.Host != "upstream.example" || req.URL.User != nil {
			t.Fatalf("args %s moved the request to %s", args, req.URL)
		}
		if u, err := url.Parse(req.URL.String()); err != nil || u.Host != "upstream.example" {
			t.Fatalf("args %s: the URL as sent reparses to host %v (%v)", args, u, err)
		}
		if !strings.HasPrefix(req.URL.EscapedPath(), "/base/") {
			t.Fatalf("args %s: path %s escaped the base path", args, req.URL.EscapedPath())
		}
		for k, vs := range req.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("args %s: header %q: %q carries a line break or NUL", args, k, v)
				}
			}
		}
	})
}

// specOpsFuzz converts the golden specs that exercise request building
// (path, query, header and cookie parameters, JSON, form, deepObject,
// multipart and raw bodies, Swagger 2 formData) and returns their
// operations by tool name.
func specOpsFuzz(f *testing.F) map[string]*openapi.Operation {
	ops := map[string]*openapi.Operation{}
	for _, name := range []string{"testdata/request.txtar", "testdata/upload.txtar", "testdata/swagger2.txtar"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		_, spec, ok := strings.Cut(string(b), "-- spec.json --\n")
		if !ok {
			_, spec, _ = strings.Cut(string(b), "-- spec.yaml --\n")
		}
		spec, _, _ = strings.Cut(spec, "\n-- ")
		conv, err := Convert([]byte(spec), openapi.Options{}, "")
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		for _, op := range conv.Operations {
			if ops[op.Name] != nil {
				f.Fatalf("%s: tool %s is also in another seed spec", name, op.Name)
			}
			ops[op.Name] = op
		}
	}
	return ops
}
