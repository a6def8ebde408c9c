package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/portico-mcp/portico/tenant"
)

// Tool transformation (settings.tools): a tenant reshapes single tools as
// FastMCP's Tool.from_tool with ArgTransform does, after conversion and
// without converting again. The conversion's operations are shared (by the
// states of one tenant and by tenants serving the same document) and never
// changed: a transformed tool is a copy whose name, description, schemas
// and annotations are what agents see, with a transform that maps the
// agent's arguments back to the operation's before the request is built
// and shapes the answer (shape.go). The fast paths read the same copies, so
// a transformed tool is served there like any other. A transform that
// renames, fixes, hides or defaults an argument leaves out the schema-level
// rules a 3.1 body brought (allOf, if/then/else, dependentRequired...), which
// name the operation's arguments; additionalProperties stays.

// selectArg is the argument a tool with response.select takes: a jq
// expression applied to its result.
const SelectArg = "_select"

// Transform is what a call of a transformed tool does beyond the
// operation's own plan.
type Transform struct {
	rename   map[string]string // agent's argument name → the operation's
	drop     map[string]bool   // the operation's names agents may not send (renamed, fixed, hidden)
	always   map[string]any    // fixed values and hidden defaults, sent on every call
	defaults map[string]any    // sent when the agent gives none
	Shape    *Shaper           // nil: the answer is mapped as usual
}

// inbound maps args, as the agent sent them and the transformed schema
// checked them, to the operation's arguments, and takes out the _select
// expression.
func (x *Transform) Inbound(args map[string]any) (map[string]any, string) {
	var sel string
	if x.Shape != nil && x.Shape.Selectable {
		sel, _ = args[SelectArg].(string)
		delete(args, SelectArg)
	}
	if len(x.rename) == 0 && len(x.drop) == 0 && len(x.always) == 0 && len(x.defaults) == 0 {
		return args, sel
	}
	out := make(map[string]any, len(args)+len(x.always)+len(x.defaults))
	for k, v := range args {
		if orig, ok := x.rename[k]; ok {
			out[orig] = v
		} else if !x.drop[k] {
			out[k] = v
		}
	}
	for k, v := range x.defaults {
		if cur, ok := out[k]; !ok || cur == nil {
			out[k] = v
		}
	}
	maps.Copy(out, x.always)
	return out, sel
}

// clone copies op's plain data; the compiled schemas are not shared.
func (op *Operation) clone() *Operation {
	return &Operation{Name: op.Name, Title: op.Title, Kind: op.Kind, Description: op.Description, Method: op.Method, Path: op.Path,
		OperationID: op.OperationID, Tags: op.Tags, MCPTags: op.MCPTags, URI: op.URI, InputSchema: op.InputSchema,
		OutputSchema: op.OutputSchema, WrapResult: op.WrapResult, Annotations: op.Annotations, Params: op.Params,
		Body: op.Body, ResponseType: op.ResponseType, hidden: op.hidden, Transform: op.Transform}
}

// matchesKey reports whether settings key k names op: its tool name, its
// operationId or "METHOD /path" (the method in any case).
func (op *Operation) MatchesKey(k string) bool {
	return k == op.Name || op.OperationID != "" && k == op.OperationID || normalizeKey(k) == op.Method+" "+op.Path
}

// transformTools applies tools to ops and returns the operations to serve
// (hidden tools are left out) with every problem found, each naming its
// key. Operations no transform names are returned as they are; a key or
// argument that is wrong is skipped, so a document that changed under saved
// settings keeps serving what still applies. maxResponse bounds the output
// of a response shape.
func TransformTools(ops []*Operation, tools map[string]tenant.ToolTransform, maxResponse int64) ([]*Operation, *tenant.InvalidError) {
	var inv tenant.InvalidError
	if len(tools) == 0 {
		return ops, &inv
	}
	byOp := make(map[*Operation]string, len(tools))
	var names []string
	for _, op := range ops {
		if op.Kind == tenant.KindTool || op.Kind == "" {
			names = append(names, op.Name)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(tools)) {
		f := fmt.Sprintf("settings.tools[%q]", k)
		var found *Operation
		for _, op := range ops {
			if op.MatchesKey(k) {
				found = op
				break
			}
		}
		switch {
		case found == nil:
			msg := `matches no tool of the tenant's document: key it by a tool name, an operationId or "METHOD /path"`
			if c := ClosestKey(k, names); c != "" {
				msg += fmt.Sprintf("; did you mean %q?", c)
			}
			inv.Add(f, msg)
		case found.Kind == tenant.KindResource || found.Kind == tenant.KindResourceTemplate:
			inv.Add(f, fmt.Sprintf("names %s %s, which a route map made a %s; settings.tools reshapes tools only", found.Method, found.Path, strings.ReplaceAll(found.Kind, "_", " ")))
		case byOp[found] != "":
			inv.Add(f, fmt.Sprintf("names the same tool as settings.tools[%q]; keep one of them", byOp[found]))
		default:
			byOp[found] = k
		}
	}
	out := make([]*Operation, 0, len(ops))
	for _, op := range ops {
		k, ok := byOp[op]
		if !ok {
			out = append(out, op)
			continue
		}
		t, err := TransformOp(op, k, tools[k], maxResponse)
		if err != nil {
			inv.Problems = append(inv.Problems, err.Problems...)
			out = append(out, op)
			continue
		}
		if !t.hidden {
			byOp[t] = k
			out = append(out, t)
		}
	}
	// A new name must not take another tool's.
	seen := make(map[string]string, len(out))
	for _, op := range out {
		if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		if other, ok := seen[op.Name]; ok {
			key := byOp[op]
			if key == "" {
				key = other
			}
			inv.Add(fmt.Sprintf("settings.tools[%q].name", key), fmt.Sprintf("%q is the name of another tool; choose a name no other tool has", op.Name))
		}
		seen[op.Name] = byOp[op]
	}
	return out, &inv
}

// transformOp returns the copy of op that tt describes, or the problems
// that keep it from applying.
func TransformOp(op *Operation, key string, tt tenant.ToolTransform, maxResponse int64) (*Operation, *tenant.InvalidError) {
	var inv tenant.InvalidError
	f := fmt.Sprintf("settings.tools[%q]", key)
	t := op.clone()
	if tt.Hidden {
		t.hidden = true
		return t, nil
	}
	if tt.Name != "" {
		t.Name = tt.Name
	}
	if tt.Title != "" {
		t.Title = tt.Title
	}
	if tt.Description != "" {
		t.Description = tt.Description
	}
	if tt.Tags != nil {
		t.MCPTags = tt.Tags
	}
	if a := tt.Annotations; a != nil {
		base := op.Annotations
		if base == nil {
			base = HTTPAnnotations(op.Method)
		}
		c := *base
		if a.Title != "" {
			c.Title = a.Title
		}
		if a.ReadOnlyHint != nil {
			c.ReadOnlyHint = *a.ReadOnlyHint
		}
		if a.DestructiveHint != nil {
			c.DestructiveHint = a.DestructiveHint
		}
		if a.IdempotentHint != nil {
			c.IdempotentHint = *a.IdempotentHint
		}
		if a.OpenWorldHint != nil {
			c.OpenWorldHint = a.OpenWorldHint
		}
		t.Annotations = &c
	}
	x := &Transform{}
	if len(tt.Args) > 0 || tt.Response != nil && tt.Response.Select {
		schema, err := transformArgs(op, f, tt, x, &inv)
		if err != nil {
			inv.Add(f, "the tool's input schema could not be read: "+err.Error())
		}
		t.InputSchema = schema
	}
	if r := tt.Response; r != nil && (r.JQ != "" || r.MaxBytes > 0 || r.Select) {
		sh, outSchema, err := NewShaper(op, r, maxResponse)
		if err != nil {
			inv.Add(f+".response.jq", err.Error())
		} else {
			sh.ToolKey = key
			x.Shape = sh
			t.OutputSchema = outSchema
		}
	}
	if len(inv.Problems) > 0 {
		return nil, &inv
	}
	t.Transform = x
	return t, nil
}

// transformArgs returns op's input schema with tt.Args applied and fills
// x's argument mapping; problems go to inv under f.
func transformArgs(op *Operation, f string, tt tenant.ToolTransform, x *Transform, inv *tenant.InvalidError) (json.RawMessage, error) {
	top, err := orderedMembers(op.InputSchema)
	if err != nil {
		return op.InputSchema, err
	}
	var props []member
	var required []string
	for _, m := range top {
		switch m.k {
		case "properties":
			if props, err = orderedMembers(m.v); err != nil {
				return op.InputSchema, err
			}
		case "required":
			json.Unmarshal(m.v, &required)
		}
	}
	declared := make(map[string]bool, len(props))
	argNames := make([]string, 0, len(props))
	for _, p := range props {
		declared[p.k] = true
		argNames = append(argNames, p.k)
	}
	root, _ := op.ArgSchema()
	// check reports a value that the parameter's own schema refuses.
	check := func(field, arg string, raw json.RawMessage) (any, bool) {
		v, err := DecodeValue(raw)
		if err != nil {
			inv.Add(field, "is not valid JSON: "+err.Error())
			return nil, false
		}
		if ps := propertySchema(root, arg); ps != nil {
			if err := ps.Validate(v); err != nil {
				msg := err.Error()
				var ve *jsonschema.ValidationError
				if errors.As(err, &ve) {
					msg = argumentErrors(ps, ve, v).Error()
				}
				inv.Add(field, fmt.Sprintf("%s does not fit the parameter's schema: %s", Preview(v), msg))
				return nil, false
			}
		}
		return v, true
	}
	x.rename, x.drop, x.always, x.defaults = map[string]string{}, map[string]bool{}, map[string]any{}, map[string]any{}
	for _, a := range slices.Sorted(maps.Keys(tt.Args)) {
		if declared[a] {
			continue
		}
		msg := fmt.Sprintf("is not an argument of tool %s", op.Name)
		if c := ClosestKey(a, argNames); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		} else if len(argNames) > 0 {
			msg += "; its arguments are " + strings.Join(argNames, ", ")
		} else {
			msg += "; it takes no arguments"
		}
		inv.Add(fmt.Sprintf("%s.args[%q]", f, a), msg)
	}
	req := make(map[string]bool, len(required))
	for _, r := range required {
		req[r] = true
	}
	finalReq := map[string]bool{}
	taken := map[string]string{} // agent-facing name → the operation's
	out := make([]member, 0, len(props)+1)
	for _, p := range props {
		at, has := tt.Args[p.k]
		af := fmt.Sprintf("%s.args[%q]", f, p.k)
		if !has {
			out = append(out, p)
			if req[p.k] {
				finalReq[p.k] = true
			}
			taken[p.k] = p.k
			continue
		}
		if tenant.JSONGiven(at.Fixed) {
			if v, ok := check(af+".fixed", p.k, at.Fixed); ok {
				x.always[p.k] = v
			}
			x.drop[p.k] = true
			continue
		}
		var def any
		hasDef := tenant.JSONGiven(at.Default)
		if hasDef {
			var ok bool
			if def, ok = check(af+".default", p.k, at.Default); !ok {
				continue
			}
		}
		if at.Hidden {
			if hasDef {
				x.always[p.k] = def
			}
			x.drop[p.k] = true
			continue
		}
		name := p.k
		if at.Name != "" && at.Name != p.k {
			name = at.Name
			x.rename[name] = p.k
			x.drop[p.k] = true
		}
		if prev, ok := taken[name]; ok {
			inv.Add(af+".name", fmt.Sprintf("%q is already the name of argument %s; choose another", name, prev))
			continue
		}
		taken[name] = p.k
		val := p.v
		if at.Description != "" || hasDef {
			pm, err := orderedMembers(p.v)
			if err != nil { // a boolean schema
				pm = nil
			}
			if at.Description != "" {
				pm = setMember(pm, "description", MustJSON(at.Description))
			}
			if hasDef {
				pm = setMember(pm, "default", compactJSON(at.Default))
				x.defaults[p.k] = def
			}
			val = encodeMembers(pm)
		}
		out = append(out, member{name, val})
		switch {
		case at.Required != nil && *at.Required:
			finalReq[name] = true
		case at.Required != nil && !*at.Required && req[p.k] && !hasDef:
			inv.Add(af+".required", fmt.Sprintf("the operation requires %s: making it optional needs a default to send when the agent gives none", p.k))
		case req[p.k] && !hasDef && (at.Required == nil || *at.Required):
			finalReq[name] = true
		}
	}
	if tt.Response != nil && tt.Response.Select {
		if _, ok := taken[SelectArg]; ok {
			inv.Add(f+".response.select", fmt.Sprintf("the tool already has an argument named %s; rename it (args[%q].name) to offer %s", SelectArg, taken[SelectArg], SelectArg))
		} else {
			out = append(out, member{SelectArg, MustJSON(map[string]string{"type": "string",
				"description": "Optional jq expression applied to the result, to return only what you need, e.g. {id, name} or .items[:5] or [.[] | .id]."})})
		}
	}
	var reqList []string
	for _, m := range out {
		if finalReq[m.k] {
			reqList = append(reqList, m.k)
		}
	}
	res := make([]member, 0, len(top)+2)
	hasProps, hasReq := false, false
	for _, m := range top {
		switch m.k {
		case "properties":
			hasProps = true
			res = append(res, member{m.k, encodeMembers(out)})
		case "required":
			hasReq = true
			if len(reqList) > 0 {
				res = append(res, member{m.k, MustJSON(reqList)})
			}
		case "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
			"dependentRequired", "dependentSchemas", "propertyNames", "minProperties", "maxProperties":
			// A 3.1 body's rules name the operation's arguments; once
			// the agent's names or the arguments it must give differ,
			// they would judge the wrong ones. The operation's own
			// schema still holds them, and the upstream enforces them.
			if len(x.drop)+len(x.defaults) == 0 {
				res = append(res, m)
			}
		default:
			res = append(res, m)
		}
	}
	if !hasProps && len(out) > 0 {
		res = append(res, member{"properties", encodeMembers(out)})
	}
	if !hasReq && len(reqList) > 0 {
		res = append(res, member{"required", MustJSON(reqList)})
	}
	return encodeMembers(res), nil
}

// member is one member of a JSON object, in document order.
type member struct {
	k string
	v json.RawMessage
}

// orderedMembers decodes a JSON object keeping its members' order.
func orderedMembers(raw json.RawMessage) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var out []member
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{tok.(string), v})
	}
	return out, nil
}

// encodeMembers encodes ms as a compact JSON object.
func encodeMembers(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(MustJSON(m.k))
		b.WriteByte(':')
		json.Compact(&b, m.v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// setMember sets k to v in ms, in place when present, else at the end.
func setMember(ms []member, k string, v json.RawMessage) []member {
	for i := range ms {
		if ms[i].k == k {
			ms[i].v = v
			return ms
		}
	}
	return append(ms, member{k, v})
}

// mustJSON encodes v, which cannot fail to encode, without HTML escapes.
func MustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// decodeValue decodes one JSON value as call arguments are decoded
// (numbers kept exact).
func DecodeValue(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("more than one value")
	}
	return v, nil
}

// CheckTools reports every problem settings.tools has against ops, the
// operations of the tenant's document; nil when there is none.
func CheckTools(ops []*Operation, s tenant.Settings, maxResponse int64) error {
	_, inv := TransformTools(ops, s.Tools, maxResponse)
	return inv.Err()
}

// propertySchema is the compiled schema of argument arg in an input schema
// (through $ref and allOf), or nil when there is none to check against.
func propertySchema(s *jsonschema.Schema, arg string) *jsonschema.Schema {
	for depth := 0; s != nil && depth < 32; depth++ {
		if p := s.Properties[arg]; p != nil {
			return p
		}
		for _, sub := range s.AllOf {
			if p := propertySchema(sub, arg); p != nil {
				return p
			}
		}
		s = s.Ref
	}
	return nil
}
