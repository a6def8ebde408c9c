package bridge

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// A toolset (tenant.Toolset) is served at /t/<id>/mcp/<name> as a view of
// the tenant's state: a state of its own holding only the operations and
// prompts the toolset selects, built with the tenant's state and swapped
// with it, so everything that answers from a state (lists, calls, the fast
// paths, completion, discovery mode, session streams and their event ids)
// serves a toolset unchanged. Each toolset has its own MCP server (its
// registry notifies its own 2026-07-28 listen streams); credentials, pool,
// limits and breaker are the tenant's.

// withToolsets builds st's views, one per toolset, from the tenant's
// prompts ps (those attached to each toolset).
func (st *state) withToolsets(toolsets []tenant.Toolset, ps []tenant.Prompt) {
	if len(toolsets) == 0 {
		return
	}
	st.toolsets = make(map[string]*state, len(toolsets))
	for i := range toolsets {
		ts := &toolsets[i]
		var attached []tenant.Prompt
		for _, p := range ps {
			if slices.Contains(p.Toolsets, ts.Name) {
				attached = append(attached, p)
			}
		}
		st.toolsets[ts.Name] = st.subset(ts, attached)
	}
}

// subset is the view of st that toolset ts serves, with prompts ps.
func (st *state) subset(ts *tenant.Toolset, ps []tenant.Prompt) *state {
	v := &state{
		tenant: st.tenant, base: st.base, creds: st.creds, clientCreds: st.clientCreds,
		timeout: st.timeout, maxResponse: st.maxResponse, closed: st.closed,
		spec: st.spec, convKey: st.convKey, report: st.report, cors: st.cors, toolset: ts,
	}
	var ops []*openapi.Operation
	for _, op := range st.list {
		if ts.Selects(op.MatchesKey, opTags(op), op.ReadOnly()) {
			ops = append(ops, op)
		}
	}
	v.serve(ops, ps)
	return v
}

// opTags are the tags a toolset's tags select op by: its OpenAPI tags
// (as settings.tools left them) and its route map's.
func opTags(op *openapi.Operation) []string {
	if len(op.MCPTags) == 0 {
		return op.Tags
	}
	return append(slices.Clip(op.Tags), op.MCPTags...)
}

// view is the state endpoint name serves ("" is the tenant's own), nil
// when st is nil or has no such toolset.
func (st *state) view(name string) *state {
	if st == nil || name == "" {
		return st
	}
	return st.toolsets[name]
}

// noView is what a request to a toolset deleted while it ran sees: nothing.
var noView = &state{closed: true}

// view is the state the endpoint of ctx's request serves, read once.
func (l *live) view(ctx context.Context) *state {
	st := l.state.Load()
	if info := requestInfo(ctx); info != nil && info.toolset != "" {
		if v := st.view(info.toolset); v != nil {
			return v
		}
		return noView
	}
	return st
}

// serverOf is the MCP server of endpoint name ("" is the tenant's own),
// nil when the tenant has no such toolset.
func (l *live) serverOf(name string) *mcp.Server {
	if name == "" {
		return l.server
	}
	if sets := l.toolsetServers.Load(); sets != nil {
		return (*sets)[name]
	}
	return nil
}

// CheckToolset refuses a toolset of tenant id naming tools or tags its
// serving document does not have, each problem naming its field and the
// closest match. Like CheckSettings it needs the operations, so it checks
// only a tenant active on this replica (every replica serves the same
// version); for another tenant it returns nil, and the toolset serves what
// its names match once the tenant is active.
func (r *Runtime) CheckToolset(id string, ts tenant.Toolset) error {
	l := r.lookup(id)
	if l == nil {
		return nil
	}
	st := l.state.Load()
	if st == nil || st.closed {
		return nil
	}
	var inv tenant.InvalidError
	var names []string
	tags := map[string]bool{}
	for _, op := range st.list {
		names = append(names, op.Name)
		for _, t := range opTags(op) {
			tags[t] = true
		}
	}
	for i, k := range ts.Tools {
		if slices.ContainsFunc(st.list, func(op *openapi.Operation) bool { return op.MatchesKey(k) }) {
			continue
		}
		msg := `names no tool the tenant serves: name a tool as tools/list names it, an operationId or "METHOD /path"`
		if c := openapi.ClosestKey(k, names); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		}
		inv.Add(fmt.Sprintf("tools[%d]", i), msg)
	}
	known := slices.Sorted(maps.Keys(tags))
	for i, t := range ts.Tags {
		if tags[t] {
			continue
		}
		msg := "is no tag of the tenant's operations"
		if c := openapi.ClosestKey(t, known); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		} else if len(known) > 0 {
			msg += " (its tags: " + strings.Join(known[:min(len(known), 20)], ", ") + ")"
		} else {
			msg += " (they have none; select tools by name)"
		}
		inv.Add(fmt.Sprintf("tags[%d]", i), msg)
	}
	return inv.Err()
}

// PreviewToolset lists what ts would serve on active tenant id, before it
// is saved: the dashboard's live preview.
func (r *Runtime) PreviewToolset(_ context.Context, id string, ts tenant.Toolset) ([]tenant.Tool, error) {
	l := r.lookup(id)
	if l == nil {
		return nil, fmt.Errorf("tenant %s is not active: %w", id, tenant.ErrNotFound)
	}
	st := l.state.Load()
	return toolsOf(st.subset(&ts, nil)), nil
}

// ToolsetTools lists what toolset name of active tenant id serves.
func (r *Runtime) ToolsetTools(_ context.Context, id, name string) ([]tenant.Tool, error) {
	l := r.lookup(id)
	if l == nil {
		return nil, fmt.Errorf("tenant %s is not active: %w", id, tenant.ErrNotFound)
	}
	v := l.state.Load().view(name)
	if v == nil {
		return nil, fmt.Errorf("toolset %s of tenant %s: %w", name, id, tenant.ErrNotFound)
	}
	return toolsOf(v), nil
}
