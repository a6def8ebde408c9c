package openapi

import "strings"

// An operation's header parameters become x-mcp-header properties (the
// 2026-07-28 draft, SEP-2243): a client mirrors the argument into an
// Mcp-Param-<header> request header, so intermediaries can route on it
// without reading the body, and the server checks that header against the
// arguments (the SDK does, with HTTP 400 and -32020 on a mismatch; see
// Operation.registered and the fast path's fallback). Only what the draft
// allows is annotated: a property whose own type is string, integer or
// boolean, a header name that is an HTTP token, each name once (ignoring
// case). Headers named like credentials are left alone: Mcp-Param-*
// headers are seen, and often logged, by every proxy on the way.

// mcpHeaderNames tracks the names already annotated in one input schema.
type mcpHeaderNames map[string]bool

// annotate marks so, the property of header parameter name, with
// x-mcp-header when the draft allows it.
func (seen mcpHeaderNames) annotate(so *object, name string) {
	t, _ := so.get("type")
	switch t {
	case "string", "integer", "boolean":
	default:
		return // number, arrays, objects, type lists and $refs are not allowed or not known
	}
	lower := strings.ToLower(name)
	if name == "" || seen[lower] || credentialHeader(lower) {
		return
	}
	for _, c := range name {
		if !isTokenChar(c) {
			return
		}
	}
	seen[lower] = true
	so.set("x-mcp-header", name)
}

// credentialHeader reports whether a lower-case header name looks like it
// carries a secret.
func credentialHeader(lower string) bool {
	if lower == "authorization" || lower == "cookie" || lower == "proxy-authorization" {
		return true
	}
	for _, w := range []string{"token", "secret", "password", "api-key", "apikey", "api_key", "auth"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// isTokenChar reports whether c is an HTTP token character (RFC 9110 tchar).
func isTokenChar(c rune) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", c)
}
