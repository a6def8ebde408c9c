package bridge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
)

// validateSpec has one tool per shape argument validation must handle: a
// 3.1 FastAPI-style query with bounds and an optional (anyOf+null) param, a
// nested model with a recursive child and an array of strings, a 3.0
// nullable enum, a file upload, and formats Portico must not enforce.
const validateSpec = `{"openapi":"3.1.0","info":{"title":"v","version":"1"},"paths":{
"/pets":{"get":{"operationId":"list_pets","parameters":[
  {"name":"limit","in":"query","schema":{"type":"integer","minimum":1,"maximum":100}},
  {"name":"name","in":"query","schema":{"anyOf":[{"type":"string","minLength":2},{"type":"null"}]}},
  {"name":"kind","in":"query","schema":{"type":"string","enum":["cat","dog"]}},
  {"name":"since","in":"query","schema":{"type":"string","format":"date-time"}},
  {"name":"id","in":"query","schema":{"type":"string","format":"uuid4-or-whatever"}},
  {"name":"ratio","in":"query","schema":{"type":"number","exclusiveMaximum":1}}],
  "responses":{"200":{"description":"ok"}}},
 "post":{"operationId":"create_pet","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
  "responses":{"200":{"description":"ok"}}}},
"/upload":{"post":{"operationId":"upload","requestBody":{"content":{"multipart/form-data":{"schema":{
  "type":"object","required":["file"],"properties":{"file":{"type":"string","format":"binary"},"note":{"type":"string"}}}}}},
  "responses":{"200":{"description":"ok"}}}},
"/strict":{"post":{"operationId":"strict","requestBody":{"content":{"application/json":{"schema":{
  "type":"object","properties":{"opts":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}}}}}}},
  "responses":{"200":{"description":"ok"}}}}},
"components":{"schemas":{"Pet":{"type":"object","required":["name"],"properties":{
  "name":{"type":"string","pattern":"^[a-z]+$"},
  "tags":{"type":"array","items":{"type":"string"},"maxItems":3},
  "parent":{"$ref":"#/components/schemas/Pet"},
  "shape":{"oneOf":[{"$ref":"#/components/schemas/Circle"},{"$ref":"#/components/schemas/Square"}]}}},
  "Circle":{"type":"object","required":["radius"],"properties":{"radius":{"type":"number","minimum":0}}},
  "Square":{"type":"object","required":["side"],"properties":{"side":{"type":"number","minimum":0}}}}}}`

func validateOps(t testing.TB) map[string]*openapi.Operation {
	t.Helper()
	conv, err := Convert([]byte(validateSpec), openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*openapi.Operation{}
	for _, op := range conv.Operations {
		ops[op.Name] = op
	}
	return ops
}

func TestValidateArgs(t *testing.T) {
	ops := validateOps(t)
	for _, tc := range []struct {
		op, args string
		want     string // "" when valid
	}{
		{"list_pets", `{}`, ""},
		{"list_pets", `{"limit": 100, "name": null, "kind": "cat", "ratio": 0.5}`, ""},
		{"list_pets", `{"limit": 5.0}`, ""},                             // 5.0 is an integer in JSON Schema
		{"list_pets", `{"since": "yesterday", "id": "not-a-uuid"}`, ""}, // formats are not enforced
		{"list_pets", `{"limit": 150}`, `argument "limit": must be <= 100, got 150 (maximum)`},
		{"list_pets", `{"limit": 0}`, `argument "limit": must be >= 1, got 0 (minimum)`},
		{"list_pets", `{"limit": "5"}`, `argument "limit": expected integer, got string "5" (type)`},
		{"list_pets", `{"limit": 2.5}`, `argument "limit": expected integer, got number 2.5 (type)`},
		{"list_pets", `{"ratio": 1}`, `argument "ratio": must be < 1, got 1 (exclusiveMaximum)`},
		{"list_pets", `{"kind": "cow"}`, `argument "kind": must be one of "cat", "dog", got "cow" (enum)`},
		{"list_pets", `{"name": 7}`, `argument "name": expected string or null, got integer 7 (anyOf)`},
		{"list_pets", `{"name": "x"}`, `argument "name": must be at least 2 characters long, got 1 (minLength); the value matches none of the 2 alternatives allowed (anyOf)`},
		{"list_pets", `{"unknown": 1}`, ""},                // the tool's schema allows other properties
		{"list_pets", `{"limit": null, "kind": null}`, ""}, // null arguments are not sent: absent
		{"create_pet", `{"name": null}`, `argument "name": missing; it is required (required)`},
		{"create_pet", `{"name": "rex", "parent": {"name": null}}`, `argument "parent.name": expected string, got null (type)`},
		{"create_pet", `{"name": "rex", "tags": ["a"], "parent": {"name": "max"}, "shape": {"radius": 2}}`, ""},
		{"create_pet", `{}`, `argument "name": missing; it is required (required)`},
		{"create_pet", `{"name": "Rex"}`, `argument "name": must match the regular expression ^[a-z]+$, got "Rex" (pattern)`},
		{"create_pet", `{"name": "rex", "tags": ["a", "b", 3]}`, `argument "tags[2]": expected string, got integer 3 (type)`},
		{"create_pet", `{"name": "rex", "tags": ["a", "b", "c", "d"]}`, `argument "tags": must have at most 3 items, got 4 (maxItems)`},
		{"create_pet", `{"name": "rex", "parent": {"name": "max", "parent": {}}}`, `argument "parent.parent.name": missing; it is required (required)`},
		{"create_pet", `{"name": "rex", "parent": {"name": "max", "tags": [true]}}`, `argument "parent.tags[0]": expected string, got boolean true (type)`},
		{"create_pet", `{"name": "rex", "shape": {"side": -1}}`, `argument "shape.side": must be >= 0, got -1 (minimum); the value matches none of the 2 alternatives allowed (oneOf)`},
		{"create_pet", `{"name": "rex", "shape": "round"}`, `argument "shape": expected object, got string "round" (oneOf)`},
		{"upload", `{"file": "aGVsbG8="}`, ""}, // a bare base64 string is a file too
		{"upload", `{"file": {"content": "aGVsbG8=", "filename": "a.txt"}, "note": "n"}`, ""},
		{"upload", `{"file": "aGVsbG8=", "note": 5}`, `argument "note": expected string, got integer 5 (type)`},
		// Several bad arguments are named together, required ones first, then by name.
		{"list_pets", `{"limit": 0, "kind": "cow"}`, `argument "kind": must be one of "cat", "dog", got "cow" (enum); argument "limit": must be >= 1, got 0 (minimum)`},
		{"create_pet", `{"tags": [1]}`, `argument "name": missing; it is required (required); argument "tags[0]": expected string, got integer 1 (type)`},
		{"create_pet", `{"name": "Rex", "parent": {"name": 1, "tags": [2]}}`, `argument "name": must match the regular expression ^[a-z]+$, got "Rex" (pattern); argument "parent.name": expected string, got integer 1 (type)`},
		{"list_pets", `{"limit": 0, "kind": "cow", "name": 7, "ratio": 2, "since": 1, "id": 2}`, `argument "id": expected string, got integer 2 (type); argument "kind": must be one of "cat", "dog", got "cow" (enum); argument "limit": must be >= 1, got 0 (minimum); argument "name": expected string or null, got integer 7 (anyOf); argument "ratio": must be < 1, got 2 (exclusiveMaximum)`},
		{"strict", `{"opts": {"a": "x"}}`, ""},
		{"strict", `{"opts": {"a": "x", "b": 1}}`, `argument "opts.b": unknown name; allowed here: a (additionalProperties)`},
	} {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			args, err := decodeArgs(json.RawMessage(tc.args))
			if err != nil {
				t.Fatal(err)
			}
			op := ops[tc.op]
			if op == nil {
				t.Fatalf("no tool %s", tc.op)
			}
			if _, err := op.ArgSchema(); err != nil {
				t.Fatalf("input schema does not compile: %v", err)
			}
			got := ""
			if err := op.ValidateArgs(args); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("validateArgs(%s)\n got %s\nwant %s\nschema %s", tc.args, got, tc.want, op.InputSchema)
			}
		})
	}
}

// TestInvalidArgumentsNeverReachUpstream calls tools through the runtime
// (fast path and SDK path) with bad arguments: the result is a tool error
// naming the argument and no request reaches the upstream.
func TestInvalidArgumentsNeverReachUpstream(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fastUpstream(w, r)
	}))
	defer up.Close()
	for _, fast := range []bool{true, false} {
		r := newFastRuntime(t, up.URL)
		r.noFastPath = !fast
		h := r.Handler()
		for _, tc := range []struct{ name, args, want string }{
			{"get_r", `{"kind": 5}`, `invalid arguments for get_r: argument \"kind\": expected string, got integer 5 (type)`},
			{"get_r", `{}`, `argument \"kind\": missing; it is required (required)`},
			{"create_item", `{"name": "lamp", "price": "cheap"}`, `argument \"price\": expected number, got string \"cheap\" (type)`},
		} {
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tc.name + `","arguments":` + tc.args + `}}`
			req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer mcp_ok")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"isError":true`) || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("fast=%v %s %s: HTTP %d %s\nwant a tool error containing %s", fast, tc.name, tc.args, w.Code, w.Body.String(), tc.want)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the upstream, want 0", n)
	}
}

// BenchmarkValidateArgs is the per-call cost of argument validation
// (docs/benchmarks.md has the figures).
func BenchmarkValidateArgs(b *testing.B) {
	ops := validateOps(b)
	for _, bc := range []struct{ name, op, args string }{
		{"query", "list_pets", `{"limit": 10, "name": "rex", "kind": "cat"}`},
		{"nested body", "create_pet", `{"name": "rex", "tags": ["a", "b"], "parent": {"name": "max"}, "shape": {"side": 2}}`},
	} {
		args, err := decodeArgs(json.RawMessage(bc.args))
		if err != nil {
			b.Fatal(err)
		}
		op := ops[bc.op]
		if err := op.ValidateArgs(args); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := op.ValidateArgs(args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestValidateArgsConcurrentFirstCall: the first calls of a tool race to
// compile its schema; all of them must see the compiled validator (run
// with -race).
func TestValidateArgsConcurrentFirstCall(t *testing.T) {
	op := validateOps(t)["create_pet"]
	bad := map[string]any{"name": json.Number("7")}
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- op.ValidateArgs(bad) }()
	}
	for range 8 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), `argument "name": expected string`) {
			t.Errorf("concurrent first call: %v, want the type error", err)
		}
	}
}

// TestValidateArgsFullDialect: keywords a partial validator would miss are
// enforced, with messages naming the argument and the rule.
func TestValidateArgsFullDialect(t *testing.T) {
	schema := `{"type":"object","properties":{
	  "pay":{"oneOf":[{"type":"object","required":["card"]},{"type":"object","required":["iban"]}]},
	  "ship":{"type":"object","properties":{"country":{"type":"string"},"zip":{"type":"string"}},
	    "if":{"properties":{"country":{"const":"US"}},"required":["country"]},
	    "then":{"properties":{"zip":{"pattern":"^[0-9]{5}$"}},"required":["zip"]},
	    "else":{"properties":{"zip":{"maxLength":10}}}},
	  "tags":{"type":"array","contains":{"const":"primary"}},
	  "name":{"type":"string"},"email":{"type":"string"}},
	  "dependentRequired":{"email":["name"]}}`
	op := &openapi.Operation{Name: "t", InputSchema: json.RawMessage(schema)}
	for _, tc := range []struct{ args, want string }{
		{`{"pay": {"card": "4111"}}`, ""},
		{`{"pay": {"card": "4111", "iban": "DE00"}}`, `argument "pay": matches alternatives 0 or 1 of oneOf; it must match exactly one (oneOf)`},
		{`{"pay": {}}`, `argument "pay.card": missing; it is required (required); the value matches none of the 2 alternatives allowed (oneOf)`},
		{`{"ship": {"country": "US", "zip": "12345"}}`, ""},
		{`{"ship": {"country": "US", "zip": "1234"}}`, `argument "ship.zip": must match the regular expression ^[0-9]{5}$, got "1234" (pattern)`},
		{`{"ship": {"country": "US"}}`, `argument "ship.zip": missing; it is required (required)`},
		{`{"ship": {"country": "FR", "zip": "75001-75020-x"}}`, `argument "ship.zip": must be at most 10 characters long, got 13 (maxLength)`},
		{`{"ship": {"country": "FR"}}`, ""},
		{`{"tags": ["a", "primary"]}`, ""},
		{`{"tags": ["a", "b"]}`, `argument "tags": must have an item that matches the schema given under "contains" (contains)`},
		{`{"email": "a@example.com", "name": "A"}`, ""},
		{`{"email": "a@example.com"}`, `argument "name": missing; it is required when "email" is given (dependentRequired)`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			args, err := decodeArgs(json.RawMessage(tc.args))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if err := op.ValidateArgs(args); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("validateArgs(%s)\n got %s\nwant %s", tc.args, got, tc.want)
			}
		})
	}
}

// TestValidateArgsRefusesRemoteRefs: a schema whose $ref points outside it
// does not compile (so calls go unvalidated rather than making Portico
// fetch anything).
func TestValidateArgsRefusesRemoteRefs(t *testing.T) {
	for _, ref := range []string{"https://example.com/s.json", "file:///etc/passwd"} {
		op := &openapi.Operation{Name: "t", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"$ref":"` + ref + `"}}}`)}
		if _, err := op.ArgSchema(); err == nil || !strings.Contains(err.Error(), "self-contained") {
			t.Errorf("$ref %s: %v, want a compile error", ref, err)
		}
	}
}
