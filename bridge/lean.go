package bridge

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Lean listing (settings.listing = "lean") lists every operation tool with
// what a model needs to choose and call it and no more: the first
// paragraph of its description (OpenAPI's summary, usually), its input
// schema byte for byte as in full listing, its annotations, and no output
// schema. Output schemas are most of a big listing (GitHub: 75% of its
// estimated tokens, Stripe: 86%) and only describe results; MCP makes them
// optional, and results are unchanged (the same structuredContent, which
// still validates against the full output schema). The go-sdk client never
// validates structuredContent; the TypeScript SDK validates it only for
// tools listed with an output schema. FastMCP's x-fastmcp-wrap-result
// marker lives in the output schema, so FastMCP clients see wrapped
// results ({"result": ...}) as they are sent. One more tool, describe_tool,
// returns an operation's full description and output schema.
//
// $defs are not shared across tools: an MCP input schema must stand alone
// (clients resolve $ref within it), input schemas stay identical to full
// listing, and output schemas, whose $defs repeat the most, are left out.

// firstParagraph returns the text before the first blank line, marking a
// deprecated operation as such (that note is its last paragraph).
func firstParagraph(s string) string {
	loc := paragraphBreak.FindStringIndex(s)
	if loc == nil {
		return s
	}
	first := strings.TrimSpace(s[:loc[0]])
	if first == "" {
		return s
	}
	if strings.HasSuffix(s, deprecatedNote) {
		first += " (deprecated)"
	}
	return first
}

var paragraphBreak = regexp.MustCompile(`\n[ \t]*\n`)

// deprecatedNote ends the description of an operation the API deprecates.
const deprecatedNote = "Deprecated: the API marks this operation as deprecated."

// leanTool is op's tool in lean listing.
func leanToolOf(op *openapi.Operation) *mcp.Tool {
	t := toolOf(op)
	t.Description = firstParagraph(op.Description)
	t.OutputSchema = nil
	return t
}

// leanDescribeTool is the describe_tool lean listing adds.
func leanDescribeTool() *mcp.Tool {
	return &mcp.Tool{
		Name:        describeToolName,
		Description: "Return one tool's full description, the JSON Schema of its arguments and of its result. Tools here are listed in short: the first paragraph of each description and no output schema.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","description":"the name of a listed tool"}},"required":["name"]}`),
	}
}

// listedTools returns what tools/list shows for ops in listing mode
// listing ("full" or "lean"; discovery mode lists discoveryTools instead).
// Lean listing adds describe_tool unless an operation has that name.
func listedTools(ops []*openapi.Operation, listing string) []*mcp.Tool {
	var tools []*mcp.Tool
	lean := listing == tenant.ListingLean
	describe := lean
	for _, op := range ops {
		if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		if op.Name == describeToolName {
			describe = false
		}
		if lean {
			tools = append(tools, leanToolOf(op))
		} else {
			tools = append(tools, toolOf(op))
		}
	}
	if describe {
		tools = append(tools, leanDescribeTool())
	}
	return tools
}
