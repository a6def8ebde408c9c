package tenant

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

// PreviewReport summarises the conversion behind a preview.
type PreviewReport struct {
	Title      string   `json:"title"`
	Version    string   `json:"version"`
	Operations int      `json:"operations"`
	Warnings   []string `json:"warnings"` // names cut, operations skipped, odd schemas
	Excluded   []string `json:"excluded"` // "METHOD /path" a route map excluded
}
