package openapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

func TestDiff(t *testing.T) {
	op := func(name, method, path, desc, schema string) *Operation {
		return &Operation{Name: name, Kind: tenant.KindTool, Method: method, Path: path, Description: desc, InputSchema: json.RawMessage(schema)}
	}
	obj := `{"type":"object"}`
	old := []*Operation{
		op("keep", "GET", "/keep", "same", obj),
		op("gone", "DELETE", "/gone", "bye", obj),
		op("desc", "GET", "/desc", "old words", obj),
		op("schema", "POST", "/schema", "s", `{"type":"object","properties":{"a":{"type":"string"}}}`),
		op("moved", "GET", "/old", "m", obj),
		{Name: "res", Kind: tenant.KindResource, URI: "resource://x", Method: "GET", Path: "/x", Description: "r", InputSchema: json.RawMessage(obj)},
	}
	new := []*Operation{
		op("keep", "GET", "/keep", "same", `{ "type" : "object" }`), // same JSON, other spelling
		op("desc", "GET", "/desc", "new words", obj),
		op("schema", "POST", "/schema", "s", `{"type":"object","properties":{"a":{"type":"integer"}}}`),
		op("moved", "PUT", "/new", "m", obj),
		op("added", "GET", "/added", "hi", obj),
	}
	want := tenant.SpecDiff{
		Added: []tenant.ToolRef{{Name: "added", Kind: "tool", Method: "GET", Path: "/added"}},
		Removed: []tenant.ToolRef{
			{Name: "gone", Kind: "tool", Method: "DELETE", Path: "/gone"},
			{Name: "res", Kind: "resource", Method: "GET", Path: "/x", URI: "resource://x"},
		},
		Changed: []tenant.ToolChange{
			{ToolRef: tenant.ToolRef{Name: "desc", Kind: "tool", Method: "GET", Path: "/desc"}, Fields: []string{"description"}},
			{ToolRef: tenant.ToolRef{Name: "moved", Kind: "tool", Method: "PUT", Path: "/new"}, Fields: []string{"method", "path"}},
			{ToolRef: tenant.ToolRef{Name: "schema", Kind: "tool", Method: "POST", Path: "/schema"}, Fields: []string{"input_schema"}},
		},
	}
	if diff := cmp.Diff(want, Diff(old, new)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if d := Diff(new, new); !d.Empty() {
		t.Errorf("Diff of a set with itself = %+v, want empty", d)
	}
}
