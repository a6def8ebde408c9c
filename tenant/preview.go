package tenant

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Preview is what an OpenAPI document would become under some settings:
// the tools, resources and templates a tenant would serve, computed without
// storing anything. The dashboard shows it before a tenant goes live.
type Preview struct {
	Tools             []PreviewItem `json:"tools"`
	Resources         []PreviewItem `json:"resources"`
	ResourceTemplates []PreviewItem `json:"resource_templates"`
	Report            PreviewReport `json:"report"`
	// Listed is the tools exactly as tools/list sends them to agents
	// (settings.tools, listing and tool_mode applied).
	Listed json.RawMessage `json:"listed,omitempty"`
}

// PreviewItem is one would-be tool, resource or template, with what route
// maps match on (operation id and tags) so an editor can show which rule
// catches it.
type PreviewItem struct {
	Tool
	OperationID string   `json:"operation_id,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// SettingsKey is the settings.tools key that reshapes this tool, when
	// one does (tenant previews only).
	SettingsKey string `json:"settings_key,omitempty"`
}

// ToolPreviewRequest asks what a tenant's serving document becomes under
// Settings, and optionally what one tool answers once shaped: Sample shapes
// an upstream answer the caller already has, Call asks the upstream anew.
type ToolPreviewRequest struct {
	Settings Settings       `json:"settings"`
	Sample   *PreviewSample `json:"sample,omitempty"`
	Call     *PreviewCall   `json:"call,omitempty"`
}

// PreviewSample is an upstream answer of a tool: Tool is its name as the
// preview lists it or its settings.tools key, Body the upstream's JSON.
type PreviewSample struct {
	Tool string          `json:"tool"`
	Body json.RawMessage `json:"body"`
}

// PreviewCall is a live call of a tool with Arguments as an agent sends
// them under the previewed settings.
type PreviewCall struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolPreview is a tenant's tools under previewed settings: Preview as
// POST /preview gives it, and Sample the shaped answer when one was asked
// for.
type ToolPreview struct {
	Preview
	// SpecVersion is the stored version the preview converted.
	SpecVersion int           `json:"spec_version"`
	Sample      *ShapedSample `json:"sample,omitempty"`
}

// ShapedSample is one tool's answer before and after its response shape.
// Upstream is what the service sent (absent when a live call failed before
// an answer); Result is the MCP tools/call result an agent would get.
type ShapedSample struct {
	Tool     string          `json:"tool"`
	Source   string          `json:"source"` // "sample" or "call"
	Upstream *UpstreamAnswer `json:"upstream,omitempty"`
	Result   json.RawMessage `json:"result"`
}

// UpstreamAnswer is an upstream HTTP answer: Body when it is JSON, Text
// otherwise (cut at the tenant's response cap).
type UpstreamAnswer struct {
	Status      int             `json:"status"`
	ContentType string          `json:"content_type,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	Text        string          `json:"text,omitempty"`
	Bytes       int64           `json:"bytes"`
	MS          float64         `json:"ms,omitempty"`
}

// PreviewReport is the report of the conversion behind a preview.
type PreviewReport = ConversionReport

// ConversionReport says what converting one OpenAPI document gave and what
// it could not give: its conformance report. The REST
// API serves it (GET /tenants/{id}/spec/report, previews), tenant
// activation returns its summary, and portico convert prints it.
type ConversionReport struct {
	Title   string `json:"title"`
	Version string `json:"version"` // info.version
	Dialect string `json:"dialect"` // "OpenAPI 3.1.0", "Swagger 2.0", ...
	// Seen counts the operations in the document; Operations those
	// converted (Tools + Resources + ResourceTemplates); Excluded the rest.
	Seen              int      `json:"operations_seen"`
	Operations        int      `json:"operations"`
	Tools             int      `json:"tools"`
	Resources         int      `json:"resources"`
	ResourceTemplates int      `json:"resource_templates"`
	Excluded          []string `json:"excluded"` // "METHOD /path" a route map excluded
	// NamesCut lists names longer than 64 characters that were cut (with a
	// stable hash); NamesSuffixed the clashes given _2, _3, ...
	NamesCut      []NameChange `json:"names_cut"`
	NamesSuffixed []NameChange `json:"names_suffixed"`
	// Unsupported lists document features Portico does not carry over,
	// with what it did instead.
	Unsupported []UnsupportedFeature `json:"unsupported"`
	Warnings    []string             `json:"warnings"` // everything else worth a look
	// OperationKeys are every operationId and "METHOD /path" of the
	// document, excluded operations included: what settings keyed by
	// operation (names, uris, timeouts_ms) may name. Not part of the
	// report's JSON.
	OperationKeys []string `json:"-"`
	// Cost is what listing the tools costs a model, when computed.
	Cost *ToolSetCost `json:"cost,omitempty"`
}

// ToolSetCost is what a tool set costs the model it is shown to: the bytes
// of its tools/list entries and an estimate of their tokens, for the whole
// set and per tool.
type ToolSetCost struct {
	// Listing is the listing mode the figures are for: "full" or "lean".
	Listing string `json:"listing"`
	// Tokenizer says how tokens are estimated.
	Tokenizer string `json:"tokenizer"`
	Total     Cost   `json:"total"`
	// FullTokens, LeanTokens and DiscoveryTokens are the estimated tokens
	// of the same tools in full listing, in lean listing and in discovery
	// mode (three meta-tools, the floor a tenant can cut its listing to).
	FullTokens      int `json:"full_tokens"`
	LeanTokens      int `json:"lean_tokens"`
	DiscoveryTokens int `json:"discovery_tokens"`
	// Recommendation is set when the set costs more than a model should
	// pay up front, saying what would cut it and to how much.
	Recommendation string     `json:"recommendation,omitempty"`
	Tools          []ToolCost `json:"tools"` // in document order
}

// Cost is the size of one tool or a set of them, split into the tool
// without its schemas (name, description, annotations), its input schema
// and its output schema.
type Cost struct {
	Bytes           int      `json:"bytes"`
	Tokens          int      `json:"tokens"`
	NameDescription CostPart `json:"name_description"`
	InputSchema     CostPart `json:"input_schema"`
	OutputSchema    CostPart `json:"output_schema"`
}

// CostPart is the bytes and estimated tokens of one part of a tool.
type CostPart struct {
	Bytes  int `json:"bytes"`
	Tokens int `json:"tokens"`
}

// ToolCost is one tool's cost.
type ToolCost struct {
	Name string `json:"name"`
	Cost
}

// Sum sets c's totals to the sum of its parts.
func (c *Cost) Sum() {
	c.Bytes = c.NameDescription.Bytes + c.InputSchema.Bytes + c.OutputSchema.Bytes
	c.Tokens = c.NameDescription.Tokens + c.InputSchema.Tokens + c.OutputSchema.Tokens
}

// Add adds o to c.
func (c *Cost) Add(o Cost) {
	c.Bytes += o.Bytes
	c.Tokens += o.Tokens
	c.NameDescription.Bytes += o.NameDescription.Bytes
	c.NameDescription.Tokens += o.NameDescription.Tokens
	c.InputSchema.Bytes += o.InputSchema.Bytes
	c.InputSchema.Tokens += o.InputSchema.Tokens
	c.OutputSchema.Bytes += o.OutputSchema.Bytes
	c.OutputSchema.Tokens += o.OutputSchema.Tokens
}

// SpecReport is the conformance report of one stored spec version.
type SpecReport struct {
	SpecVersion int `json:"spec_version"`
	ConversionReport
}

// NameChange is a tool name the converter had to change.
type NameChange struct {
	Operation string `json:"operation"` // "METHOD /path"
	From      string `json:"from"`
	To        string `json:"to"`
}

// UnsupportedFeature is a feature of the document that is not converted.
type UnsupportedFeature struct {
	Feature string `json:"feature"`
	Count   int    `json:"count"`
	Instead string `json:"instead"` // what Portico did instead
}

// Summary is the report in one line, e.g. "OpenAPI 3.1.0: 35 operations ->
// 33 tools, 2 excluded, 1 name cut, 3 warnings".
func (r ConversionReport) Summary() string {
	parts := []string{fmt.Sprintf("%d tools", r.Tools)}
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(r.Resources, "resource", "resources")
	add(r.ResourceTemplates, "resource template", "resource templates")
	add(len(r.Excluded), "excluded", "excluded")
	add(len(r.NamesCut), "name cut", "names cut")
	add(len(r.NamesSuffixed), "name suffixed", "names suffixed")
	add(len(r.Unsupported), "unsupported feature", "unsupported features")
	add(len(r.Warnings), "warning", "warnings")
	return fmt.Sprintf("%s: %d operations -> %s", r.Dialect, r.Seen, strings.Join(parts, ", "))
}
