// Package manifest is Portico's configuration as code: the portico.yaml
// format (tenants, their settings and references to their credentials), its
// JSON Schema, and the plan that turns one state into another. It is pure:
// it reads and writes files and compares states, and leaves talking to a
// Portico to its caller, so the same plan drives `portico apply` and its
// tests.
//
// A file never holds a secret. A credential names where its value comes from
// (value_from: env:NAME or file:PATH), and only the process that applies the
// file reads it.
//
// The format grows by adding keys (toolsets and prompts came after
// credentials, as lists beside them in each tenant), and files written
// before keep their meaning. Unknown keys are refused, so a typo is an error
// rather than a setting silently ignored.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/portico-mcp/portico/tenant"
)

// Version is the only version of the format so far.
const Version = 1

// File is one portico.yaml.
type File struct {
	Version int      `json:"version" jsonschema:"version of the file format; 1"`
	Tenants []Tenant `json:"tenants" jsonschema:"the tenants this file manages, each known by its name"`
}

// Tenant is one tenant as the file declares it. Its name is its identity:
// apply finds the tenant of that name (in any case) or creates it.
type Tenant struct {
	Name    string `json:"name" jsonschema:"the tenant's name, unique in any case; apply matches tenants by it"`
	BaseURL string `json:"base_url" jsonschema:"the service's base URL; tool calls go there"`
	SpecURL string `json:"spec_url,omitempty" jsonschema:"its OpenAPI document; default base_url + /openapi.json"`
	// Active, when set, is the status apply brings the tenant to: true
	// activates it (also from failed), false deactivates it. Unset leaves
	// the status alone.
	Active      *bool           `json:"active,omitempty" jsonschema:"true: serve the tenant's tools (activate it); false: stop serving them; unset: leave the status alone"`
	Settings    tenant.Settings `json:"settings,omitzero" jsonschema:"route maps, names, overrides and limits, as PUT /api/v1/tenants/{id}/settings takes them"`
	Credentials []Credential    `json:"credentials,omitempty" jsonschema:"credentials sent to the service, by reference: the file never holds their values"`
	Toolsets    []Toolset       `json:"toolsets,omitempty" jsonschema:"named subsets of the tenant's tools, each served at /t/<id>/mcp/<name>"`
	Prompts     []Prompt        `json:"prompts,omitempty" jsonschema:"message templates served as MCP prompts"`
}

// Toolset is a toolset of a tenant, as POST /api/v1/tenants/{id}/toolsets
// takes it.
type Toolset struct {
	Name        string   `json:"name" jsonschema:"lowercase letters, digits, _ and -: the last segment of its MCP URL"`
	Description string   `json:"description,omitempty" jsonschema:"what the toolset is for"`
	Tools       []string `json:"tools,omitempty" jsonschema:"tools by MCP name, operationId or METHOD /path"`
	Tags        []string `json:"tags,omitempty" jsonschema:"every operation with one of these tags"`
	ReadOnly    bool     `json:"read_only,omitempty" jsonschema:"only tools that change nothing (GET, HEAD, readOnlyHint)"`
}

// Toolset is t as the API takes it.
func (t Toolset) Toolset() tenant.Toolset {
	return tenant.Toolset{Name: t.Name, Description: t.Description, Tools: nonNil(t.Tools), Tags: nonNil(t.Tags), ReadOnly: t.ReadOnly}
}

// Prompt is a prompt of a tenant, as POST /api/v1/tenants/{id}/prompts
// takes it.
type Prompt struct {
	Name        string                  `json:"name" jsonschema:"letters, digits, _ . -"`
	Title       string                  `json:"title,omitempty" jsonschema:"a human-readable title"`
	Description string                  `json:"description,omitempty" jsonschema:"what the prompt is for"`
	Arguments   []tenant.PromptArgument `json:"arguments,omitempty" jsonschema:"arguments its messages name as {{argument}}"`
	Messages    []tenant.PromptMessage  `json:"messages" jsonschema:"the messages, with {{argument}} placeholders"`
	Toolsets    []string                `json:"toolsets,omitempty" jsonschema:"toolsets whose endpoints also serve it"`
}

// Prompt is p as the API takes it.
func (p Prompt) Prompt() tenant.Prompt {
	return tenant.Prompt{Name: p.Name, Title: p.Title, Description: p.Description, Arguments: nonNil(p.Arguments), Messages: p.Messages, Toolsets: p.Toolsets}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Credential is a credential of a tenant, with a reference to its value.
type Credential struct {
	Name   string                `json:"name" jsonschema:"the credential's name (letters, digits, _ . -)"`
	Type   tenant.CredentialType `json:"type" jsonschema:"how it is sent: bearer, header, basic (value user:password) or query"`
	Header string                `json:"header,omitempty" jsonschema:"the header (type header, optional for bearer) or query parameter (type query) it is sent in"`
	// ValueFrom is env:NAME (an environment variable of the process that
	// applies the file) or file:PATH (relative to the file's directory).
	ValueFrom string `json:"value_from" jsonschema:"where apply reads the value: env:NAME or file:PATH (relative to this file); never the value itself"`
	// The OAuth2 types' settings; their value is the client secret.
	AuthorizeURL string   `json:"authorize_url,omitempty" jsonschema:"oauth2_authorization_code: the provider's authorization endpoint"`
	TokenURL     string   `json:"token_url,omitempty" jsonschema:"oauth2_client_credentials and oauth2_authorization_code: the token endpoint"`
	ClientID     string   `json:"client_id,omitempty" jsonschema:"the OAuth2 client id"`
	Scopes       []string `json:"scopes,omitempty" jsonschema:"scopes to request"`
	Audience     string   `json:"audience,omitempty" jsonschema:"sent as the audience parameter"`
	AuthMethod   string   `json:"auth_method,omitempty" jsonschema:"client_secret_basic or client_secret_post"`
}

// OAuth2 is the credential's OAuth2 settings as the API takes them.
func (c Credential) OAuth2() tenant.OAuth2Config {
	return tenant.OAuth2Config{AuthorizeURL: c.AuthorizeURL, TokenURL: c.TokenURL, ClientID: c.ClientID, Scopes: c.Scopes, Audience: c.Audience, AuthMethod: c.AuthMethod}
}

var valueFrom = regexp.MustCompile(`^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$`)

// Load reads a file and checks it; see Parse.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse decodes YAML (or JSON, which is YAML) strictly: unknown keys,
// duplicate keys and a wrong type are errors, and so is every problem
// Validate finds.
func Parse(b []byte) (*File, error) {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	j, err := json.Marshal(jsonable(doc))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		if strings.Contains(err.Error(), `unknown field "value"`) {
			return nil, errors.New(`a credential has a "value": the file holds no secrets; write value_from: env:NAME or value_from: file:PATH instead`)
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// jsonable turns what YAML decodes into what JSON encodes: mappings with
// keys other than strings get their keys printed.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = jsonable(e)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = jsonable(e)
		}
		return v
	}
	return v
}

// Validate checks the file as the REST API would check each tenant, and
// returns a *tenant.InvalidError naming every bad field by its path in the
// file (tenants[0].credentials[1].value_from).
func (f *File) Validate() error {
	var inv tenant.InvalidError
	if f.Version != Version {
		inv.Add("version", fmt.Sprintf("is %d; must be %d", f.Version, Version))
	}
	seen := map[string]int{}
	for i, t := range f.Tenants {
		p := fmt.Sprintf("tenants[%d]", i)
		switch n := strings.ToLower(t.Name); {
		case strings.TrimSpace(t.Name) == "":
			inv.Add(p+".name", "is required")
		case seen[n] > 0:
			inv.Add(p+".name", fmt.Sprintf("%q is already the name of tenants[%d] (names are compared in any case)", t.Name, seen[n]-1))
		default:
			seen[n] = i + 1
		}
		prefixed(&inv, p+".", tenant.ValidateHTTPURL("base_url", t.BaseURL))
		if t.SpecURL != "" {
			prefixed(&inv, p+".", tenant.ValidateHTTPURL("spec_url", t.SpecURL))
		}
		prefixed(&inv, p+".", t.Settings.Validate())
		names := map[string]bool{}
		for j, c := range t.Credentials {
			cp := fmt.Sprintf("%s.credentials[%d].", p, j)
			if names[c.Name] {
				inv.Add(cp+"name", fmt.Sprintf("%q is named twice", c.Name))
			}
			names[c.Name] = true
			// The value is not known here; one that passes every value
			// check lets Validate judge the rest.
			prefixed(&inv, cp, tenant.Credential{Name: c.Name, Type: c.Type, Header: c.Header, OAuth2Config: c.OAuth2()}.Validate("user:value"))
			if !valueFrom.MatchString(c.ValueFrom) {
				inv.Add(cp+"value_from", fmt.Sprintf("is %q; must be env:NAME (an environment variable) or file:PATH", c.ValueFrom))
			}
		}
		sets := map[string]bool{}
		for j, ts := range t.Toolsets {
			tp := fmt.Sprintf("%s.toolsets[%d].", p, j)
			if sets[ts.Name] {
				inv.Add(tp+"name", fmt.Sprintf("%q is named twice", ts.Name))
			}
			sets[ts.Name] = true
			v := ts.Toolset()
			prefixed(&inv, tp, v.Validate())
		}
		prompts := map[string]bool{}
		for j, pr := range t.Prompts {
			pp := fmt.Sprintf("%s.prompts[%d].", p, j)
			if prompts[pr.Name] {
				inv.Add(pp+"name", fmt.Sprintf("%q is named twice", pr.Name))
			}
			prompts[pr.Name] = true
			v := pr.Prompt()
			prefixed(&inv, pp, v.Validate())
			for k, ts := range pr.Toolsets {
				if !sets[ts] {
					inv.Add(fmt.Sprintf("%stoolsets[%d]", pp, k), fmt.Sprintf("%q is not a toolset this tenant lists under toolsets", ts))
				}
			}
		}
	}
	return inv.Err()
}

func prefixed(inv *tenant.InvalidError, prefix string, err error) {
	var e *tenant.InvalidError
	if errors.As(err, &e) {
		for _, p := range e.Problems {
			inv.Add(prefix+p.Field, p.Problem)
		}
	}
}

// Resolve reads a credential's value: from the environment (getenv) or
// from a file, relative to dir. The error names the reference, never a value.
func (c Credential) Resolve(getenv func(string) string, dir string) (string, error) {
	kind, ref, _ := strings.Cut(c.ValueFrom, ":")
	switch kind {
	case "env":
		v := getenv(ref)
		if v == "" {
			return "", fmt.Errorf("credential %s: value_from %s: the environment variable %s is not set (or empty)", c.Name, c.ValueFrom, ref)
		}
		return v, nil
	case "file":
		if !filepath.IsAbs(ref) {
			ref = filepath.Join(dir, ref)
		}
		b, err := os.ReadFile(ref)
		if err != nil {
			return "", fmt.Errorf("credential %s: value_from %s: %w", c.Name, c.ValueFrom, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("credential %s: value_from %s: the file is empty", c.Name, c.ValueFrom)
		}
		return v, nil
	}
	return "", fmt.Errorf("credential %s: value_from %q must be env:NAME or file:PATH", c.Name, c.ValueFrom)
}

// ExportEnv is the environment variable an exported file names for a
// credential's value: PORTICO_CREDENTIAL_<TENANT>_<NAME>, upper case, every
// other character an underscore. Whoever applies the export sets it.
func ExportEnv(tenantName, credName string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			}
			return '_'
		}, s)
	}
	return "PORTICO_CREDENTIAL_" + clean(tenantName) + "_" + clean(credName)
}

// Marshal writes f as YAML, keys in the order of the Go types (name first),
// map keys sorted, so the same state always gives the same bytes.
func Marshal(f *File) ([]byte, error) {
	j, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	n, err := yamlNode(dec)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString("# Portico configuration: apply with `portico apply -f FILE`.\n# Credentials are references (value_from); their values are never written here.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// yamlNode reads one JSON value from dec as a YAML node, keeping the order
// of object keys.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		kind, end := yaml.SequenceNode, json.Delim(']')
		if v == '{' {
			kind, end = yaml.MappingNode, '}'
		}
		n := &yaml.Node{Kind: kind}
		for dec.More() {
			if kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			c, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		if t, err := dec.Token(); err != nil || t != end {
			return nil, fmt.Errorf("yaml: unbalanced JSON: %v", err)
		}
		if len(n.Content) == 0 {
			n.Style = yaml.FlowStyle
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(v), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(v)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("yaml: unexpected JSON token %v", tok)
}
