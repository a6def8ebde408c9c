package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
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
		c.Response().Header().Set(echo.HeaderXRequestID, EnsureRequestID(c.Request()))
		return next(c)
	}
}

// EnsureRequestID returns req's X-Request-Id, first replacing an absent or
// malformed one (set on req too) with 24 random hex digits. Every layer that
// needs the id (cmd's outer handler, which puts it in the logging context,
// and requestID here) gets it from this one function.
func EnsureRequestID(req *http.Request) string {
	id := req.Header.Get(echo.HeaderXRequestID)
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
		req.Header.Set(echo.HeaderXRequestID, id)
	}
	return id
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
// does), so fn sees the status the client got. A handler panic is reported
// as a 500 and passed on: recovering it, answering and logging the stack is
// the job of the one recovery layer around every handler (the server
// package's outer handler), not of each handler tree.
func observe(fn func(method, route string, status int, elapsed time.Duration)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			defer func() {
				if p := recover(); p != nil {
					if p != http.ErrAbortHandler {
						fn(c.Request().Method, observedRoute(c), http.StatusInternalServerError, time.Since(start))
					}
					panic(p)
				}
			}()
			if err := next(c); err != nil {
				c.Error(err)
			}
			fn(c.Request().Method, observedRoute(c), c.Response().Status, time.Since(start))
			return nil
		}
	}
}

// observedRoute is the route pattern a request matched, or "unmatched".
func observedRoute(c echo.Context) string {
	route := c.Path()
	if route == "" || c.Response().Status == http.StatusNotFound && strings.HasSuffix(route, "*") {
		return "unmatched"
	}
	return route
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

// withSource records the client address on the request context, so every
// audit row the request writes says where the change came from.
func withSource(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		c.SetRequest(req.WithContext(tenant.WithSource(req.Context(), c.RealIP())))
		return next(c)
	}
}
