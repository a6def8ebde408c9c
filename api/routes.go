package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// routes registers every route of Portico's HTTP surface, in one place:
// probes, MCP endpoints, the OAuth authorization server, the REST API,
// metrics and the dashboard. Auth is visible per line: authed needs an
// API key or a session (key scope checked by method: reads need read,
// changes need write; cookie changes need the CSRF token), owned confines
// the caller to tenants it belongs to (reads: viewer, changes: admin),
// owner needs the owner role, admin is for operators, user for people. Middleware is attached per route, not with Group.Use, because echo v4
// implements group middleware with catch-all routes that turn every 405
// under the prefix into a 404.
func (s *Server) routes(o Options) {
	e, st, rt, log, base := s.e, o.Store, o.Runtime, o.Logger, o.BaseURL
	rl := newRateLimits(o.CallerRate, o.TenantRate, o.LoginRate, o.Limiter, func(ctx context.Context, id string) (tenant.Settings, error) {
		t, err := st.Tenant(ctx, id)
		if err != nil {
			return tenant.Settings{}, err
		}
		return t.Settings, nil
	})
	s.limits = rl
	rl.fail = o.FailureThrottle
	so := sessionOptions{ttl: o.SessionTTL, secure: !o.InsecureCookies}
	authed := []echo.MiddlewareFunc{limitBody(o.BodyLimit), authenticate(st, rl, so.secure, log)}
	admin := append(authed[:len(authed):len(authed)], operatorOnly)
	owned := append(authed[:len(authed):len(authed)], member(st, rl, tenant.RoleAdmin))
	owner := append(authed[:len(authed):len(authed)], member(st, rl, tenant.RoleOwner))
	user := append(authed[:len(authed):len(authed)], userOnly)

	mount := func(h http.Handler, paths ...string) {
		if h != nil {
			for _, p := range paths {
				e.Any(p, echo.WrapHandler(h))
			}
		}
	}

	// Probes and metrics: no credential (/metrics checks its own token).
	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(o.ReadyChecks, log))
	mount(o.Metrics, "/metrics")

	// MCP: each tenant's endpoint and its toolsets' (MCP tokens or OAuth
	// access tokens, checked by the handler), their RFC 9728 metadata
	// (public), and Portico's own MCP server (API keys or sessions).
	mount(o.MCP, "/t/:id/mcp", "/t/:id/mcp/:toolset")
	mount(o.ResourceMetadata, "/.well-known/oauth-protected-resource/t/:id/mcp", "/.well-known/oauth-protected-resource/t/:id/mcp/:toolset")
	mount(o.SelfMCP, "/mcp")

	// The OAuth authorization server of tenant endpoints, and the keys
	// that sign identity assertions.
	if o.OAuth != nil {
		a, body, cors := newOAuthServer(o, rl), limitBody(o.BodyLimit), corsAnyOrigin
		e.GET("/.well-known/oauth-authorization-server", a.handleMetadata, cors)
		e.OPTIONS("/.well-known/oauth-authorization-server", noContent, cors)
		e.GET("/oauth/authorize", a.handleAuthorize)
		e.GET("/oauth/authorize/details", a.handleConsentDetails, authed...)
		e.POST("/oauth/authorize", a.handleConsentDecision, authed...)
		e.POST("/oauth/token", a.handleToken, body, cors)
		e.OPTIONS("/oauth/token", noContent, cors)
		e.POST("/oauth/register", a.handleRegister(rl), body, cors)
		e.OPTIONS("/oauth/register", noContent, cors)
		e.POST("/oauth/revoke", a.handleRevoke, body, cors)
		e.OPTIONS("/oauth/revoke", noContent, cors)
	}
	if o.Link != nil {
		// Per-user linked accounts: the providers' callback after a link
		// flow (no credential: the state and the browser's link cookie
		// are checked; linked.go). The REST routes are with the tenant's.
		e.GET(linkCallbackPath, handleLinkCallback(o.Link, base, so, log))
	}
	if o.JWKS != nil {
		e.GET("/.well-known/jwks.json", handleJWKS(o.JWKS))
	}

	// The dashboard: its own paths only, not a catch-all, so unknown
	// /api/v1 paths and 405s keep the API's JSON errors.
	mount(o.Dashboard, o.DashboardPaths...)

	// The REST API.

	v1 := e.Group("/api/v1")
	v1.GET("/openapi.json", handleOpenAPI(openAPIDocument()))
	v1.GET("/schemas/:name", handleSchema(o.Schemas)) // public, like the OpenAPI document
	v1.POST("/auth/login", handleLogin(st, rl, so, log), limitBody(o.BodyLimit), sameOriginJSON)
	v1.POST("/auth/logout", handleLogout(st, so), authed...)
	v1.GET("/auth/me", handleMe(st), authed...)
	v1.GET("/me/api-keys", handleMyKeyList(st), user...)
	v1.POST("/me/api-keys", handleMyKeyCreate(st), user...)
	v1.DELETE("/me/api-keys/:key_id", handleMyKeyRevoke(st), user...)
	v1.GET("/users", handleUserList(st), admin...)
	v1.POST("/users", handleUserCreate(st), admin...)
	v1.POST("/tenants", handleTenantCreate(st, o.CheckUpstream, log, base), authed...)
	v1.GET("/tenants", handleTenantList(st, base), authed...)
	v1.POST("/preview", handlePreview(o.Previewer, o.CheckUpstream, st, log), authed...)
	v1.GET("/audit", handleAuditList(st, operatorLog), admin...)
	v1.GET("/usage", handleDailyUsage(o.Calls), admin...)
	v1.GET("/api-keys", handleAPIKeyList(st, adminKeys), admin...)
	v1.POST("/api-keys", handleAPIKeyCreate(st, adminKeys), admin...)
	v1.DELETE("/api-keys/:key_id", handleAPIKeyRevoke(st, adminKeys), admin...)

	t := v1.Group("/tenants/:id")
	t.GET("", handleTenantGet(st, base), owned...)
	t.PATCH("", handleTenantUpdate(st, rt, o.CheckUpstream, log, base), owned...)
	t.DELETE("", handleTenantDelete(st, rt), owner...)
	t.POST("/activate", handleTenantActivate(rt, base, o.Spec), owned...)
	t.POST("/deactivate", handleTenantDeactivate(rt, base), owned...)
	t.PUT("/settings", handleSettingsPut(st, rt, base), owned...)
	t.POST("/preview", handleTenantPreview(st, o.ToolPreviewer), owned...)
	t.GET("/credentials", handleCredentialList(st), owned...)
	t.PUT("/credentials/:name", handleCredentialPut(st, rt, o.CheckUpstream, log), owned...)
	t.DELETE("/credentials/:name", handleCredentialDelete(st, rt), owned...)
	t.POST("/credentials/:name/test", handleCredentialTest(o.CredentialTester, base), owned...)
	t.GET("/prompts", handlePromptList(st), owned...)
	t.POST("/prompts", handlePromptCreate(st, rt), owned...)
	t.GET("/prompts/:name", handlePromptGet(st), owned...)
	t.PUT("/prompts/:name", handlePromptPut(st, rt), owned...)
	t.DELETE("/prompts/:name", handlePromptDelete(st, rt), owned...)
	t.GET("/toolsets", handleToolsetList(st, rt, base), owned...)
	t.POST("/toolsets", handleToolsetCreate(st, rt, base), owned...)
	t.GET("/toolsets/:name", handleToolsetGet(st, rt, base), owned...)
	t.PUT("/toolsets/:name", handleToolsetPut(st, rt, base), owned...)
	t.DELETE("/toolsets/:name", handleToolsetDelete(st, rt), owned...)
	t.GET("/tokens", handleTokenList(st), owned...)
	t.POST("/tokens", handleTokenCreate(st), owned...)
	t.DELETE("/tokens/:token_id", handleTokenRevoke(st), owned...)
	if lo := o.Link; lo != nil {
		// Any member links and unlinks their own account (as a user);
		// seeing who linked and revoking needs a tenant admin, reads too.
		mine := append(user[:len(user):len(user)], memberAt(st, rl, tenant.RoleViewer, tenant.RoleViewer))
		admins := append(authed[:len(authed):len(authed)], memberAt(st, rl, tenant.RoleAdmin, tenant.RoleAdmin))
		t.GET("/connected-accounts", handleConnectedAccounts(lo.Store), mine...)
		t.POST("/connected-accounts/:name/link", handleLinkStart(lo, base, so), mine...)
		t.DELETE("/connected-accounts/:name", handleUnlink(lo.Store), mine...)
		t.GET("/linked-accounts", handleLinkedAccountList(lo.Store), admins...)
		t.DELETE("/linked-accounts/:name/:user", handleLinkedAccountRevoke(lo.Store), admins...)
	}
	t.GET("/oauth-grants", handleOAuthGrantList(st), owned...)
	t.DELETE("/oauth-grants/:grant_id", handleOAuthGrantRevoke(st), owned...)
	t.GET("/api-keys", handleAPIKeyList(st, tenantFromPath), owned...)
	t.POST("/api-keys", handleAPIKeyCreate(st, tenantFromPath), owned...)
	t.DELETE("/api-keys/:key_id", handleAPIKeyRevoke(st, tenantFromPath), owned...)
	t.GET("/tools", handleToolList(rt), owned...)
	t.GET("/audit", handleAuditList(st, tenantFromPath), owned...)
	t.GET("/calls", handleCallList(st, o.Calls), owned...)
	t.GET("/progress", handleProgress(st, o.Progress), owned...)
	t.GET("/usage", handleUsage(st, o.Calls), owned...)

	sp := o.Spec
	t.GET("/spec", handleSpecStatus(sp), owned...)
	t.GET("/spec/report", handleSpecReport(sp), owned...)
	t.POST("/spec/refresh", handleSpecRefresh(sp), owned...)
	t.GET("/spec/versions", handleSpecVersions(sp), owned...)
	t.GET("/spec/versions/:v", handleSpecVersion(sp), owned...)
	t.POST("/spec/versions/:v/pin", handleSpecPin(sp), owned...)
	t.POST("/spec/unpin", handleSpecUnpin(sp), owned...)
	t.POST("/spec/hook-secret", handleHookSecretRotate(sp), owned...)
	t.DELETE("/spec/hook-secret", handleHookSecretDelete(sp), owned...)
	t.POST("/spec/hook", handleSpecHook(sp, &replayGuard{}), limitBody(o.BodyLimit)) // signed, no API key
	t.GET("/members", handleMemberList(st), owned...)
	t.PUT("/members/:user", handleMemberPut(st), owner...)
	t.DELETE("/members/:user", handleMemberDelete(st), owner...)
}
