package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// requestID gives every response an X-Request-Id so a client can quote it
// and an operator can find the matching log line. A well-formed id from a
// proxy is kept so one id follows the request end to end.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// observe reports each request to fn once its response is decided. Errors
// are handed to the error handler here (as echo's own logger middleware
// does), so fn sees the status the client got.
func observe(fn func(method, route string, status int, elapsed time.Duration)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" || c.Response().Status == http.StatusNotFound && strings.HasSuffix(route, "*") {
				route = "unmatched"
			}
			fn(c.Request().Method, route, c.Response().Status, time.Since(start))
			return nil
		}
	}
}

// recoverPanic turns a handler panic into an ordinary error so the client
// gets the generic 500 and the stack goes only to the log.
func recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

// limitBody caps the request body. Content-Length is checked up front; a
// chunked body fails when the decoder reads past the limit (*http.MaxBytesError).
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return &http.MaxBytesError{Limit: limit}
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			return next(c)
		}
	}
}

// keyVerifier resolves an API key secret to the key it belongs to.
type keyVerifier interface {
	VerifyAPIKey(ctx context.Context, secret string) (tenant.APIKey, error)
}

const callerKey = "portico.apikey"

// authenticate requires a valid API key and enforces its scope: reads need
// read (or write), everything else needs write. Which tenants the key may
// touch is checked per route by ownTenant and adminOnly.
func authenticate(keys keyVerifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			scheme, secret, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
			secret = strings.TrimSpace(secret)
			// Only pk_ secrets reach the store: an MCP token sent here by
			// mistake is refused without a lookup.
			if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, "pk_") {
				return errUnauthenticated
			}
			key, err := keys.VerifyAPIKey(c.Request().Context(), secret)
			if errors.Is(err, tenant.ErrNotFound) {
				return errUnauthenticated
			}
			if err != nil {
				return fmt.Errorf("verify api key: %w", err)
			}
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				if !key.HasScope(tenant.ScopeRead) && !key.HasScope(tenant.ScopeWrite) {
					return forbidden("this API key lacks the read scope")
				}
			default:
				if !key.HasScope(tenant.ScopeWrite) {
					return forbidden("this API key is read-only; changes need a key with the write scope")
				}
			}
			c.Set(callerKey, key)
			return next(c)
		}
	}
}

// caller is the API key that authenticated the request.
func caller(c echo.Context) tenant.APIKey {
	k, _ := c.Get(callerKey).(tenant.APIKey)
	return k
}

// actor names the caller in the audit log.
func actor(c echo.Context) string { return "apikey:" + caller(c).ID }

// ownTenant confines tenant keys to their own tenant. Another tenant's id
// gets the same 404 as an unknown one, so ids cannot be probed for existence.
func ownTenant(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		k, id := caller(c), c.Param("id")
		if !k.Admin() && k.TenantID != id {
			return tenantNotFound(id)
		}
		return next(c)
	}
}

// adminOnly guards what only an operator may do: create tenants, manage admin keys.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !caller(c).Admin() {
			return forbidden("this needs an admin API key; tenant keys manage only their own tenant")
		}
		return next(c)
	}
}

func tenantNotFound(id string) error {
	return explain(tenant.ErrNotFound, tenant.ErrNotFound, "tenant %s was not found", id)
}
