package tenant

import (
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
}

// PreviewItem is one would-be tool, resource or template, with what route
// maps match on (operation id and tags) so an editor can show which rule
// catches it.
type PreviewItem struct {
	Tool
	OperationID string   `json:"operation_id,omitempty"`
	Tags        []string `json:"tags,omitempty"`
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
