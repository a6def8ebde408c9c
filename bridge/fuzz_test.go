package bridge

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
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
	for _, name := range []string{"testdata/request.txtar", "testdata/fastapi_310.txtar", "testdata/fastapi_302.txtar"} {
		if b, err := os.ReadFile(name); err == nil {
			if _, spec, ok := strings.Cut(string(b), "-- spec.json --\n"); ok {
				spec, _, _ = strings.Cut(spec, "\n-- ")
				f.Add([]byte(spec))
			}
		}
	}
	f.Add([]byte(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/a/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"type":"string"}],"responses":{"200":{"description":"ok"}}}}}}`))
	f.Add([]byte("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"))
	f.Fuzz(func(t *testing.T, spec []byte) {
		if len(spec) > 64<<10 {
			return
		}
		conv, err := Convert(spec, Options{})
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

// FuzzNewRequest: whatever arguments an agent sends, request building
// either refuses them or builds a request to the tenant's own upstream:
// never a panic, never another host or scheme (a path parameter holding
// "//evil.example" or "@evil" must not move the request).
func FuzzNewRequest(f *testing.F) {
	ops := specOpsFuzz(f)
	f.Add("update_item", `{"id":"../../admin","name":"x"}`)
	f.Add("add_tags", `{"item_id":1,"body":["a","b"]}`)
	f.Add("search", `{"q":"a b&c=d","tags":["x","y"]}`)
	f.Add("update_item", `{"id":"//evil.example/x","name":"@evil.example"}`)
	f.Add("update_item", `{"id":"%2F%2Fevil","name":{"nested":[1,2,{"x":null}]}}`)
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
	})
}

func specOpsFuzz(f *testing.F) map[string]*Operation {
	b, err := os.ReadFile("testdata/request.txtar")
	if err != nil {
		f.Fatal(err)
	}
	_, spec, _ := strings.Cut(string(b), "-- spec.json --\n")
	spec, _, _ = strings.Cut(spec, "\n-- ")
	conv, err := Convert([]byte(spec), Options{})
	if err != nil {
		f.Fatal(err)
	}
	ops := map[string]*Operation{}
	for _, op := range conv.Operations {
		ops[op.Name] = op
	}
	return ops
}
