package bridge

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// Argument validation (issue 4, point 6): a tool's arguments are checked
// against its input schema before any upstream request, so a model learns
// what it got wrong from a tool error naming the argument and the rule
// instead of from an upstream 422 (or worse, an upstream that accepts it).
//
// The schema is parsed and resolved by google/jsonschema-go (the go-sdk's
// validator: it rejects malformed schemas, bad patterns and dangling refs)
// and then compiled into a vnode tree walked per call. The library's own
// Validate is not used per call: it reads json.Number (arguments are decoded
// with UseNumber to keep large integers exact) as a string, so every number
// would fail "type": "integer"; it allocates a map per object and a big.Rat
// per numeric bound; and its errors name schema locations, not the argument.
// The walk below allocates nothing when the arguments are valid and names
// the JSON path of the first failure; validateArgs then lists the other
// failing top-level arguments too (up to maxArgErrors).
//
// Only what the schema says is enforced, and where a keyword is ambiguous in
// practice the check is lenient: unknown formats and formats in general are
// annotations (FastAPI's date-time, uuid, binary... are not checked);
// oneOf is checked as anyOf (real documents have overlapping alternatives
// their services accept); if/then/else, contains, dependent*, propertyNames,
// unevaluated* and $dynamicRef are not checked. File arguments (Body.Files)
// are left to the request builder, which also takes a bare base64 string.

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

// vnode is one compiled schema.
type vnode struct {
	never bool  // the false schema
	types vtype // 0: any type

	enum     []any
	hasConst bool
	constv   any

	multipleOf, minimum, maximum, exMinimum, exMaximum *float64

	minLength, maxLength *int
	pattern              *regexp.Regexp

	prefixItems        []*vnode
	items              *vnode
	minItems, maxItems *int
	uniqueItems        bool

	properties          map[string]*vnode
	required            []string
	patternProps        []patternProp
	additional          *vnode // nil: anything
	minProps, maxProps  *int
	allOf, anyOf, oneOf []*vnode
	not                 *vnode
	ref                 *vnode
	known               []string // property names, sorted, for messages
}

type patternProp struct {
	re   *regexp.Regexp
	node *vnode
}

// argCheck is an operation's compiled input schema, built on first use.
type argCheck struct {
	once sync.Once
	root *vnode
	err  error
}

// maxCheckDepth bounds the walk: schemas can recurse without consuming the
// instance (allOf: [{$ref: self}]); past this depth the value is accepted.
const maxCheckDepth = 256

// validateArgs checks args against op's input schema. It returns nil when
// they are valid or when the schema cannot be compiled (a schema Portico
// cannot read must not block calls; the corpus test keeps that at zero).
func (op *Operation) validateArgs(args map[string]any) error {
	root, _ := op.argSchema()
	if root == nil {
		return nil
	}
	// A null argument is one not given: the request builder leaves it
	// out, and models often send null for optional parameters.
	w := walk{args: true}
	e := w.check(root, args, 0)
	if e == nil {
		return nil
	}
	// Several bad arguments are named together, so a model fixes them in
	// one round instead of one per call. Only for a plain object schema,
	// whose arguments fail independently; the first is always the one the
	// single walk found.
	if n := root.deref(); len(e.segs) > 0 && n.ref == nil && n.allOf == nil && n.anyOf == nil && n.oneOf == nil && n.not == nil {
		if es := w.argumentErrors(n, args); len(es) > 1 {
			return es
		}
	}
	return e
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

// argumentErrors lists up to maxArgErrors failing top-level arguments of
// args against n, an object schema.
func (w walk) argumentErrors(n *vnode, args map[string]any) ArgErrors {
	var es ArgErrors
	for _, r := range n.required {
		if v, ok := args[r]; !ok || v == nil {
			es = append(es, w.fail("required", "missing; it is required").under(r, -1))
		}
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if e := w.checkProperty(n, k, args[k], 0); e != nil {
			es = append(es, e)
		}
	}
	if len(es) > maxArgErrors {
		es = es[:maxArgErrors]
	}
	return es
}

// argSchema compiles op's input schema once.
func (op *Operation) argSchema() (*vnode, error) {
	c := op.args.Load()
	if c == nil {
		op.args.CompareAndSwap(nil, &argCheck{})
		c = op.args.Load()
	}
	c.once.Do(func() { c.root, c.err = compileInput(op) })
	return c.root, c.err
}

// outSchema compiles op's output schema once; nil without one.
func (op *Operation) outSchema() (*vnode, error) {
	if op.OutputSchema == nil {
		return nil, nil
	}
	c := op.out.Load()
	if c == nil {
		op.out.CompareAndSwap(nil, &argCheck{})
		c = op.out.Load()
	}
	c.once.Do(func() {
		c.root, c.err = compileSchema(op.OutputSchema)
		if c.err != nil {
			c.err = fmt.Errorf("output schema of %s: %w", op.Name, c.err)
		}
	})
	return c.root, c.err
}

// compileSchema parses, resolves and compiles a standalone JSON Schema.
func compileSchema(raw json.RawMessage) (*vnode, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if _, err := s.Resolve(nil); err != nil {
		return nil, err
	}
	c := &vcompiler{root: &s, done: make(map[*jsonschema.Schema]*vnode)}
	return c.compile(&s), nil
}

// compileInput compiles op's input schema; file arguments accept anything.
func compileInput(op *Operation) (*vnode, error) {
	root, err := compileSchema(op.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("input schema of %s: %w", op.Name, err)
	}
	if op.Body != nil && len(op.Body.Files) > 0 && root.properties != nil {
		for _, f := range op.Body.Files {
			if _, ok := root.properties[f]; ok {
				root.properties[f] = &vnode{}
			}
		}
	}
	return root, nil
}

type vcompiler struct {
	root *jsonschema.Schema
	done map[*jsonschema.Schema]*vnode
}

func (c *vcompiler) compile(s *jsonschema.Schema) *vnode {
	if s == nil {
		return &vnode{}
	}
	if n, ok := c.done[s]; ok {
		return n
	}
	n := &vnode{}
	c.done[s] = n // before children: recursive schemas point back here
	if s.Ref != "" {
		if t := c.lookup(s.Ref); t != nil {
			n.ref = c.compile(t)
		}
	}
	if s.Type != "" {
		n.types = typeOf(s.Type)
	}
	for _, t := range s.Types {
		n.types |= typeOf(t)
	}
	if n.types&tNumber != 0 {
		n.types |= tInteger // number subsumes integer
	}
	n.enum = s.Enum
	if s.Const != nil {
		n.hasConst, n.constv = true, *s.Const
	}
	n.multipleOf, n.minimum, n.maximum, n.exMinimum, n.exMaximum = s.MultipleOf, s.Minimum, s.Maximum, s.ExclusiveMinimum, s.ExclusiveMaximum
	if n.multipleOf != nil && *n.multipleOf <= 0 {
		n.multipleOf = nil
	}
	n.minLength, n.maxLength = s.MinLength, s.MaxLength
	if s.Pattern != "" {
		n.pattern, _ = regexp.Compile(s.Pattern) // Resolve compiled it already
	}
	for _, p := range s.PrefixItems {
		n.prefixItems = append(n.prefixItems, c.compile(p))
	}
	if s.Items != nil {
		n.items = c.compile(s.Items)
	}
	n.minItems, n.maxItems, n.uniqueItems = s.MinItems, s.MaxItems, s.UniqueItems
	if len(s.Properties) > 0 {
		n.properties = make(map[string]*vnode, len(s.Properties))
		for k, p := range s.Properties {
			n.properties[k] = c.compile(p)
		}
		for k := range s.Properties {
			n.known = append(n.known, k)
		}
		slices.Sort(n.known)
	}
	n.required = s.Required
	for pat, p := range s.PatternProperties {
		if re, err := regexp.Compile(pat); err == nil {
			n.patternProps = append(n.patternProps, patternProp{re, c.compile(p)})
		}
	}
	if s.AdditionalProperties != nil {
		if a := c.compile(s.AdditionalProperties); !a.trivial() {
			n.additional = a
		}
	}
	n.minProps, n.maxProps = s.MinProperties, s.MaxProperties
	for _, a := range s.AllOf {
		n.allOf = append(n.allOf, c.compile(a))
	}
	for _, a := range s.AnyOf {
		n.anyOf = append(n.anyOf, c.compile(a))
	}
	for _, a := range s.OneOf {
		n.oneOf = append(n.oneOf, c.compile(a))
	}
	if s.Not != nil {
		n.not = c.compile(s.Not)
		if n.not.trivial() {
			n.never = true // {"not": {}} is the false schema
		}
	}
	return n
}

// trivial reports whether n accepts every value.
func (n *vnode) trivial() bool {
	return n.ref == nil && n.types == 0 && !n.never && n.enum == nil && !n.hasConst &&
		n.multipleOf == nil && n.minimum == nil && n.maximum == nil && n.exMinimum == nil && n.exMaximum == nil &&
		n.minLength == nil && n.maxLength == nil && n.pattern == nil &&
		n.prefixItems == nil && n.items == nil && n.minItems == nil && n.maxItems == nil && !n.uniqueItems &&
		n.properties == nil && n.required == nil && n.patternProps == nil && n.additional == nil &&
		n.minProps == nil && n.maxProps == nil && n.allOf == nil && n.anyOf == nil && n.oneOf == nil && n.not == nil
}

// lookup resolves the local references the converter writes (#/$defs/X,
// also #/definitions/X and #). Other references are not followed.
func (c *vcompiler) lookup(ref string) *jsonschema.Schema {
	if ref == "#" {
		return c.root
	}
	for _, prefix := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			name = strings.NewReplacer("~1", "/", "~0", "~").Replace(name)
			if prefix == "#/$defs/" {
				return c.root.Defs[name]
			}
			return c.root.Definitions[name]
		}
	}
	return nil
}

func typeOf(name string) vtype {
	for _, t := range typeNames {
		if t.name == name {
			return t.t
		}
	}
	return 0
}

// ArgError is an argument that does not satisfy the tool's input schema.
type ArgError struct {
	Message string // what is wrong, e.g. "must be <= 100, got 150"
	Keyword string // the JSON Schema keyword that failed, e.g. maximum
	// segs is the path to the value, innermost first: the walk keeps no
	// path while it descends (so valid arguments cost no allocation) and
	// each level adds its step as a failure unwinds.
	segs []pathSeg
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

// under returns e one level down: at property key, or at index idx when key is "".
func (e *ArgError) under(key string, idx int) *ArgError {
	if e != errQuiet {
		e.segs = append(e.segs, pathSeg{key, idx})
	}
	return e
}

// errQuiet is the failure of a quiet walk, which only asks whether a value
// is valid (an alternative of anyOf/oneOf) and must not pay for messages.
var errQuiet = &ArgError{Message: "invalid", Keyword: "quiet"}

func (w walk) fail(keyword, format string, a ...any) *ArgError {
	if w.quiet {
		return errQuiet
	}
	return &ArgError{Message: fmt.Sprintf(format, a...), Keyword: keyword}
}

// walk is how a check runs: quiet walks build no messages.
type walk struct {
	quiet bool
	args  bool // checking the arguments object itself: a null property is an absent one
}

// check validates v at path p. It allocates only when v is invalid.
func (n *vnode) check(v any, depth int) *ArgError { return walk{}.check(n, v, depth) }

func (w walk) check(n *vnode, v any, depth int) *ArgError {
	if depth > maxCheckDepth {
		return nil
	}
	if n.never {
		return w.fail("false", "is not allowed here")
	}
	if n.ref != nil {
		if e := w.check(n.ref, v, depth+1); e != nil {
			return e
		}
	}
	got := jsonTypeOf(v)
	if n.types != 0 && n.types&got == 0 {
		return w.fail("type", "expected %s, got %s", typeList(n.types), describeValue(v, got))
	}
	if n.enum != nil {
		if !slices.ContainsFunc(n.enum, func(e any) bool { return valueEqual(e, v) }) {
			return w.fail("enum", "must be one of %s, got %s", enumList(n.enum), preview(v))
		}
	}
	if n.hasConst && !valueEqual(n.constv, v) {
		return w.fail("const", "must be %s, got %s", preview(n.constv), preview(v))
	}
	switch got {
	case tNumber, tInteger:
		if e := w.checkNumber(n, v); e != nil {
			return e
		}
	case tString:
		s := v.(string)
		if n.minLength != nil || n.maxLength != nil {
			l := utf8.RuneCountInString(s)
			if n.minLength != nil && l < *n.minLength {
				return w.fail("minLength", "must be at least %d characters long, got %d", *n.minLength, l)
			}
			if n.maxLength != nil && l > *n.maxLength {
				return w.fail("maxLength", "must be at most %d characters long, got %d", *n.maxLength, l)
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(s) {
			return w.fail("pattern", "must match the regular expression %s, got %s", n.pattern, preview(v))
		}
	case tArray:
		if e := w.checkArray(n, v.([]any), depth); e != nil {
			return e
		}
	case tObject:
		if e := w.checkObject(n, v.(map[string]any), depth); e != nil {
			return e
		}
	}
	for _, s := range n.allOf {
		if e := w.check(s, v, depth+1); e != nil {
			return e
		}
	}
	if e := w.checkAlternatives(n, n.anyOf, "anyOf", v, depth); e != nil {
		return e
	}
	if e := w.checkAlternatives(n, n.oneOf, "oneOf", v, depth); e != nil {
		return e
	}
	if n.not != nil && w.check(n.not, v, depth+1) == nil {
		return w.fail("not", "must not match the schema given under \"not\"")
	}
	return nil
}

// checkAlternatives checks that v matches at least one of alts. When none
// does, the error says which types were expected if every alternative failed
// on the type of v itself, else reports the failure that got deepest into
// v, the alternative the caller most likely meant.
func (w walk) checkAlternatives(n *vnode, alts []*vnode, keyword string, v any, depth int) *ArgError {
	if len(alts) == 0 {
		return nil
	}
	quiet := walk{quiet: true}
	for _, a := range alts {
		if quiet.check(a, v, depth+1) == nil {
			return nil
		}
	}
	if w.quiet {
		return errQuiet
	}
	errs := make([]*ArgError, len(alts))
	for i, a := range alts {
		errs[i] = w.check(a, v, depth+1)
	}
	var types []string
	best := errs[0]
	allType := true
	for i, e := range errs {
		if t := alts[i].deref().types; e.Keyword == "type" && len(e.segs) == 0 && t != 0 {
			for _, tn := range typeNames {
				if t&tn.t != 0 && !(tn.t == tInteger && t&tNumber != 0) && !slices.Contains(types, tn.name) {
					types = append(types, tn.name)
				}
			}
		} else {
			allType = false
		}
		if len(e.segs) > len(best.segs) || len(e.segs) == len(best.segs) && closeness(e) > closeness(best) {
			best = e
		}
	}
	if allType {
		return w.fail(keyword, "expected %s, got %s", orList(types), describeValue(v, jsonTypeOf(v)))
	}
	best.Message = fmt.Sprintf("%s (%s); the value matches none of the %d alternatives allowed", best.Message, best.Keyword, len(alts))
	best.Keyword = keyword
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

// deref follows $ref-only wrappers to the schema that carries the type.
func (n *vnode) deref() *vnode {
	for i := 0; n.types == 0 && n.ref != nil && i < 16; i++ {
		n = n.ref
	}
	return n
}

func (w walk) checkNumber(n *vnode, v any) *ArgError {
	if n.multipleOf == nil && n.minimum == nil && n.maximum == nil && n.exMinimum == nil && n.exMaximum == nil {
		return nil
	}
	f, ok := toFloat(v)
	if !ok {
		return nil
	}
	if n.minimum != nil && f < *n.minimum {
		return w.fail("minimum", "must be >= %s, got %s", fmtNum(*n.minimum), preview(v))
	}
	if n.maximum != nil && f > *n.maximum {
		return w.fail("maximum", "must be <= %s, got %s", fmtNum(*n.maximum), preview(v))
	}
	if n.exMinimum != nil && f <= *n.exMinimum {
		return w.fail("exclusiveMinimum", "must be > %s, got %s", fmtNum(*n.exMinimum), preview(v))
	}
	if n.exMaximum != nil && f >= *n.exMaximum {
		return w.fail("exclusiveMaximum", "must be < %s, got %s", fmtNum(*n.exMaximum), preview(v))
	}
	if n.multipleOf != nil {
		q := f / *n.multipleOf
		if math.Abs(q-math.Round(q)) > 1e-9*math.Max(1, math.Abs(q)) {
			return w.fail("multipleOf", "must be a multiple of %s, got %s", fmtNum(*n.multipleOf), preview(v))
		}
	}
	return nil
}

func (w walk) checkArray(n *vnode, a []any, depth int) *ArgError {
	w.args = false
	if n.minItems != nil && len(a) < *n.minItems {
		return w.fail("minItems", "must have at least %d items, got %d", *n.minItems, len(a))
	}
	if n.maxItems != nil && len(a) > *n.maxItems {
		return w.fail("maxItems", "must have at most %d items, got %d", *n.maxItems, len(a))
	}
	for i, item := range a {
		s := n.items
		if i < len(n.prefixItems) {
			s = n.prefixItems[i]
		}
		if s == nil {
			continue
		}
		if e := w.check(s, item, depth+1); e != nil {
			return e.under("", i)
		}
	}
	if n.uniqueItems {
		for i := range a {
			for j := i + 1; j < len(a); j++ {
				if valueEqual(a[i], a[j]) {
					return w.fail("uniqueItems", "items %d and %d are equal; the items must be unique", i, j)
				}
			}
		}
	}
	return nil
}

func (w walk) checkObject(n *vnode, m map[string]any, depth int) *ArgError {
	for _, r := range n.required {
		if v, ok := m[r]; !ok || v == nil && w.args {
			return w.fail("required", "missing; it is required").under(r, -1)
		}
	}
	if n.minProps != nil && len(m) < *n.minProps {
		return w.fail("minProperties", "must have at least %d properties, got %d", *n.minProps, len(m))
	}
	if n.maxProps != nil && len(m) > *n.maxProps {
		return w.fail("maxProperties", "must have at most %d properties, got %d", *n.maxProps, len(m))
	}
	if n.properties == nil && n.patternProps == nil && n.additional == nil {
		return nil
	}
	for k, val := range m {
		if e := w.checkProperty(n, k, val, depth); e != nil {
			// Map order is random: report the first failing
			// property in name order, so the message is stable.
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if e := w.checkProperty(n, k, m[k], depth); e != nil {
					return e
				}
			}
			return e
		}
	}
	return nil
}

func (w walk) checkProperty(n *vnode, k string, val any, depth int) *ArgError {
	if val == nil && w.args {
		return nil
	}
	w.args = false // below the arguments object, null is a value like any other
	s, declared := n.properties[k]
	matched := false
	for _, pp := range n.patternProps {
		if pp.re.MatchString(k) {
			matched = true
			if e := w.check(pp.node, val, depth+1); e != nil {
				return e.under(k, -1)
			}
		}
	}
	if !declared {
		if matched || n.additional == nil {
			return nil
		}
		if n.additional.never {
			return w.unknown(n, k)
		}
		s = n.additional
	}
	if e := w.check(s, val, depth+1); e != nil {
		return e.under(k, -1)
	}
	return nil
}

func (w walk) unknown(n *vnode, k string) *ArgError {
	known := n.known
	more := ""
	if len(known) > 30 {
		known, more = known[:30], fmt.Sprintf(" and %d more", len(n.known)-30)
	}
	if len(known) == 0 {
		return w.fail("additionalProperties", "unknown name; no properties are allowed here").under(k, -1)
	}
	return w.fail("additionalProperties", "unknown name; allowed here: %s%s", strings.Join(known, ", "), more).under(k, -1)
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

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return f, err == nil || math.IsInf(f, 0)
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	}
	return 0, false
}

// jsonEqual compares two decoded JSON values, numbers by value whatever
// their Go type (schema values are float64, arguments json.Number).
func valueEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case []any:
		ba, ok := b.([]any)
		if !ok || len(a) != len(ba) {
			return false
		}
		for i := range a {
			if !valueEqual(a[i], ba[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !valueEqual(av, bv) {
				return false
			}
		}
		return true
	}
	return false
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
	return name + " " + preview(v)
}

// preview renders a value for a message, cut at 60 bytes.
func preview(v any) string {
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
		parts = append(parts, preview(v))
	}
	return strings.Join(parts, ", ")
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
