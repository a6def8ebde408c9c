package api

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// crossOrigin refuses requests a browser marks as coming from another site
// (Sec-Fetch-Site, else an Origin whose host is not the request's).
var crossOrigin = http.NewCrossOriginProtection()

// sameOriginJSON guards routes that issue the session cookie against login
// CSRF, where a hostile page signs its visitor into the attacker's account:
// the body must be JSON, which a cross-site form or text/plain fetch cannot
// send without a preflight, and a browser's request must come from
// Portico's own origin. Clients that are not browsers send neither
// Sec-Fetch-Site nor Origin and are unaffected.
func sameOriginJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: "send the sign-in as JSON with Content-Type: application/json",
				Details: map[string]any{"field": "Content-Type"}}
		}
		if err := crossOrigin.Check(r); err != nil {
			return forbidden("sign-in is accepted only from Portico's own pages (cross-origin request refused)")
		}
		return next(c)
	}
}
