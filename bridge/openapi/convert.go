package openapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/index"

	"github.com/portico-mcp/portico/tenant"
)

// Options tune a conversion.
type Options struct {
	// RouteMaps decide, in order, what each operation becomes; first match
	// wins. Operations no map matches become tools.
	RouteMaps []tenant.RouteMap
	// Names overrides tool names, keyed by operationId or "METHOD /path".
	Names map[string]string
	// URIs overrides resource URIs and URI templates, keyed like Names.
	URIs map[string]string
	// Logger receives libopenapi's own diagnostics. Nil discards them.
	Logger *slog.Logger
	// Parsed, when set, is called once the document is parsed, before its
	// operations are converted (for progress reports).
	Parsed func()
}

// ErrNotOpenAPI matches the error Convert returns for bytes that are not an
// OpenAPI or Swagger document.
var ErrNotOpenAPI = errors.New("not an OpenAPI document")

type notOpenAPIError struct{ reason string }

func (e *notOpenAPIError) Error() string        { return "not an OpenAPI document: " + e.reason }
func (e *notOpenAPIError) Is(target error) bool { return target == ErrNotOpenAPI }

func (c *converter) parsed() {
	if c.opts.Parsed != nil {
		c.opts.Parsed()
	}
}

// Convert turns an OpenAPI 3.0/3.1 or Swagger 2.0 document into operations.
// It never rejects a document because of examples or defaults that disagree
// with their schemas, nor because of circular references; such things become
// warnings. The result depends only on spec and opts.
func Convert(spec []byte, opts Options) (*Conversion, error) {
	maps, err := compileRouteMaps(opts.RouteMaps)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(spec)) == 0 {
		return nil, &notOpenAPIError{"the document is empty"}
	}
	var external []*externalRef
	if hasExternalRef(spec) {
		spec, external = openExternalRefs(spec)
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = opts.Logger
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.AllowRemoteReferences = false
	cfg.AllowFileReferences = false
	// The converter reads neither the index's metadata (descriptions,
	// enums, paths of inline refs) nor libopenapi's cycle report: its own
	// walker handles cycles (a def is registered before it is converted)
	// and buildWarnings drops circular-reference errors anyway. Skipping
	// both leaves every conversion byte for byte the same (goldens and the
	// corpus) and saves the resolver's walk over every reference.
	cfg.SkipMetadataCollection = true
	cfg.SkipCircularReferenceCheck = true
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, cfg)
	if err != nil {
		return nil, &notOpenAPIError{firstLine(err.Error())}
	}
	defer doc.Release()
	info := doc.GetSpecInfo()
	if info == nil {
		return nil, &notOpenAPIError{"no openapi or swagger version field"}
	}
	c := &converter{opts: opts, maps: maps, names: normalizeNames(opts.Names)}
	c.out.Report.Dialect = "OpenAPI " + info.Version
	if info.SpecFormat == datamodel.OAS2 {
		c.out.Report.Dialect = "Swagger " + info.Version
	}
	switch info.SpecFormat {
	case datamodel.OAS2:
		m, err := doc.BuildV2Model()
		if m == nil {
			return nil, &notOpenAPIError{"Swagger 2.0 model: " + firstLine(errString(err))}
		}
		c.buildWarnings(err)
		c.oas30 = true
		c.parsed()
		c.fromV2(&m.Model)
	case datamodel.OAS3, datamodel.OAS31, datamodel.OAS32:
		m, err := doc.BuildV3Model()
		if m == nil {
			return nil, &notOpenAPIError{"OpenAPI 3 model: " + firstLine(errString(err))}
		}
		c.buildWarnings(err)
		c.oas30 = info.SpecFormat == datamodel.OAS3
		c.parsed()
		c.fromV3(&m.Model)
	default:
		return nil, &notOpenAPIError{"no openapi or swagger version field"}
	}
	c.assignNames()
	c.reportExternal(external)
	if n := c.schemas.mismatches - maxValueWarnings; n > 0 {
		c.warnf("%d more defaults or examples disagree with their schemas (kept as written)", n)
	}
	if n := len(c.trimmed); n > 0 {
		ex := c.trimmed
		if len(ex) > 3 {
			ex = ex[:3]
		}
		c.warnf("%d output schemas reach more than %d KB of nested schemas and were trimmed (deeper types are described by name only), e.g. %s",
			n, MaxOutputDefsBytes>>10, strings.Join(ex, ", "))
	}
	if n := len(c.trimmed); n > 0 {
		c.unsupported(n, "output schemas over 16 KB of nested schemas", "trimmed: types deeper than the cap are described by name only")
	}
	c.out.Operations = make([]*Operation, 0, len(c.ops))
	for _, p := range c.ops {
		c.out.Operations = append(c.out.Operations, p.op)
	}
	if c.out.Servers == nil {
		c.out.Servers = []string{}
	}
	if c.out.Warnings == nil {
		c.out.Warnings = []string{}
	}
	// A names or uris key that matches no operation would be ignored
	// silently; the API refuses it for an active tenant, and the report
	// says so for a document converted before the check could run.
	if err := CheckSettingKeys(c.out.Report.OperationKeys, tenant.Settings{Names: opts.Names, URIs: opts.URIs}); err != nil {
		for _, p := range err.(*tenant.InvalidError).Problems {
			c.warnf("%s %s", p.Field, p.Problem)
		}
	}
	c.finishReport()
	// The result is an allocation of its own: a pointer into c would keep
	// the converter, and through its pending operations and schema
	// converter libopenapi's whole model of the document, alive as long as
	// anything holds the conversion (a serving state keeps its report).
	out := c.out
	return &out, nil
}

// finishReport fills the counts of the conformance report.
func (c *converter) finishReport() {
	r := &c.out.Report
	r.Title, r.Version = c.out.Title, c.out.Version
	r.Operations = len(c.out.Operations)
	r.Seen = r.Operations + len(c.out.Excluded)
	for _, op := range c.out.Operations {
		switch op.Kind {
		case tenant.KindResource:
			r.Resources++
		case tenant.KindResourceTemplate:
			r.ResourceTemplates++
		default:
			r.Tools++
		}
	}
	r.Excluded = NonNilSlice(c.out.Excluded)
	r.Warnings = c.out.Warnings
	r.NamesCut = NonNilSlice(r.NamesCut)
	r.NamesSuffixed = NonNilSlice(r.NamesSuffixed)
	r.Unsupported = NonNilSlice(r.Unsupported)
}

// securityScheme reports security schemes Portico cannot satisfy itself:
// it attaches stored credentials (bearer, basic, API key in a header, query
// or cookie) but runs no OAuth or OpenID Connect flow and holds no client
// certificate.
func (c *converter) securityScheme(typ, scheme string) {
	switch strings.ToLower(typ) {
	case "oauth2", "openidconnect":
		c.unsupported(1, "OAuth 2 / OpenID Connect security schemes", "no flow is run: store a token the service accepts as a bearer credential")
	case "mutualtls":
		c.unsupported(1, "mutual TLS security schemes", "no client certificate is presented")
	case "http":
		if s := strings.ToLower(scheme); s != "" && s != "bearer" && s != "basic" {
			c.unsupported(1, "HTTP "+s+" authentication", "not attached: only bearer and basic credentials are")
		}
	}
}

// unsupported counts n occurrences of a document feature Portico does not
// carry over, saying what it did instead.
func (c *converter) unsupported(n int, feature, instead string) {
	if n <= 0 {
		return
	}
	r := &c.out.Report
	for i := range r.Unsupported {
		if r.Unsupported[i].Feature == feature {
			r.Unsupported[i].Count += n
			return
		}
	}
	r.Unsupported = append(r.Unsupported, tenant.UnsupportedFeature{Feature: feature, Count: n, Instead: instead})
}

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// converter holds the state of one Convert call.
type converter struct {
	opts    Options
	maps    []routeMap
	out     Conversion
	ops     []*pending
	schemas *schemaConverter
	names   map[string]string // Options.Names with "METHOD /path" keys upper-cased
	trimmed []string          // operations whose output schema was trimmed
	oas30   bool              // 3.0 or 2.0: OpenAPI's own schema dialect
	warned  map[string]bool
}

// pending is an operation before names are assigned.
type pending struct {
	op       *Operation
	override string // from Options.Names, unsanitized
	base     string // name candidate before sanitizing
}

func (c *converter) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.warned == nil {
		c.warned = make(map[string]bool)
	}
	if !c.warned[msg] {
		c.warned[msg] = true
		c.out.Warnings = append(c.out.Warnings, msg)
	}
}

// buildWarnings records libopenapi's non-fatal errors. Circular references
// are supported (they become recursive $defs) and are not reported.
func (c *converter) buildWarnings(err error) {
	if err == nil {
		return
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	seen := make(map[string]bool)
	for _, e := range errs {
		var re *index.ResolvingError
		if errors.As(e, &re) && re.CircularReference != nil {
			continue
		}
		msg := firstLine(e.Error())
		if !seen[msg] {
			seen[msg] = true
			c.warnf("document: %s", msg)
		}
	}
}

// routeMap is a tenant.RouteMap with its pattern compiled.
type routeMap struct {
	tenant.RouteMap
	re *regexp.Regexp
}

func compileRouteMaps(in []tenant.RouteMap) ([]routeMap, error) {
	out := make([]routeMap, 0, len(in))
	for i, rm := range in {
		m := routeMap{RouteMap: rm}
		if rm.Pattern != "" {
			re, err := regexp.Compile(rm.Pattern)
			if err != nil {
				return nil, fmt.Errorf("route_maps[%d].pattern: %w", i, err)
			}
			m.re = re
		}
		switch rm.MCPType {
		case tenant.KindTool, tenant.KindResource, tenant.KindResourceTemplate, tenant.KindExclude:
		default:
			return nil, fmt.Errorf("route_maps[%d].mcp_type: %q is not one of tool, resource, resource_template, exclude", i, rm.MCPType)
		}
		out = append(out, m)
	}
	return out, nil
}

// match returns the first route map matching the operation, or nil.
func (c *converter) match(method, path string, tags []string) *routeMap {
	for i := range c.maps {
		m := &c.maps[i]
		if len(m.Methods) > 0 {
			ok := false
			for _, mm := range m.Methods {
				if mm == "*" || strings.EqualFold(mm, method) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if m.re != nil && !m.re.MatchString(path) {
			continue
		}
		ok := true
		for _, t := range m.Tags {
			if !contains(tags, t) {
				ok = false
				break
			}
		}
		if ok {
			return m
		}
	}
	return nil
}

// classify applies the route maps. It reports false when the operation is excluded.
func (c *converter) classify(op *Operation) bool {
	if op.OperationID != "" {
		c.out.Report.OperationKeys = append(c.out.Report.OperationKeys, op.OperationID)
	}
	c.out.Report.OperationKeys = append(c.out.Report.OperationKeys, op.Method+" "+op.Path)
	op.Kind = tenant.KindTool
	if m := c.match(op.Method, op.Path, op.Tags); m != nil {
		if m.MCPType == tenant.KindExclude {
			c.out.Excluded = append(c.out.Excluded, op.Method+" "+op.Path)
			return false
		}
		op.Kind = m.MCPType
		if len(m.MCPTags) > 0 {
			op.MCPTags = append([]string(nil), m.MCPTags...)
		}
	}
	return true
}

// isOperation reports whether method under path can become a tool: a key
// that is no HTTP method (invalid OpenAPI) is skipped with a warning
// instead of becoming a tool with no name and a request nobody can send.
func (c *converter) isOperation(path, method string) bool {
	if !tenant.IsOperationMethod(method) {
		c.warnf("paths: %q: %q is not an HTTP method; skipped", path, method)
		return false
	}
	return true
}

// add queues a converted operation for naming.
func (c *converter) add(op *Operation) {
	if op.Description == "" {
		op.Description = op.Method + " " + op.Path
	}
	p := &pending{op: op}
	if n, ok := c.names[op.OperationID]; ok && op.OperationID != "" {
		p.override = n
	} else if n, ok := c.names[op.Method+" "+op.Path]; ok {
		p.override = n
	}
	switch {
	case op.OperationID != "":
		p.base = op.OperationID
		if i := strings.Index(p.base, "__"); i > 0 {
			p.base = p.base[:i]
		}
	default:
		p.base = strings.ToLower(op.Method) + "_" + op.Path
	}
	c.ops = append(c.ops, p)
}

// normalizeNames upper-cases the method of "METHOD /path" keys so
// "get /users" and "GET /users" both work.
func normalizeNames(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if method, path, ok := strings.Cut(strings.TrimSpace(k), " "); ok && strings.HasPrefix(strings.TrimSpace(path), "/") {
			k = strings.ToUpper(method) + " " + strings.TrimSpace(path)
		}
		out[k] = v
	}
	return out
}

func describe(summary, description string) string {
	summary, description = strings.TrimSpace(summary), strings.TrimSpace(description)
	switch {
	case summary == "":
		return description
	case description == "" || description == summary:
		return summary
	default:
		return summary + "\n\n" + description
	}
}

// pathParams lists the {names} in a path template in order.
func pathParams(path string) []string {
	var out []string
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, path[i+1:i+j])
		path = path[i+j+1:]
	}
}

// finishKind sets the URI of resources and templates, as FastMCP does:
// resource://<name> and resource://<name>/{param}/...
func (c *converter) finishKind(op *Operation) {
	if op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate {
		op.Annotations = HTTPAnnotations(op.Method)
		return
	}
	var args []string
	for _, p := range op.Params {
		if p.In == "path" {
			args = append(args, p.Arg)
		}
	}
	if op.Kind == tenant.KindResource && len(args) > 0 {
		c.warnf("%s %s: has path parameters, so it becomes a resource template, not a resource", op.Method, op.Path)
		op.Kind = tenant.KindResourceTemplate
	}
	if op.Kind == tenant.KindResourceTemplate && len(args) == 0 {
		op.Kind = tenant.KindResource
	}
	if op.Method != "GET" {
		c.warnf("%s %s: mapped to a %s although it is not a GET", op.Method, op.Path, op.Kind)
	}
	if u, ok := c.uriOverride(op); ok {
		op.URI = u
		return
	}
	op.URI = "resource://" + op.Name
	for _, a := range args {
		op.URI += "/{" + a + "}"
	}
}

// uriOverride returns the URI Options.URIs gives op, by operationId or
// "METHOD /path".
func (c *converter) uriOverride(op *Operation) (string, bool) {
	if u, ok := c.opts.URIs[op.OperationID]; ok && op.OperationID != "" {
		return u, true
	}
	u, ok := c.opts.URIs[op.Method+" "+op.Path]
	return u, ok
}

// componentMap indexes named schemas by the ref that points at them.
func componentMap(prefix string, pairs func(yield func(string, *base.SchemaProxy) bool)) map[string]*base.SchemaProxy {
	m := make(map[string]*base.SchemaProxy)
	for k, v := range pairs {
		m[prefix+escapePointer(k)] = v
	}
	return m
}
