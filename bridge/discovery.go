package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Discovery mode (settings.tool_mode = "discovery") exposes a large spec
// through three meta-tools instead of one tool per operation, so an agent's
// context holds three tool definitions rather than hundreds: it searches,
// reads the one schema it needs, and calls through call_tool.
const (
	searchToolsName  = "search_tools"
	describeToolName = "describe_tool"
	callToolName     = "call_tool"
)

// discoveryTools are the meta-tools a tenant in discovery mode lists.
func discoveryTools() []*mcp.Tool {
	return []*mcp.Tool{
		{
			Name:        searchToolsName,
			Description: "Search this service's operations by words in their name, description, path or tags. Returns the best matches with their names; read one with describe_tool, run it with call_tool.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"words to look for, e.g. \"create invoice\""},"limit":{"type":"integer","minimum":1,"maximum":50,"default":10}},"required":["query"]}`),
		},
		{
			Name:        describeToolName,
			Description: "Return one operation's full description and the JSON Schema of its arguments, to build the arguments of call_tool.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","description":"a name from search_tools"}},"required":["name"]}`),
		},
		{
			Name:        callToolName,
			Description: "Call one operation by name with arguments matching the schema describe_tool returned.",
			InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"},"arguments":{"type":"object","description":"the operation's arguments"}},"required":["name"]}`),
		},
	}
}

// discoveryHandler returns the handler of meta-tool name.
func (l *live) discoveryHandler(name string) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		st := l.view(ctx)
		var args struct {
			Query     string          `json:"query"`
			Limit     int             `json:"limit"`
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if len(req.Params.Arguments) > 0 {
			if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
				return toolError("the arguments of %s must be a JSON object: %v", name, err), nil
			}
		}
		switch name {
		case searchToolsName:
			return jsonResult(map[string]any{"tools": searchOps(st, args.Query, args.Limit)}), nil
		case describeToolName:
			op := discoverable(st, args.Name)
			if op == nil && !st.discovery {
				return toolError("no tool named %q; tools/list names them", args.Name), nil
			}
			if op == nil {
				return toolError("no operation named %q; find names with search_tools", args.Name), nil
			}
			d := map[string]any{"name": op.Name, "description": op.Description, "method": op.Method, "path": op.Path, "inputSchema": op.InputSchema}
			if len(op.OutputSchema) > 0 {
				d["outputSchema"] = op.OutputSchema
			}
			return jsonResult(d), nil
		case callToolName:
			op := discoverable(st, args.Name)
			if op == nil {
				return toolError("no operation named %q; find names with search_tools", args.Name), nil
			}
			inner := &mcp.CallToolRequest{Session: req.Session, Extra: req.Extra,
				Params: &mcp.CallToolParamsRaw{Meta: req.Params.Meta, Name: op.Name, Arguments: args.Arguments,
					InputResponses: req.Params.InputResponses, RequestState: req.Params.RequestState}}
			return l.call(ctx, st, op, inner)
		}
		return toolError("unknown meta-tool %s", name), nil
	}
}

// discoverable returns the tool operation called name, or nil.
func discoverable(st *state, name string) *openapi.Operation {
	op := st.ops["tool:"+name]
	if op == nil || op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return nil
	}
	return op
}

type searchHit struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	score       int
}

// searchOps ranks st's tool operations by how many query words they
// contain, name matches counting most; ties keep document order.
func searchOps(st *state, query string, limit int) []searchHit {
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	words := strings.Fields(strings.ToLower(query))
	hits := []searchHit{}
	for _, op := range st.list {
		if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		name := strings.ToLower(op.Name)
		text := strings.ToLower(op.Description + " " + op.Path + " " + strings.Join(op.Tags, " ") + " " + op.OperationID)
		score := 0
		for _, w := range words {
			if strings.Contains(name, w) {
				score += 3
			}
			if strings.Contains(text, w) {
				score++
			}
		}
		if score > 0 || len(words) == 0 {
			desc, _, _ := strings.Cut(op.Description, "\n")
			hits = append(hits, searchHit{Name: op.Name, Description: desc, Method: op.Method, Path: op.Path, score: score})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

func jsonResult(v any) *mcp.CallToolResult {
	b, err := json.Marshal(v)
	if err != nil {
		return toolError("%v", fmt.Errorf("encode result: %w", err))
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}
}
