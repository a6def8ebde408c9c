// Package tenant is Portico's core model: the tenants that register an
// upstream API, their lifecycle, settings, encrypted credentials, access
// tokens, toolsets and prompts. It imports no database driver, web framework
// or MCP SDK, so the HTTP layer (api), the MCP layer (bridge) and the pure
// conversion code can all build on it; package pgstore keeps it in Postgres.
package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where a tenant is in its lifecycle.
type Status string

const (
	StatusPending   Status = "pending"   // registered, never activated
	StatusActive    Status = "active"    // serving at /t/<id>/mcp
	StatusInactive  Status = "inactive"  // deactivated by its admin
	StatusFailed    Status = "failed"    // activation could not complete; see StatusReason
	StatusSuspended Status = "suspended" // stopped by an operator
)

// transitions is the lifecycle table: transitions[from] lists the statuses a
// tenant may move to from there. Activation that fails lands in failed with a
// reason; a failed tenant can be activated again once its cause is fixed.
var transitions = map[Status][]Status{
	StatusPending:   {StatusActive, StatusFailed, StatusSuspended},
	StatusActive:    {StatusInactive, StatusFailed, StatusSuspended},
	StatusInactive:  {StatusActive, StatusFailed, StatusSuspended},
	StatusFailed:    {StatusActive, StatusFailed, StatusInactive, StatusSuspended},
	StatusSuspended: {StatusInactive},
}

// CanTransition reports whether the lifecycle allows moving from one status to another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Tenant is one registered upstream service.
type Tenant struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	BaseURL      string    `json:"base_url"`
	SpecURL      string    `json:"spec_url"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	Settings     Settings  `json:"settings"`
	SpecVersion  int       `json:"spec_version"` // newest stored spec version, 0 when none
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Settings are a tenant's tunables. The zero value means "operator defaults".
type Settings struct {
	// RouteMaps decide, in order, what each operation becomes; first match wins.
	RouteMaps []RouteMap `json:"route_maps,omitempty"`
	// Names overrides tool names, keyed by operationId (or METHOD /path).
	Names map[string]string `json:"names,omitempty"`
	// URIs overrides the URI (or URI template) of resources and resource
	// templates, keyed like Names; the default is resource://<name>/{param}.
	URIs map[string]string `json:"uris,omitempty"`
	// UpstreamTimeoutMS bounds one upstream call; 0 means the default (30 s).
	UpstreamTimeoutMS int `json:"upstream_timeout_ms,omitempty"`
	// TimeoutsMS overrides UpstreamTimeoutMS for single operations, keyed
	// like Names: by operationId or "METHOD /path" (e.g. "POST /reports").
	TimeoutsMS map[string]int `json:"timeouts_ms,omitempty"`
	// MaxConcurrency caps concurrent upstream calls; 0 means the default.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// ForwardHeaders lists MCP request headers copied to upstream calls.
	ForwardHeaders []string `json:"forward_headers,omitempty"`
	// ToolMode is "" (every operation is a tool) or "discovery": three
	// meta-tools (search_tools, describe_tool, call_tool) over the same
	// operations, for specs too large to list.
	ToolMode string `json:"tool_mode,omitempty"`
	// Listing is how tools/list shows the operations: "full" (the default,
	// also "") or "lean": descriptions cut to their first paragraph, no
	// output schemas, input schemas unchanged, plus describe_tool for the
	// full text.
	Listing string `json:"listing,omitempty"`
	// RefreshIntervalS is how often the spec is re-fetched; 0 means the default.
	RefreshIntervalS int `json:"refresh_interval_s,omitempty"`
	// RateLimitPerSecond and RateLimitBurst bound the tenant's MCP tool
	// calls; 0 means the operator's default.
	RateLimitPerSecond float64 `json:"rate_limit_per_second,omitempty"`
	RateLimitBurst     int     `json:"rate_limit_burst,omitempty"`
	// TokenRateLimitPerSecond and TokenRateLimitBurst bound each MCP token's
	// tool calls; 0 means the operator's default.
	TokenRateLimitPerSecond float64 `json:"token_rate_limit_per_second,omitempty"`
	TokenRateLimitBurst     int     `json:"token_rate_limit_burst,omitempty"`
	// RESTRateLimitPerSecond and RESTRateLimitBurst bound all REST API
	// requests on this tenant's routes (/api/v1/tenants/{id}/...); 0 means
	// the operator's default (PORTICO_RATE_LIMIT_TENANT). A burst of 0 is
	// one second's worth of requests (also for the per-caller pair).
	RESTRateLimitPerSecond float64 `json:"rest_rate_limit_per_second,omitempty"`
	RESTRateLimitBurst     int     `json:"rest_rate_limit_burst,omitempty"`
	// RESTCallerRateLimitPerSecond and RESTCallerRateLimitBurst bound each
	// API key or session on this tenant's routes; 0 means none beyond the
	// operator's per-caller limit (PORTICO_RATE_LIMIT_CALLER), which applies
	// to every route and so also caps this one.
	RESTCallerRateLimitPerSecond float64 `json:"rest_caller_rate_limit_per_second,omitempty"`
	RESTCallerRateLimitBurst     int     `json:"rest_caller_rate_limit_burst,omitempty"`
	// MaxResponseBytes caps one upstream response read into a tool result
	// (longer ones are cut, and the result says so); 0 means the default.
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
	// CORSOrigins are the browser origins (https://app.example.com) whose
	// pages may call the tenant's MCP endpoint: they get CORS headers, and
	// requests with any other Origin are refused (403). None by default.
	CORSOrigins []string `json:"cors_origins,omitempty"`
	// Tools change how single tools look to agents and what their calls
	// send and return, keyed by tool name, operationId or "METHOD /path".
	Tools map[string]ToolTransform `json:"tools,omitempty"`
	// IdentityAssertion, when set, makes every upstream call carry a
	// short-lived JWT signed by Portico that names the caller (docs/security.md).
	IdentityAssertion *IdentityAssertion `json:"identity_assertion,omitempty"`
}

// IdentityAssertion configures the signed caller identity upstream calls carry.
type IdentityAssertion struct {
	// Header carries the JWT; empty means DefaultIdentityHeader.
	Header string `json:"header,omitempty"`
}

// DefaultIdentityHeader is the header of the identity assertion unless the
// tenant names another.
const DefaultIdentityHeader = "X-Portico-Identity"

// HeaderName is the header the assertion goes in.
func (a *IdentityAssertion) HeaderName() string {
	if a.Header == "" {
		return DefaultIdentityHeader
	}
	return a.Header
}

// ToolTransform reshapes one tool: its name, title, description, tags,
// annotations and arguments as agents see them, whether it is served at
// all, and how its answer is shaped. Zero fields keep what the conversion
// made.
type ToolTransform struct {
	Name        string                  `json:"name,omitempty"`
	Title       string                  `json:"title,omitempty"`
	Description string                  `json:"description,omitempty"`
	Tags        []string                `json:"tags,omitempty"`
	Annotations *ToolAnnotations        `json:"annotations,omitempty"`
	Hidden      bool                    `json:"hidden,omitempty"`
	Args        map[string]ArgTransform `json:"args,omitempty"`
	Response    *ResponseShape          `json:"response,omitempty"`
}

// ToolAnnotations override the hints the HTTP method gave a tool; unset
// fields keep them.
type ToolAnnotations struct {
	Title           string `json:"title,omitempty"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// ArgTransform reshapes one argument of a tool, keyed by its name in the
// converted input schema. A Fixed value leaves the schema and is always
// sent; a Hidden argument leaves the schema and sends its Default; a
// renamed argument is still sent under its original name.
type ArgTransform struct {
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Default     json.RawMessage `json:"default,omitempty"`
	Fixed       json.RawMessage `json:"fixed,omitempty"`
	Hidden      bool            `json:"hidden,omitempty"`
	Required    *bool           `json:"required,omitempty"`
}

// ResponseShape turns a tool's JSON answer into what the agent sees: JQ is
// a jq expression applied to the upstream JSON, Select lets the agent pass
// its own expression in a _select argument, and MaxBytes cuts longer
// results with a note saying how to ask for less.
type ResponseShape struct {
	JQ       string `json:"jq,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
	Select   bool   `json:"select,omitempty"`
}

// MaxJQLength bounds a jq expression in settings.tools.
const MaxJQLength = 4096

// RouteMap is one rule mapping operations to an MCP kind, as FastMCP's RouteMap.
type RouteMap struct {
	Methods []string `json:"methods,omitempty"` // empty or "*" matches any method
	Pattern string   `json:"pattern,omitempty"` // regexp matched against the path
	Tags    []string `json:"tags,omitempty"`    // all must be present on the operation
	MCPType string   `json:"mcp_type"`          // tool | resource | resource_template | exclude
	MCPTags []string `json:"mcp_tags,omitempty"`
}

// MCP kinds a route map can choose.
const (
	KindTool             = "tool"
	KindResource         = "resource"
	KindResourceTemplate = "resource_template"
	KindExclude          = "exclude"
)

var headerName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// OperationMethods are the HTTP methods an OpenAPI path item may hold
// operations for (QUERY is OpenAPI 3.2's), upper case: the one list the
// converter and settings validation (route maps, "METHOD /path" keys) share.
var OperationMethods = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "QUERY"}

// IsOperationMethod reports whether m, in any case, is one of OperationMethods.
func IsOperationMethod(m string) bool {
	return slices.Contains(OperationMethods, strings.ToUpper(m))
}

// TimeoutFor returns the timeout TimeoutsMS sets for the operation with
// this operationId, method and path template, and whether one is set. The
// operationId wins over "METHOD /path"; the method is matched in any case.
func (s Settings) TimeoutFor(operationID, method, path string) (time.Duration, bool) {
	if len(s.TimeoutsMS) == 0 {
		return 0, false
	}
	if v, ok := s.TimeoutsMS[operationID]; ok && operationID != "" {
		return time.Duration(v) * time.Millisecond, true
	}
	for k, v := range s.TimeoutsMS {
		m, p, ok := strings.Cut(strings.TrimSpace(k), " ")
		if ok && strings.EqualFold(m, method) && strings.TrimSpace(p) == path {
			return time.Duration(v) * time.Millisecond, true
		}
	}
	return 0, false
}

// ToolModeDiscovery is the Settings.ToolMode that lists meta-tools.
const ToolModeDiscovery = "discovery"

// Listing modes (Settings.Listing).
const (
	ListingFull = "full"
	ListingLean = "lean"
)

// ListingMode is s.Listing with the default filled in.
func (s Settings) ListingMode() string {
	if s.Listing == ListingLean {
		return ListingLean
	}
	return ListingFull
}

// Validate checks settings and returns *InvalidError naming each bad field.
func (s Settings) Validate() error {
	var inv InvalidError
	for i, rm := range s.RouteMaps {
		f := fmt.Sprintf("settings.route_maps[%d]", i)
		switch rm.MCPType {
		case KindTool, KindResource, KindResourceTemplate, KindExclude:
		default:
			inv.Add(f+".mcp_type", "must be one of tool, resource, resource_template, exclude")
		}
		if rm.Pattern != "" {
			if _, err := regexp.Compile(rm.Pattern); err != nil {
				inv.Add(f+".pattern", "is not a valid regular expression: "+err.Error())
			}
		}
		for _, m := range rm.Methods {
			if m != "*" && !IsOperationMethod(m) {
				inv.Add(f+".methods", fmt.Sprintf("%q is not an HTTP method: use one of %s, or * for all", m, strings.Join(OperationMethods, ", ")))
			}
		}
	}
	for k, v := range s.Names {
		if k == "" || v == "" || len(v) > 64 {
			inv.Add("settings.names", fmt.Sprintf("override %q=%q must map a non-empty key to a name of 1-64 characters", k, v))
		}
	}
	for k, v := range s.URIs {
		if u, err := url.Parse(v); k == "" || err != nil || u.Scheme == "" || len(v) > 1024 {
			inv.Add("settings.uris", fmt.Sprintf("override %q=%q must map a non-empty key to an absolute URI such as test://static-text or test://item/{id}", k, v))
		}
	}
	if s.ToolMode != "" && s.ToolMode != ToolModeDiscovery {
		inv.Add("settings.tool_mode", `must be "" (one tool per operation) or "discovery"`)
	}
	if s.Listing != "" && s.Listing != ListingFull && s.Listing != ListingLean {
		inv.Add("settings.listing", fmt.Sprintf(`is %q; must be "full" (descriptions and output schemas as the document has them) or "lean" (first paragraph of each description, no output schemas; input schemas unchanged)`, s.Listing))
	}
	if s.UpstreamTimeoutMS < 0 || s.UpstreamTimeoutMS > 300_000 {
		inv.Add("settings.upstream_timeout_ms", "must be between 0 and 300000")
	}
	for _, k := range slices.Sorted(maps.Keys(s.TimeoutsMS)) {
		f := fmt.Sprintf("settings.timeouts_ms[%q]", k)
		if v := s.TimeoutsMS[k]; v < 1 || v > 300_000 {
			inv.Add(f, fmt.Sprintf("is %d; must be between 1 and 300000 (milliseconds)", v))
		}
		if method, path, ok := strings.Cut(strings.TrimSpace(k), " "); strings.TrimSpace(k) == "" {
			inv.Add(f, `the key must be an operationId or "METHOD /path"`)
		} else if ok && (!IsOperationMethod(method) || !strings.HasPrefix(strings.TrimSpace(path), "/")) {
			inv.Add(f, fmt.Sprintf(`the key must be an operationId or "METHOD /path" such as "GET /items/{id}"; %q is neither`, k))
		}
	}
	if s.MaxConcurrency < 0 || s.MaxConcurrency > 10_000 {
		inv.Add("settings.max_concurrency", "must be between 0 and 10000")
	}
	for f, v := range map[string]float64{"rate_limit_per_second": s.RateLimitPerSecond, "token_rate_limit_per_second": s.TokenRateLimitPerSecond,
		"rest_rate_limit_per_second": s.RESTRateLimitPerSecond, "rest_caller_rate_limit_per_second": s.RESTCallerRateLimitPerSecond} {
		if v < 0 || v > 100_000 {
			inv.Add("settings."+f, "must be between 0 (default) and 100000")
		}
	}
	for f, v := range map[string]int{"rate_limit_burst": s.RateLimitBurst, "token_rate_limit_burst": s.TokenRateLimitBurst,
		"rest_rate_limit_burst": s.RESTRateLimitBurst, "rest_caller_rate_limit_burst": s.RESTCallerRateLimitBurst} {
		if v < 0 || v > 100_000 {
			inv.Add("settings."+f, "must be between 0 and 100000")
		}
	}
	if s.MaxResponseBytes < 0 || s.MaxResponseBytes > 256<<20 {
		inv.Add("settings.max_response_bytes", "must be between 0 (default) and 268435456 (256 MiB)")
	}
	if s.RefreshIntervalS != 0 && (s.RefreshIntervalS < 30 || s.RefreshIntervalS > 86_400) {
		inv.Add("settings.refresh_interval_s", "must be 0 (default) or between 30 and 86400")
	}
	for _, h := range s.ForwardHeaders {
		if !headerName.MatchString(h) {
			inv.Add("settings.forward_headers", fmt.Sprintf("%q is not a valid header name", h))
		}
	}
	s.validateTools(&inv)
	if a := s.IdentityAssertion; a != nil && a.Header != "" {
		switch h := textproto.CanonicalMIMEHeaderKey(a.Header); {
		case !headerName.MatchString(a.Header):
			inv.Add("settings.identity_assertion.header", fmt.Sprintf("%q is not a valid header name", a.Header))
		case h == "Host" || h == "Content-Length" || h == "Content-Type" || h == "Transfer-Encoding" || h == "Connection":
			inv.Add("settings.identity_assertion.header", fmt.Sprintf("%q is a header HTTP itself uses; name another, such as %s", a.Header, DefaultIdentityHeader))
		}
	}
	if len(s.CORSOrigins) > MaxCORSOrigins {
		inv.Add("settings.cors_origins", fmt.Sprintf("has %d origins; at most %d", len(s.CORSOrigins), MaxCORSOrigins))
	} else {
		for i, o := range s.CORSOrigins {
			if _, err := CanonicalOrigin(o); err != nil {
				inv.Add(fmt.Sprintf("settings.cors_origins[%d]", i), err.Error())
			}
		}
	}
	return inv.Err()
}

// validateTools checks what settings.tools can say without the
// tenant's document: the names, lengths and value kinds. Whether each key
// and argument exists, jq expressions and fixed values against the
// parameter schemas are checked by the bridge.
func (s Settings) validateTools(inv *InvalidError) {
	for _, k := range slices.Sorted(maps.Keys(s.Tools)) {
		tt := s.Tools[k]
		f := fmt.Sprintf("settings.tools[%q]", k)
		if strings.TrimSpace(k) == "" {
			inv.Add(f, `the key must be a tool name, an operationId or "METHOD /path"`)
		}
		if tt.Name != "" && !toolName.MatchString(tt.Name) {
			inv.Add(f+".name", fmt.Sprintf("%q must be 1-64 characters of letters, digits, '_' and '-'", tt.Name))
		}
		if len(tt.Title) > 200 {
			inv.Add(f+".title", "must be at most 200 characters")
		}
		if len(tt.Description) > 16<<10 {
			inv.Add(f+".description", "must be at most 16384 characters")
		}
		if tt.Annotations != nil && len(tt.Annotations.Title) > 200 {
			inv.Add(f+".annotations.title", "must be at most 200 characters")
		}
		for i, tag := range tt.Tags {
			if tag == "" || len(tag) > 64 {
				inv.Add(fmt.Sprintf("%s.tags[%d]", f, i), "must be 1-64 characters")
			}
		}
		for _, a := range slices.Sorted(maps.Keys(tt.Args)) {
			at, af := tt.Args[a], fmt.Sprintf("%s.args[%q]", f, a)
			if at.Name != "" && !argName.MatchString(at.Name) {
				inv.Add(af+".name", fmt.Sprintf("%q must be 1-64 characters of letters, digits, '_', '-' and '.'", at.Name))
			}
			if len(at.Description) > 4096 {
				inv.Add(af+".description", "must be at most 4096 characters")
			}
			fixed, def := JSONGiven(at.Fixed), JSONGiven(at.Default)
			if fixed && def {
				inv.Add(af, "sets both fixed and default: a fixed value is always sent, so give one of them")
			}
			if fixed && (at.Name != "" || at.Description != "" || at.Required != nil) {
				inv.Add(af+".fixed", "a fixed argument leaves the input schema, so name, description and required do not apply; remove them")
			}
			if at.Hidden && !fixed && !def {
				inv.Add(af+".hidden", "a hidden argument needs a default (or a fixed value): agents cannot send it, so the tool would never send one")
			}
			if at.Hidden && at.Required != nil && *at.Required {
				inv.Add(af+".required", "a hidden argument cannot be required: agents cannot send it")
			}
		}
		if r := tt.Response; r != nil {
			if len(r.JQ) > MaxJQLength {
				inv.Add(f+".response.jq", fmt.Sprintf("is %d bytes; at most %d", len(r.JQ), MaxJQLength))
			}
			if r.MaxBytes < 0 || r.MaxBytes > 256<<20 {
				inv.Add(f+".response.max_bytes", "must be between 0 (no cut) and 268435456 (256 MiB)")
			}
		}
	}
}

// JSONGiven reports whether raw holds a JSON value other than null.
func JSONGiven(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t != "" && t != "null"
}

var (
	toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	argName  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// ValidateHTTPURL checks that raw is an absolute http(s) URL with a host.
// field names the input in the error.
func ValidateHTTPURL(field, raw string) error {
	var inv InvalidError
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		inv.Add(field, "is required")
	case err != nil:
		inv.Add(field, "is not a valid URL: "+err.Error())
	case u.Scheme != "http" && u.Scheme != "https":
		inv.Add(field, "must start with http:// or https://")
	case u.Host == "":
		inv.Add(field, "must include a host")
	case u.User != nil:
		inv.Add(field, "must not carry credentials; store them with PUT /credentials/{name}")
	case u.Fragment != "":
		inv.Add(field, "must not have a #fragment")
	}
	return inv.Err()
}

// DefaultSpecURL is where FastAPI serves its OpenAPI document under baseURL.
func DefaultSpecURL(baseURL string) string {
	return strings.TrimRight(baseURL, "/") + "/openapi.json"
}

// CredentialType says how a credential is attached to upstream requests.
type CredentialType string

const (
	CredBearer CredentialType = "bearer" // Authorization: Bearer <value>
	CredHeader CredentialType = "header" // <Header>: <value>
	CredBasic  CredentialType = "basic"  // Authorization: Basic base64(<value>), value = "user:password"
	CredQuery  CredentialType = "query"  // ?<Header>=<value>; Header names the query parameter
	// CredOAuth2ClientCredentials fetches an access token from TokenURL
	// with ClientID and the value as client secret (RFC 6749 §4.4) and
	// sends it as Authorization: Bearer <token> (or in Header).
	CredOAuth2ClientCredentials CredentialType = "oauth2_client_credentials"
	// CredOAuth2AuthorizationCode acts for each user: every user links an
	// upstream account of their own (authorization code + PKCE against
	// AuthorizeURL and TokenURL, ClientID and the value as client secret),
	// and a call sends the calling user's access token as Authorization:
	// Bearer <token> (or in Header). A call without a user is refused.
	CredOAuth2AuthorizationCode CredentialType = "oauth2_authorization_code"
)

// Token endpoint client authentication methods (RFC 6749 §2.3.1).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
)

// OAuth2Config is the part of an OAuth2 credential that is not secret:
// where and as whom Portico asks for tokens. The client secret is the
// credential's value.
type OAuth2Config struct {
	// AuthorizeURL is the provider's authorization endpoint, for
	// oauth2_authorization_code only.
	AuthorizeURL string   `json:"authorize_url,omitempty"`
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
	AuthMethod   string   `json:"auth_method,omitempty"`
}

// Credential describes a stored credential. Its value never leaves the store
// except as a Secret inside an active tenant.
type Credential struct {
	Name   string         `json:"name"`
	Type   CredentialType `json:"type"`
	Header string         `json:"header,omitempty"`
	OAuth2Config
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

var credName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate checks a credential's name, type and header against its value.
func (c Credential) Validate(value string) error {
	var inv InvalidError
	if !credName.MatchString(c.Name) {
		inv.Add("name", "must be 1-64 characters of letters, digits, '_', '.', '-'")
	}
	switch c.Type {
	case CredBearer:
		if c.Header != "" && !headerName.MatchString(c.Header) {
			inv.Add("header", "is not a valid header name")
		}
	case CredHeader:
		if !headerName.MatchString(c.Header) {
			inv.Add("header", "is required for type header and must be a valid header name")
		}
	case CredQuery:
		if c.Header == "" {
			inv.Add("header", "is required for type query: it names the query parameter")
		}
	case CredBasic:
		if !strings.Contains(value, ":") {
			inv.Add("value", `must be "user:password" for type basic`)
		}
	case CredOAuth2ClientCredentials:
		if c.Header != "" && !headerName.MatchString(c.Header) {
			inv.Add("header", "is not a valid header name")
		}
		if c.AuthorizeURL != "" {
			inv.Add("authorize_url", "belongs to type oauth2_authorization_code only: client credentials need no user's authorization")
		}
		c.OAuth2Config.validate(&inv, c.Type)
	case CredOAuth2AuthorizationCode:
		if c.Header != "" && !headerName.MatchString(c.Header) {
			inv.Add("header", "is not a valid header name")
		}
		if err := ValidateHTTPURL("authorize_url", c.AuthorizeURL); err != nil {
			var sub *InvalidError
			if errors.As(err, &sub) {
				inv.Problems = append(inv.Problems, sub.Problems...)
			}
		}
		c.OAuth2Config.validate(&inv, c.Type)
	case "":
		inv.Add("type", "is required: one of "+credTypeList)
	default:
		inv.Add("type", fmt.Sprintf("%q is not one of %s", c.Type, credTypeList))
	}
	if !c.Type.OAuth2() && !c.OAuth2Config.isZero() {
		inv.Add("token_url", "authorize_url, token_url, client_id, scopes, audience and auth_method belong to types oauth2_client_credentials and oauth2_authorization_code only")
	}
	switch {
	case value == "":
		inv.Add("value", "is required")
	case len(value) > 8192:
		inv.Add("value", "must be at most 8192 bytes")
	case strings.ContainsAny(value, "\r\n"):
		inv.Add("value", "must not contain line breaks")
	case strings.IndexFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0:
		// An HTTP header cannot carry them: stored, such a value would
		// break every call of the tenant.
		inv.Add("value", "must not contain control characters (such as NUL); paste the secret without them")
	}
	if c.Type == CredQuery && strings.IndexFunc(c.Header, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		inv.Add("header", "must not contain control characters")
	}
	return inv.Err()
}

const credTypeList = "bearer, header, basic, query, oauth2_client_credentials, oauth2_authorization_code"

// OAuth2 reports whether credentials of type t fetch their tokens from a
// token endpoint (and so carry an OAuth2Config).
func (t CredentialType) OAuth2() bool {
	return t == CredOAuth2ClientCredentials || t == CredOAuth2AuthorizationCode
}

func (o OAuth2Config) isZero() bool {
	return o.AuthorizeURL == "" && o.TokenURL == "" && o.ClientID == "" && len(o.Scopes) == 0 && o.Audience == "" && o.AuthMethod == ""
}

// validate adds o's problems to inv: a token URL Portico can call, a
// client id, and scopes and an audience that fit in a form field.
func (o OAuth2Config) validate(inv *InvalidError, typ CredentialType) {
	if err := ValidateHTTPURL("token_url", o.TokenURL); err != nil {
		var sub *InvalidError
		if errors.As(err, &sub) {
			inv.Problems = append(inv.Problems, sub.Problems...)
		}
	}
	switch {
	case o.ClientID == "":
		inv.Add("client_id", "is required for type "+string(typ))
	case len(o.ClientID) > 512 || strings.IndexFunc(o.ClientID, isControl) >= 0:
		inv.Add("client_id", "must be at most 512 characters without control characters")
	}
	if len(o.Scopes) > 64 {
		inv.Add("scopes", "must list at most 64 scopes")
	}
	for i, sc := range o.Scopes {
		// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
		if sc == "" || len(sc) > 256 || strings.IndexFunc(sc, func(r rune) bool { return r <= 0x20 || r == '"' || r == '\\' || r >= 0x7f }) >= 0 {
			inv.Add(fmt.Sprintf("scopes[%d]", i), "must be a non-empty scope token of printable ASCII without spaces, quotes or backslashes")
		}
	}
	if len(o.Audience) > 2048 || strings.IndexFunc(o.Audience, isControl) >= 0 {
		inv.Add("audience", "must be at most 2048 characters without control characters")
	}
	switch o.AuthMethod {
	case "", AuthMethodBasic, AuthMethodPost:
	default:
		inv.Add("auth_method", fmt.Sprintf("%q is not one of %s, %s", o.AuthMethod, AuthMethodBasic, AuthMethodPost))
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// CredentialTest is what testing a credential found: whether the token
// endpoint issued a token and, if not, why (never the token itself). An
// oauth2_authorization_code credential cannot get a token without a user:
// its test is a list of checks (Checks), summed up in Summary.
type CredentialTest struct {
	OK        bool              `json:"ok"`
	TokenType string            `json:"token_type,omitempty"`
	ExpiresIn int               `json:"expires_in,omitempty"` // seconds; 0 when the endpoint gave none
	Error     string            `json:"error,omitempty"`      // the first failure
	Summary   string            `json:"summary,omitempty"`    // every check's message, in order
	Checks    []CredentialCheck `json:"checks,omitempty"`
}

// CredentialCheck is one step of a credential test.
type CredentialCheck struct {
	Check   string `json:"check"`          // authorize_endpoint, token_endpoint, client_authentication, linked_account
	Status  string `json:"status"`         // CheckOK, CheckFailed or CheckSkipped
	Code    string `json:"code,omitempty"` // the endpoint's error code, or "HTTP <status>"
	Message string `json:"message"`
}

// The outcomes of a CredentialCheck.
const (
	CheckOK      = "ok"
	CheckFailed  = "failed"
	CheckSkipped = "skipped" // nothing to check (no linked account, no signed-in user)
)

// Secret is a decrypted credential value. It redacts itself when printed or
// logged so it cannot leak through fmt or slog by accident.
type Secret string

func (Secret) String() string   { return "[REDACTED]" }
func (Secret) GoString() string { return "[REDACTED]" }

// Reveal returns the plaintext; call it only where the value goes on the wire.
func (s Secret) Reveal() string { return string(s) }

// LiveCredential is a credential with its decrypted value, held only by an
// active tenant's upstream client.
type LiveCredential struct {
	Credential
	Value Secret
}

// Token is an MCP bearer token of one tenant. Its secret is shown once at
// creation; only a hash is stored.
type Token struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// UserID and Scopes are set for an OAuth access token: the signed-in
	// user who approved it and the scopes granted. An MCP token minted by
	// an admin has neither.
	UserID string   `json:"user_id,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	// Toolsets restrict the token to those toolsets' endpoints; none means
	// the tenant's endpoint and every toolset.
	Toolsets []string `json:"toolsets,omitempty"`
}

// APIKey authorizes REST calls: a tenant key (TenantID set) sees only its
// tenant, a user key (UserID set) acts with that user's memberships and
// roles, and an admin key (neither) is an operator key that sees every tenant.
type APIKey struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id,omitempty"`
	UserID     string     `json:"user_id,omitempty"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	MintedBy   Minter     `json:"minted_by,omitzero"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`

	// MinterRole is the role MintedBy holds in TenantID now (owner for an
	// operator user or a live operator key; "" when the minter is gone or
	// no longer a member; admin when no minter was recorded). Only
	// VerifyAPIKey fills it in, for tenant keys.
	MinterRole Role `json:"-"`
}

// Minter is who minted an API key: a user (by session or user key) or an
// operator key. Both empty means it was not recorded (keys from before
// migration 5, and keys minted by the CLI).
type Minter struct {
	UserID string `json:"user_id,omitempty"`
	KeyID  string `json:"api_key_id,omitempty"`
}

// TenantRole is what tenant key k may do in its tenant: its scopes give
// viewer (read) or owner (write), capped by what its minter may do there
// now, so a key never carries more authority than the principal that
// minted it. "" means nothing: the minter has no role left.
func (k APIKey) TenantRole() Role {
	r := RoleViewer
	if k.HasScope(ScopeWrite) {
		r = RoleOwner
	}
	if !k.MinterRole.Valid() {
		return ""
	}
	if roleRank[k.MinterRole] < roleRank[r] {
		return k.MinterRole
	}
	return r
}

// Admin reports whether the key is an operator key that sees every tenant.
func (k APIKey) Admin() bool { return k.TenantID == "" && k.UserID == "" }

// HasScope reports whether the key carries scope s.
func (k APIKey) HasScope(s string) bool {
	for _, have := range k.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// Scopes an API key can carry.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// SpecVersion is one fetched OpenAPI document of a tenant.
type SpecVersion struct {
	TenantID     string    `json:"tenant_id"`
	Version      int       `json:"version"`
	SHA256       string    `json:"sha256"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	ToolCount    int       `json:"tool_count"`
	Warnings     []string  `json:"warnings"`
	FetchedAt    time.Time `json:"fetched_at"`
	Raw          []byte    `json:"-"` // uncompressed document
	// DiffSummary counts Diff's entries; Diff itself (against the previous
	// version) is only read for a single version.
	DiffSummary DiffSummary `json:"diff_summary"`
	Diff        *SpecDiff   `json:"diff,omitempty"`
}

// AuditEntry records one change, never a secret value.
type AuditEntry struct {
	ID        int64          `json:"id"`
	TenantID  string         `json:"tenant_id"`
	Actor     string         `json:"actor"`
	Source    string         `json:"source,omitempty"` // client address the change came from
	Action    string         `json:"action"`
	Details   map[string]any `json:"details,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	// ActorName is who Actor is, for people: a user's email, an API key's
	// name (see Store.ActorNames); empty when unknown.
	ActorName string `json:"actor_name,omitempty"`
}

// AuditQuery selects a page of one audit log, newest first.
type AuditQuery struct {
	TenantID string    // "" is the operator log (events that belong to no tenant)
	Before   int64     // cursor: only entries with a smaller ID; 0 = from the newest
	Since    time.Time // only entries at or after this time; zero = no bound
	Action   string    // an exact action, or a prefix ending in "." ("auth.")
	Actor    string    // an exact actor ("user:ID", "apikey:ID"); also matches that user's keys ("user:ID/apikey:…") and a key used by its user
	Limit    int       // 1-1000; 0 = 100
}

// Domain errors. The api package maps them to HTTP statuses.
var (
	ErrNotFound          = errors.New("not found")
	ErrConflict          = errors.New("conflict")
	ErrInvalid           = errors.New("invalid input")
	ErrInvalidTransition = errors.New("invalid lifecycle transition")
	ErrUnavailable       = errors.New("database unavailable")
)

// FieldProblem names one bad input field.
type FieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// InvalidError carries every problem found in one input. It matches ErrInvalid.
type InvalidError struct {
	Problems []FieldProblem
}

// Add records that field has problem.
func (e *InvalidError) Add(field, problem string) {
	e.Problems = append(e.Problems, FieldProblem{field, problem})
}

// Err returns e as an error, or nil when no problem was recorded.
func (e *InvalidError) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + " " + p.Problem
	}
	return strings.Join(parts, "; ")
}

func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// TransitionError says which lifecycle move was refused. It matches ErrInvalidTransition.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("tenant is %s and cannot become %s", e.From, e.To)
}

func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// Tool is what an active tenant exposes over MCP, as the REST API lists it.
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"` // settings.tools[…].title
	Kind         string          `json:"kind"`            // tool | resource | resource_template
	Method       string          `json:"method"`
	Path         string          `json:"path"`
	URI          string          `json:"uri,omitempty"` // resources and templates
	Description  string          `json:"description"`
	Tags         []string        `json:"tags,omitempty"` // the operation's OpenAPI tags
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// ActivationError says why a tenant could not be activated. The tenant is
// left failed with Reason stored. It matches ErrActivation.
type ActivationError struct {
	Code   string // spec_unreachable | spec_invalid | credentials_unreadable | ...
	Field  string // the tenant field at fault, e.g. "spec_url"; may be empty
	Reason string // a human sentence, never a secret
}

// ErrActivation matches every *ActivationError.
var ErrActivation = errors.New("activation failed")

func (e *ActivationError) Error() string        { return e.Reason }
func (e *ActivationError) Is(target error) bool { return target == ErrActivation }

// TenantFilter narrows Tenants.
type TenantFilter struct {
	IDs    []string // nil = every tenant; empty non-nil = none
	Status Status   // "" = any status
}

// TenantPatch changes some of a tenant's fields; nil fields stay as they are.
type TenantPatch struct {
	Name, BaseURL, SpecURL *string
	Settings               *Settings
}

// validate checks the user-editable fields of t, filling the default spec URL.
func (t *Tenant) Validate() error {
	var inv InvalidError
	t.Name = strings.TrimSpace(t.Name)
	CheckName(&inv, "name", t.Name)
	merge(&inv, ValidateHTTPURL("base_url", t.BaseURL))
	if t.SpecURL == "" && t.BaseURL != "" {
		t.SpecURL = DefaultSpecURL(t.BaseURL)
	}
	merge(&inv, ValidateHTTPURL("spec_url", t.SpecURL))
	merge(&inv, t.Settings.Validate())
	return inv.Err()
}

// checkName records a problem unless name is 1-100 characters and not blank.
func CheckName(inv *InvalidError, field, name string) {
	if strings.TrimSpace(name) == "" {
		inv.Add(field, "is required")
	} else if utf8.RuneCountInString(name) > 100 {
		inv.Add(field, "must be at most 100 characters")
	}
}

// merge adds err's problems to inv; err is nil or an *InvalidError.
func merge(inv *InvalidError, err error) {
	var e *InvalidError
	if errors.As(err, &e) {
		inv.Problems = append(inv.Problems, e.Problems...)
	} else if err != nil {
		inv.Add("", err.Error())
	}
}
