package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Argument completion (completion/complete) for resource templates. The
// values a template variable can take come from the spec: the enum of its
// path parameter's schema, then its examples (OpenAPI example and examples,
// which the conversion carries as the property's examples). A client
// typing an argument gets the values that start with what it typed.
// A prompt argument completes from the completions stored with it
// (prompts.go). The completions capability is advertised only when some
// template variable has values or the tenant has prompts
// (withCapabilities), and the method is not found otherwise, as the spec
// asks of servers without the capability.

// maxCompletionValues is the most values one answer carries (the spec's
// limit); total and hasMore say how many more matched.
const maxCompletionValues = 100

// completions maps a URI template to the values of each of its variables
// that has any, in the spec's order without repeats.
type completions map[string]map[string][]string

// completionsFor collects the completion values of ops' resource templates;
// nil when no variable has any.
func completionsFor(ops []*openapi.Operation) completions {
	var c completions
	for _, op := range ops {
		if op.Kind != tenant.KindResourceTemplate {
			continue
		}
		vars := templateValues(op)
		if len(vars) == 0 {
			continue
		}
		if c == nil {
			c = completions{}
		}
		c[op.URI] = vars
	}
	return c
}

// templateValues reads, for each path parameter of op that is a variable
// of its URI template, the enum and example values of its property in the
// input schema (through one local $ref, and through anyOf/oneOf branches,
// as a nullable enum is written).
func templateValues(op *openapi.Operation) map[string][]string {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]json.RawMessage `json:"$defs"`
	}
	if json.Unmarshal(op.InputSchema, &schema) != nil {
		return nil
	}
	vars := templateVars(op.URI)
	var out map[string][]string
	for _, p := range op.Params {
		if p.In != "path" || !vars[p.Arg] {
			continue
		}
		var vals []string
		seen := map[string]bool{}
		collectValues(schema.Properties[p.Arg], schema.Defs, 0, func(v string) {
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		})
		if len(vals) > 0 {
			if out == nil {
				out = map[string][]string{}
			}
			out[p.Arg] = vals
		}
	}
	return out
}

// templateVars is the set of variable names in an RFC 6570 template
// ({a}, {+a}, {a,b}, {a*}, {a:3}).
func templateVars(uri string) map[string]bool {
	vars := map[string]bool{}
	for {
		i := strings.IndexByte(uri, '{')
		if i < 0 {
			return vars
		}
		j := strings.IndexByte(uri[i:], '}')
		if j < 0 {
			return vars
		}
		expr := strings.TrimLeft(uri[i+1:i+j], "+#./;?&")
		for _, v := range strings.Split(expr, ",") {
			v, _, _ = strings.Cut(v, ":")
			vars[strings.TrimSuffix(v, "*")] = true
		}
		uri = uri[i+j+1:]
	}
}

// collectValues calls add with the enum, const and examples values of
// schema that a URI variable can hold (strings, numbers, booleans).
func collectValues(raw json.RawMessage, defs map[string]json.RawMessage, depth int, add func(string)) {
	if len(raw) == 0 || depth > 4 {
		return
	}
	var s struct {
		Ref      string            `json:"$ref"`
		Enum     []json.RawMessage `json:"enum"`
		Const    json.RawMessage   `json:"const"`
		Examples []json.RawMessage `json:"examples"`
		AnyOf    []json.RawMessage `json:"anyOf"`
		OneOf    []json.RawMessage `json:"oneOf"`
		AllOf    []json.RawMessage `json:"allOf"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/$defs/"); ok {
		collectValues(defs[name], defs, depth+1, add)
	}
	for _, v := range s.Enum {
		addScalar(v, add)
	}
	addScalar(s.Const, add)
	for _, list := range [][]json.RawMessage{s.AnyOf, s.OneOf, s.AllOf} {
		for _, b := range list {
			collectValues(b, defs, depth+1, add)
		}
	}
	for _, v := range s.Examples {
		addScalar(v, add)
	}
}

// addScalar adds v as the text a URI carries when it is a string, number
// or boolean; null, objects and arrays are no value of a path segment.
func addScalar(v json.RawMessage, add func(string)) {
	var x any
	if len(v) == 0 || json.Unmarshal(v, &x) != nil {
		return
	}
	switch x := x.(type) {
	case string:
		add(x)
	case bool:
		add(strconv.FormatBool(x))
	case float64:
		add(strings.TrimSpace(string(v)))
	}
}

// match is the answer for one variable: the values that start with typed
// (ignoring case), at most maxCompletionValues of them, with the total.
func match(values []string, typed string) mcp.CompletionResultDetails {
	lt := strings.ToLower(typed)
	out := []string{}
	total := 0
	for _, v := range values {
		if strings.HasPrefix(strings.ToLower(v), lt) {
			total++
			if len(out) < maxCompletionValues {
				out = append(out, v)
			}
		}
	}
	return mcp.CompletionResultDetails{Values: out, Total: total, HasMore: total > len(out)}
}

// complete is the tenant's completion/complete handler: it answers from the
// state current when the request arrives.
func (l *live) complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	st := l.view(ctx)
	if !st.completes() {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "method not found: completion/complete (this server has no prompts and no resource template with enum or example values to complete; the completions capability is not advertised)"}
	}
	ref := req.Params.Ref
	switch ref.Type {
	case "ref/prompt":
		return completePrompt(st, req)
	case "ref/resource":
	default:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: ref.type %q is neither ref/resource nor ref/prompt", ref.Type)}
	}
	op := st.ops["resource:"+ref.URI]
	if op == nil || op.Kind != tenant.KindResourceTemplate {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: no resource template with uriTemplate %q: send one that resources/templates/list returns", ref.URI)}
	}
	name := req.Params.Argument.Name
	vars := templateVars(op.URI)
	if !vars[name] {
		names := make([]string, 0, len(vars))
		for v := range vars {
			names = append(names, v)
		}
		sort.Strings(names)
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: resource template %q has no variable %q; its variables are %s", ref.URI, name, strings.Join(names, ", "))}
	}
	return &mcp.CompleteResult{Completion: match(st.completions[op.URI][name], req.Params.Argument.Value)}, nil
}

// completes reports whether st has anything completion/complete answers.
func (st *state) completes() bool { return len(st.completions) > 0 || st.prompts.has() }

// withCapabilities makes the completions and prompts capabilities of an
// initialize or server/discover answer say what the tenant's state serves:
// the SDK advertises completions whenever a handler is set (it is, for the
// server's lifetime, while the spec behind it changes) and prompts from its
// registry, which apply updates just after the state.
func withCapabilities(st *state, res mcp.Result) {
	var caps *mcp.ServerCapabilities
	switch r := res.(type) {
	case *mcp.InitializeResult:
		caps = r.Capabilities
	case *mcp.DiscoverResult:
		caps = r.Capabilities
	}
	if caps == nil {
		return
	}
	if !st.completes() {
		caps.Completions = nil
	}
	if st.prompts.has() {
		caps.Prompts = &mcp.PromptCapabilities{ListChanged: true}
	} else {
		caps.Prompts = nil
	}
}
