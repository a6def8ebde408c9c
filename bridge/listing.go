package bridge

import (
	"encoding/json"

	"github.com/portico-mcp/portico/tenant"
)

// Listing is a conversion shaped as MCP clients see it: tools, resources and
// resource templates as their list methods return them, plus a report.
type Listing struct {
	Tools             []ListedTool     `json:"tools"`
	Resources         []ListedResource `json:"resources"`
	ResourceTemplates []ListedTemplate `json:"resource_templates"`
	Report            Report           `json:"report"`
}

// ListedTool is a tool as tools/list returns it.
type ListedTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
}

// ListedResource is a resource as resources/list returns it.
type ListedResource struct {
	Name        string `json:"name"`
	URI         string `json:"uri"`
	Description string `json:"description"`
	MIMEType    string `json:"mimeType"`
}

// ListedTemplate is a template as resources/templates/list returns it.
type ListedTemplate struct {
	Name        string `json:"name"`
	URITemplate string `json:"uriTemplate"`
	Description string `json:"description"`
	MIMEType    string `json:"mimeType"`
}

// Report is the conformance report of a conversion.
type Report = tenant.ConversionReport

// MCPListing returns c as MCP clients would list it.
func (c *Conversion) MCPListing() Listing {
	l := Listing{
		Tools: []ListedTool{}, Resources: []ListedResource{}, ResourceTemplates: []ListedTemplate{},
		Report: c.Report,
	}
	for _, op := range c.Operations {
		switch op.Kind {
		case tenant.KindResource:
			l.Resources = append(l.Resources, ListedResource{op.Name, op.URI, op.Description, "application/json"})
		case tenant.KindResourceTemplate:
			l.ResourceTemplates = append(l.ResourceTemplates, ListedTemplate{op.Name, op.URI, op.Description, "application/json"})
		default:
			l.Tools = append(l.Tools, ListedTool{op.Name, op.Description, op.InputSchema, op.OutputSchema})
		}
	}
	return l
}
