package openapi

import (
	"encoding/json"
	"strings"

	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// param is one parameter of an operation, dialect-neutral.
type param struct {
	name        string
	in          string // path | query | header | cookie
	required    bool
	schema      any // converted JSON Schema
	style       string
	explode     bool
	description string
	deprecated  bool
	examples    []any
	contentType string
}

// bodyProp is one property of a flattened object body.
type bodyProp struct {
	name     string
	schema   any
	required bool
}

// body is an operation's request body, dialect-neutral.
type body struct {
	contentType string
	required    bool
	description string
	flat        bool       // object body: props go to the top level
	props       []bodyProp // when flat
	whole       any        // schema of the body property when not flat
	encoding    map[string]Encoding
	// keywords holds the flat body's own schema-level keywords that the
	// input schema keeps (see bodyKeywords); nil when none apply.
	keywords *object
}

// defaultStyle returns OpenAPI's default style and explode for a location.
func defaultStyle(in string) (string, bool) {
	switch in {
	case "query", "cookie":
		return "form", true
	default:
		return "simple", false
	}
}

// buildInput merges parameters and body into op's input schema, and fills
// op.Params and op.Body. Parameter names that clash with a body property or
// with a parameter in another location get a __<location> suffix (id__path),
// as FastMCP does; body properties keep their names.
func (c *converter) buildInput(op *Operation, params []param, b *body, r *refs) {
	bodyNames := make(map[string]bool)
	if b != nil {
		if b.flat {
			for _, p := range b.props {
				bodyNames[p.name] = true
			}
		} else {
			bodyNames["body"] = true
		}
	}
	count := make(map[string]int)
	for _, p := range params {
		count[p.name]++
	}
	props := newObject()
	var required []string
	headers := mcpHeaderNames{}
	for _, p := range params {
		arg := p.name
		if bodyNames[arg] || count[arg] > 1 {
			arg = p.name + "__" + p.in
		}
		sch := p.schema
		if bs, ok := sch.(bool); ok {
			so := newObject()
			if !bs {
				so.set("not", newObject())
			}
			sch = so
		}
		if so, ok := sch.(*object); ok {
			if p.description != "" {
				so.set("description", p.description)
			}
			if p.deprecated {
				so.set("deprecated", true)
			}
			if len(p.examples) > 0 && !so.has("examples") {
				so.set("examples", p.examples)
			}
			if p.in == "header" {
				headers.annotate(so, p.name)
			}
		}
		props.set(arg, sch)
		if p.required {
			required = append(required, arg)
		}
		op.Params = append(op.Params, Param{
			Arg: arg, Name: p.name, In: p.in,
			Style: p.style, Explode: p.explode, Required: p.required,
			ContentType: p.contentType,
		})
	}
	if b != nil {
		ob := &Body{ContentType: b.contentType, Required: b.required, Encoding: b.encoding}
		multipart := isMultipart(b.contentType)
		if b.flat {
			for _, p := range b.props {
				if multipart {
					if fs, ok := fileSchemaFor(p.schema); ok {
						p.schema = fs
						ob.Files = append(ob.Files, p.name)
					}
				}
				props.set(p.name, p.schema)
				ob.Props = append(ob.Props, p.name)
				if p.required {
					ob.RequiredProps = append(ob.RequiredProps, p.name)
					if b.required {
						required = append(required, p.name)
					}
				}
			}
		} else {
			sch := b.whole
			if isBinaryMedia(b.contentType) || multipart {
				if fs, ok := fileSchemaFor(sch); ok {
					sch = fs
					ob.Files = []string{"body"}
				}
			}
			if so, ok := sch.(*object); ok && b.description != "" && !so.has("description") {
				so.set("description", b.description)
			}
			props.set("body", sch)
			ob.Arg = "body"
			if b.required {
				required = append(required, "body")
			}
		}
		op.Body = ob
	}
	in := newObject()
	var kw *object
	if b != nil && b.flat {
		kw = b.keywords
	}
	for _, k := range []string{"$schema", "$anchor", "$comment"} {
		if kw == nil {
			break
		}
		if v, ok := kw.get(k); ok {
			in.set(k, v)
		}
	}
	in.set("type", "object")
	in.set("properties", props)
	if len(required) > 0 {
		in.set("required", required)
	}
	if kw != nil {
		for _, k := range kw.keys {
			switch k {
			case "$schema", "$anchor", "$comment":
				continue
			case "propertyNames", "minProperties", "maxProperties":
				// They judge the whole arguments object, parameters
				// included, which the body's schema never saw.
				if len(params) > 0 {
					continue
				}
			}
			in.set(k, kw.vals[k])
		}
	}
	enc, _ := c.schemas.encodeTop(in, r.list, modeInput, 0)
	op.InputSchema = json.RawMessage(enc)
}

// objectProps reports whether s is a plain object that can be flattened into
// the tool's arguments, and returns its properties (allOf parts merged).
// With keep set (see bodyKeywords), allOf parts that only constrain the
// object are returned in parts instead of refusing or dropping them, and a
// top-level anyOf, oneOf or not whose branches only constrain the
// properties no longer refuses the body.
func (c *converter) objectProps(s *base.Schema, depth int, keep bool) (props []namedProxy, required []string, parts []*base.SchemaProxy, ok bool) {
	if s == nil || depth > 16 {
		return nil, nil, nil, false
	}
	branches := len(s.OneOf)+len(s.AnyOf) > 0 || s.Not != nil
	if (branches && !(keep && depth == 0)) || (s.Nullable != nil && *s.Nullable) {
		return nil, nil, nil, false
	}
	if len(s.Type) > 1 || (len(s.Type) == 1 && s.Type[0] != "object") {
		return nil, nil, nil, false
	}
	// At the top, an untyped schema must show it is an object; inside an
	// allOf, a part holding only required or annotations (3.0 $ref siblings
	// that libopenapi turns into an allOf part) merges as nothing.
	if depth == 0 && len(s.Type) == 0 && (s.Properties == nil || s.Properties.Len() == 0) && len(s.AllOf) == 0 {
		return nil, nil, nil, false
	}
	index := make(map[string]int)
	addProp := func(name string, p *base.SchemaProxy) {
		if i, ok := index[name]; ok {
			props[i].proxy = p
			return
		}
		index[name] = len(props)
		props = append(props, namedProxy{name, p})
	}
	for _, part := range s.AllOf {
		ps := c.schemas.resolve(part)
		if keep && constraintOnly(ps) {
			parts = append(parts, part)
			continue
		}
		pp, req, sub, ok := c.objectProps(ps, depth+1, keep)
		if !ok {
			return nil, nil, nil, false
		}
		for _, p := range pp {
			addProp(p.name, p.proxy)
		}
		required = append(required, req...)
		parts = append(parts, sub...)
	}
	for name, p := range s.Properties.FromOldest() {
		addProp(name, p)
	}
	if branches {
		// The branches may only narrow what the properties allow, as
		// {"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}
		// does; a branch bringing properties of its own is a union of
		// shapes, which stays one body argument.
		alts := append(append([]*base.SchemaProxy(nil), s.AnyOf...), s.OneOf...)
		if s.Not != nil {
			alts = append(alts, s.Not)
		}
		for _, a := range alts {
			if !narrows(c.schemas.resolve(a), index) {
				return nil, nil, nil, false
			}
		}
	}
	required = append(required, s.Required...)
	return props, dedupe(required), parts, true
}

// constraintOnly reports whether an allOf part only constrains the object
// it belongs to: no properties, no allOf of its own, and a keyword that
// judges the object as a whole (which merging would lose).
func constraintOnly(s *base.Schema) bool {
	if s == nil || (s.Properties != nil && s.Properties.Len() > 0) || len(s.AllOf) > 0 {
		return false
	}
	if len(s.Type) > 1 || (len(s.Type) == 1 && s.Type[0] != "object") {
		return false
	}
	return len(s.AnyOf)+len(s.OneOf) > 0 || s.Not != nil || s.If != nil || s.Then != nil || s.Else != nil ||
		(s.DependentRequired != nil && s.DependentRequired.Len() > 0) ||
		(s.DependentSchemas != nil && s.DependentSchemas.Len() > 0) ||
		s.MinProperties != nil || s.MaxProperties != nil
}

// narrows reports whether a branch of the body's anyOf, oneOf or not only
// constrains properties the body declares.
func narrows(s *base.Schema, declared map[string]int) bool {
	if s == nil || (s.Nullable != nil && *s.Nullable) || len(s.AllOf) > 0 {
		return false
	}
	if len(s.Type) > 1 || (len(s.Type) == 1 && s.Type[0] != "object") {
		return false
	}
	if s.Properties != nil {
		for name := range s.Properties.KeysFromOldest() {
			if _, ok := declared[name]; !ok {
				return false
			}
		}
	}
	return true
}

type namedProxy struct {
	name  string
	proxy *base.SchemaProxy
}

func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// bodyFromSchema builds a body from a schema proxy: flattened when it is a
// plain object with properties, else under a "body" property.
func (c *converter) bodyFromSchema(p *base.SchemaProxy, contentType string, required bool, description string, enc map[string]Encoding, r *refs) *body {
	b := &body{contentType: contentType, required: required, description: description, encoding: enc}
	keep := c.schemas.oas31 && required && IsJSONMedia(contentType)
	s := c.schemas.resolve(p)
	props, req, parts, ok := c.objectProps(s, 0, keep)
	if ok && len(props) > 0 {
		b.flat = true
		for _, np := range props {
			if c.schemas.skipProperty(np.proxy, modeInput) {
				continue
			}
			c.schemas.path = []string{np.name}
			b.props = append(b.props, bodyProp{
				name:     np.name,
				schema:   c.schemas.proxy(np.proxy, modeInput, r),
				required: contains(req, np.name),
			})
			c.schemas.path = nil
		}
		if keep {
			b.keywords = c.bodyKeywords(p, s, parts, r)
		}
		return b
	}
	b.whole = c.schemas.proxy(p, modeInput, r)
	return b
}

// bodyKeywords returns the schema-level keywords of a flattened body that
// the tool's input schema keeps: the body's arguments are the top level of
// that schema, so what the body's schema says about the object as a whole
// holds for them too (FastAPI's extra='forbid' is additionalProperties:
// false; a pydantic model validator may publish an anyOf of required
// lists). It applies to OpenAPI 3.1 documents, whose schemas are JSON
// Schema 2020-12, and to a required JSON body only: such keywords would
// make the arguments of a call that leaves an optional body out invalid,
// and form bodies are not JSON instances.
//
// Kept: additionalProperties and unevaluatedProperties when false (a schema
// there would invite arguments the request does not send), propertyNames,
// min/maxProperties, dependentRequired, dependentSchemas, the allOf parts
// that only constrain (see constraintOnly), anyOf, oneOf, not, if, then,
// else, and $schema (the 2020-12 meta-schema only: the schema Portico
// writes is 2020-12 whatever the document claims), $comment and $anchor.
// patternProperties is not kept, as arguments it allows are not sent
// either; $id never is (see leadingAnnotations).
func (c *converter) bodyKeywords(p *base.SchemaProxy, s *base.Schema, parts []*base.SchemaProxy, r *refs) *object {
	kw := &base.Schema{
		PropertyNames:     s.PropertyNames,
		MinProperties:     s.MinProperties,
		MaxProperties:     s.MaxProperties,
		DependentRequired: s.DependentRequired,
		DependentSchemas:  s.DependentSchemas,
		AllOf:             parts,
		OneOf:             s.OneOf,
		AnyOf:             s.AnyOf,
		Not:               s.Not,
		If:                s.If,
		Then:              s.Then,
		Else:              s.Else,
	}
	if ap := s.AdditionalProperties; ap != nil && !ap.IsA() && !ap.B {
		kw.AdditionalProperties = ap
	}
	if up := s.UnevaluatedProperties; up != nil && !up.IsA() && !up.B {
		kw.UnevaluatedProperties = up
	}
	o, _ := c.schemas.schema(kw, modeInput, r).(*object)
	out := newObject()
	if u := strings.TrimSuffix(s.SchemaTypeRef, "#"); u == jsonSchema2020 {
		out.set("$schema", s.SchemaTypeRef)
	}
	if s.Anchor != "" && !c.reachesItself(p, r) {
		out.set("$anchor", s.Anchor)
	}
	if s.Comment != "" {
		out.set("$comment", s.Comment)
	}
	if o != nil {
		for _, k := range o.keys {
			out.set(k, o.vals[k])
		}
	}
	if out.len() == 0 {
		return nil
	}
	return out
}

// jsonSchema2020 is the meta-schema of JSON Schema 2020-12.
const jsonSchema2020 = "https://json-schema.org/draft/2020-12/schema"

// reachesItself reports whether the body behind p is a component that the
// input schema's $defs hold too (a recursive body): its $anchor is written
// there, and a second copy at the top would make the schema invalid.
func (c *converter) reachesItself(p *base.SchemaProxy, r *refs) bool {
	if p == nil || !p.IsReference() {
		return false
	}
	name, ok := c.schemas.refName[p.GetReference()]
	if !ok {
		return false
	}
	found, _ := c.schemas.closure(r.list, modeInput, 0)
	for _, d := range found {
		if d.name == name {
			return true
		}
	}
	return false
}

// MaxOutputDefsBytes caps the $defs of one output schema. Output schemas
// only describe results; documents such as Stripe's reach their whole schema
// graph from every response (over 500 KB per tool), which would make
// tools/list enormous. Beyond the cap, deeper refs become open schemas that
// name the omitted type. Input schemas are never trimmed.
const MaxOutputDefsBytes = 16 << 10

// buildOutput sets op's output schema from the success response schema.
// Object schemas are used as they are; anything else is wrapped as
// {"result": ...} with WrapResult set, as FastMCP does. An empty schema
// (FastAPI's {} for an untyped return) promises nothing, so the tool gets no
// output schema and an object result is passed through unwrapped, as the
// upstream sent it.
func (c *converter) buildOutput(op *Operation, p *base.SchemaProxy) {
	if p == nil {
		return
	}
	var r refs
	var out *object
	s := c.schemas.resolve(p)
	if s != nil && isEmptySchema(s) {
		return
	}
	if s != nil && isObjectSchema(s) {
		var node any
		if p.IsReference() && !p.IsTransformedRefWithSiblings() {
			// Reuse the converted component instead of walking it again;
			// many operations return the same type.
			d := c.schemas.def(p.GetReference(), p, modeOutput)
			node = d.node
			for _, dep := range d.deps {
				r.add(dep)
			}
		} else {
			node = c.schemas.schema(s, modeOutput, &r)
		}
		if o, ok := node.(*object); ok {
			out = o // encodeTop does not modify it
			if !o.has("type") {
				out = newObject()
				out.set("type", "object")
				for _, k := range o.keys {
					out.set(k, o.vals[k])
				}
			}
		}
	}
	if out == nil {
		out = newObject()
		out.set("type", "object")
		res := newObject()
		res.set("result", c.schemas.proxy(p, modeOutput, &r))
		out.set("properties", res)
		out.set("required", []string{"result"})
		// FastMCP's marker: clients that know it (FastMCP's own) hand
		// the caller structuredContent.result instead of the wrapper.
		out.set("x-fastmcp-wrap-result", true)
		op.WrapResult = true
	}
	b, trimmed := c.schemas.encodeTop(out, r.list, modeOutput, MaxOutputDefsBytes)
	if trimmed {
		c.trimmed = append(c.trimmed, op.Method+" "+op.Path)
	}
	op.OutputSchema = json.RawMessage(b)
}

// isEmptySchema reports whether s constrains nothing, like {} or {"title": ...}.
func isEmptySchema(s *base.Schema) bool {
	return len(s.Type) == 0 && (s.Properties == nil || s.Properties.Len() == 0) &&
		len(s.AllOf) == 0 && len(s.OneOf) == 0 && len(s.AnyOf) == 0 && s.Not == nil &&
		s.Items == nil && s.AdditionalProperties == nil && len(s.Enum) == 0 && s.Const == nil &&
		len(s.PrefixItems) == 0
}

func isObjectSchema(s *base.Schema) bool {
	if s.Nullable != nil && *s.Nullable {
		return false
	}
	if len(s.Type) == 1 && s.Type[0] == "object" {
		return true
	}
	return len(s.Type) == 0 && s.Properties != nil && s.Properties.Len() > 0 &&
		len(s.OneOf)+len(s.AnyOf)+len(s.AllOf) == 0
}

// isJSONMedia reports whether a media type carries JSON.
func IsJSONMedia(mt string) bool {
	mt = strings.ToLower(strings.TrimSpace(strings.SplitN(mt, ";", 2)[0]))
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "/json") || mt == "*/*" || mt == "application/*"
}

// isMultipart reports whether a media type is multipart/form-data.
func isMultipart(mt string) bool {
	return strings.HasPrefix(strings.ToLower(mt), "multipart/")
}

// isBinaryMedia reports whether a request body of this media type is raw
// bytes rather than text, JSON or a form.
func isBinaryMedia(mt string) bool {
	mt = strings.ToLower(strings.TrimSpace(strings.SplitN(mt, ";", 2)[0]))
	switch {
	case IsJSONMedia(mt), strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "xml"),
		strings.HasPrefix(mt, "application/x-www-form-urlencoded"), strings.HasPrefix(mt, "multipart/"):
		return false
	}
	return true
}

// fileSchemaFor reports whether a converted schema describes a file (a
// binary string, or an array of them) and returns the schema the tool
// takes instead: base64 content plus a filename.
func fileSchemaFor(node any) (any, bool) {
	o, ok := node.(*object)
	if !ok {
		return nil, false
	}
	t, _ := o.get("type")
	if t == "array" {
		items, _ := o.get("items")
		if fs, ok := fileSchemaFor(items); ok {
			a := o.clone()
			a.set("items", fs)
			return a, true
		}
		return nil, false
	}
	f, _ := o.get("format")
	cmt, _ := o.get("contentMediaType")
	cms, _ := cmt.(string)
	binaryMedia := cms != "" && isBinaryMedia(cms) && !o.has("contentEncoding")
	if !(t == "string" || t == nil) || !(f == "binary" || binaryMedia) {
		return nil, false
	}
	fs := newObject()
	fs.set("type", "object")
	desc := "A file: its content base64-encoded, with an optional filename and media type."
	if d, ok := o.get("description"); ok {
		if ds, ok := d.(string); ok && ds != "" {
			desc = ds + " (" + desc + ")"
		}
	}
	if t, ok := o.get("title"); ok {
		fs.set("title", t)
	}
	fs.set("description", desc)
	props := newObject()
	content := newObject()
	content.set("type", "string")
	content.set("contentEncoding", "base64")
	props.set("content", content)
	fn := newObject()
	fn.set("type", "string")
	props.set("filename", fn)
	ct := newObject()
	ct.set("type", "string")
	if cms != "" {
		ct.set("default", cms)
	}
	props.set("content_type", ct)
	fs.set("properties", props)
	fs.set("required", []string{"content"})
	return fs, true
}
