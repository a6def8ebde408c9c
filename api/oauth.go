package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// OAuthStore is what Portico's OAuth authorization server reads and writes.
// *tenant.Store satisfies it.
type OAuthStore interface {
	RegisterOAuthClient(ctx context.Context, c tenant.OAuthClient, source string) (tenant.OAuthClient, error)
	OAuthClient(ctx context.Context, clientID string) (tenant.OAuthClient, error)
	CreateAuthCode(ctx context.Context, tenantID string, r tenant.AuthRequest, actor string) (string, error)
	ExchangeAuthCode(ctx context.Context, tenantID, code, clientID, redirectURI, verifier string) (tenant.OAuthTokens, error)
	RefreshOAuthToken(ctx context.Context, tenantID, refresh, clientID string) (tenant.OAuthTokens, error)
	RefreshTokenTenant(ctx context.Context, refresh string) (string, error)
	RevokeOAuthToken(ctx context.Context, secret, clientID string) (tenantID, tokenID string, err error)
	Tenant(ctx context.Context, id string) (*tenant.Tenant, error)
	Role(ctx context.Context, tenantID, userID string) (tenant.Role, error)
	RecordEvent(ctx context.Context, tenantID, actor, action string, details map[string]any) error
}

// OAuthOptions make Portico the OAuth 2.1 authorization server of every
// tenant's MCP endpoint (docs/security.md, "OAuth").
type OAuthOptions struct {
	Store OAuthStore
	// Fetch downloads Client ID Metadata Documents. cmd passes a client
	// whose dialer refuses internal addresses (the upstream guard); nil
	// turns Client ID Metadata Documents off.
	Fetch *http.Client
	// Forget drops a revoked token ("oauth:<grant id>") from this
	// process's MCP token cache, so revocation bites here at once (other
	// replicas hear of it through LISTEN/NOTIFY).
	Forget func(tokenID string)
}

// ScopeMCP is the one scope Portico's authorization server grants: use the
// tenant's MCP endpoint (list and call its tools, read its resources) as
// the user who approved.
const ScopeMCP = "mcp"

var scopeDescriptions = map[string]string{
	ScopeMCP: "Use this tenant's MCP endpoint: list and call its tools and read its resources. Tool calls reach the tenant's API with the credentials configured in Portico.",
}

// oauthError is an OAuth error response (RFC 6749 §5.2): handleError writes
// it as {"error", "error_description"} rather than Portico's own shape.
type oauthError struct {
	Status      int
	Code        string // invalid_request, invalid_client, invalid_grant, ...
	Description string // names the parameter and what to do
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *oauthError {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	return &oauthError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

// oauthServer holds what the OAuth handlers share.
type oauthServer struct {
	OAuthOptions
	baseURL string
	log     *slog.Logger
	cimd    *cimdCache
	fail    *FailureThrottle // failed code and refresh-token exchanges
	link    *LinkOptions     // per-user linked accounts, shown on the consent page
}

// newOAuthServer is the authorization server of tenant endpoints; routes
// registers its endpoints (RFC 8414 metadata, authorize, consent, token,
// registration, revocation).
func newOAuthServer(o Options, rl *rateLimits) *oauthServer {
	a := &oauthServer{OAuthOptions: *o.OAuth, baseURL: o.BaseURL, log: o.Logger, fail: rl.fail, link: o.Link}
	if a.Fetch != nil {
		a.cimd = newCIMDCache(a.Fetch)
	}
	return a
}

// corsAnyOrigin lets browser-based MCP clients (the Inspector, web apps)
// read the metadata and call the token, registration and revocation
// endpoints. None of them uses cookies, so any origin is safe.
func corsAnyOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		return next(c)
	}
}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// base is Portico's public URL: the issuer, and the prefix of every
// resource (tenant MCP URL) it issues tokens for.
func (a *oauthServer) base(c echo.Context) string {
	if a.baseURL != "" {
		return a.baseURL
	}
	req := c.Request()
	scheme := "http"
	if req.TLS != nil || strings.EqualFold(req.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

func (a *oauthServer) handleMetadata(c echo.Context) error {
	b := a.base(c)
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                                         b,
		"authorization_endpoint":                         b + "/oauth/authorize",
		"token_endpoint":                                 b + "/oauth/token",
		"registration_endpoint":                          b + "/oauth/register",
		"revocation_endpoint":                            b + "/oauth/revoke",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"scopes_supported":                               []string{ScopeMCP},
		"client_id_metadata_document_supported":          a.cimd != nil,
		"authorization_response_iss_parameter_supported": true,
	})
}

// authRequest is a checked authorization request.
type authRequest struct {
	client      tenant.OAuthClient
	cimd        bool
	tenant      *tenant.Tenant
	redirectURI string
	state       string
	challenge   string
	scopes      []string
	resource    string
}

// redirectError is an error the client must hear about at its redirect URI
// (RFC 6749 §4.1.2.1), once client and redirect URI are known to be good.
type redirectError struct {
	*oauthError
	to string // the redirect URI with error, error_description, state, iss
}

// checkAuthRequest validates an authorization request. Errors about the
// client or its redirect URI are *oauthError (never redirected: the URI is
// not trusted); the rest are *redirectError.
func (a *oauthServer) checkAuthRequest(c echo.Context, q url.Values) (authRequest, error) {
	for k, v := range q {
		if len(v) > 1 {
			return authRequest{}, oauthErr("invalid_request", "%s: given more than once; send each parameter once", k)
		}
	}
	ctx := c.Request().Context()
	clientID := q.Get("client_id")
	if clientID == "" {
		return authRequest{}, oauthErr("invalid_request", "client_id: required; register at %s/oauth/register or use a Client ID Metadata Document URL", a.base(c))
	}
	client, cimd, err := a.client(ctx, clientID)
	if err != nil {
		return authRequest{}, err
	}
	r := authRequest{client: client, cimd: cimd, redirectURI: q.Get("redirect_uri"), state: q.Get("state")}
	if r.redirectURI == "" {
		return authRequest{}, oauthErr("invalid_request", "redirect_uri: required; it must equal one of the client's registered redirect_uris")
	}
	found := false
	for _, u := range client.RedirectURIs {
		found = found || u == r.redirectURI
	}
	if !found {
		return authRequest{}, oauthErr("invalid_request", "redirect_uri: %q is not one of the client's registered redirect_uris (compared exactly)", r.redirectURI)
	}
	fail := func(code, format string, args ...any) (authRequest, error) {
		oe := oauthErr(code, format, args...)
		return authRequest{}, &redirectError{oauthError: oe, to: a.redirectWith(c, r, url.Values{"error": {oe.Code}, "error_description": {oe.Description}})}
	}
	if rt := q.Get("response_type"); rt != "code" {
		return fail("unsupported_response_type", "response_type: %q is not supported; use code", rt)
	}
	switch m := q.Get("code_challenge_method"); {
	case q.Get("code_challenge") == "":
		return fail("invalid_request", "code_challenge: required (PKCE with S256 is mandatory)")
	case m != "S256":
		return fail("invalid_request", "code_challenge_method: must be S256 (got %q); plain and a missing method are refused", m)
	case !validPKCEValue(q.Get("code_challenge"), 43, 43):
		return fail("invalid_request", "code_challenge: must be the 43-character base64url SHA-256 of the code_verifier")
	}
	r.challenge = q.Get("code_challenge")
	t, resource, err := a.tenantOf(c, q.Get("resource"))
	if err != nil {
		var oe *oauthError
		errors.As(err, &oe)
		if oe == nil {
			return authRequest{}, err
		}
		return fail(oe.Code, "%s", oe.Description)
	}
	r.tenant, r.resource = t, resource
	if r.scopes, err = parseScope(q.Get("scope")); err != nil {
		var oe *oauthError
		errors.As(err, &oe)
		return fail(oe.Code, "%s", oe.Description)
	}
	return r, nil
}

// redirectWith returns r's redirect URI with params, state and iss added.
func (a *oauthServer) redirectWith(c echo.Context, r authRequest, params url.Values) string {
	u, _ := url.Parse(r.redirectURI) // validated at registration
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if r.state != "" {
		q.Set("state", r.state)
	}
	q.Set("iss", a.base(c)) // RFC 9207: lets the client tell authorization servers apart
	u.RawQuery = q.Encode()
	return u.String()
}

// tenantOf checks an RFC 8707 resource: it must be the MCP URL of an
// existing tenant, exactly as its protected resource metadata names it.
func (a *oauthServer) tenantOf(c echo.Context, resource string) (*tenant.Tenant, string, error) {
	if resource == "" {
		return nil, "", oauthErr("invalid_request", "resource: required (RFC 8707); use the tenant's MCP URL, %s/t/<tenant id>/mcp", a.base(c))
	}
	rest, ok := strings.CutPrefix(resource, a.base(c)+"/t/")
	id, tail, _ := strings.Cut(rest, "/")
	if !ok || id == "" || tail != "mcp" {
		return nil, "", oauthErr("invalid_target", "resource: %q is not a tenant MCP URL of this server; use %s/t/<tenant id>/mcp", resource, a.base(c))
	}
	t, err := a.Store.Tenant(c.Request().Context(), id)
	if errors.Is(err, tenant.ErrNotFound) {
		return nil, "", oauthErr("invalid_target", "resource: no tenant %q on this server", id)
	}
	if err != nil {
		return nil, "", fmt.Errorf("find tenant of resource: %w", err)
	}
	return t, resource, nil
}

// parseScope reads a scope parameter; empty means mcp.
func parseScope(s string) ([]string, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return []string{ScopeMCP}, nil
	}
	for _, f := range fields {
		if _, ok := scopeDescriptions[f]; !ok {
			return nil, oauthErr("invalid_scope", "scope: %q is not a scope of this server; the only scope is %s", f, ScopeMCP)
		}
	}
	return []string{ScopeMCP}, nil
}

// validPKCEValue reports whether s is min..max characters of the PKCE
// alphabet (RFC 7636 §4.1: ALPHA / DIGIT / "-" / "." / "_" / "~").
func validPKCEValue(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// handleAuthorize is the authorization endpoint. A good request is sent on
// to the dashboard's consent page with the same query; the page signs the
// user in when needed. (The session cookie is SameSite=Strict, so it does
// not arrive on this navigation from the client's site: the consent page,
// same-site, asks for it instead.)
func (a *oauthServer) handleAuthorize(c echo.Context) error {
	_, err := a.checkAuthRequest(c, c.Request().URL.Query())
	var re *redirectError
	if errors.As(err, &re) {
		return c.Redirect(http.StatusFound, re.to)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, "/oauth/consent?"+c.Request().URL.RawQuery)
}

// consentView is what the consent page shows.
type consentView struct {
	Client struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		URI      string `json:"uri,omitempty"`
		Metadata bool   `json:"metadata_document"` // client_id is a Client ID Metadata Document URL
	} `json:"client"`
	Tenant struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tenant"`
	Scopes       []scopeView `json:"scopes"`
	RedirectHost string      `json:"redirect_host"`
	User         string      `json:"user"`
	Role         tenant.Role `json:"role"`
	CanApprove   bool        `json:"can_approve"`
	Reason       string      `json:"reason,omitempty"` // why not, when CanApprove is false
	// Accounts are the tenant's per-user credentials with whether the
	// signed-in user linked theirs: calls through the grant need them.
	Accounts []connectedAccount `json:"connected_accounts"`
}

type scopeView struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var errNeedSession = &apiError{Status: http.StatusUnauthorized, Code: "session_required",
	Message: "approving access needs you signed in to the dashboard with your account (email and password), not an API key"}

// consent checks the request and the signed-in user's right to approve it.
func (a *oauthServer) consent(c echo.Context, rawQuery string) (authRequest, consentView, error) {
	p := caller(c)
	if p.session.ID == "" {
		return authRequest{}, consentView{}, errNeedSession
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return authRequest{}, consentView{}, &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: "the authorization request is not a valid query string"}
	}
	r, err := a.checkAuthRequest(c, q)
	var re *redirectError
	if errors.As(err, &re) {
		err = re.oauthError
	}
	if err != nil {
		var oe *oauthError
		if errors.As(err, &oe) {
			return authRequest{}, consentView{}, &apiError{Status: http.StatusBadRequest, Code: oe.Code, Message: oe.Description}
		}
		return authRequest{}, consentView{}, err
	}
	var v consentView
	v.Client.ID, v.Client.Name, v.Client.URI, v.Client.Metadata = r.client.ID, r.client.Name, r.client.URI, r.cimd
	v.Tenant.ID, v.Tenant.Name = r.tenant.ID, r.tenant.Name
	for _, s := range r.scopes {
		v.Scopes = append(v.Scopes, scopeView{s, scopeDescriptions[s]})
	}
	if u, err := url.Parse(r.redirectURI); err == nil {
		v.RedirectHost = u.Host
	}
	v.User = p.user.Email
	switch {
	case p.user.Operator:
		v.Role, v.CanApprove = tenant.RoleOwner, true
	default:
		role, err := a.Store.Role(c.Request().Context(), r.tenant.ID, p.user.ID)
		if err != nil && !errors.Is(err, tenant.ErrNotFound) {
			return authRequest{}, consentView{}, fmt.Errorf("check membership: %w", err)
		}
		if errors.Is(err, tenant.ErrNotFound) {
			// Same answer as an unknown tenant: ids cannot be probed.
			return authRequest{}, consentView{}, tenantNotFound(r.tenant.ID)
		}
		v.Role, v.CanApprove = role, role.AtLeast(tenant.RoleAdmin)
	}
	v.Accounts = []connectedAccount{}
	if a.link != nil {
		accts, err := connectedAccounts(c.Request().Context(), a.link.Store, r.tenant.ID, p.user.ID)
		if err != nil {
			return authRequest{}, consentView{}, fmt.Errorf("list connected accounts: %w", err)
		}
		v.Accounts = accts
	}
	if !v.CanApprove {
		v.Reason = fmt.Sprintf("your role in tenant %s is %s; granting an application the use of its tools needs admin or owner", r.tenant.ID, v.Role)
	}
	return r, v, nil
}

// handleConsentDetails tells the consent page what is being asked, by whom,
// of which tenant, and whether the signed-in user may approve it.
func (a *oauthServer) handleConsentDetails(c echo.Context) error {
	_, v, err := a.consent(c, c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, v)
}

type consentDecision struct {
	Request string `json:"request"` // the authorization request's query string
	Approve bool   `json:"approve"`
}

// handleConsentDecision records the user's answer (session cookie plus the
// X-CSRF-Token header, checked by authenticate) and tells the page where to
// send the browser: the client's redirect URI with a code, or with
// error=access_denied.
func (a *oauthServer) handleConsentDecision(c echo.Context) error {
	var d consentDecision
	if err := decodeJSON(c, &d); err != nil {
		return err
	}
	r, v, err := a.consent(c, d.Request)
	if err != nil {
		return err
	}
	ctx, p := c.Request().Context(), caller(c)
	details := map[string]any{"client_id": r.client.ID, "client_name": r.client.Name, "user_id": p.user.ID}
	if !d.Approve {
		securityEvent(ctx, a.Store, a.log, r.tenant.ID, p.actor(), "oauth.consent_denied", details)
		return c.JSON(http.StatusOK, map[string]string{"redirect_to": a.redirectWith(c, r, url.Values{
			"error": {"access_denied"}, "error_description": {"the user denied access"}})})
	}
	if !v.CanApprove {
		securityEvent(ctx, a.Store, a.log, r.tenant.ID, p.actor(), "oauth.consent_refused", details)
		return forbidden("%s", v.Reason)
	}
	code, err := a.Store.CreateAuthCode(ctx, r.tenant.ID, tenant.AuthRequest{
		ClientID: r.client.ID, ClientName: r.client.Name, UserID: p.user.ID, RedirectURI: r.redirectURI,
		CodeChallenge: r.challenge, Scopes: r.scopes, Resource: r.resource,
	}, p.actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"redirect_to": a.redirectWith(c, r, url.Values{"code": {code}})})
}

// tokenForm reads an application/x-www-form-urlencoded body, refusing
// repeated parameters (RFC 6749 §3.2).
func tokenForm(c echo.Context) (url.Values, error) {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, oauthErr("invalid_request", "Content-Type: must be application/x-www-form-urlencoded (got %q)", ct)
	}
	if err := req.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, oauthErr("invalid_request", "the body is not a valid form: %v", err)
	}
	for k, v := range req.PostForm {
		if len(v) > 1 {
			return nil, oauthErr("invalid_request", "%s: given more than once; send each parameter once", k)
		}
	}
	f := req.PostForm
	// A public client names itself with client_id; accept it from HTTP
	// Basic too (no secret is checked: Portico issues none).
	if f.Get("client_id") == "" {
		if user, _, ok := req.BasicAuth(); ok {
			if id, err := url.QueryUnescape(user); err == nil {
				f.Set("client_id", id)
			}
		}
	}
	return f, nil
}

// handleToken is the token endpoint: authorization_code (with a PKCE
// code_verifier, always) and refresh_token (rotating).
func (a *oauthServer) handleToken(c echo.Context) error {
	f, err := tokenForm(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	ctx := c.Request().Context()
	gt := f.Get("grant_type")
	if gt != "authorization_code" && gt != "refresh_token" {
		if gt == "" {
			return oauthErr("invalid_request", "grant_type: required; use authorization_code or refresh_token")
		}
		return oauthErr("unsupported_grant_type", "grant_type: %q is not supported; use authorization_code or refresh_token", gt)
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		return oauthErr("invalid_request", "client_id: required")
	}
	if _, _, err := a.client(ctx, clientID); err != nil {
		var oe *oauthError
		if errors.As(err, &oe) {
			return oauthErr("invalid_client", "%s", oe.Description)
		}
		return err
	}
	// Guessed codes and refresh tokens are throttled per client address
	// (before the lookup) and per secret prefix (after it, so the holder of
	// the right secret is never refused for a third party's failures).
	ip, secret := "ip:"+c.RealIP(), f.Get("code")
	if gt == "refresh_token" {
		secret = f.Get("refresh_token")
	}
	if err := a.throttled(c, ip); err != nil {
		return err
	}
	var toks tenant.OAuthTokens
	if gt == "authorization_code" {
		toks, err = a.exchangeCode(c, f, clientID)
	} else {
		toks, err = a.refresh(c, f, clientID)
	}
	var oe *oauthError
	if errors.Is(err, tenant.ErrInvalidGrant) || errors.As(err, &oe) && oe.Code == "invalid_grant" {
		throttled := a.throttled(c, secretPrefix(secret))
		a.fail.Fail(ip, secretPrefix(secret))
		if throttled != nil {
			return throttled
		}
	}
	var revoked *tenant.GrantRevokedError
	if errors.As(err, &revoked) && a.Forget != nil {
		a.Forget("oauth:" + revoked.GrantID) // reuse revoked the grant: no cached token may outlive it here
	}
	if errors.Is(err, tenant.ErrInvalidGrant) {
		_, why, _ := strings.Cut(err.Error(), tenant.ErrInvalidGrant.Error()+": ")
		return oauthErr("invalid_grant", "%s", why)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"access_token":  toks.AccessToken,
		"token_type":    "Bearer",
		"expires_in":    int(time.Until(toks.AccessExpiresAt).Seconds()),
		"refresh_token": toks.RefreshToken,
		"scope":         strings.Join(toks.Scopes, " "),
	})
}

// throttled answers 429 slow_down, with Retry-After, when keys have failed
// too often (FailureThrottle).
func (a *oauthServer) throttled(c echo.Context, keys ...string) error {
	wait := a.fail.Wait(keys...)
	if wait <= 0 {
		return nil
	}
	secs := RetryAfter(wait)
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
	return &oauthError{Status: http.StatusTooManyRequests, Code: "slow_down",
		Description: fmt.Sprintf("too many failed code or refresh token exchanges from here; retry in %d s", secs)}
}

// exchangeCode redeems an authorization code: the resource (required) names
// the tenant, and the store checks code, client, redirect URI and verifier.
func (a *oauthServer) exchangeCode(c echo.Context, f url.Values, clientID string) (tenant.OAuthTokens, error) {
	t, _, err := a.tenantOf(c, f.Get("resource"))
	if err != nil {
		return tenant.OAuthTokens{}, err
	}
	for _, p := range []string{"code", "redirect_uri", "code_verifier"} {
		if f.Get(p) == "" {
			return tenant.OAuthTokens{}, oauthErr("invalid_request", "%s: required for grant_type authorization_code", p)
		}
	}
	if !validPKCEValue(f.Get("code_verifier"), 43, 128) {
		return tenant.OAuthTokens{}, oauthErr("invalid_request", "code_verifier: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)")
	}
	return a.Store.ExchangeAuthCode(c.Request().Context(), t.ID, f.Get("code"), clientID, f.Get("redirect_uri"), f.Get("code_verifier"))
}

// refresh rotates a refresh token. The resource is optional here (RFC 8707
// §2.2; golang.org/x/oauth2 never sends it): the refresh token names its
// tenant. When given, it must be that tenant's MCP URL.
func (a *oauthServer) refresh(c echo.Context, f url.Values, clientID string) (tenant.OAuthTokens, error) {
	ctx, refresh := c.Request().Context(), f.Get("refresh_token")
	if refresh == "" {
		return tenant.OAuthTokens{}, oauthErr("invalid_request", "refresh_token: required for grant_type refresh_token")
	}
	if _, err := parseScope(f.Get("scope")); err != nil {
		return tenant.OAuthTokens{}, err
	}
	tenantID, err := a.Store.RefreshTokenTenant(ctx, refresh)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.OAuthTokens{}, oauthErr("invalid_grant", "refresh_token: unknown refresh token")
	}
	if err != nil {
		return tenant.OAuthTokens{}, err
	}
	if r := f.Get("resource"); r != "" {
		t, _, err := a.tenantOf(c, r)
		if err != nil {
			return tenant.OAuthTokens{}, err
		}
		if t.ID != tenantID {
			return tenant.OAuthTokens{}, oauthErr("invalid_grant", "resource: the refresh token was issued for another resource than %s", r)
		}
	}
	return a.Store.RefreshOAuthToken(ctx, tenantID, refresh, clientID)
}

// handleRevoke is RFC 7009 revocation: revoking an access or refresh token
// revokes its whole grant. Unknown tokens get the same 200.
func (a *oauthServer) handleRevoke(c echo.Context) error {
	f, err := tokenForm(c)
	if err != nil {
		return err
	}
	tok := f.Get("token")
	if tok == "" {
		return oauthErr("invalid_request", "token: required")
	}
	if hint := f.Get("token_type_hint"); hint != "" && hint != "access_token" && hint != "refresh_token" {
		return oauthErr("unsupported_token_type", "token_type_hint: %q is not a token type of this server; use access_token or refresh_token", hint)
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		return oauthErr("invalid_request", "client_id: required (a token is revoked only by the client it was issued to)")
	}
	_, tokenID, err := a.Store.RevokeOAuthToken(c.Request().Context(), tok, clientID)
	switch {
	case err == nil:
		if a.Forget != nil {
			a.Forget(tokenID)
		}
	case !errors.Is(err, tenant.ErrNotFound):
		return err
	}
	return c.NoContent(http.StatusOK)
}

// registration is an RFC 7591 client registration request. Fields Portico
// does not use are accepted and ignored, as RFC 7591 §2 allows.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
}

// handleRegister is dynamic client registration (RFC 7591). Every client is
// public (token_endpoint_auth_method none, PKCE): a requested secret-based
// method is replaced, as §3.2.1 allows. Registration is anonymous, so it is
// rate-limited per address like sign-in.
func (a *oauthServer) handleRegister(rl *rateLimits) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := rl.allowLogin("oauth-register:" + c.RealIP()); err != nil {
			return err
		}
		var r registration
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		if f := nulField(body); f != "" {
			return oauthErr("invalid_client_metadata", "%s: holds a NUL character (\\u0000); remove it", f)
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return oauthErr("invalid_client_metadata", "the body must be a JSON object of client metadata: %v", err)
		}
		c2, err := checkClientMetadata(r.RedirectURIs, r.ClientName, r.ClientURI)
		if err != nil {
			return err
		}
		for _, g := range r.GrantTypes {
			if g != "authorization_code" && g != "refresh_token" {
				return oauthErr("invalid_client_metadata", "grant_types: %q is not supported; use authorization_code and refresh_token", g)
			}
		}
		for _, rt := range r.ResponseTypes {
			if rt != "code" {
				return oauthErr("invalid_client_metadata", "response_types: %q is not supported; use code", rt)
			}
		}
		if r.Scope != "" {
			if _, err := parseScope(r.Scope); err != nil {
				return oauthErr("invalid_client_metadata", "scope: the only scope is %s", ScopeMCP)
			}
		}
		saved, err := a.Store.RegisterOAuthClient(c.Request().Context(), c2, c.RealIP())
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		out := map[string]any{
			"client_id":                  saved.ID,
			"client_id_issued_at":        saved.CreatedAt.Unix(),
			"redirect_uris":              saved.RedirectURIs,
			"grant_types":                []string{"authorization_code", "refresh_token"},
			"response_types":             []string{"code"},
			"token_endpoint_auth_method": "none",
			"scope":                      ScopeMCP,
		}
		// Optional members the client did not send are omitted, not empty:
		// the TypeScript SDK parses client_uri as a URL and rejects "".
		if saved.Name != "" {
			out["client_name"] = saved.Name
		}
		if saved.URI != "" {
			out["client_uri"] = saved.URI
		}
		return c.JSON(http.StatusCreated, out)
	}
}

// checkClientMetadata validates what registration and metadata documents
// share: redirect URIs (https, or http on a loopback address for native
// clients, RFC 8252 §7.3; absolute, no fragment), a name and a homepage.
func checkClientMetadata(redirects []string, name, uri string) (tenant.OAuthClient, error) {
	if len(redirects) == 0 {
		return tenant.OAuthClient{}, oauthErr("invalid_redirect_uri", "redirect_uris: required, at least one")
	}
	if len(redirects) > 20 {
		return tenant.OAuthClient{}, oauthErr("invalid_redirect_uri", "redirect_uris: at most 20")
	}
	for i, r := range redirects {
		if why := badRedirect(r); why != "" {
			return tenant.OAuthClient{}, oauthErr("invalid_redirect_uri", "redirect_uris[%d]: %q %s", i, r, why)
		}
	}
	name = strings.TrimSpace(name)
	if len(name) > 200 {
		return tenant.OAuthClient{}, oauthErr("invalid_client_metadata", "client_name: at most 200 characters")
	}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(uri) > 500 {
			return tenant.OAuthClient{}, oauthErr("invalid_client_metadata", "client_uri: must be an https URL (at most 500 characters)")
		}
	}
	return tenant.OAuthClient{Name: name, URI: uri, RedirectURIs: redirects}, nil
}

// badRedirect says what is wrong with a redirect URI, or "".
func badRedirect(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || len(raw) > 2000:
		return "is not an absolute URL"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.User != nil:
		return "must not carry user information"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return ""
	case u.Scheme == "http":
		return "must use https (plain http only on a loopback address: 127.0.0.1, [::1] or localhost)"
	}
	return "must use https, or http on a loopback address"
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.") && strings.Count(h, ".") == 3
}

// client finds a client: a Client ID Metadata Document when client_id is
// an https URL, else a registered one. Unknown clients are *oauthError.
func (a *oauthServer) client(ctx context.Context, clientID string) (tenant.OAuthClient, bool, error) {
	if strings.HasPrefix(clientID, "https://") {
		if a.cimd == nil {
			return tenant.OAuthClient{}, false, oauthErr("invalid_client", "client_id: Client ID Metadata Documents are turned off on this server; register at /oauth/register")
		}
		c, err := a.cimd.get(ctx, clientID)
		return c, true, err
	}
	c, err := a.Store.OAuthClient(ctx, clientID)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.OAuthClient{}, false, oauthErr("invalid_client", "client_id: %q is not registered here; register at /oauth/register (RFC 7591)", truncate(clientID, 80))
	}
	return c, false, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// writeOAuthError writes e as RFC 6749 §5.2 JSON.
func writeOAuthError(c echo.Context, e *oauthError) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		h.Set(echo.HeaderWWWAuthenticate, `Basic realm="portico"`)
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(e.Status)
	}
	return c.JSON(e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}
