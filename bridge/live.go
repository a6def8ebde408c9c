package bridge

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// serveFromState answers list and call requests from the tenant's current
// state, read once per request. The SDK's own registry is updated one tool
// at a time, so a list served from it during a swap could mix versions;
// the state pointer changes in one step. The registry is still kept in line
// (see apply) because its changes are what notify connected sessions.
func (l *live) serveFromState(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "tools/list", "resources/list", "resources/templates/list", "prompts/list", "prompts/get", "completion/complete":
			l.catchUp.wait(ctx)
		}
		switch method {
		case "tools/list":
			return &mcp.ListToolsResult{Tools: openapi.NonNilSlice(l.view(ctx).tools), Cacheable: listCache}, nil
		case "resources/list":
			return &mcp.ListResourcesResult{Resources: openapi.NonNilSlice(l.view(ctx).resources), Cacheable: listCache}, nil
		case "resources/templates/list":
			return &mcp.ListResourceTemplatesResult{ResourceTemplates: openapi.NonNilSlice(l.view(ctx).templates), Cacheable: listCache}, nil
		case "initialize", "server/discover":
			res, err := next(ctx, method, req)
			if err == nil {
				withCapabilities(l.view(ctx), res)
			}
			return res, err
		case "prompts/list":
			return listPrompts(l.view(ctx))
		case "prompts/get":
			// Refusals are answered here; a prompt the state has goes
			// through the SDK's dispatch (which adds what the negotiated
			// protocol needs, such as resultType), rendered from the state
			// read here. apply registers new prompts before the swap.
			st := l.view(ctx)
			gp, _ := req.(*mcp.GetPromptRequest)
			if !st.prompts.has() || gp == nil || gp.Params == nil || st.prompts.defs[gp.Params.Name] == nil {
				return getPrompt(st, gp)
			}
			ctx = context.WithValue(ctx, pinnedKey{}, &pinnedCall{st: st})
		case "tools/call":
			// The call runs on the state read here, through the SDK's own
			// dispatch (which adds what the negotiated protocol needs, such
			// as resultType). apply registers new tools before it swaps the
			// state, so every tool of st has a handler.
			st := l.view(ctx)
			if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
				if st.ops["tool:"+call.Params.Name] == nil && l.catchUp.wait(ctx) {
					st = l.view(ctx) // a tool the client heard of before this replica applied it
				}
				if op := st.ops["tool:"+call.Params.Name]; op != nil && op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate {
					ctx = context.WithValue(ctx, pinnedKey{}, &pinnedCall{st: st, op: op})
				}
			}
		}
		return next(ctx, method, req)
	}
}

// listCache is the caching hint of every list (2026-07-28): lists change
// whenever the spec does (clients hear of it through list_changed), and a
// tenant's lists are for its token holders only.
var listCache = mcp.Cacheable{TTLMs: 0, CacheScope: "private"}

// pinnedKey carries the state and operation a tools/call was routed with.
type pinnedKey struct{}

type pinnedCall struct {
	st *state
	op *openapi.Operation
}

// streams tracks a tenant's long-lived requests (GET streams of sessions,
// 2026-07-28 listen streams) by the token that opened them, so revoking a
// token ends them on every replica.
type streams struct {
	mu   sync.Mutex
	next uint64
	m    map[string]map[uint64]context.CancelFunc
}

// add registers cancel under tokenID and returns the function that removes it.
func (s *streams) add(tokenID string, cancel context.CancelFunc) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]map[uint64]context.CancelFunc)
	}
	if s.m[tokenID] == nil {
		s.m[tokenID] = make(map[uint64]context.CancelFunc)
	}
	s.next++
	n := s.next
	s.m[tokenID][n] = cancel
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.m[tokenID], n)
		if len(s.m[tokenID]) == 0 {
			delete(s.m, tokenID)
		}
	}
}

// end cancels every stream opened with tokenID and reports how many.
func (s *streams) end(tokenID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.m[tokenID])
	for _, cancel := range s.m[tokenID] {
		cancel()
	}
	delete(s.m, tokenID)
	return n
}
