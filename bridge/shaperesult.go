package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
)

// result maps a finished exchange to the tool result the shape describes;
// sel is the agent's _select expression ("" for none).
func shapeResult(ctx context.Context, s *openapi.Shaper, op *openapi.Operation, res *upstreamResult, sel string) *mcp.CallToolResult {
	trimmed := bytes.TrimSpace(res.body)
	if res.status >= 400 || res.truncated || len(trimmed) == 0 || (s.Code == nil && sel == "") || !isJSON(res.contentType) {
		return cutResult(s, op, res.toolResult(op))
	}
	v, err := openapi.DecodeValue(trimmed)
	if err != nil { // not JSON after all: mapped as usual, as text
		return cutResult(s, op, res.toolResult(op))
	}
	var text []byte
	if s.Code != nil {
		if v, text, err = s.Run(ctx, s.Code, v); err != nil {
			return toolError("the response shape of %s (settings.tools[%q].response.jq) failed on the upstream's answer: %v. The tenant's admin can fix the expression; the call itself reached the service.", op.Name, s.ToolKey, err)
		}
	}
	if sel != "" {
		if v, text, err = s.RunSelect(ctx, sel, v); err != nil {
			return toolError("%s: %v. Pass a jq expression such as {id, name}, .items[:5] or [.[] | .id], or leave %s out for the whole result.", openapi.SelectArg, err, openapi.SelectArg)
		}
	}
	_, isObject := v.(map[string]any)
	structured := json.RawMessage(text)
	if s.Code != nil && sel == "" && !s.Selectable {
		if s.Wrap {
			structured = json.RawMessage(`{"result":` + string(text) + `}`)
		} else if !isObject {
			return toolError("the response shape of %s (settings.tools[%q].response.jq) gave %s, not the object its output schema promises; the tenant's admin can fix the expression", op.Name, s.ToolKey, openapi.Preview(v))
		}
	} else if !isObject {
		structured = json.RawMessage(`{"result":` + string(text) + `}`)
	}
	out := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}, StructuredContent: structured}
	return cutResult(s, op, out)
}

// cut shortens a text result longer than max_bytes, with a note saying how
// to ask for less. The cut text is not valid JSON, so the result carries no
// structured content; a tool that lists an output schema then marks it an
// error, since its answer no longer matches the schema.
func cutResult(s *openapi.Shaper, op *openapi.Operation, out *mcp.CallToolResult) *mcp.CallToolResult {
	if s.MaxBytes <= 0 || out == nil || len(out.Content) != 1 {
		return out
	}
	tc, ok := out.Content[0].(*mcp.TextContent)
	if !ok || len(tc.Text) <= s.MaxBytes {
		return out
	}
	n := s.MaxBytes
	for n > 0 && !utf8.RuneStart(tc.Text[n]) {
		n--
	}
	how := "call again with narrower arguments (filters, a smaller page)"
	if s.Selectable {
		how = fmt.Sprintf("pass %s with a jq expression that keeps only the fields you need, e.g. {id, name} or .items[:5], or narrower arguments", openapi.SelectArg)
	}
	text := fmt.Sprintf("%s\n[result cut at %d of %d bytes (the tool's limit); %s]", tc.Text[:n], n, len(tc.Text), how)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}, IsError: out.IsError || len(op.OutputSchema) > 0 && !s.Selectable}
}
