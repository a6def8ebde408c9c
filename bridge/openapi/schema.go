package openapi

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/orderedmap"
)

// mode says which side of a call a schema describes. Input schemas drop
// readOnly properties, output schemas drop writeOnly ones.
type mode int

const (
	modeInput mode = iota
	modeOutput
)

// def is one named schema that generated schemas reach through $ref. It is
// converted once per mode and shared by every tool that needs it.
type def struct {
	name string
	node any      // converted schema, refs rewritten to #/$defs/<name>
	deps []string // refs this schema uses directly, in first-use order
	json []byte   // node encoded, filled on first use
}

type defKey struct {
	ref  string
	mode mode
}

// schemaConverter turns OpenAPI schemas (3.0, 3.1, Swagger 2.0) into JSON
// Schema 2020-12 with local $defs. It is the package's own walker rather than
// libopenapi's inline renderer, which leaves dangling refs on cycles and
// keeps the OpenAPI dialect.
type schemaConverter struct {
	defs       map[defKey]*def
	refName    map[string]string // ref -> $defs name
	nameRef    map[string]string // $defs name -> ref
	components map[string]*base.SchemaProxy
	warn       func(format string, args ...any)
	warned     map[string]bool
	// where names the schema being converted, for warnings: "schema Pet"
	// or "GET /pets"; path holds the property names below it.
	where      string
	path       []string
	mismatches int               // values that disagree with their schema, beyond those reported
	dropJSON   map[string][]byte // defs encoded with some deps dropped, see defJSONDrop
	scratch    []byte            // reused buffer for encodeTop
	oas31      bool              // the document is 3.1 or later (JSON Schema 2020-12 dialect)
	oas30      bool              // the document is 3.0 or Swagger 2.0 (OpenAPI schema dialect)
}

// maxValueWarnings caps how many example/default mismatches are reported
// one by one; the rest are counted.
const maxValueWarnings = 20

func newSchemaConverter(components map[string]*base.SchemaProxy, warn func(string, ...any)) *schemaConverter {
	return &schemaConverter{
		defs:       make(map[defKey]*def),
		refName:    make(map[string]string),
		nameRef:    make(map[string]string),
		components: components,
		warn:       warn,
		warned:     make(map[string]bool),
	}
}

// refs collects the refs one generated schema uses, in first-use order.
type refs struct {
	list []string
	seen map[string]bool
}

func (r *refs) add(ref string) {
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	if !r.seen[ref] {
		r.seen[ref] = true
		r.list = append(r.list, ref)
	}
}

// defName returns the $defs name for ref: its last pointer segment, made
// safe, with a numeric suffix when another ref already took the name.
func (c *schemaConverter) defName(ref string) string {
	if n, ok := c.refName[ref]; ok {
		return n
	}
	seg := ref
	if i := strings.LastIndex(seg, "/"); i >= 0 {
		seg = seg[i+1:]
	}
	seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
	var b strings.Builder
	for _, r := range seg {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := b.String()
	if base == "" {
		base = "schema"
	}
	name := base
	for i := 2; ; i++ {
		if _, taken := c.nameRef[name]; !taken {
			break
		}
		name = base + "_" + strconv.Itoa(i)
	}
	c.refName[ref] = name
	c.nameRef[name] = ref
	return name
}

func (c *schemaConverter) warnOnce(key, format string, args ...any) {
	if c.warned[key] {
		return
	}
	c.warned[key] = true
	c.warn(format, args...)
}

// target returns the schema a reference proxy points at.
//
// A reference to a named component is resolved through the component's own
// proxy, whose built schema libopenapi caches: resolving through the
// referring proxy would build the component (and, lazily, every schema
// below it) again for each place that refers to it.
func (c *schemaConverter) target(p *base.SchemaProxy) *base.Schema {
	if t := c.component(p.GetReference()); t != nil && t != p {
		if s := t.Schema(); s != nil || p.IsTransformedRefWithSiblings() {
			return s
		}
	} else if p.IsTransformedRefWithSiblings() {
		return nil
	}
	return p.Schema()
}

// component returns the proxy of the component ref names, following
// components that are only a reference to another one (Foo: {$ref: Bar}),
// so each component is built from one proxy. It returns nil for refs that
// do not name a component.
func (c *schemaConverter) component(ref string) *base.SchemaProxy {
	t, ok := c.components[ref]
	if !ok {
		return nil
	}
	for range 8 {
		if t == nil || !t.IsReference() || t.IsTransformedRefWithSiblings() {
			break
		}
		next, ok := c.components[t.GetReference()]
		if !ok || next == nil {
			break
		}
		t = next
	}
	return t
}

// ensureDef converts the schema behind ref once per mode. The def is
// registered before its body is converted, so cycles terminate.
func (c *schemaConverter) ensureDef(ref string, p *base.SchemaProxy, m mode) string {
	name := c.defName(ref)
	key := defKey{ref, m}
	if _, ok := c.defs[key]; ok {
		return name
	}
	d := &def{name: name}
	c.defs[key] = d
	savedWhere, savedPath := c.where, c.path
	c.where, c.path = "schema "+name, nil
	defer func() { c.where, c.path = savedWhere, savedPath }()
	s := c.target(p)
	if s == nil {
		c.warnOnce("ref:"+ref, "schema %s could not be resolved (%v); tools using it accept any value there", ref, buildErr(p))
		d.node = newObject()
		return name
	}
	var r refs
	d.node = c.schema(s, m, &r)
	d.deps = r.list
	return name
}

// def returns the converted def behind ref, converting it if needed.
func (c *schemaConverter) def(ref string, p *base.SchemaProxy, m mode) *def {
	c.ensureDef(ref, p, m)
	return c.defs[defKey{ref, m}]
}

func buildErr(p *base.SchemaProxy) error {
	if err := p.GetBuildError(); err != nil {
		return err
	}
	return fmt.Errorf("not found in the document")
}

// proxy converts one schema proxy; refs it uses are added to r.
func (c *schemaConverter) proxy(p *base.SchemaProxy, m mode, r *refs) any {
	if p == nil {
		return newObject()
	}
	if p.IsReference() {
		ref := p.GetReference()
		name := c.ensureDef(ref, p, m)
		r.add(ref)
		o := newObject()
		o.set("$ref", "#/$defs/"+escapePointer(name))
		if p.IsTransformedRefWithSiblings() {
			if sib := p.Schema(); sib != nil {
				if so, ok := c.schema(sib, m, r).(*object); ok {
					for _, k := range so.keys {
						if k != "$ref" {
							o.set(k, so.vals[k])
						}
					}
				}
			}
		}
		return o
	}
	s := p.Schema()
	if s == nil {
		c.warnOnce(fmt.Sprintf("schema:%p", p), "a schema could not be built (%v); it accepts any value", buildErr(p))
		return newObject()
	}
	return c.schema(s, m, r)
}

// resolve follows refs to the schema a proxy finally describes.
func (c *schemaConverter) resolve(p *base.SchemaProxy) *base.Schema {
	if p == nil {
		return nil
	}
	if p.IsReference() {
		return c.target(p)
	}
	return p.Schema()
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// schema converts one schema object to JSON Schema 2020-12. It writes the keywords family by family, in
// a fixed order (the goldens and clients' caches depend on the bytes): type,
// leading annotations, values, object, array, unevaluated, composition,
// number, string, content, trailing annotations.
func (c *schemaConverter) schema(s *base.Schema, m mode, r *refs) any {
	if s.BooleanSchema != nil {
		return *s.BooleanSchema
	}
	o := newObject()
	nullable := s.Nullable != nil && *s.Nullable
	types := c.typeKeyword(o, s, nullable)
	c.leadingAnnotations(o, s)
	c.valueKeywords(o, s, m, types, nullable)
	c.objectKeywords(o, s, m, r)
	c.arrayKeywords(o, s, m, r)
	c.unevaluatedKeywords(o, s, m, r)
	c.compositionKeywords(o, s, m, r)
	c.numberKeywords(o, s)
	c.stringKeywords(o, s)
	c.contentKeywords(o, s, m, r)
	c.trailingAnnotations(o, s, m, types)
	// 3.0 nullable on a schema without a type (a $ref wrapper, a oneOf):
	// allow null alongside whatever the schema says.
	if nullable && len(s.Type) == 0 && (len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0) {
		w := newObject()
		w.set("anyOf", []any{o, map[string]any{"type": "null"}})
		return w
	}
	return o
}

// typeKeyword writes type, with "null" added for a 3.0 nullable schema,
// and returns the types written.
func (c *schemaConverter) typeKeyword(o *object, s *base.Schema, nullable bool) []string {
	types := s.Type
	if nullable && len(types) > 0 && !contains(types, "null") {
		types = append(append([]string(nil), types...), "null")
	}
	switch len(types) {
	case 0:
	case 1:
		o.set("type", types[0])
	default:
		o.set("type", append([]string(nil), types...))
	}
	return types
}

// leadingAnnotations writes $anchor and $comment (3.1 documents), title,
// description and format.
//
// $anchor names a schema within the tool's schema, whose refs are all
// #/$defs/... pointers, so it cannot change where a ref leads. $id is never
// written: it would give the schema below it a new base URI, and the
// pointers Portico writes there would no longer resolve against the tool's
// schema. $dynamicAnchor and $dynamicRef are not written either.
func (c *schemaConverter) leadingAnnotations(o *object, s *base.Schema) {
	if c.oas31 {
		if s.Anchor != "" {
			o.set("$anchor", s.Anchor)
		}
		if s.Comment != "" {
			o.set("$comment", s.Comment)
		}
	}
	if s.Title != "" {
		o.set("title", s.Title)
	}
	if s.Description != "" {
		o.set("description", s.Description)
	}
	if s.Format != "" {
		o.set("format", s.Format)
	}
}

// valueKeywords writes enum (with null for a 3.0 nullable schema), const
// and default; an input schema's default is checked against its types.
func (c *schemaConverter) valueKeywords(o *object, s *base.Schema, m mode, types []string, nullable bool) {
	if len(s.Enum) > 0 {
		vals := make([]any, 0, len(s.Enum)+1)
		hasNull := false
		for _, n := range s.Enum {
			v := yamlValue(n)
			if v == nil {
				hasNull = true
			}
			vals = append(vals, v)
		}
		if nullable && !hasNull {
			vals = append(vals, nil)
		}
		o.set("enum", vals)
	}
	if s.Const != nil {
		o.set("const", yamlValue(s.Const))
	}
	if s.Default != nil {
		v := yamlValue(s.Default)
		if m == modeInput {
			c.checkValue("default", v, types, o)
		}
		o.set("default", v)
	}
}

// objectKeywords writes properties (dropping those the mode hides) and
// required, patternProperties, additionalProperties, propertyNames,
// min/maxProperties, dependentRequired and dependentSchemas.
func (c *schemaConverter) objectKeywords(o *object, s *base.Schema, m mode, r *refs) {
	if s.Properties != nil && s.Properties.Len() > 0 {
		props := newObject()
		var dropped map[string]bool
		for name, p := range s.Properties.FromOldest() {
			if c.skipProperty(p, m) {
				if dropped == nil {
					dropped = make(map[string]bool)
				}
				dropped[name] = true
				continue
			}
			c.path = append(c.path, name)
			v := c.proxy(p, m, r)
			if m == modeOutput && c.oas30 && !contains(s.Required, name) {
				v = allowNull(v)
			}
			props.set(name, v)
			c.path = c.path[:len(c.path)-1]
		}
		o.set("properties", props)
		if len(s.Required) > 0 {
			req := make([]string, 0, len(s.Required))
			for _, n := range s.Required {
				if !dropped[n] {
					req = append(req, n)
				}
			}
			if len(req) > 0 {
				o.set("required", req)
			}
		}
	} else if len(s.Required) > 0 {
		o.set("required", append([]string(nil), s.Required...))
	}
	if s.PatternProperties != nil && s.PatternProperties.Len() > 0 {
		o.set("patternProperties", c.proxyMap(s.PatternProperties, m, r))
	}
	if ap := s.AdditionalProperties; ap != nil {
		if ap.IsA() {
			if ap.A != nil {
				o.set("additionalProperties", c.proxy(ap.A, m, r))
			}
		} else {
			o.set("additionalProperties", ap.B)
		}
	}
	if s.PropertyNames != nil {
		o.set("propertyNames", c.proxy(s.PropertyNames, m, r))
	}
	if s.MinProperties != nil {
		o.set("minProperties", *s.MinProperties)
	}
	if s.MaxProperties != nil {
		o.set("maxProperties", *s.MaxProperties)
	}
	if s.DependentRequired != nil && s.DependentRequired.Len() > 0 {
		dr := newObject()
		for k, v := range s.DependentRequired.FromOldest() {
			dr.set(k, append([]string(nil), v...))
		}
		o.set("dependentRequired", dr)
	}
	if s.DependentSchemas != nil && s.DependentSchemas.Len() > 0 {
		o.set("dependentSchemas", c.proxyMap(s.DependentSchemas, m, r))
	}
}

// arrayKeywords writes items, prefixItems, contains, min/maxContains,
// min/maxItems and uniqueItems.
func (c *schemaConverter) arrayKeywords(o *object, s *base.Schema, m mode, r *refs) {
	if it := s.Items; it != nil {
		if it.IsA() {
			if it.A != nil {
				o.set("items", c.proxy(it.A, m, r))
			}
		} else {
			o.set("items", it.B)
		}
	}
	if len(s.PrefixItems) > 0 {
		o.set("prefixItems", c.proxyList(s.PrefixItems, m, r))
	}
	if s.Contains != nil {
		o.set("contains", c.proxy(s.Contains, m, r))
	}
	if s.MinContains != nil {
		o.set("minContains", *s.MinContains)
	}
	if s.MaxContains != nil {
		o.set("maxContains", *s.MaxContains)
	}
	if s.MinItems != nil {
		o.set("minItems", *s.MinItems)
	}
	if s.MaxItems != nil {
		o.set("maxItems", *s.MaxItems)
	}
	if s.UniqueItems != nil && *s.UniqueItems {
		o.set("uniqueItems", true)
	}
}

// unevaluatedKeywords writes unevaluatedItems and unevaluatedProperties.
func (c *schemaConverter) unevaluatedKeywords(o *object, s *base.Schema, m mode, r *refs) {
	if s.UnevaluatedItems != nil {
		o.set("unevaluatedItems", c.proxy(s.UnevaluatedItems, m, r))
	}
	if up := s.UnevaluatedProperties; up != nil {
		if up.IsA() {
			if up.A != nil {
				o.set("unevaluatedProperties", c.proxy(up.A, m, r))
			}
		} else {
			o.set("unevaluatedProperties", up.B)
		}
	}
}

// compositionKeywords writes allOf, oneOf, anyOf, not, if/then/else and
// the discriminator (its mapping rewritten to $defs).
func (c *schemaConverter) compositionKeywords(o *object, s *base.Schema, m mode, r *refs) {
	if len(s.AllOf) > 0 {
		o.set("allOf", c.proxyList(s.AllOf, m, r))
	}
	if len(s.OneOf) > 0 {
		o.set("oneOf", c.proxyList(s.OneOf, m, r))
	}
	if len(s.AnyOf) > 0 {
		o.set("anyOf", c.proxyList(s.AnyOf, m, r))
	}
	if s.Not != nil {
		o.set("not", c.proxy(s.Not, m, r))
	}
	if s.If != nil {
		o.set("if", c.proxy(s.If, m, r))
	}
	if s.Then != nil {
		o.set("then", c.proxy(s.Then, m, r))
	}
	if s.Else != nil {
		o.set("else", c.proxy(s.Else, m, r))
	}
	if d := s.Discriminator; d != nil && d.PropertyName != "" {
		do := newObject()
		do.set("propertyName", d.PropertyName)
		if d.Mapping != nil && d.Mapping.Len() > 0 {
			mo := newObject()
			for k, v := range d.Mapping.FromOldest() {
				mo.set(k, c.mappingRef(v, m, r))
			}
			do.set("mapping", mo)
		}
		o.set("discriminator", do)
	}
}

// numberKeywords writes exclusiveMinimum/Maximum, minimum, maximum and
// multipleOf.
func (c *schemaConverter) numberKeywords(o *object, s *base.Schema) {
	// 3.0 boolean exclusives become 2020-12 numeric ones. The raw
	// node decides the form, not the document version: libopenapi coerces
	// a numeric bound in a 3.0 document to false, and true in 3.1 to 0.
	minimum, maximum := s.Minimum, s.Maximum
	var exMin, exMax *yaml.Node
	if low := s.GoLow(); low != nil {
		exMin, exMax = low.ExclusiveMinimum.ValueNode, low.ExclusiveMaximum.ValueNode
	}
	if isBool, flag, bound, ok := exclusive(exMin, s.ExclusiveMinimum); ok {
		c.checkDialect("exclusiveMinimum", isBool)
		if !isBool {
			o.set("exclusiveMinimum", bound)
		} else if flag && minimum != nil {
			o.set("exclusiveMinimum", *minimum)
			minimum = nil
		}
	}
	if isBool, flag, bound, ok := exclusive(exMax, s.ExclusiveMaximum); ok {
		c.checkDialect("exclusiveMaximum", isBool)
		if !isBool {
			o.set("exclusiveMaximum", bound)
		} else if flag && maximum != nil {
			o.set("exclusiveMaximum", *maximum)
			maximum = nil
		}
	}
	if minimum != nil {
		o.set("minimum", *minimum)
	}
	if maximum != nil {
		o.set("maximum", *maximum)
	}
	if s.MultipleOf != nil {
		o.set("multipleOf", *s.MultipleOf)
	}
}

// stringKeywords writes minLength, maxLength and pattern.
func (c *schemaConverter) stringKeywords(o *object, s *base.Schema) {
	if s.MinLength != nil {
		o.set("minLength", *s.MinLength)
	}
	if s.MaxLength != nil {
		o.set("maxLength", *s.MaxLength)
	}
	if s.Pattern != "" {
		o.set("pattern", s.Pattern)
	}
}

// contentKeywords writes contentEncoding, contentMediaType and
// contentSchema.
func (c *schemaConverter) contentKeywords(o *object, s *base.Schema, m mode, r *refs) {
	if s.ContentEncoding != "" {
		o.set("contentEncoding", s.ContentEncoding)
	}
	if s.ContentMediaType != "" {
		o.set("contentMediaType", s.ContentMediaType)
	}
	if s.ContentSchema != nil {
		o.set("contentSchema", c.proxy(s.ContentSchema, m, r))
	}
}

// trailingAnnotations writes readOnly, writeOnly, deprecated and examples
// (3.0 example last); an input schema's examples are checked against its
// types.
func (c *schemaConverter) trailingAnnotations(o *object, s *base.Schema, m mode, types []string) {
	if s.ReadOnly != nil && *s.ReadOnly {
		o.set("readOnly", true)
	}
	if s.WriteOnly != nil && *s.WriteOnly {
		o.set("writeOnly", true)
	}
	if s.Deprecated != nil && *s.Deprecated {
		o.set("deprecated", true)
	}
	var examples []any
	for _, n := range s.Examples {
		examples = append(examples, yamlValue(n))
	}
	if s.Example != nil {
		examples = append(examples, yamlValue(s.Example))
	}
	if len(examples) > 0 {
		if m == modeInput {
			for _, v := range examples {
				c.checkValue("example", v, types, o)
			}
		}
		o.set("examples", examples)
	}
}

// allowNull widens an optional property of an output schema to accept null.
// OpenAPI 3.0 and Swagger 2.0 documents often say "optional" where the
// service sends null: FastAPI with pydantic 1 (FastAPI < 0.100) publishes
// Optional[str] as {"type": "string"} and answers {"note": null}. Clients that
// validate structuredContent against the outputSchema (the TypeScript SDK)
// would then refuse a correct answer. 3.1 documents state null explicitly,
// so their schemas are kept as written.
func allowNull(v any) any {
	o, ok := v.(*object)
	if !ok || o.len() == 0 {
		return v // true, false or {}: nothing to widen
	}
	t, hasType := o.get("type")
	switch {
	case hasType:
		o = o.clone()
		switch t := t.(type) {
		case string:
			if t == "null" {
				return v
			}
			o.set("type", []string{t, "null"})
		case []string:
			if contains(t, "null") {
				return v
			}
			o.set("type", append(append([]string(nil), t...), "null"))
		default:
			return v
		}
		if e, ok := o.get("enum"); ok {
			if vals, ok := e.([]any); ok && !containsNil(vals) {
				o.set("enum", append(append([]any(nil), vals...), nil))
			}
		}
		return o
	case o.has("$ref") || o.has("allOf") || o.has("oneOf") || o.has("anyOf") || o.has("const") || o.has("enum"):
		w := newObject()
		w.set("anyOf", []any{o, map[string]any{"type": "null"}})
		return w
	}
	return v // no type and no constraint on the kind of value: null already passes
}

func containsNil(vals []any) bool {
	for _, v := range vals {
		if v == nil {
			return true
		}
	}
	return false
}

// checkDialect warns once per document when an exclusive bound is written
// in the other OpenAPI version's form; it is converted either way.
func (c *schemaConverter) checkDialect(keyword string, isBool bool) {
	switch {
	case c.oas30 && !isBool:
		c.warnOnce("dialect:"+keyword, "a numeric %s (OpenAPI 3.1 style) appears in a 3.0 or 2.0 document, first at %s; read as a bound", keyword, c.at())
	case c.oas31 && isBool:
		c.warnOnce("dialect:"+keyword, "a boolean %s (OpenAPI 3.0 style) appears in a 3.1 document, first at %s; read as 3.0 would", keyword, c.at())
	}
}

func (c *schemaConverter) at() string {
	if len(c.path) > 0 {
		return c.where + " property " + strings.Join(c.path, ".")
	}
	return c.where
}

// exclusive reads exclusiveMinimum/Maximum in either form: a boolean flag
// (3.0, Swagger 2.0) or a numeric bound (3.1).
func exclusive(raw *yaml.Node, v *base.DynamicValue[bool, float64]) (isBool, flag bool, bound any, ok bool) {
	if raw != nil && raw.Kind == yaml.ScalarNode {
		switch raw.ShortTag() {
		case "!!bool":
			b, err := strconv.ParseBool(raw.Value)
			return true, b && err == nil, nil, true
		case "!!int", "!!float":
			return false, false, yamlValue(raw), true
		}
	}
	if v == nil {
		return false, false, nil, false
	}
	if v.IsA() {
		return true, v.A, nil, true
	}
	return false, false, v.B, true
}

// mappingRef rewrites a discriminator mapping value to a local $defs ref.
func (c *schemaConverter) mappingRef(v string, m mode, r *refs) string {
	ref := v
	if !strings.Contains(v, "/") && !strings.Contains(v, "#") {
		for _, prefix := range []string{"#/components/schemas/", "#/definitions/"} {
			if _, ok := c.components[prefix+v]; ok {
				ref = prefix + v
				break
			}
		}
	}
	p, ok := c.components[ref]
	if !ok {
		return v
	}
	name := c.ensureDef(ref, p, m)
	r.add(ref)
	return "#/$defs/" + escapePointer(name)
}

func (c *schemaConverter) proxyList(ps []*base.SchemaProxy, m mode, r *refs) []any {
	out := make([]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, c.proxy(p, m, r))
	}
	return out
}

func (c *schemaConverter) proxyMap(ps *orderedmap.Map[string, *base.SchemaProxy], m mode, r *refs) *object {
	o := newObject()
	for k, p := range ps.FromOldest() {
		o.set(k, c.proxy(p, m, r))
	}
	return o
}

// skipProperty reports whether a property is left out in mode m: readOnly
// properties are not inputs and writeOnly ones are not outputs.
func (c *schemaConverter) skipProperty(p *base.SchemaProxy, m mode) bool {
	if p == nil || (p.IsReference() && !p.IsTransformedRefWithSiblings()) {
		return false
	}
	s := p.Schema()
	if s == nil {
		return false
	}
	if m == modeInput {
		return s.ReadOnly != nil && *s.ReadOnly
	}
	return s.WriteOnly != nil && *s.WriteOnly
}

// closure lists the defs reachable from roots in breadth-first order. With
// a budget > 0 it stops adding defs once their encoded size would pass the
// budget and reports the names left out; refs to them are then encoded as
// open schemas (see appendJSONDrop).
func (c *schemaConverter) closure(roots []string, m mode, budget int) (found []*def, dropped map[string]bool) {
	seen := make(map[string]bool)
	queue := append([]string(nil), roots...)
	size := 0
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		d, ok := c.defs[defKey{ref, m}]
		if !ok {
			continue
		}
		if budget > 0 {
			n := len(c.defJSON(d))
			if size+n > budget {
				if dropped == nil {
					dropped = make(map[string]bool)
				}
				dropped[d.name] = true
				continue
			}
			size += n
		}
		found = append(found, d)
		queue = append(queue, d.deps...)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	return found, dropped
}

// defJSON returns the encoded def, encoding it once.
func (c *schemaConverter) defJSON(d *def) []byte {
	if d.json == nil {
		d.json = appendJSON(nil, d.node)
	}
	return d.json
}

// appendDefs encodes found as a $defs object value.
func (c *schemaConverter) appendDefs(b []byte, found []*def, dropped map[string]bool) []byte {
	b = append(b, '{')
	for i, d := range found {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, d.name)
		b = append(b, ':')
		b = append(b, c.defJSONDrop(d, dropped)...)
	}
	return append(b, '}')
}

// defJSONDrop returns d encoded with refs to dropped defs left open. The
// result depends only on which of d's own deps are dropped, so it is
// encoded once per such set: a trimmed output graph is shared by many
// operations (Stripe's responses all reach the same types).
func (c *schemaConverter) defJSONDrop(d *def, dropped map[string]bool) []byte {
	if len(dropped) == 0 {
		return c.defJSON(d)
	}
	var key []byte
	for _, ref := range d.deps {
		if n := c.refName[ref]; dropped[n] {
			key = append(append(key, 0), n...)
		}
	}
	if key == nil {
		return c.defJSON(d)
	}
	key = append(append(key, 0), d.name...)
	if enc, ok := c.dropJSON[string(key)]; ok {
		return enc
	}
	enc := appendJSONDrop(make([]byte, 0, len(c.defJSON(d))), d.node, dropped)
	if c.dropJSON == nil {
		c.dropJSON = make(map[string][]byte)
	}
	c.dropJSON[string(key)] = enc
	return enc
}

// encodeTop encodes a generated top-level schema with the $defs its refs
// reach. budget > 0 trims the $defs (output schemas only); trimmed reports
// whether anything was left out.
func (c *schemaConverter) encodeTop(top *object, roots []string, m mode, budget int) (out []byte, trimmed bool) {
	found, dropped := c.closure(roots, m, budget)
	t := appendJSONDrop(c.scratch[:0], top, dropped)
	c.scratch = t[:0]
	if len(found) == 0 {
		return append([]byte(nil), t...), len(dropped) > 0
	}
	// Size the result once: it is kept for the life of the tenant's tools.
	n := len(t) + len(`,"$defs":{}`)
	for _, d := range found {
		n += len(d.name) + 4 + len(c.defJSONDrop(d, dropped))
	}
	b := make([]byte, 0, n)
	b = append(b, t[:len(t)-1]...) // reopen the object
	if top.len() > 0 {
		b = append(b, ',')
	}
	b = append(b, `"$defs":`...)
	b = c.appendDefs(b, found, dropped)
	b = append(b, '}')
	return b, len(dropped) > 0
}

// checkValue reports a default or example whose JSON type or enum
// membership disagrees with its schema. The value is kept: documents are
// never rejected for this (GitHub, Twilio and others ship such values).
func (c *schemaConverter) checkValue(kind string, v any, types []string, o *object) {
	problem := ""
	jt := jsonType(v)
	if len(types) > 0 && !contains(types, jt) && !(jt == "integer" && contains(types, "number")) {
		problem = fmt.Sprintf("is %s, not %s", jt, strings.Join(types, " or "))
	} else if enum, ok := o.get("enum"); ok && jt != "object" && jt != "array" {
		found := false
		for _, e := range enum.([]any) {
			if string(appendJSON(nil, e)) == string(appendJSON(nil, v)) {
				found = true
				break
			}
		}
		if !found {
			problem = "is not one of the enum values"
		}
	}
	if problem == "" {
		if ex, ok := v.(string); ok && kind == "example" && o.has("pattern") {
			if re, err := regexp.Compile(o.vals["pattern"].(string)); err == nil && !re.MatchString(ex) {
				problem = "does not match the pattern"
			}
		}
	}
	if problem == "" {
		return
	}
	if c.mismatches++; c.mismatches > maxValueWarnings {
		return
	}
	at := c.at()
	val := string(appendJSON(nil, v))
	if len(val) > 40 {
		val = val[:37] + "..."
	}
	c.warn("%s: %s %s %s (kept as written)", at, kind, val, problem)
}

// typesOf returns the types a converted schema declares.
func typesOf(o *object) []string {
	switch t := o.vals["type"].(type) {
	case string:
		return []string{t}
	case []string:
		return t
	}
	return nil
}

// jsonType names the JSON Schema type of a value built by yamlValue.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case number:
		if strings.ContainsAny(string(v), ".eE") {
			return "number"
		}
		return "integer"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case int, int64:
		return "integer"
	case *object:
		return "object"
	case []any:
		return "array"
	}
	return "unknown"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
