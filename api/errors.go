package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant"
)

// apiError is an error the api layer itself decides (authentication, bad JSON,
// readiness). It is still turned into HTTP by handleError, so there is one
// place that writes error responses.
type apiError struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	// RetryAfter, in seconds, is sent as Retry-After with 429 and 503.
	RetryAfter int
}

func (e *apiError) Error() string { return e.Message }

// errUnauthenticated is returned for a missing, malformed or unknown API key.
// It deliberately does not say which, so keys cannot be probed.
var errUnauthenticated = &apiError{
	Status:  http.StatusUnauthorized,
	Code:    "unauthorized",
	Message: "a valid API key is required: send Authorization: Bearer pk_…, or log in with POST /api/v1/auth/login",
}

func forbidden(format string, args ...any) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf(format, args...)}
}

// explained wraps a domain error with a sentence for the client. It only
// applies when the error matches target, so a handler can say "token x was
// not found" without also relabelling a database outage.
type explained struct {
	target error
	msg    string
	err    error
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// explain attaches msg to err for the client when err matches target; any
// other error (including nil) is returned as it is.
func explain(err, target error, format string, args ...any) error {
	if err == nil || !errors.Is(err, target) {
		return err
	}
	return &explained{target: target, msg: fmt.Sprintf(format, args...), err: err}
}

// message returns the client sentence attached by explain for target, or def.
func message(err, target error, def string) string {
	var ex *explained
	for e := err; errors.As(e, &ex); e = ex.err {
		if ex.target == target {
			return ex.msg
		}
	}
	return def
}

// handleError is echo's HTTPErrorHandler: the one place errors become HTTP.
// Domain errors map by errors.Is/As; anything unrecognised is a 500 whose
// client message carries only the request id, while the error itself goes to
// the log, so internals and secrets stay server-side.
func handleError(log *slog.Logger, bodyLimit int64) func(error, echo.Context) {
	return func(err error, c echo.Context) {
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		if c.Response().Committed {
			log.Error("error after response started", "request_id", rid,
				"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			return
		}
		var oe *oauthError
		if errors.As(err, &oe) { // the OAuth endpoints answer in RFC 6749's shape
			if werr := writeOAuthError(c, oe); werr != nil {
				log.Error("write error response", "request_id", rid, "err", werr)
			}
			return
		}
		status, body := classify(err, bodyLimit)
		if status >= 500 && body.Code == "internal" {
			body.Message = fmt.Sprintf("internal error (request id %s)", rid)
			log.Error("request failed", "request_id", rid,
				"method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if body.Details == nil {
			body.Details = map[string]any{}
		}
		h := c.Response().Header()
		switch status {
		case http.StatusUnauthorized:
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="portico"`)
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			retry := 5
			var api *apiError
			if errors.As(err, &api) && api.RetryAfter > 0 {
				retry = api.RetryAfter
			}
			h.Set(echo.HeaderRetryAfter, strconv.Itoa(retry))
		}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(status)
		} else {
			werr = c.JSON(status, errorbody.New(body.Code, body.Message, body.Details))
		}
		if werr != nil {
			log.Error("write error response", "request_id", rid, "err", werr)
		}
	}
}

// activationStatus is the HTTP status of a failed activation or preview: the
// upstream's fault is 502, a busy replica 503 (Retry-After follows), the
// document's fault 422.
func activationStatus(ae *tenant.ActivationError) int {
	switch ae.Code {
	case "spec_unreachable":
		return http.StatusBadGateway
	case "converter_busy":
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// classify picks the status and client-facing body for err.
func classify(err error, bodyLimit int64) (int, errorbody.Payload) {
	var (
		api  *apiError
		inv  *tenant.InvalidError
		tr   *tenant.TransitionError
		act  *tenant.ActivationError
		he   *echo.HTTPError
		mbe  *http.MaxBytesError
		resp errorbody.Payload
	)
	switch {
	case errors.As(err, &api):
		return api.Status, errorbody.Payload{Code: api.Code, Message: api.Message, Details: api.Details}
	case errors.As(err, &mbe):
		return tooLarge(bodyLimit)
	case errors.As(err, &inv):
		fields := make([]tenant.FieldProblem, len(inv.Problems))
		copy(fields, inv.Problems)
		noun := "field is"
		if len(fields) != 1 {
			noun = "fields are"
		}
		resp = errorbody.Payload{
			Code:    "invalid_input",
			Message: fmt.Sprintf("%d %s invalid: %s", len(fields), noun, inv.Error()),
			Details: map[string]any{"fields": fields},
		}
		return http.StatusUnprocessableEntity, resp
	case errors.As(err, &tr):
		return http.StatusConflict, errorbody.Payload{
			Code:    "invalid_transition",
			Message: tr.Error(),
			Details: map[string]any{"from": tr.From, "to": tr.To},
		}
	case errors.As(err, &act):
		return activationStatus(act), errorbody.Payload{
			Code:    "activation_failed",
			Message: "the tenant could not be activated: " + act.Reason,
			Details: map[string]any{"code": act.Code, "field": act.Field, "reason": act.Reason},
		}
	case errors.Is(err, tenant.ErrInvalid): // the sentinel without field problems
		return http.StatusUnprocessableEntity, errorbody.Payload{Code: "invalid_input",
			Message: "the input is invalid", Details: map[string]any{"fields": []tenant.FieldProblem{}}}
	case errors.Is(err, tenant.ErrInvalidTransition):
		return http.StatusConflict, errorbody.Payload{Code: "invalid_transition",
			Message: "the tenant's current status does not allow this change"}
	case errors.Is(err, tenant.ErrActivation):
		return http.StatusUnprocessableEntity, errorbody.Payload{Code: "activation_failed",
			Message: "the tenant could not be activated; see its status_reason"}
	case errors.Is(err, tenant.ErrNotFound):
		return http.StatusNotFound, errorbody.Payload{Code: "not_found",
			Message: message(err, tenant.ErrNotFound, "the requested resource was not found")}
	case errors.Is(err, tenant.ErrConflict):
		return http.StatusConflict, errorbody.Payload{Code: "conflict",
			Message: message(err, tenant.ErrConflict, "the request conflicts with an existing resource")}
	case errors.Is(err, tenant.ErrUnavailable):
		return http.StatusServiceUnavailable, errorbody.Payload{Code: "database_unavailable",
			Message: "the database is unavailable; retry shortly"}
	case errors.As(err, &he):
		return fromEcho(he, bodyLimit)
	}
	return http.StatusInternalServerError, errorbody.Payload{Code: "internal"}
}

// fromEcho maps errors echo raises itself (no route, wrong method). Their
// Message is echo's own text, never user data, but we still write our own.
func fromEcho(he *echo.HTTPError, bodyLimit int64) (int, errorbody.Payload) {
	switch he.Code {
	case http.StatusNotFound:
		return he.Code, errorbody.Payload{Code: "route_not_found", Message: "no such endpoint; see /api/v1/openapi.json"}
	case http.StatusMethodNotAllowed:
		return he.Code, errorbody.Payload{Code: "method_not_allowed", Message: "this endpoint does not support the request method"}
	case http.StatusRequestEntityTooLarge:
		return tooLarge(bodyLimit)
	case http.StatusUnsupportedMediaType:
		return he.Code, errorbody.Payload{Code: "unsupported_media_type", Message: "send the request body as application/json"}
	}
	if he.Code >= 400 && he.Code < 500 {
		text := strings.ToLower(http.StatusText(he.Code))
		return he.Code, errorbody.Payload{Code: strings.ReplaceAll(text, " ", "_"), Message: text}
	}
	return http.StatusInternalServerError, errorbody.Payload{Code: "internal"}
}

func tooLarge(limit int64) (int, errorbody.Payload) {
	return http.StatusRequestEntityTooLarge, errorbody.Payload{
		Code:    "body_too_large",
		Message: fmt.Sprintf("request body is larger than the %s limit", byteSize(limit)),
		Details: map[string]any{"limit_bytes": limit},
	}
}

// byteSize writes n the way an operator would configure it: 1 MiB, 64 KiB, 100 bytes.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
