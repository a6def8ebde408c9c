package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// newServer is an MCP server of l (the tenant's own, or a toolset's): its
// lists and calls are answered from the state of the request's endpoint
// (serveFromState), its registry kept in line with that state by apply.
func (l *live) newServer() *mcp.Server {
	srv := mcp.NewServer(l.impl, &mcp.ServerOptions{
		Logger:   l.log,
		PageSize: 5000, // clients that ignore cursors still see every tool
		Capabilities: &mcp.ServerCapabilities{
			Tools:     &mcp.ToolCapabilities{ListChanged: true},
			Resources: &mcp.ResourceCapabilities{ListChanged: true},
			// A call reports its upstream exchange to clients that set a
			// log level (sessionlog.go).
			//lint:ignore SA1019 2025-11-25 clients use logging; 2026-07-28 only deprecates it
			Logging: &mcp.LoggingCapabilities{},
		},
		// Resource reads (the only results the SDK builds whose
		// caching it decides) are for the tenant's token holders.
		SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "private" },
		// Template variables complete from the spec's enum and
		// examples, prompt arguments from their completions; the
		// capability is advertised only when there is something to
		// complete (withCapabilities).
		CompletionHandler: l.complete,
	})
	srv.AddReceivingMiddleware(l.serveFromState)
	return srv
}

func toolOf(op *openapi.Operation) *mcp.Tool {
	a := op.Annotations
	if a == nil { // an Operation built by hand rather than converted
		a = openapi.HTTPAnnotations(op.Method)
	}
	t := &mcp.Tool{Name: op.Name, Title: op.Title, Description: op.Description, InputSchema: op.InputSchema, Annotations: (*mcp.ToolAnnotations)(a)}
	if len(op.OutputSchema) > 0 {
		t.OutputSchema = op.OutputSchema
	}
	return t
}

// registryInputSchema is the input schema of every operation tool in the
// SDK's registry. Clients never see it: serveFromState and the fast paths
// list the state's tools (toolOf(op)) and route calls by the state. The
// registry only dispatches tools/call to the handler and notifies sessions
// of changes, so it holds the smallest schema AddTool accepts: AddTool
// decodes the schemas it is given into maps to check their type, which for
// a big spec cost more than converting it (GitHub: ~2 s of 3.6 s CPU). The
// one other reader, the 2026-07-28 x-mcp-header check, needs the real
// schema only when it has such annotations, which the converter does not
// emit; registered checks anyway.
var registryInputSchema = json.RawMessage(`{"type":"object"}`)

// registered is op's tool as the SDK's registry holds it (see
// registryInputSchema).
func registeredTool(op *openapi.Operation) *mcp.Tool {
	if bytes.Contains(op.InputSchema, []byte(`"x-mcp-header"`)) {
		return toolOf(op)
	}
	return &mcp.Tool{Name: op.Name, InputSchema: registryInputSchema}
}

// register adds to srv's registry what st serves new or visibly changed
// since old (nil: everything), before st is swapped in.
func (l *live) register(srv *mcp.Server, old, st *state) {
	var oldOps map[string]*openapi.Operation
	if old != nil {
		oldOps = old.ops
	}
	wasDiscovery := old != nil && old.discovery
	// A change of listing mode changes every tool clients see, though
	// not the operations: re-adding them tells connected sessions.
	relist := old != nil && old.lean != st.lean
	for _, op := range st.list {
		isTool := op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate
		if isTool && st.discovery {
			continue // reached through call_tool only
		}
		if prev, ok := oldOps[op.Key()]; ok && openapi.Visible(prev, op) && !(isTool && (wasDiscovery || relist)) {
			continue
		}
		switch op.Kind {
		case tenant.KindResource:
			srv.AddResource(&mcp.Resource{Name: op.Name, URI: op.URI, Description: op.Description, MIMEType: op.MediaType()}, l.readResource(op))
		case tenant.KindResourceTemplate:
			srv.AddResourceTemplate(&mcp.ResourceTemplate{Name: op.Name, URITemplate: op.URI, Description: op.Description, MIMEType: op.MediaType()}, l.readResource(op))
		default:
			srv.AddTool(registeredTool(op), l.callTool(op))
		}
	}
	if st.discovery && !wasDiscovery {
		for _, mt := range discoveryTools() {
			srv.AddTool(mt, l.discoveryHandler(mt.Name))
		}
	}
	if st.leanDescribe() && (old == nil || !old.leanDescribe() && !old.discovery) {
		srv.AddTool(leanDescribeTool(), l.discoveryHandler(describeToolName))
	}
	l.addPrompts(srv, old, st)
}

// unregister removes from srv's registry what old served and st does
// not, once st is swapped in.
func (l *live) unregister(srv *mcp.Server, old, st *state) {
	var oldOps map[string]*openapi.Operation
	wasDiscovery := false
	if old != nil {
		oldOps, wasDiscovery = old.ops, old.discovery
	}
	l.removePrompts(srv, old, st)
	var tools, resources, templates []string
	switch {
	case wasDiscovery && !st.discovery:
		tools = append(tools, searchToolsName, describeToolName, callToolName)
	case st.discovery && !wasDiscovery:
		for _, op := range oldOps {
			if op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate {
				tools = append(tools, op.Name)
			}
		}
	}
	for k, op := range oldOps {
		if _, ok := st.ops[k]; ok {
			continue
		}
		switch op.Kind {
		case tenant.KindResource:
			resources = append(resources, op.URI)
		case tenant.KindResourceTemplate:
			templates = append(templates, op.URI)
		default:
			if !wasDiscovery && !st.discovery {
				tools = append(tools, op.Name)
			}
		}
	}
	if old != nil && old.leanDescribe() && !st.leanDescribe() && !st.discovery {
		tools = append(tools, describeToolName)
	}
	// Never remove a name st still serves: an operation of that name, or
	// the describe_tool of lean listing.
	tools = slices.DeleteFunc(tools, func(name string) bool {
		if name == describeToolName && (st.leanDescribe() || st.discovery) {
			return true
		}
		if st.discovery {
			return name == searchToolsName || name == callToolName
		}
		op := st.ops["tool:"+name]
		return op != nil && op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate
	})
	sort.Strings(tools)
	tools = slices.Compact(tools)
	if len(tools) > 0 {
		srv.RemoveTools(tools...)
	}
	if len(resources) > 0 {
		srv.RemoveResources(resources...)
	}
	if len(templates) > 0 {
		srv.RemoveResourceTemplates(templates...)
	}
}
