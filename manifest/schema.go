package manifest

import (
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/portico-mcp/portico/tenant"
)

// SchemaName is the name Portico publishes the file's JSON Schema under,
// at /api/v1/schemas/portico.yaml.json.
const SchemaName = "portico.yaml.json"

// Schema returns the JSON Schema (draft 2020-12) of the file, derived from
// the Go types Parse decodes into, so the two cannot drift apart. Editors
// validate portico.yaml with it (e.g. a
// `# yaml-language-server: $schema=https://PORTICO/api/v1/schemas/portico.yaml.json`
// first line).
func Schema() (*jsonschema.Schema, error) {
	s, err := jsonschema.For[File](nil)
	if err != nil {
		return nil, fmt.Errorf("schema of the portico.yaml format: %w", err)
	}
	s.Schema = "https://json-schema.org/draft/2020-12/schema"
	s.Title = "portico.yaml"
	s.Description = "Portico configuration as code: tenants, their settings and references to their credentials (never the values). Apply with `portico apply -f portico.yaml`."
	s.Properties["version"].Const = jsonschema.Ptr[any](Version)
	t := s.Properties["tenants"].Items
	t.Properties["name"].MinLength = jsonschema.Ptr(1)
	t.Properties["name"].MaxLength = jsonschema.Ptr(200)
	for _, f := range []string{"base_url", "spec_url"} {
		t.Properties[f].Format = "uri"
		t.Properties[f].Pattern = "^https?://"
	}
	c := t.Properties["credentials"].Items
	c.Properties["name"].Pattern = "^[A-Za-z0-9_.-]{1,64}$"
	c.Properties["type"].Enum = []any{string(tenant.CredBearer), string(tenant.CredHeader), string(tenant.CredBasic), string(tenant.CredQuery),
		string(tenant.CredOAuth2ClientCredentials), string(tenant.CredOAuth2AuthorizationCode)}
	c.Properties["value_from"].Pattern = valueFrom.String()
	rm := t.Properties["settings"].Properties["route_maps"].Items
	rm.Properties["mcp_type"].Enum = []any{tenant.KindTool, tenant.KindResource, tenant.KindResourceTemplate, tenant.KindExclude}
	return s, nil
}

// SchemaJSON is Schema, encoded.
func SchemaJSON() ([]byte, error) {
	s, err := Schema()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(s, "", "  ")
}
