package openapi

import (
	"strings"
	"testing"
)

func TestHasExternalRef(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"none", `{"openapi":"3.0.0"}`, false},
		{"local json", `{"$ref":"#/components/schemas/A"}`, false},
		{"local json spaced", `{"$ref" : "#/a"}`, false},
		{"local yaml", "schema:\n  $ref: '#/components/schemas/A'\n", false},
		{"local yaml bare", "schema: {$ref: #/a}\n", false},
		{"word in a description", `{"description":"a $ref is a pointer"}`, false},
		{"url json", `{"$ref":"https://x.example/s.json#/A"}`, true},
		{"file yaml quoted", "schema:\n  $ref: 'other.yaml#/A'\n", true},
		{"file yaml bare", "schema: {$ref: other.yaml}\n", true},
		{"after a local one", `{"a":{"$ref":"#/a"},"b":{"$ref":"b.json"}}`, true},
		{"a property named $ref", `{"properties":{"$ref":{"type":"string"},"$schema":{"type":"string"}}}`, false},
		{"a property named $ref, yaml", "properties:\n  $ref:\n    type: string\n", false},
		{"a property named $ref, then an external one", `{"properties":{"$ref":{"type":"string"}},"b":{"$ref":"b.json"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasExternalRef([]byte(tt.in)); got != tt.want {
				t.Errorf("hasExternalRef(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestExternalRefSwagger2 checks a Swagger 2.0 body parameter whose schema
// is in another document: the body is still an argument, open, and the
// reference is named in a warning.
func TestExternalRefSwagger2(t *testing.T) {
	spec := `{"swagger":"2.0","info":{"title":"x","version":"1"},
	"paths":{"/pets":{"post":{"operationId":"addPet",
	  "parameters":[{"in":"body","name":"pet","required":true,"schema":{"$ref":"https://other.example/pet.json"}}],
	  "responses":{"200":{"description":"ok"}}}}}}`
	conv, err := Convert([]byte(spec), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Operations) != 1 {
		t.Fatalf("got %d operations, want 1", len(conv.Operations))
	}
	op := conv.Operations[0]
	if got, want := string(op.InputSchema), `{"type":"object","properties":{"body":{}},"required":["body"]}`; got != want {
		t.Errorf("input schema = %s, want %s", got, want)
	}
	if op.Body == nil || op.Body.Arg != "body" {
		t.Errorf("body plan = %+v, want the whole body under \"body\"", op.Body)
	}
	want := "external reference https://other.example/pet.json not fetched (used at POST /pets parameter): the schema there accepts any value"
	if len(conv.Warnings) != 1 || conv.Warnings[0] != want {
		t.Errorf("warnings = %q, want [%q]", conv.Warnings, want)
	}
	if u := conv.Report.Unsupported; len(u) != 1 || !strings.HasPrefix(u[0].Feature, "external references") || u[0].Count != 1 {
		t.Errorf("unsupported = %+v, want one external references entry counting 1", u)
	}
}
