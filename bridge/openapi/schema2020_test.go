package openapi

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

// contactSchema is the body of the MCP conformance scenario
// json-schema-2020-12, written as an OpenAPI 3.1 document writes it: the
// address in components, the rules on the object as a whole.
const contactSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$comment": "one way to reach the contact is required",
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "address": {"$ref": "#/components/schemas/address"},
    "contactMethod": {"type": "string", "enum": ["phone", "email"]},
    "phone": {"type": "string"},
    "email": {"type": "string"}
  },
  "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
  "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
  "then": {"required": ["phone"]},
  "else": {"required": ["email"]},
  "additionalProperties": false
}`

const contactAddress = `"address": {"$anchor": "addressDef", "type": "object",
  "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}`

// contactSpec builds a document of the given version with one operation
// POST /teams/{team}/contacts whose body is body.
func contactSpec(version, body string, required bool, components string) []byte {
	req := ""
	if required {
		req = `"required": true,`
	}
	return []byte(`{"openapi": "` + version + `", "info": {"title": "c", "version": "1"},
"paths": {"/teams/{team}/contacts": {"post": {"operationId": "add_contact",
  "parameters": [{"name": "team", "in": "path", "required": true, "schema": {"type": "string"}}],
  "requestBody": {` + req + ` "content": {"application/json": {"schema": ` + body + `}}},
  "responses": {"200": {"description": "ok"}}}}},
"components": {"schemas": {` + components + `}}}`)
}

func convertOne(t *testing.T, spec []byte) (*Operation, *Conversion) {
	t.Helper()
	conv, err := Convert(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Operations) != 1 {
		t.Fatalf("got %d operations, want 1", len(conv.Operations))
	}
	return conv.Operations[0], conv
}

func decodeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	return v
}

func TestBodyKeywords2020(t *testing.T) {
	op, conv := convertOne(t, contactSpec("3.1.0", contactSchema, true, contactAddress))
	if len(conv.Warnings) > 0 {
		t.Errorf("warnings: %q", conv.Warnings)
	}
	want := decodeJSON(t, []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$comment": "one way to reach the contact is required",
  "type": "object",
  "properties": {
    "team": {"type": "string"},
    "name": {"type": "string"},
    "address": {"$ref": "#/$defs/address"},
    "contactMethod": {"type": "string", "enum": ["phone", "email"]},
    "phone": {"type": "string"},
    "email": {"type": "string"}
  },
  "required": ["team"],
  "additionalProperties": false,
  "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
  "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
  "then": {"required": ["phone"]},
  "else": {"required": ["email"]},
  "$defs": {"address": {"$anchor": "addressDef", "type": "object",
    "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}}
}`))
	if diff := cmp.Diff(want, decodeJSON(t, op.InputSchema)); diff != "" {
		t.Errorf("input schema (-want +got):\n%s", diff)
	}
	if _, err := op.ArgSchema(); err != nil {
		t.Fatalf("the validator refuses the schema: %v", err)
	}
	if diff := cmp.Diff([]string{"name", "address", "contactMethod", "phone", "email"}, op.Body.Props); diff != "" {
		t.Errorf("body props (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, args, want string
	}{
		{"phone missing", `{"team": "t", "name": "Ann", "contactMethod": "phone", "email": "a@x"}`, `argument "phone": missing; it is required (required)`},
		{"no way to reach", `{"team": "t", "name": "Ann"}`, "anyOf"},
		{"unknown argument", `{"team": "t", "email": "a@x", "nickname": "A"}`, `"nickname"`},
		{"valid", `{"team": "t", "name": "Ann", "contactMethod": "phone", "phone": "123", "address": {"city": "Oslo"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args map[string]any
			if err := json.Unmarshal([]byte(tc.args), &args); err != nil {
				t.Fatal(err)
			}
			err := op.ValidateArgs(args)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ValidateArgs: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ValidateArgs = %v, want an error containing %s", err, tc.want)
			case tc.want != "":
				return
			}
			req, err := op.NewRequest(context.Background(), "http://up.example", args)
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.Path != "/teams/t/contacts" {
				t.Errorf("path = %s", req.URL.Path)
			}
			got, _ := io.ReadAll(req.Body)
			if w := `{"name":"Ann","address":{"city":"Oslo"},"contactMethod":"phone","phone":"123"}`; string(got) != w {
				t.Errorf("body = %s, want %s", got, w)
			}
		})
	}
}

// TestBodyKeywordsKeptOnlyFor31RequiredBodies: a 3.0 document and an
// optional body convert as before (the constraint part makes the body one
// argument; a plain object flattens and loses its schema-level keywords).
func TestBodyKeywordsKeptOnlyFor31RequiredBodies(t *testing.T) {
	plain := `{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false, "minProperties": 1}`
	flatPlain := `{"type": "object", "properties": {"team": {"type": "string"}, "a": {"type": "string"}}, "required": ["team"]}`
	for _, tc := range []struct {
		name, version, body string
		required            bool
		want                string
	}{
		{"3.0 plain", "3.0.3", plain, true, flatPlain},
		{"3.1 optional plain", "3.1.0", plain, false, flatPlain},
		{"3.1 required plain", "3.1.0", plain, true, `{"type": "object", "properties": {"team": {"type": "string"}, "a": {"type": "string"}}, "required": ["team"], "additionalProperties": false}`},
		{"3.1 optional constraint part", "3.1.0", `{"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [{"anyOf": [{"required": ["a"]}]}]}`, false,
			`{"type": "object", "properties": {"team": {"type": "string"}, "body": {"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [{"anyOf": [{"required": ["a"]}]}]}}, "required": ["team"]}`},
		{"3.0 constraint part", "3.0.3", `{"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [{"anyOf": [{"required": ["a"]}]}]}`, true,
			`{"type": "object", "properties": {"team": {"type": "string"}, "body": {"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [{"anyOf": [{"required": ["a"]}]}]}}, "required": ["team", "body"]}`},
		{"3.1 union stays one argument", "3.1.0", `{"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"properties": {"b": {"type": "string"}}}]}`, true,
			`{"type": "object", "properties": {"team": {"type": "string"}, "body": {"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"properties": {"b": {"type": "string"}}}]}}, "required": ["team", "body"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, _ := convertOne(t, contactSpec(tc.version, tc.body, tc.required, contactAddress))
			if diff := cmp.Diff(decodeJSON(t, []byte(tc.want)), decodeJSON(t, op.InputSchema)); diff != "" {
				t.Errorf("input schema (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBodyKeywordsWithIDAndDuplicateAnchors: $id in a component is left out,
// so the tool's #/$defs refs below it still resolve; two components with
// the same $anchor make a schema the validator refuses, and the tool still
// builds its request (the upstream then judges the arguments).
func TestBodyKeywordsWithIDAndDuplicateAnchors(t *testing.T) {
	t.Run("id", func(t *testing.T) {
		body := `{"type": "object", "required": ["address"], "properties": {"address": {"$ref": "#/components/schemas/address"}}}`
		comps := `"address": {"$id": "https://example.com/address.json", "type": "object",
  "properties": {"city": {"$ref": "#/components/schemas/city"}}},
"city": {"type": "string", "minLength": 2}`
		op, conv := convertOne(t, contactSpec("3.1.0", body, true, comps))
		if len(conv.Warnings) > 0 {
			t.Errorf("warnings: %q", conv.Warnings)
		}
		if strings.Contains(string(op.InputSchema), "$id") {
			t.Errorf("input schema keeps $id: %s", op.InputSchema)
		}
		if _, err := op.ArgSchema(); err != nil {
			t.Fatalf("the validator refuses the schema: %v", err)
		}
		err := op.ValidateArgs(map[string]any{"team": "t", "address": map[string]any{"city": "x"}})
		if err == nil || !strings.Contains(err.Error(), `"address.city"`) {
			t.Errorf("ValidateArgs = %v, want the too-short city named", err)
		}
	})
	t.Run("duplicate anchor", func(t *testing.T) {
		body := `{"type": "object", "additionalProperties": false, "properties": {"home": {"$ref": "#/components/schemas/home"}, "work": {"$ref": "#/components/schemas/work"}}}`
		comps := `"home": {"$anchor": "place", "type": "object", "properties": {"city": {"type": "string"}}},
"work": {"$anchor": "place", "type": "object", "properties": {"city": {"type": "string"}}}`
		op, _ := convertOne(t, contactSpec("3.1.0", body, true, comps))
		if _, err := op.ArgSchema(); err == nil {
			t.Fatal("the validator accepted two equal anchors; this test expects it to refuse them")
		}
		args := map[string]any{"team": "t", "home": map[string]any{"city": "Oslo"}, "other": 1}
		if err := op.ValidateArgs(args); err != nil {
			t.Fatalf("ValidateArgs = %v, want nil for a schema the validator cannot compile", err)
		}
		req, err := op.NewRequest(context.Background(), "http://up.example", args)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(req.Body)
		if w := `{"home":{"city":"Oslo"}}`; string(got) != w {
			t.Errorf("body = %s, want %s", got, w)
		}
	})
	t.Run("recursive body keeps one anchor", func(t *testing.T) {
		body := `{"$ref": "#/components/schemas/node"}`
		comps := `"node": {"$anchor": "node", "type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/node"}}}`
		op, _ := convertOne(t, contactSpec("3.1.0", body, true, comps))
		if n := strings.Count(string(op.InputSchema), `"$anchor"`); n != 1 {
			t.Errorf("%d anchors in %s, want 1 (in $defs)", n, op.InputSchema)
		}
		if _, err := op.ArgSchema(); err != nil {
			t.Fatalf("the validator refuses the schema: %v", err)
		}
		if err := op.ValidateArgs(map[string]any{"team": "t", "name": "a", "extra": 1}); err == nil {
			t.Error("an unknown argument passed additionalProperties: false")
		}
	})
}

// TestBodyKeywordsAndToolTransform: a transform that renames an argument
// takes the body's rules, which name the operation's arguments, off the
// transformed tool, which stays callable by its new names.
func TestBodyKeywordsAndToolTransform(t *testing.T) {
	op, _ := convertOne(t, contactSpec("3.1.0", contactSchema, true, contactAddress))
	tools, inv := TransformTools([]*Operation{op}, map[string]tenant.ToolTransform{
		"add_contact": {Args: map[string]tenant.ArgTransform{"phone": {Name: "telephone"}}},
	}, 0)
	if len(inv.Problems) > 0 {
		t.Fatal(inv)
	}
	tt := tools[0]
	got := decodeJSON(t, tt.InputSchema).(map[string]any)
	for _, k := range []string{"allOf", "if", "then", "else"} {
		if _, ok := got[k]; ok {
			t.Errorf("transformed schema keeps %s: %s", k, tt.InputSchema)
		}
	}
	if got["additionalProperties"] != false {
		t.Errorf("transformed schema lost additionalProperties: %s", tt.InputSchema)
	}
	args := map[string]any{"team": "t", "contactMethod": "phone", "telephone": "1"}
	if err := tt.ValidateArgs(args); err != nil {
		t.Fatalf("ValidateArgs: %v", err)
	}
	if err := tt.ValidateArgs(map[string]any{"team": "t", "phone": "1"}); err == nil {
		t.Error("the old name passed additionalProperties: false")
	}
	in, _ := tt.Transform.Inbound(args)
	req, err := op.NewRequest(context.Background(), "http://up.example", in)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	if w := `{"contactMethod":"phone","phone":"1"}`; string(body) != w {
		t.Errorf("body = %s, want %s", body, w)
	}
}
