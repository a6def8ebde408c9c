package openapi

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/portico-mcp/portico/tenant"
)

// Diff compares two converted tool sets as agents and operators see them:
// operations are matched by MCP name (tools) or URI (resources), and a
// matched operation is changed when its description, schemas, kind or
// upstream route differ. Entries are sorted by name.
func Diff(old, new []*Operation) tenant.SpecDiff {
	before := make(map[string]*Operation, len(old))
	for _, op := range old {
		before[op.Key()] = op
	}
	var d tenant.SpecDiff
	seen := make(map[string]bool, len(new))
	for _, op := range new {
		k := op.Key()
		seen[k] = true
		prev, ok := before[k]
		if !ok {
			d.Added = append(d.Added, op.ref())
			continue
		}
		if fields := changedFields(prev, op); len(fields) > 0 {
			d.Changed = append(d.Changed, tenant.ToolChange{ToolRef: op.ref(), Fields: fields})
		}
	}
	for _, op := range old {
		if !seen[op.Key()] {
			d.Removed = append(d.Removed, op.ref())
		}
	}
	sort.Slice(d.Added, func(i, j int) bool { return d.Added[i].Name < d.Added[j].Name })
	sort.Slice(d.Removed, func(i, j int) bool { return d.Removed[i].Name < d.Removed[j].Name })
	sort.Slice(d.Changed, func(i, j int) bool { return d.Changed[i].Name < d.Changed[j].Name })
	return d.NonNil()
}

func (op *Operation) ref() tenant.ToolRef {
	return tenant.ToolRef{Name: op.Name, Kind: op.Kind, Method: op.Method, Path: op.Path, URI: op.URI}
}

func changedFields(a, b *Operation) []string {
	var f []string
	if !jsonEqual(a.InputSchema, b.InputSchema) {
		f = append(f, "input_schema")
	}
	if !jsonEqual(a.OutputSchema, b.OutputSchema) {
		f = append(f, "output_schema")
	}
	if a.Description != b.Description {
		f = append(f, "description")
	}
	if a.Method != b.Method {
		f = append(f, "method")
	}
	if a.Path != b.Path {
		f = append(f, "path")
	}
	if a.Kind != b.Kind {
		f = append(f, "kind")
	}
	if len(f) == 0 && !sameRequest(a, b) {
		// Same schema and route, but arguments now map differently
		// (parameter location, style, body encoding).
		f = append(f, "request")
	}
	return f
}

// visible reports whether a and b look the same to an MCP client, so the
// live server need not re-register (and notify about) the operation.
func Visible(a, b *Operation) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.URI == b.URI && a.Description == b.Description &&
		bytes.Equal(a.InputSchema, b.InputSchema) && bytes.Equal(a.OutputSchema, b.OutputSchema) &&
		a.Title == b.Title && (a.Transform == nil && b.Transform == nil || bytes.Equal(MustJSON(a.Annotations), MustJSON(b.Annotations)))
}

func sameRequest(a, b *Operation) bool {
	ja, _ := json.Marshal(struct {
		P []Param
		B *Body
		W bool
	}{a.Params, a.Body, a.WrapResult})
	jb, _ := json.Marshal(struct {
		P []Param
		B *Body
		W bool
	}{b.Params, b.Body, b.WrapResult})
	return bytes.Equal(ja, jb)
}

// jsonEqual compares two JSON documents by value, not by spelling.
func jsonEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ca, _ := json.Marshal(va) // maps marshal with sorted keys
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}
