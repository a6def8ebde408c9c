package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type tokenCreator interface {
	CreateTokenFor(ctx context.Context, tenantID string, nt tenant.NewToken, actor string) (tenant.Token, string, error)
}

type tokenLister interface {
	Tokens(ctx context.Context, tenantID string) ([]tenant.Token, error)
}

type tokenRevoker interface {
	RevokeToken(ctx context.Context, tenantID, tokenID, actor string) error
}

// tokenCreateRequest takes expires_at as a string so a bad timestamp is
// reported against its field rather than as an anonymous parse error.
type tokenCreateRequest struct {
	Name      string  `json:"name"`
	ExpiresAt *string `json:"expires_at"`
	// Toolsets restrict the token to those toolsets' URLs.
	Toolsets []string `json:"toolsets"`
}

func (r tokenCreateRequest) parse(now time.Time) (*time.Time, error) {
	var inv tenant.InvalidError
	checkName(&inv, "name", r.Name)
	var exp *time.Time
	if r.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *r.ExpiresAt)
		switch {
		case err != nil:
			inv.Add("expires_at", "must be an RFC 3339 time such as 2027-01-02T15:04:05Z")
		case !t.After(now):
			inv.Add("expires_at", "must be in the future")
		default:
			exp = &t
		}
	}
	return exp, inv.Err()
}

// tokenCreated is the only response that carries the token secret.
type tokenCreated struct {
	Token  tenant.Token `json:"token"`
	Secret string       `json:"secret"`
}

func handleTokenCreate(store tokenCreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req tokenCreateRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		exp, err := req.parse(time.Now())
		if err != nil {
			return err
		}
		tok, secret, err := store.CreateTokenFor(c.Request().Context(), id, tenant.NewToken{Name: req.Name, ExpiresAt: exp, Toolsets: req.Toolsets}, actor(c))
		if err != nil {
			return explain(fmt.Errorf("create token for tenant %s: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusCreated, tokenCreated{Token: tok, Secret: secret})
	}
}

func handleTokenList(store tokenLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		toks, err := store.Tokens(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list tokens of tenant %s: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"tokens": nonNil(toks)})
	}
}

func handleTokenRevoke(store tokenRevoker) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, tokID := c.Param("id"), c.Param("token_id")
		if err := store.RevokeToken(c.Request().Context(), id, tokID, actor(c)); err != nil {
			return explain(fmt.Errorf("revoke token %s of tenant %s: %w", tokID, id, err),
				tenant.ErrNotFound, "token %s of tenant %s was not found", tokID, id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
