package api

import "github.com/labstack/echo/v4"

// routes registers every route. Auth is visible per line: the v1 group needs
// an API key (scope checked by method), ownTenant confines tenant keys to
// their own tenant, adminOnly is for operator keys.
func (s *Server) routes(o Options) {
	e, st, rt, log := s.e, o.Store, o.Runtime, o.Logger

	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(o.Ready, log))
	if o.MCP != nil {
		e.Any("/t/:id/mcp", echo.WrapHandler(o.MCP))
	}

	e.GET("/api/v1/openapi.json", handleOpenAPI(openAPIDocument()))

	v1 := e.Group("/api/v1", limitBody(o.BodyLimit), authenticate(st))
	v1.POST("/tenants", handleTenantCreate(st, o.BaseURL), adminOnly)
	v1.GET("/tenants", handleTenantList(st, o.BaseURL))
	v1.GET("/api-keys", handleAPIKeyList(st, adminKeys), adminOnly)
	v1.POST("/api-keys", handleAPIKeyCreate(st, adminKeys), adminOnly)
	v1.DELETE("/api-keys/:key_id", handleAPIKeyRevoke(st, adminKeys), adminOnly)

	t := v1.Group("/tenants/:id", ownTenant)
	t.GET("", handleTenantGet(st, o.BaseURL))
	t.PATCH("", handleTenantUpdate(st, rt, o.BaseURL))
	t.DELETE("", handleTenantDelete(st, rt))
	t.POST("/activate", handleTenantActivate(rt, o.BaseURL))
	t.POST("/deactivate", handleTenantDeactivate(rt, o.BaseURL))
	t.PUT("/settings", handleSettingsPut(st, rt, o.BaseURL))
	t.GET("/credentials", handleCredentialList(st))
	t.PUT("/credentials/:name", handleCredentialPut(st, rt))
	t.DELETE("/credentials/:name", handleCredentialDelete(st, rt))
	t.GET("/tokens", handleTokenList(st))
	t.POST("/tokens", handleTokenCreate(st))
	t.DELETE("/tokens/:token_id", handleTokenRevoke(st))
	t.GET("/api-keys", handleAPIKeyList(st, tenantFromPath))
	t.POST("/api-keys", handleAPIKeyCreate(st, tenantFromPath))
	t.DELETE("/api-keys/:key_id", handleAPIKeyRevoke(st, tenantFromPath))
	t.GET("/tools", handleToolList(rt))
	t.GET("/audit", handleAuditList(st))
}
