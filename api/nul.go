package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// refuseNUL answers 400 naming the parameter when a path, query or form
// value holds a NUL byte or invalid UTF-8. PostgreSQL cannot store either
// in text, so left alone they became 500s (unauthenticated ones among them:
// sign-in, OAuth registration, token and revocation). JSON bodies are
// checked by decodeJSON.
func refuseNUL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/t/") {
			return next(c) // MCP endpoints read their own bodies
		}
		badText := badText
		if strings.HasPrefix(r.URL.Path, "/oauth/") {
			badText = badOAuthText
		}
		if bad(r.URL.Path) {
			return badText("path", "the URL path")
		}
		for k, vs := range r.URL.Query() {
			if bad(k) {
				return badText("query", "a query parameter name")
			}
			for _, v := range vs {
				if bad(v) {
					return badText(k, "query parameter "+fmt.Sprintf("%q", k))
				}
			}
		}
		// Only the OAuth endpoints take forms. Elsewhere the body is JSON
		// whatever the Content-Type says (curl -d sends form-urlencoded),
		// so it must be left for decodeJSON, not consumed by ParseForm.
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/oauth/") {
			if err := r.ParseForm(); err == nil {
				for k, vs := range r.PostForm {
					if bad(k) {
						return badText("form", "a form field name")
					}
					for _, v := range vs {
						if bad(v) {
							return badText(k, "form field "+fmt.Sprintf("%q", k))
						}
					}
				}
			}
		}
		return next(c)
	}
}

func bad(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }

func badText(field, what string) error {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request",
		Message: what + " holds a NUL byte or invalid UTF-8; send text without control character U+0000",
		Details: map[string]any{"field": field}}
}

// badOAuthText is badText in RFC 6749's error shape, for the OAuth routes.
func badOAuthText(field, what string) error {
	return oauthErr("invalid_request", "%s: %s holds a NUL byte or invalid UTF-8", field, what)
}

// nulField returns the JSON path of the first string in body (member names
// included) that holds U+0000, or "" when none does.
func nulField(body []byte) string {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return findNUL(v, "")
}

func findNUL(v any, at string) string {
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			if at == "" {
				return "(body)"
			}
			return at
		}
	case map[string]any:
		for k, e := range v {
			p := k
			if at != "" {
				p = at + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p
			}
			if f := findNUL(e, p); f != "" {
				return f
			}
		}
	case []any:
		for i, e := range v {
			if f := findNUL(e, fmt.Sprintf("%s[%d]", at, i)); f != "" {
				return f
			}
		}
	}
	return ""
}
