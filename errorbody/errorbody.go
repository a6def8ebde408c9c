// Package errorbody is Portico's one error shape,
//
//	{"error": {"code": "…", "message": "…", "details": {…}}}
//
// written alike by the REST API, the tenant MCP endpoints (HTTP-level
// refusals: tokens, Origin, toolsets), Portico's own /mcp, /metrics and the
// panic recovery: a client parses every error of every surface one way.
// code is a stable machine-readable word, message says what was wrong and
// what to do, details (never null) carries the fields. It imports only the
// standard library, so every package may use it.
package errorbody

import (
	"encoding/json"
	"net/http"
)

// Body is an error response.
type Body struct {
	Error Payload `json:"error"`
}

// Payload is the error itself.
type Payload struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// New is the body of an error; nil details are sent as {}.
func New(code, message string, details map[string]any) Body {
	if details == nil {
		details = map[string]any{}
	}
	return Body{Payload{Code: code, Message: message, Details: details}}
}

// Write sends the error as JSON with status. Characters such as < and &
// are written as they are (the body is JSON, never inlined into a page).
func Write(w http.ResponseWriter, status int, code, message string, details map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(New(code, message, details))
}
