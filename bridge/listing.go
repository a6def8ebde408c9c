package bridge

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Listing is a conversion shaped as MCP clients see it: tools, resources and
// resource templates as their list methods return them, plus a report. Each
// tool is the one a tenant serves, byte for byte once encoded the way
// tools/list encodes it (encoding/json without HTML escaping).
type Listing struct {
	Tools             []*mcp.Tool      `json:"tools"`
	Resources         []ListedResource `json:"resources"`
	ResourceTemplates []ListedTemplate `json:"resource_templates"`
	Report            Report           `json:"report"`
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

// MCPListing returns c as MCP clients would list it in listing mode
// listing ("full" or "lean").
func MCPListing(c *openapi.Conversion, listing string) Listing {
	l := Listing{
		Tools: []*mcp.Tool{}, Resources: []ListedResource{}, ResourceTemplates: []ListedTemplate{},
		Report: c.Report,
	}
	for _, op := range c.Operations {
		switch op.Kind {
		case tenant.KindResource:
			l.Resources = append(l.Resources, ListedResource{op.Name, op.URI, op.Description, "application/json"})
		case tenant.KindResourceTemplate:
			l.ResourceTemplates = append(l.ResourceTemplates, ListedTemplate{op.Name, op.URI, op.Description, "application/json"})
		}
	}
	l.Tools = append(l.Tools, listedTools(c.Operations, listing)...)
	return l
}
