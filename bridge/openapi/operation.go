package openapi

import (
	"encoding/json"
	"strings"
	"sync/atomic"

	"github.com/portico-mcp/portico/tenant"
)

// Operation is one OpenAPI operation converted to an MCP tool, resource or
// resource template, together with the plan that turns call arguments back
// into the upstream HTTP request. It is plain data (JSON-serialisable) so a
// converted tool set can be cached and reloaded without re-parsing the spec.
type Operation struct {
	Name         string          `json:"name"`                    // MCP name, safe, ≤ 64 chars, unique per tenant
	Title        string          `json:"title,omitempty"`         // display name (settings.tools), else none
	Kind         string          `json:"kind"`                    // tenant.KindTool | KindResource | KindResourceTemplate
	Description  string          `json:"description"`             // never empty
	Method       string          `json:"method"`                  // upper case
	Path         string          `json:"path"`                    // OpenAPI path template, e.g. /users/{user_id}
	OperationID  string          `json:"operation_id,omitempty"`  // as in the spec
	Tags         []string        `json:"tags,omitempty"`          // OpenAPI tags
	MCPTags      []string        `json:"mcp_tags,omitempty"`      // from the matching route map
	URI          string          `json:"uri,omitempty"`           // resource URI or RFC 6570 template
	InputSchema  json.RawMessage `json:"input_schema"`            // always {"type":"object",...}
	OutputSchema json.RawMessage `json:"output_schema,omitempty"` // object schema, or nil
	WrapResult   bool            `json:"wrap_result,omitempty"`   // result is wrapped as {"result": ...}
	// Annotations are the tool's hints (readOnlyHint, ...), as tools/list
	// serves them; set for tools only.
	Annotations *ToolAnnotations `json:"annotations,omitempty"`
	Params      []Param          `json:"params,omitempty"` // how arguments map to the request
	Body        *Body            `json:"body,omitempty"`   // nil when the operation takes no body
	// ResponseType is the media type of the success response (JSON when
	// offered, else the first listed): what a resource lists as its
	// mimeType. Empty when the document names none.
	ResponseType string `json:"response_type,omitempty"`

	// hidden and Transform are set on the copies settings.tools makes
	// (transform.go): a hidden tool is not served; Transform maps
	// arguments and shapes answers.
	hidden    bool
	Transform *Transform `json:"-"`

	args atomic.Pointer[argCheck] // the compiled input schema (validate.go), built on first use
	out  atomic.Pointer[argCheck] // the compiled output schema, built on first empty result
}

// Param maps one input-schema property to a path, query, header or cookie parameter.
type Param struct {
	Arg      string `json:"arg"`  // property name in the input schema (may carry a __path style suffix)
	Name     string `json:"name"` // name on the wire
	In       string `json:"in"`   // path | query | header | cookie
	Style    string `json:"style,omitempty"`
	Explode  bool   `json:"explode,omitempty"`
	Required bool   `json:"required,omitempty"`
	// ContentType is set for parameters declared with content instead of
	// schema; a JSON media type means the value is sent JSON-encoded.
	ContentType string `json:"content_type,omitempty"`
}

// Body says how the request body is built from the arguments.
type Body struct {
	ContentType string `json:"content_type"` // application/json, application/x-www-form-urlencoded, multipart/form-data, ...
	// Arg is the property holding the whole body when it is not a flattened
	// object (a "body" property); empty when the body's properties are
	// flattened into the top level, in which case Props lists them.
	Arg      string   `json:"arg,omitempty"`
	Props    []string `json:"props,omitempty"`
	Required bool     `json:"required,omitempty"`
	// RequiredProps lists the flattened properties the body must carry.
	RequiredProps []string `json:"required_props,omitempty"`
	// Files lists the properties (or "body") that hold files. A file
	// argument is {"content": <base64>, "filename": ..., "content_type": ...}
	// or a bare base64 string; an array of them sends several parts.
	Files []string `json:"files,omitempty"`
	// Encoding says how form and multipart properties are serialised,
	// keyed by property; absent properties use style form, explode true.
	Encoding map[string]Encoding `json:"encoding,omitempty"`
}

// Encoding is an OpenAPI encoding object for one body property.
type Encoding struct {
	ContentType string `json:"content_type,omitempty"`
	Style       string `json:"style,omitempty"`
	Explode     bool   `json:"explode,omitempty"`
}

// Conversion is the result of converting one OpenAPI document.
type Conversion struct {
	Title      string       `json:"title"`
	Version    string       `json:"version"`    // info.version
	Servers    []string     `json:"servers"`    // server URLs from the document
	Operations []*Operation `json:"operations"` // tools, resources and templates, in document order
	Warnings   []string     `json:"warnings"`   // names cut, operations skipped, odd schemas
	// Excluded lists operations ("METHOD /path") a route map excluded.
	Excluded []string `json:"excluded,omitempty"`
	// Report is the conformance report: counts, names changed, features
	// not carried over. Not part of the golden output; report_test.go
	// and docs/conformance.md (the corpus test) check it.
	Report tenant.ConversionReport `json:"-"`
}

// readOnly reports whether op changes nothing: a resource, a GET or HEAD,
// or a tool whose annotations say so.
func (op *Operation) ReadOnly() bool {
	if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return true
	}
	if op.Annotations != nil && op.Annotations.ReadOnlyHint {
		return true
	}
	return op.Method == "GET" || op.Method == "HEAD"
}

// mimeType is what op's resource lists as its mimeType: the success
// response's media type (parameters dropped), JSON when the document names
// none.
func (op *Operation) MediaType() string {
	if op.ResponseType == "" {
		return "application/json"
	}
	mt, _, _ := strings.Cut(op.ResponseType, ";")
	return strings.TrimSpace(mt)
}

// httpAnnotations are the hints HTTP semantics give a client about a tool:
// GET and HEAD only read, DELETE destroys, PUT and DELETE can be repeated,
// and every tool reaches a service outside Portico.
func HTTPAnnotations(method string) *ToolAnnotations {
	yes, no := true, false
	a := &ToolAnnotations{OpenWorldHint: &yes}
	switch method {
	case "GET", "HEAD", "OPTIONS":
		a.ReadOnlyHint = true
	case "DELETE":
		a.DestructiveHint, a.IdempotentHint = &yes, true
	case "PUT":
		a.DestructiveHint, a.IdempotentHint = &yes, true
	case "POST", "PATCH":
		a.DestructiveHint = &no
	}
	return a
}

// ToolAnnotations are a tool's hints as MCP's tools/list carries them. The
// fields, their order and their JSON are the MCP SDK's ToolAnnotations, so
// the MCP layer converts a *ToolAnnotations to the SDK's type for free and
// both encode to the same bytes.
type ToolAnnotations struct {
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  bool   `json:"idempotentHint"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
	ReadOnlyHint    bool   `json:"readOnlyHint"`
	Title           string `json:"title,omitempty"`
}

// key is how an operation is found when called: tools by name, resources by URI.
func (op *Operation) Key() string {
	if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return "resource:" + op.URI
	}
	return "tool:" + op.Name
}
