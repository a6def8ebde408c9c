package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// oauthGrantManager lists and revokes the applications members approved.
type oauthGrantManager interface {
	OAuthGrants(ctx context.Context, tenantID string) ([]tenant.OAuthGrant, error)
	RevokeOAuthGrant(ctx context.Context, tenantID, grantID, actor string) error
}

func handleOAuthGrantList(st oauthGrantManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		gs, err := st.OAuthGrants(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list OAuth grants of tenant %s: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"oauth_grants": nonNil(gs)})
	}
}

// handleOAuthGrantRevoke cuts an application off: cmd's store wrapper also
// drops the grant's tokens from this replica's MCP token cache.
func handleOAuthGrantRevoke(st oauthGrantManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, grantID := c.Param("id"), c.Param("grant_id")
		if err := st.RevokeOAuthGrant(c.Request().Context(), id, grantID, actor(c)); err != nil {
			return explain(fmt.Errorf("revoke OAuth grant %s of tenant %s: %w", grantID, id, err),
				tenant.ErrNotFound, "OAuth grant %s of tenant %s was not found", grantID, id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
