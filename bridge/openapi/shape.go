package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"

	"github.com/portico-mcp/portico/tenant"
)

// Response shaping (settings.tools[…].response): a jq expression, run by
// github.com/itchyny/gojq, turns the upstream's JSON into what the agent
// sees. It is compiled once, when the state (one tool-set version) is
// built, and runs within jqTimeout and an output bound. The library has no
// file, network or environment access unless given one: $ENV is empty,
// input/inputs and modules are not available, so an expression sees only
// the answer it shapes.

// jqTimeout bounds one run of a jq expression (response.jq and _select each).
const jqTimeout = time.Second

// maxSelectLength bounds an agent's _select expression.
const maxSelectLength = 1000

// shaper is a tool's response shape.
type Shaper struct {
	Code *gojq.Code // response.jq, nil when only max_bytes or select is set
	// wrap sends the shaped value as {"result": v}: its output schema does
	// not promise an object.
	Wrap bool
	// maxBytes cuts a longer text result (0: no cut); limit bounds what a
	// jq run may produce (the tenant's response cap).
	MaxBytes int
	limit    int64
	// selectable tools take _select; their output schema is left out, as
	// the agent decides the result's shape.
	Selectable bool
	ToolKey    string // settings key, for messages
}

// newShaper compiles r for op and returns it with the output schema the
// shaped tool lists.
func NewShaper(op *Operation, r *tenant.ResponseShape, maxResponse int64) (*Shaper, json.RawMessage, error) {
	s := &Shaper{MaxBytes: r.MaxBytes, limit: maxResponse, Selectable: r.Select}
	out := op.OutputSchema
	if r.JQ != "" {
		q, err := gojq.Parse(r.JQ)
		if err != nil {
			return nil, nil, fmt.Errorf("is not a valid jq expression: %s", jqError(err, r.JQ))
		}
		if s.Code, err = gojq.Compile(q); err != nil {
			return nil, nil, fmt.Errorf("cannot be compiled: %v", err)
		}
		out, s.Wrap = shapedOutputSchema(op, q)
	}
	if s.Selectable {
		out = nil
	}
	return s, out, nil
}

// jqError says where a parse error is.
func jqError(err error, expr string) string {
	var pe *gojq.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%v after %d bytes of %q", err, pe.Offset, expr)
	}
	return err.Error()
}

// runSelect compiles and runs an agent's _select expression.
func (s *Shaper) RunSelect(ctx context.Context, sel string, v any) (any, []byte, error) {
	if len(sel) > maxSelectLength {
		return nil, nil, fmt.Errorf("the expression is %d bytes; at most %d", len(sel), maxSelectLength)
	}
	q, err := gojq.Parse(sel)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid jq expression: %s", jqError(err, sel))
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot be compiled: %v", err)
	}
	return s.Run(ctx, code, v)
}

// run runs code on v within jqTimeout and the output bound, and returns
// the result with its JSON: one output is the result, none is null,
// several are an array of them.
func (s *Shaper) Run(ctx context.Context, code *gojq.Code, v any) (any, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, jqTimeout)
	defer cancel()
	it := code.RunWithContext(ctx, v)
	var outs []any
	var encs [][]byte
	var size int64
	for {
		o, ok := it.Next()
		if !ok {
			break
		}
		if err, ok := o.(error); ok {
			var he *gojq.HaltError
			if errors.As(err, &he) && he.Value() == nil {
				break
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, nil, fmt.Errorf("the expression ran longer than %s", jqTimeout)
			}
			return nil, nil, err
		}
		enc := MustJSON(o)
		if size += int64(len(enc)) + 1; size > s.limit {
			return nil, nil, fmt.Errorf("the expression produced more than %d bytes; ask for less (fewer items or fields)", s.limit)
		}
		outs, encs = append(outs, o), append(encs, enc)
	}
	switch len(outs) {
	case 0:
		return nil, []byte("null"), nil
	case 1:
		return outs[0], encs[0], nil
	}
	return outs, append(append([]byte{'['}, bytes.Join(encs, []byte{','})...), ']'), nil
}

// shapedOutputSchema is the output schema of op's answer after q, as far
// as q's form lets it be known (paths, object and array construction, map,
// select, literals; anything else is any value), and whether the shaped
// value is wrapped as {"result": …} because the schema does not promise an
// object.
func shapedOutputSchema(op *Operation, q *gojq.Query) (json.RawMessage, bool) {
	var root map[string]any
	var in any = map[string]any{}
	var defs any
	if len(op.OutputSchema) > 0 && json.Unmarshal(op.OutputSchema, &root) == nil {
		defs = root["$defs"]
		in = root
		if op.WrapResult {
			in = schemaProp(root, "result")
		}
		if m, ok := in.(map[string]any); ok && in != nil {
			c := make(map[string]any, len(m))
			for k, v := range m {
				if k != "$defs" && k != "x-fastmcp-wrap-result" {
					c[k] = v
				}
			}
			in = c
		}
	}
	inf := inferrer{defs: asMap(defs)}
	s, stream := inf.query(q, in)
	if stream {
		s = nil
	}
	var out map[string]any
	wrap := true
	if m := inf.resolve(s); m != nil && m["type"] == "object" && !inf.nullable(s) {
		out, wrap = map[string]any{}, false
		for k, v := range m {
			out[k] = v
		}
	} else {
		if s == nil {
			s = map[string]any{}
		}
		out = map[string]any{"type": "object", "properties": map[string]any{"result": s}, "required": []any{"result"}, "x-fastmcp-wrap-result": true}
	}
	if defs != nil && bytes.Contains(MustJSON(out), []byte(`"$ref"`)) {
		out["$defs"] = defs
	}
	return MustJSON(out), wrap
}

// inferrer follows a jq query through a JSON Schema; nil is "any value".
type inferrer struct {
	defs map[string]any
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resolve follows local $refs (#/$defs/…) and a nullable anyOf/oneOf to
// the schema that constrains the value's shape.
func (inf inferrer) resolve(s any) map[string]any {
	for range 32 {
		m := asMap(s)
		if m == nil {
			return nil
		}
		if ref, ok := m["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/$defs/")
			if !found || inf.defs == nil {
				return nil
			}
			s = inf.defs[name]
			continue
		}
		alts, ok := m["anyOf"].([]any)
		if !ok {
			alts, ok = m["oneOf"].([]any)
		}
		if !ok {
			return m
		}
		s = nonNull(alts)
	}
	return nil
}

// nonNull is the one alternative of alts that is not {"type":"null"}, or
// nil when there are several.
func nonNull(alts []any) any {
	var only any
	n := 0
	for _, a := range alts {
		if am := asMap(a); am != nil && am["type"] == "null" {
			continue
		}
		only, n = a, n+1
	}
	if n != 1 {
		return nil
	}
	return only
}

// nullable reports whether s lets the value be null.
func (inf inferrer) nullable(s any) bool {
	m := asMap(s)
	if m == nil {
		return true
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := m[k].([]any); ok {
			for _, a := range alts {
				if am := asMap(a); am != nil && am["type"] == "null" {
					return true
				}
			}
		}
	}
	switch t := m["type"].(type) {
	case string:
		return t == "null"
	case []any:
		for _, x := range t {
			if x == "null" {
				return true
			}
		}
	}
	return false
}

// orNull is s, also allowing null.
func (inf inferrer) orNull(s any) any {
	if s == nil || inf.nullable(s) {
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// schemaProp is the schema of property name of an object schema s.
func schemaProp(s any, name string) any {
	m := asMap(s)
	if m == nil {
		return nil
	}
	if props := asMap(m["properties"]); props != nil {
		if p, ok := props[name]; ok {
			return p
		}
	}
	if ap := asMap(m["additionalProperties"]); ap != nil {
		return ap
	}
	return nil
}

// field is the schema of .name applied to a value of schema s.
func (inf inferrer) field(s any, name string) any {
	m := inf.resolve(s)
	if m == nil {
		return nil
	}
	p := schemaProp(m, name)
	if p == nil {
		return nil
	}
	required := false
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if r == name {
				required = true
			}
		}
	}
	if !required || inf.nullable(s) {
		return inf.orNull(p)
	}
	return p
}

// items is the schema of the elements of an array schema s.
func (inf inferrer) items(s any) any {
	if m := inf.resolve(s); m != nil {
		return m["items"]
	}
	return nil
}

// query returns the schema of q's output on input s and whether q may
// produce other than exactly one value.
func (inf inferrer) query(q *gojq.Query, s any) (any, bool) {
	if q == nil {
		return s, false
	}
	if len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return nil, true
	}
	if q.Term != nil {
		return inf.term(q.Term, s)
	}
	switch q.Op {
	case gojq.OpPipe:
		l, ls := inf.query(q.Left, s)
		r, rs := inf.query(q.Right, l)
		return r, ls || rs
	case gojq.OpAlt: // a // b
		l, ls := inf.query(q.Left, s)
		r, rs := inf.query(q.Right, s)
		if l != nil && r != nil && bytes.Equal(MustJSON(l), MustJSON(r)) {
			return l, ls || rs
		}
		return nil, ls || rs
	}
	return nil, true
}

// term is query for one term with its suffixes.
func (inf inferrer) term(t *gojq.Term, s any) (any, bool) {
	var out any
	stream := false
	switch t.Type {
	case gojq.TermTypeIdentity:
		out = s
	case gojq.TermTypeIndex:
		out, stream = inf.index(t.Index, s)
	case gojq.TermTypeNull:
		out = map[string]any{"type": "null"}
	case gojq.TermTypeTrue, gojq.TermTypeFalse:
		out = map[string]any{"type": "boolean"}
	case gojq.TermTypeNumber:
		out = map[string]any{"type": "number"}
	case gojq.TermTypeString:
		out = map[string]any{"type": "string"}
	case gojq.TermTypeQuery:
		out, stream = inf.query(t.Query, s)
	case gojq.TermTypeArray:
		if t.Array.Query == nil {
			out = map[string]any{"type": "array"}
			break
		}
		items, _ := inf.query(t.Array.Query, s)
		a := map[string]any{"type": "array"}
		if items != nil {
			a["items"] = items
		}
		out = a
	case gojq.TermTypeObject:
		props, req := map[string]any{}, []any{}
		for _, kv := range t.Object.KeyVals {
			key := kv.Key
			if key == "" && kv.KeyString != nil && len(kv.KeyString.Queries) == 0 {
				key = kv.KeyString.Str
			}
			if key == "" || strings.HasPrefix(key, "$") {
				return map[string]any{"type": "object"}, false
			}
			var v any
			if kv.Val == nil {
				v = inf.field(s, key)
			} else {
				var vs bool
				if v, vs = inf.query(kv.Val, s); vs {
					return map[string]any{"type": "object"}, true
				}
			}
			if v == nil {
				v = map[string]any{}
			}
			props[key] = v
			req = append(req, key)
		}
		out = map[string]any{"type": "object", "properties": props, "required": req}
	case gojq.TermTypeFunc:
		out, stream = inf.function(t.Func, s)
	default:
		return nil, true
	}
	for _, sfx := range t.SuffixList {
		switch {
		case sfx.Optional:
			stream = true
		case sfx.Iter:
			out, stream = inf.items(out), true
		case sfx.Index != nil:
			var st bool
			out, st = inf.index(sfx.Index, out)
			stream = stream || st
		default:
			return nil, true
		}
	}
	return out, stream
}

// index is the schema of an index (.name, .[n], .[a:b]) applied to s.
func (inf inferrer) index(ix *gojq.Index, s any) (any, bool) {
	switch {
	case ix.Name != "":
		return inf.field(s, ix.Name), false
	case ix.Str != nil && len(ix.Str.Queries) == 0:
		return inf.field(s, ix.Str.Str), false
	case ix.IsSlice:
		return s, false
	case ix.Start != nil && ix.Start.Term != nil && ix.Start.Term.Type == gojq.TermTypeNumber:
		return inf.orNull(inf.items(s)), false
	}
	return nil, false
}

// function covers the functions whose result follows from their input.
func (inf inferrer) function(f *gojq.Func, s any) (any, bool) {
	switch {
	case f.Name == "map" && len(f.Args) == 1:
		items, _ := inf.query(f.Args[0], inf.items(s))
		a := map[string]any{"type": "array"}
		if items != nil {
			a["items"] = items
		}
		return a, false
	case f.Name == "select" && len(f.Args) == 1:
		return s, true
	case f.Name == "first" && len(f.Args) == 0, f.Name == "last" && len(f.Args) == 0:
		return inf.orNull(inf.items(s)), false
	case (f.Name == "length" || f.Name == "utf8bytelength") && len(f.Args) == 0:
		return map[string]any{"type": "number"}, false
	case f.Name == "keys" && len(f.Args) == 0:
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, false
	case (f.Name == "tostring" || f.Name == "type" || f.Name == "tojson" || f.Name == "ascii_downcase" || f.Name == "ascii_upcase") && len(f.Args) == 0:
		return map[string]any{"type": "string"}, false
	case f.Name == "not" && len(f.Args) == 0, f.Name == "has" && len(f.Args) == 1:
		return map[string]any{"type": "boolean"}, false
	case f.Name == "empty" && len(f.Args) == 0:
		return nil, true
	}
	return nil, true
}

// CheckJQ reports every jq expression of settings.tools that does not
// parse or compile; it needs no document, so it holds for every tenant.
func CheckJQ(s tenant.Settings) error {
	var inv tenant.InvalidError
	for _, k := range slices.Sorted(maps.Keys(s.Tools)) {
		r := s.Tools[k].Response
		if r == nil || r.JQ == "" {
			continue
		}
		q, err := gojq.Parse(r.JQ)
		if err == nil {
			_, err = gojq.Compile(q)
		}
		if err != nil {
			inv.Add(fmt.Sprintf("settings.tools[%q].response.jq", k), "is not a valid jq expression: "+jqError(err, r.JQ))
		}
	}
	return inv.Err()
}
