package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type apiKeyCreator interface {
	CreateAPIKey(ctx context.Context, tenantID string, name string, scopes []string, by tenant.Minter, actor string) (tenant.APIKey, string, error)
}

type apiKeyLister interface {
	APIKeys(ctx context.Context, tenantID string) ([]tenant.APIKey, error)
}

type apiKeyRevoker interface {
	RevokeAPIKey(ctx context.Context, tenantID, keyID, actor string) error
}

// keyOwner says whose keys a route manages: "" for admin keys, else a tenant
// id. The same handlers serve /api-keys and /tenants/{id}/api-keys.
type keyOwner func(c echo.Context) string

func adminKeys(echo.Context) string        { return "" }
func tenantFromPath(c echo.Context) string { return c.Param("id") }

func describeOwner(tenantID string) string {
	if tenantID == "" {
		return "admin API key"
	}
	return "API key of tenant " + tenantID
}

type apiKeyCreateRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (r apiKeyCreateRequest) validate() error {
	var inv tenant.InvalidError
	checkName(&inv, "name", r.Name)
	if len(r.Scopes) == 0 {
		inv.Add("scopes", `is required: ["read"] or ["read","write"]`)
	}
	for i, s := range r.Scopes {
		if s != tenant.ScopeRead && s != tenant.ScopeWrite {
			inv.Add(fmt.Sprintf("scopes[%d]", i), fmt.Sprintf("%q is not one of read, write", s))
		}
	}
	return inv.Err()
}

// apiKeyCreated is the only response that carries the key secret.
type apiKeyCreated struct {
	APIKey tenant.APIKey `json:"api_key"`
	Secret string        `json:"secret"`
}

func handleAPIKeyCreate(store apiKeyCreator, owner keyOwner) echo.HandlerFunc {
	return func(c echo.Context) error {
		tid := owner(c)
		var req apiKeyCreateRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		key, secret, err := store.CreateAPIKey(c.Request().Context(), tid, req.Name, req.Scopes, caller(c).minter(), actor(c))
		if err != nil {
			return explain(fmt.Errorf("create %s: %w", describeOwner(tid), err),
				tenant.ErrNotFound, "tenant %s was not found", tid)
		}
		return c.JSON(http.StatusCreated, apiKeyCreated{APIKey: key, Secret: secret})
	}
}

func handleAPIKeyList(store apiKeyLister, owner keyOwner) echo.HandlerFunc {
	return func(c echo.Context) error {
		tid := owner(c)
		keys, err := store.APIKeys(c.Request().Context(), tid)
		if err != nil {
			return explain(fmt.Errorf("list %ss: %w", describeOwner(tid), err),
				tenant.ErrNotFound, "tenant %s was not found", tid)
		}
		return c.JSON(http.StatusOK, map[string]any{"api_keys": nonNil(keys)})
	}
}

func handleAPIKeyRevoke(store apiKeyRevoker, owner keyOwner) echo.HandlerFunc {
	return func(c echo.Context) error {
		tid, keyID := owner(c), c.Param("key_id")
		if err := store.RevokeAPIKey(c.Request().Context(), tid, keyID, actor(c)); err != nil {
			return explain(fmt.Errorf("revoke %s %s: %w", describeOwner(tid), keyID, err),
				tenant.ErrNotFound, "%s %s was not found", describeOwner(tid), keyID)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
