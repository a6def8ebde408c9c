package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type credentialPutter interface {
	PutCredential(ctx context.Context, tenantID string, c tenant.Credential, value string, actor string) error
	eventRecorder
}

type credentialLister interface {
	Credentials(ctx context.Context, tenantID string) ([]tenant.Credential, error)
}

type credentialDeleter interface {
	DeleteCredential(ctx context.Context, tenantID, name, actor string) error
}

// credentialPutRequest has no name field: the name is the path's, so a body
// cannot redirect the write to another credential.
type credentialPutRequest struct {
	Type   tenant.CredentialType `json:"type"`
	Header string                `json:"header"`
	Value  string                `json:"value"`
	// oauth2_client_credentials and oauth2_authorization_code only; the
	// value is the client secret.
	tenant.OAuth2Config
}

// handleCredentialPut stores a credential and reloads the tenant so an
// active pool uses it at once. The value is never written back.
//
// The token URL of an OAuth2 credential is vetted like a base URL: Portico
// calls it, so it must not point into Portico's own network.
func handleCredentialPut(store credentialPutter, rt reloader, check upstreamChecker, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		var req credentialPutRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		cred := tenant.Credential{Name: name, Type: req.Type, Header: req.Header, OAuth2Config: req.OAuth2Config}
		if err := cred.Validate(req.Value); err != nil {
			return err
		}
		if err := checkUpstreams(c, check, store, log, id, map[string]*string{"token_url": &req.TokenURL, "authorize_url": &req.AuthorizeURL}); err != nil {
			return err
		}
		if err := store.PutCredential(c.Request().Context(), id, cred, req.Value, actor(c)); err != nil {
			return explain(fmt.Errorf("put credential %s of tenant %s: %w", name, id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("credential %s of tenant %s saved; reload: %w", name, id, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func handleCredentialList(store credentialLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		creds, err := store.Credentials(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list credentials of tenant %s: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"credentials": nonNil(creds)})
	}
}

func handleCredentialDelete(store credentialDeleter, rt reloader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		if err := store.DeleteCredential(c.Request().Context(), id, name, actor(c)); err != nil {
			return explain(fmt.Errorf("delete credential %s of tenant %s: %w", name, id, err),
				tenant.ErrNotFound, "credential %s of tenant %s was not found", name, id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("credential %s of tenant %s deleted; reload: %w", name, id, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// nonNil makes an empty list encode as [] rather than null, so clients can
// iterate without a nil check.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// CredentialTester tests a stored credential against its endpoints, for
// the dashboard's "Test connection" (bridge.Runtime).
type CredentialTester interface {
	// TestCredential tests credential name of tenant tenantID; for an
	// oauth2_authorization_code credential also user userID's linked
	// account ("" when the caller is no user), with redirectURI as the
	// link flow's.
	TestCredential(ctx context.Context, tenantID, name, userID, redirectURI string) (tenant.CredentialTest, error)
}

// handleCredentialTest reports whether an OAuth2 credential works: an
// oauth2_client_credentials one gets a token from its token endpoint; an
// oauth2_authorization_code one reaches its endpoints, its client id and
// secret are accepted, and the caller's own linked account still
// refreshes. A refusal is a 200 with ok false and the reason: the request
// itself succeeded.
func handleCredentialTest(tester CredentialTester, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		if tester == nil {
			return fmt.Errorf("test credential %s of tenant %s: no tester is wired", name, id)
		}
		redirect := publicBase(c, baseURL) + linkCallbackPath
		res, err := tester.TestCredential(c.Request().Context(), id, name, caller(c).user.ID, redirect)
		if err != nil {
			return explain(fmt.Errorf("test credential %s of tenant %s: %w", name, id, err),
				tenant.ErrNotFound, "credential %s of tenant %s was not found", name, id)
		}
		return c.JSON(http.StatusOK, res)
	}
}
