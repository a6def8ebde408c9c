// Package client is a small typed client of Portico's public REST API
// (/api/v1), for the CLI and for scripts written in Go. It knows nothing
// the API does not say: every call is one HTTP request with an API key, and
// every failure is an *Error carrying the API's own code and message, or a
// sentence naming the URL that could not be reached.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// Client talks to one Portico with one API key.
type Client struct {
	// BaseURL is Portico's URL, e.g. http://127.0.0.1:8080 (no /api/v1).
	BaseURL string
	// Key is an API key (pk_...).
	Key string
	// HTTP sends the requests; nil means a client with a 60 s timeout.
	HTTP *http.Client
}

// New returns a client of the Portico at base with key.
func New(base, key string) *Client {
	return &Client{BaseURL: strings.TrimRight(base, "/"), Key: key}
}

var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

// Error is an answer of the API that is not a success.
type Error struct {
	Method, URL string
	Status      int
	Code        string // the API's snake_case code, e.g. not_found
	Message     string // the API's sentence
	Fields      []tenant.FieldProblem
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, msg)
	if e.Method == "" { // decided by the client, not answered by a request
		s = msg
	}
	if e.Status == http.StatusUnauthorized {
		s += " (check PORTICO_API_KEY: it must be an API key this Portico issued, e.g. from `portico admin key create`)"
	}
	return s
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// UnreachableError says Portico did not answer at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Portico at %s: %v (set --api or PORTICO_API_URL to Portico's URL)", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// maxRetries bounds how often Do retries a request the API refused with
// 429: a script that walks many tenants outruns the per-key rate limit.
const maxRetries = 8

// Do sends one request: body (when not nil) as JSON, out (when not nil)
// decoded from a 2xx answer. A 429 is retried after its Retry-After (the
// API did not act on it), up to maxRetries times.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = b
	}
	for attempt := 0; ; attempt++ {
		wait, err := c.do(ctx, method, path, payload, out)
		if wait == 0 || attempt == maxRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// do is one attempt of Do; wait > 0 asks for a retry after it.
func (c *Client) do(ctx context.Context, method, path string, payload []byte, out any) (wait time.Duration, err error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	u := c.BaseURL + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &UnreachableError{URL: u, Err: unwrapURL(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, &UnreachableError{URL: u, Err: err}
	}
	if resp.StatusCode >= 300 {
		e := &Error{Method: method, URL: u, Status: resp.StatusCode}
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Details struct {
					Fields []tenant.FieldProblem `json:"fields"`
				} `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &env) == nil && env.Error.Code != "" {
			e.Code, e.Message, e.Fields = env.Error.Code, env.Error.Message, env.Error.Details.Fields
		} else {
			e.Message = strings.TrimSpace(string(b[:min(len(b), 300)]))
		}
		if resp.StatusCode == http.StatusTooManyRequests && e.Code == "rate_limited" {
			wait = time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 && s <= 60 {
				wait = time.Duration(s) * time.Second
			}
		}
		return wait, e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return 0, fmt.Errorf("%s %s: the answer is not what the API documents: %w", method, u, err)
		}
	}
	return 0, nil
}

// unwrapURL drops *url.Error's repetition of the method and URL, which
// UnreachableError says itself.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Tenant is a tenant as the API shows it.
type Tenant struct {
	tenant.Tenant
	MCPURL string `json:"mcp_url"`
}

// Tenants lists the tenants the key can see.
func (c *Client) Tenants(ctx context.Context) ([]Tenant, error) {
	var out struct {
		Tenants []Tenant `json:"tenants"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants", nil, &out)
	return out.Tenants, err
}

// Tenant reads one tenant by id.
func (c *Client) Tenant(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	if err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Find returns the tenant whose id is ref or, failing that, whose name is
// ref in any case. Not finding one is a *Error with status 404.
func (c *Client) Find(ctx context.Context, ref string) (*Tenant, error) {
	ts, err := c.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].ID == ref {
			return &ts[i], nil
		}
	}
	for i := range ts {
		if strings.EqualFold(ts[i].Name, ref) {
			return &ts[i], nil
		}
	}
	return nil, &Error{Status: http.StatusNotFound, Code: "not_found",
		Message: fmt.Sprintf("no tenant has the id or name %q (among the %d this key can see; `portico tenants list` shows them)", ref, len(ts))}
}

// TenantCreate is the body of POST /api/v1/tenants.
type TenantCreate struct {
	Name     string           `json:"name"`
	BaseURL  string           `json:"base_url"`
	SpecURL  string           `json:"spec_url,omitempty"`
	Settings *tenant.Settings `json:"settings,omitempty"`
}

// CreateTenant registers a tenant (pending).
func (c *Client) CreateTenant(ctx context.Context, in TenantCreate) (*Tenant, error) {
	var t Tenant
	if err := c.Do(ctx, "POST", "/api/v1/tenants", in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// TenantPatch is the body of PATCH /api/v1/tenants/{id}: nil fields stay.
type TenantPatch struct {
	Name     *string          `json:"name,omitempty"`
	BaseURL  *string          `json:"base_url,omitempty"`
	SpecURL  *string          `json:"spec_url,omitempty"`
	Settings *tenant.Settings `json:"settings,omitempty"`
}

// UpdateTenant changes a tenant; an active one reloads.
func (c *Client) UpdateTenant(ctx context.Context, id string, p TenantPatch) (*Tenant, error) {
	var t Tenant
	if err := c.Do(ctx, "PATCH", "/api/v1/tenants/"+url.PathEscape(id), p, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Activate starts serving a tenant's tools.
func (c *Client) Activate(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	if err := c.Do(ctx, "POST", "/api/v1/tenants/"+url.PathEscape(id)+"/activate", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Deactivate stops serving a tenant's tools.
func (c *Client) Deactivate(ctx context.Context, id string) (*Tenant, error) {
	var t Tenant
	if err := c.Do(ctx, "POST", "/api/v1/tenants/"+url.PathEscape(id)+"/deactivate", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTenant deletes a tenant and everything it owns.
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/api/v1/tenants/"+url.PathEscape(id), nil, nil)
}

// Credentials lists a tenant's credentials: names, types, headers, never values.
func (c *Client) Credentials(ctx context.Context, id string) ([]tenant.Credential, error) {
	var out struct {
		Credentials []tenant.Credential `json:"credentials"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id)+"/credentials", nil, &out)
	return out.Credentials, err
}

// PutCredential stores (or replaces) a credential's value.
func (c *Client) PutCredential(ctx context.Context, id string, cred tenant.Credential, value string) error {
	body := map[string]any{"type": string(cred.Type), "value": value}
	if cred.Header != "" {
		body["header"] = cred.Header
	}
	o := cred.OAuth2Config
	for k, v := range map[string]string{"authorize_url": o.AuthorizeURL, "token_url": o.TokenURL, "client_id": o.ClientID, "audience": o.Audience, "auth_method": o.AuthMethod} {
		if v != "" {
			body[k] = v
		}
	}
	if len(o.Scopes) > 0 {
		body["scopes"] = o.Scopes
	}
	return c.Do(ctx, "PUT", "/api/v1/tenants/"+url.PathEscape(id)+"/credentials/"+url.PathEscape(cred.Name), body, nil)
}

// DeleteCredential removes a credential.
func (c *Client) DeleteCredential(ctx context.Context, id, name string) error {
	return c.Do(ctx, "DELETE", "/api/v1/tenants/"+url.PathEscape(id)+"/credentials/"+url.PathEscape(name), nil, nil)
}

// Toolsets lists a tenant's toolsets.
func (c *Client) Toolsets(ctx context.Context, id string) ([]tenant.Toolset, error) {
	var out struct {
		Toolsets []tenant.Toolset `json:"toolsets"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id)+"/toolsets", nil, &out)
	return out.Toolsets, err
}

// PutToolset creates a toolset (create) or replaces the one of its name.
func (c *Client) PutToolset(ctx context.Context, id string, ts tenant.Toolset, create bool) error {
	body := map[string]any{"name": ts.Name, "description": ts.Description, "tools": ts.Tools, "tags": ts.Tags, "read_only": ts.ReadOnly}
	if create {
		return c.Do(ctx, "POST", "/api/v1/tenants/"+url.PathEscape(id)+"/toolsets", body, nil)
	}
	return c.Do(ctx, "PUT", "/api/v1/tenants/"+url.PathEscape(id)+"/toolsets/"+url.PathEscape(ts.Name), body, nil)
}

// DeleteToolset removes a toolset.
func (c *Client) DeleteToolset(ctx context.Context, id, name string) error {
	return c.Do(ctx, "DELETE", "/api/v1/tenants/"+url.PathEscape(id)+"/toolsets/"+url.PathEscape(name), nil, nil)
}

// Prompts lists a tenant's prompts.
func (c *Client) Prompts(ctx context.Context, id string) ([]tenant.Prompt, error) {
	var out struct {
		Prompts []tenant.Prompt `json:"prompts"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id)+"/prompts", nil, &out)
	return out.Prompts, err
}

// PutPrompt creates a prompt (create) or replaces the one of its name.
func (c *Client) PutPrompt(ctx context.Context, id string, p tenant.Prompt, create bool) error {
	body := map[string]any{"name": p.Name, "title": p.Title, "description": p.Description, "arguments": p.Arguments, "messages": p.Messages, "toolsets": p.Toolsets}
	if create {
		return c.Do(ctx, "POST", "/api/v1/tenants/"+url.PathEscape(id)+"/prompts", body, nil)
	}
	return c.Do(ctx, "PUT", "/api/v1/tenants/"+url.PathEscape(id)+"/prompts/"+url.PathEscape(p.Name), body, nil)
}

// DeletePrompt removes a prompt.
func (c *Client) DeletePrompt(ctx context.Context, id, name string) error {
	return c.Do(ctx, "DELETE", "/api/v1/tenants/"+url.PathEscape(id)+"/prompts/"+url.PathEscape(name), nil, nil)
}

// CreatedToken is a new MCP token with its secret, which is shown only here.
type CreatedToken struct {
	Token  tenant.Token `json:"token"`
	Secret string       `json:"secret"`
}

// CreateToken mints an MCP token; expires may be nil (no expiry).
func (c *Client) CreateToken(ctx context.Context, id, name string, expires *time.Time) (*CreatedToken, error) {
	return c.CreateTokenFor(ctx, id, name, expires, nil)
}

// CreateTokenFor mints an MCP token restricted to toolsets (none: not
// restricted); expires may be nil (no expiry).
func (c *Client) CreateTokenFor(ctx context.Context, id, name string, expires *time.Time, toolsets []string) (*CreatedToken, error) {
	body := map[string]any{"name": name}
	if len(toolsets) > 0 {
		body["toolsets"] = toolsets
	}
	if expires != nil {
		body["expires_at"] = expires.UTC().Format(time.RFC3339)
	}
	var out CreatedToken
	if err := c.Do(ctx, "POST", "/api/v1/tenants/"+url.PathEscape(id)+"/tokens", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Tokens lists a tenant's MCP tokens (prefixes, never secrets).
func (c *Client) Tokens(ctx context.Context, id string) ([]tenant.Token, error) {
	var out struct {
		Tokens []tenant.Token `json:"tokens"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id)+"/tokens", nil, &out)
	return out.Tokens, err
}

// RevokeToken revokes an MCP token at once.
func (c *Client) RevokeToken(ctx context.Context, id, tokenID string) error {
	return c.Do(ctx, "DELETE", "/api/v1/tenants/"+url.PathEscape(id)+"/tokens/"+url.PathEscape(tokenID), nil, nil)
}

// Tools lists what an active tenant serves.
func (c *Client) Tools(ctx context.Context, id string) ([]tenant.Tool, error) {
	var out struct {
		Tools []tenant.Tool `json:"tools"`
	}
	err := c.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(id)+"/tools", nil, &out)
	return out.Tools, err
}

// Calls lists a tenant's recent tool calls, newest first, from since on
// (the zero time: the last 24 hours), at most limit (0: the API's default).
func (c *Client) Calls(ctx context.Context, id string, since time.Time, limit int) ([]tenant.CallRecord, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	path := "/api/v1/tenants/" + url.PathEscape(id) + "/calls"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Calls []tenant.CallRecord `json:"calls"`
	}
	err := c.Do(ctx, "GET", path, nil, &out)
	return out.Calls, err
}

// Ready asks /readyz once; nil when Portico answers 200.
func (c *Client) Ready(ctx context.Context) error {
	u := c.BaseURL + "/readyz"
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &UnreachableError{URL: u, Err: unwrapURL(err)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &Error{Method: "GET", URL: u, Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
	}
	return nil
}
