package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Argument validation: a tool's arguments are checked against its input
// schema before any upstream request, so a model learns what it got wrong
// from a tool error naming the argument and the rule instead of from an
// upstream 422 (or worse, an upstream that accepts it).
//
// The schema is compiled, on a tool's first call, by
// santhosh-tekuri/jsonschema (JSON Schema 2020-12, every keyword: oneOf is
// exclusive, if/then/else, contains, dependentRequired, propertyNames,
// unevaluated*…). What is Portico's own is the formatter below, which turns
// the library's error tree into messages a model can act on: the JSON path
// of the argument, what was wrong and what was sent, one failure per
// top-level argument (up to maxArgErrors), and for anyOf/oneOf the
// alternative the value came closest to.
//
// Formats are annotations (FastAPI's date-time, uuid, binary... are not
// checked), as JSON Schema 2020-12 says by default. A null top-level
// argument is one not given: the request builder leaves it out, and models
// often send null for optional parameters. File arguments (Body.Files) are
// left to the request builder, which also takes a bare base64 string.

// vtype is a set of JSON types.
type vtype uint8

const (
	tNull vtype = 1 << iota
	tBoolean
	tObject
	tArray
	tNumber
	tInteger
	tString
)

var typeNames = []struct {
	t    vtype
	name string
}{{tNull, "null"}, {tBoolean, "boolean"}, {tObject, "object"}, {tArray, "array"}, {tNumber, "number"}, {tInteger, "integer"}, {tString, "string"}}

// argCheck is an operation's compiled schema, built on first use.
type argCheck struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

// validateArgs checks args against op's input schema. It returns nil when
// they are valid or when the schema cannot be compiled (a schema Portico
// cannot read must not block calls; the corpus test keeps that at zero).
func (op *Operation) ValidateArgs(args map[string]any) error {
	sch, _ := op.ArgSchema()
	if sch == nil {
		return nil
	}
	for _, v := range args {
		if v == nil { // absent: validate a copy without the nulls
			args = withoutNulls(args)
			break
		}
	}
	err := sch.Validate(args)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &ArgError{Message: err.Error(), Keyword: "schema"}
	}
	return argumentErrors(sch, ve, args)
}

func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// maxArgErrors caps how many failing arguments one tool error names.
const maxArgErrors = 5

// ArgErrors are several arguments that do not satisfy the input schema, in
// the order a single walk meets them: missing required ones, then the
// others by name.
type ArgErrors []*ArgError

func (es ArgErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// argumentErrors formats ve: one failure per top-level argument, missing
// required ones first, then the others by name.
func argumentErrors(root *jsonschema.Schema, ve *jsonschema.ValidationError, inst any) error {
	f := formatter{root: root, inst: inst}
	all := f.errors(ve)
	if len(all) == 0 {
		return &ArgError{Message: ve.Error(), Keyword: "schema"}
	}
	// At the arguments object itself (a root anyOf, a root "not"…) the
	// first failure says it all.
	for _, e := range all {
		if len(e.segs) == 0 {
			return e
		}
	}
	best := map[string]*ArgError{}
	var required, names []string
	for _, e := range all {
		top := e.segs[len(e.segs)-1].key
		cur, seen := best[top]
		if !seen {
			if e.Keyword == "required" && len(e.segs) == 1 {
				required = append(required, top)
			} else {
				names = append(names, top)
			}
			best[top] = e
			continue
		}
		if len(e.segs) < len(cur.segs) || len(e.segs) == len(cur.segs) && e.Path() < cur.Path() {
			best[top] = e
		}
	}
	slices.Sort(names)
	var es ArgErrors
	for _, n := range append(required, names...) {
		es = append(es, best[n])
	}
	if len(es) > maxArgErrors {
		es = es[:maxArgErrors]
	}
	if len(es) == 1 {
		return es[0]
	}
	return es
}

// argSchema compiles op's input schema once.
func (op *Operation) ArgSchema() (*jsonschema.Schema, error) {
	c := op.args.Load()
	if c == nil {
		op.args.CompareAndSwap(nil, &argCheck{})
		c = op.args.Load()
	}
	c.once.Do(func() { c.schema, c.err = CompileInput(op) })
	return c.schema, c.err
}

// outSchema compiles op's output schema once; nil without one.
func (op *Operation) OutSchema() (*jsonschema.Schema, error) {
	if op.OutputSchema == nil {
		return nil, nil
	}
	c := op.out.Load()
	if c == nil {
		op.out.CompareAndSwap(nil, &argCheck{})
		c = op.out.Load()
	}
	c.once.Do(func() {
		c.schema, c.err = compileSchema(op.OutputSchema, nil)
		if c.err != nil {
			c.err = fmt.Errorf("output schema of %s: %w", op.Name, c.err)
		}
	})
	return c.schema, c.err
}

// schemaURL names the one document each compiler holds.
const schemaURL = "urn:portico:tool-schema"

// compileSchema compiles a standalone JSON Schema (2020-12 unless it says
// otherwise); files names properties that accept anything.
func compileSchema(raw json.RawMessage, files []string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if obj, ok := doc.(map[string]any); ok && len(files) > 0 {
		if props, ok := obj["properties"].(map[string]any); ok {
			for _, f := range files {
				if _, ok := props[f]; ok {
					props[f] = true
				}
			}
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}

// noLoader refuses every URL: a tool schema is self-contained, and a $ref
// elsewhere must not make Portico fetch or read anything.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("$ref to %s: tool schemas are self-contained", url)
}

// compileInput compiles op's input schema; file arguments accept anything.
func CompileInput(op *Operation) (*jsonschema.Schema, error) {
	var files []string
	if op.Body != nil {
		files = op.Body.Files
	}
	sch, err := compileSchema(op.InputSchema, files)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", op.Name, err)
	}
	return sch, nil
}

// formatter turns the library's error tree into ArgErrors.
type formatter struct {
	root  *jsonschema.Schema
	inst  any
	byLoc map[string]*jsonschema.Schema // schema by location, built when a message needs one
}

// errors returns the leaf failures of ve.
func (f *formatter) errors(ve *jsonschema.ValidationError) []*ArgError {
	switch k := ve.ErrorKind.(type) {
	case *kind.AnyOf:
		return []*ArgError{f.alternatives(ve, "anyOf")}
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			return []*ArgError{f.alternatives(ve, "oneOf")}
		}
		return []*ArgError{f.at(ve, "oneOf", "matches alternatives %s of oneOf; it must match exactly one", joinInts(k.Subschemas))}
	case *kind.Required:
		var out []*ArgError
		for _, m := range k.Missing {
			out = append(out, f.at(ve, "required", "missing; it is required").inside(m))
		}
		return out
	case *kind.DependentRequired:
		var out []*ArgError
		for _, m := range k.Missing {
			out = append(out, f.at(ve, "dependentRequired", "missing; it is required when %q is given", k.Prop).inside(m))
		}
		return out
	case *kind.Contains, *kind.Not: // their causes are the items or schema that did not match
		return []*ArgError{f.leaf(ve)}
	case *kind.AdditionalProperties:
		var out []*ArgError
		for _, p := range k.Properties {
			out = append(out, f.unknown(ve, p))
		}
		return out
	}
	if len(ve.Causes) > 0 {
		var out []*ArgError
		for _, c := range ve.Causes {
			out = append(out, f.errors(c)...)
		}
		return out
	}
	return []*ArgError{f.leaf(ve)}
}

// alternatives reports an anyOf or oneOf no alternative matched: the types
// expected if every alternative failed on the type of the value itself,
// else the failure that got deepest into the value, the alternative the
// caller most likely meant.
func (f *formatter) alternatives(ve *jsonschema.ValidationError, keyword string) *ArgError {
	if len(ve.Causes) == 0 {
		return f.at(ve, keyword, "matches none of the alternatives allowed")
	}
	depth := len(ve.InstanceLocation)
	var types []string
	allType := true
	var best *ArgError
	for _, c := range ve.Causes {
		es := f.errors(c)
		if len(es) == 0 {
			continue
		}
		e := es[0]
		for _, o := range es[1:] {
			if len(o.segs) > len(e.segs) || len(o.segs) == len(e.segs) && closeness(o) > closeness(e) {
				e = o
			}
		}
		if e.Keyword == "type" && len(e.segs) == depth && e.want != nil {
			for _, t := range e.want {
				if !slices.Contains(types, t) && !(t == "integer" && slices.Contains(e.want, "number")) {
					types = append(types, t)
				}
			}
		} else {
			allType = false
		}
		if best == nil || len(e.segs) > len(best.segs) || len(e.segs) == len(best.segs) && closeness(e) > closeness(best) {
			best = e
		}
	}
	if best == nil {
		return f.at(ve, keyword, "matches none of the alternatives allowed")
	}
	if allType {
		v := f.value(ve.InstanceLocation)
		return f.at(ve, keyword, "expected %s, got %s", orList(types), describeValue(v, jsonTypeOf(v)))
	}
	best.Message = fmt.Sprintf("%s (%s); the value matches none of the %d alternatives allowed", best.Message, best.Keyword, len(ve.Causes))
	best.Keyword = keyword
	best.want = nil
	return best
}

// closeness ranks failures at the same depth: a value that has the
// alternative's type and required properties but breaks a bound is closer to
// it than one missing a property, which is closer than one of another type.
func closeness(e *ArgError) int {
	switch e.Keyword {
	case "type":
		return 0
	case "required", "additionalProperties", "const", "enum":
		return 1
	}
	return 2
}

// leaf formats one failed keyword.
func (f *formatter) leaf(ve *jsonschema.ValidationError) *ArgError {
	v := f.value(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		want := k.Want
		if slices.Contains(want, "number") {
			want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "integer" })
		}
		e := f.at(ve, "type", "expected %s, got %s", orList(want), describeValue(v, jsonTypeOf(v)))
		e.want = want
		return e
	case *kind.Enum:
		return f.at(ve, "enum", "must be one of %s, got %s", enumList(k.Want), Preview(v))
	case *kind.Const:
		return f.at(ve, "const", "must be %s, got %s", Preview(k.Want), Preview(v))
	case *kind.Minimum:
		return f.at(ve, "minimum", "must be >= %s, got %s", ratString(k.Want), Preview(v))
	case *kind.Maximum:
		return f.at(ve, "maximum", "must be <= %s, got %s", ratString(k.Want), Preview(v))
	case *kind.ExclusiveMinimum:
		return f.at(ve, "exclusiveMinimum", "must be > %s, got %s", ratString(k.Want), Preview(v))
	case *kind.ExclusiveMaximum:
		return f.at(ve, "exclusiveMaximum", "must be < %s, got %s", ratString(k.Want), Preview(v))
	case *kind.MultipleOf:
		return f.at(ve, "multipleOf", "must be a multiple of %s, got %s", ratString(k.Want), Preview(v))
	case *kind.MinLength:
		return f.at(ve, "minLength", "must be at least %d characters long, got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return f.at(ve, "maxLength", "must be at most %d characters long, got %d", k.Want, k.Got)
	case *kind.Pattern:
		return f.at(ve, "pattern", "must match the regular expression %s, got %s", k.Want, Preview(v))
	case *kind.MinItems:
		return f.at(ve, "minItems", "must have at least %d items, got %d", k.Want, k.Got)
	case *kind.MaxItems:
		return f.at(ve, "maxItems", "must have at most %d items, got %d", k.Want, k.Got)
	case *kind.UniqueItems:
		return f.at(ve, "uniqueItems", "items %d and %d are equal; the items must be unique", k.Duplicates[0], k.Duplicates[1])
	case *kind.Contains:
		return f.at(ve, "contains", "must have an item that matches the schema given under \"contains\"")
	case *kind.MinContains:
		return f.at(ve, "minContains", "must have at least %d items that match the schema given under \"contains\", got %d", k.Want, len(k.Got))
	case *kind.MaxContains:
		return f.at(ve, "maxContains", "must have at most %d items that match the schema given under \"contains\", got %d", k.Want, len(k.Got))
	case *kind.MinProperties:
		return f.at(ve, "minProperties", "must have at least %d properties, got %d", k.Want, k.Got)
	case *kind.MaxProperties:
		return f.at(ve, "maxProperties", "must have at most %d properties, got %d", k.Want, k.Got)
	case *kind.FalseSchema:
		return f.at(ve, "false", "is not allowed here")
	case *kind.Not:
		return f.at(ve, "not", "must not match the schema given under \"not\"")
	}
	keyword := "schema"
	if p := ve.ErrorKind.KeywordPath(); len(p) > 0 {
		keyword = p[0]
	}
	return f.at(ve, keyword, "%s", ve.ErrorKind.LocalizedString(english))
}

var english = message.NewPrinter(language.English)

// at is a failure of keyword at ve's instance location.
func (f *formatter) at(ve *jsonschema.ValidationError, keyword, format string, a ...any) *ArgError {
	e := &ArgError{Message: fmt.Sprintf(format, a...), Keyword: keyword}
	// segs are innermost first; an index is a step into an array.
	v := f.inst
	steps := make([]pathSeg, len(ve.InstanceLocation))
	for i, tok := range ve.InstanceLocation {
		steps[i] = pathSeg{key: tok, idx: -1}
		switch cur := v.(type) {
		case []any:
			if n, err := strconv.Atoi(tok); err == nil && n >= 0 && n < len(cur) {
				steps[i] = pathSeg{idx: n}
				v = cur[n]
				continue
			}
			v = nil
		case map[string]any:
			v = cur[tok]
		default:
			v = nil
		}
	}
	for i := len(steps) - 1; i >= 0; i-- {
		e.segs = append(e.segs, steps[i])
	}
	return e
}

// value is the instance value at loc.
func (f *formatter) value(loc []string) any {
	v := f.inst
	for _, tok := range loc {
		switch cur := v.(type) {
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(cur) {
				return nil
			}
			v = cur[n]
		case map[string]any:
			v = cur[tok]
		default:
			return nil
		}
	}
	return v
}

// unknown reports property p, which additionalProperties refuses, naming
// the properties allowed there.
func (f *formatter) unknown(ve *jsonschema.ValidationError, p string) *ArgError {
	var known []string
	if s := f.schemaAt(ve.SchemaURL); s != nil {
		for k := range s.Properties {
			known = append(known, k)
		}
		slices.Sort(known)
	}
	more := ""
	if len(known) > 30 {
		more = fmt.Sprintf(" and %d more", len(known)-30)
		known = known[:30]
	}
	if len(known) == 0 {
		return f.at(ve, "additionalProperties", "unknown name; no properties are allowed here").inside(p)
	}
	return f.at(ve, "additionalProperties", "unknown name; allowed here: %s%s", strings.Join(known, ", "), more).inside(p)
}

// schemaAt finds the compiled schema at loc.
func (f *formatter) schemaAt(loc string) *jsonschema.Schema {
	if f.byLoc == nil {
		f.byLoc = map[string]*jsonschema.Schema{}
		var walk func(s *jsonschema.Schema)
		walk = func(s *jsonschema.Schema) {
			if s == nil || f.byLoc[s.Location] != nil {
				return
			}
			f.byLoc[s.Location] = s
			walk(s.Ref)
			for _, p := range s.Properties {
				walk(p)
			}
			for _, p := range s.PatternProperties {
				walk(p)
			}
			if a, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
				walk(a)
			}
			for _, l := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
				for _, p := range l {
					walk(p)
				}
			}
			walk(s.Items2020)
			walk(s.Not)
			walk(s.If)
			walk(s.Then)
			walk(s.Else)
			walk(s.Contains)
			for _, p := range s.DependentSchemas {
				walk(p)
			}
		}
		walk(f.root)
	}
	return f.byLoc[loc]
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return orList(parts)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmtNum(f)
}

// ArgError is an argument that does not satisfy the tool's input schema.
type ArgError struct {
	Message string // what is wrong, e.g. "must be <= 100, got 150"
	Keyword string // the JSON Schema keyword that failed, e.g. maximum
	// segs is the path to the value, innermost first: the walk keeps no
	// path while it descends (so valid arguments cost no allocation) and
	// each level adds its step as a failure unwinds.
	segs []pathSeg
	want []string // for a type failure, the types the schema allows
}

type pathSeg struct {
	key string
	idx int // -1: key is a property name
}

// Path is the JSON path of the argument, e.g. pet.tags[2]; "" for the
// arguments object itself.
func (e *ArgError) Path() string {
	var b []byte
	for i := len(e.segs) - 1; i >= 0; i-- {
		s := e.segs[i]
		if s.idx >= 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.idx), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, s.key...)
	}
	return string(b)
}

func (e *ArgError) Error() string {
	if len(e.segs) == 0 {
		return fmt.Sprintf("arguments: %s (%s)", e.Message, e.Keyword)
	}
	return fmt.Sprintf("argument %q: %s (%s)", e.Path(), e.Message, e.Keyword)
}

// inside returns e moved to property key of the value it was at.
func (e *ArgError) inside(key string) *ArgError {
	e.segs = slices.Insert(e.segs, 0, pathSeg{key, -1})
	return e
}

// jsonTypeOf returns the JSON type of a decoded value; integers are tInteger.
func jsonTypeOf(v any) vtype {
	switch v := v.(type) {
	case nil:
		return tNull
	case bool:
		return tBoolean
	case string:
		return tString
	case json.Number:
		if isIntegerLiteral(string(v)) {
			return tInteger
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return tInteger // 1.0 is an integer in JSON Schema
		}
		return tNumber
	case float64:
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			return tInteger
		}
		return tNumber
	case int, int64, int32:
		return tInteger
	case []any:
		return tArray
	case map[string]any:
		return tObject
	}
	return 0
}

func isIntegerLiteral(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func typeList(t vtype) string {
	if t&tNumber != 0 {
		t &^= tInteger
	}
	var names []string
	for _, tn := range typeNames {
		if t&tn.t != 0 {
			names = append(names, tn.name)
		}
	}
	return orList(names)
}

func orList(names []string) string {
	switch len(names) {
	case 0:
		return "nothing"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// describeValue names v's type for a type error, with a short preview of
// scalars so the model sees what it sent ("got string "5"").
func describeValue(v any, t vtype) string {
	name := typeList(t)
	switch t {
	case tObject, tArray, tNull:
		return name
	}
	return name + " " + Preview(v)
}

// preview renders a value for a message, cut at 60 bytes.
func Preview(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return string(b[:cut]) + "..."
	}
	return string(b)
}

func enumList(vals []any) string {
	var parts []string
	for i, v := range vals {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("... (%d more)", len(vals)-20))
			break
		}
		parts = append(parts, Preview(v))
	}
	return strings.Join(parts, ", ")
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
