package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type errorResponse struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func decodeError(t *testing.T, body string) errorResponse {
	t.Helper()
	var e errorResponse
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q is not the error envelope: %v", body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" || e.Error.Details == nil {
		t.Fatalf("error body %q lacks code, message or details", body)
	}
	return e
}

// fieldsOf lists details.fields[].field of an invalid_input error.
func fieldsOf(e errorResponse) []string {
	var out []string
	fs, _ := e.Error.Details["fields"].([]any)
	for _, f := range fs {
		m, _ := f.(map[string]any)
		s, _ := m["field"].(string)
		out = append(out, s)
	}
	return out
}

func storeErr(err error) *fakeStore {
	return &fakeStore{
		TenantFn:       func(context.Context, string) (*tenant.Tenant, error) { return nil, err },
		CreateTenantFn: func(context.Context, *tenant.Tenant, string) error { return err },
		CredentialsFn:  func(context.Context, string) ([]tenant.Credential, error) { return nil, err },
	}
}

func TestErrors(t *testing.T) {
	const createPath = "/api/v1/tenants"
	tests := []struct {
		name       string
		method     string
		path       string
		key        string
		body       string
		store      *fakeStore
		rt         *fakeRuntime
		wantStatus int
		wantCode   string
		wantMsg    string   // substring of the message
		wantFields []string // details.fields[].field for invalid_input
		wantField  string   // details.field for bad_json
		wantHeader [2]string
	}{
		// Bad input.
		{name: "missing fields", method: "POST", path: createPath, key: adminKey, body: `{}`,
			wantStatus: 422, wantCode: "invalid_input", wantMsg: "name is required", wantFields: []string{"name", "base_url"}},
		{name: "non-http base_url", method: "POST", path: createPath, key: adminKey, body: `{"name":"x","base_url":"ftp://x.example"}`,
			wantStatus: 422, wantCode: "invalid_input", wantMsg: "must start with http:// or https://", wantFields: []string{"base_url"}},
		{name: "relative spec_url", method: "POST", path: createPath, key: adminKey, body: `{"name":"x","base_url":"https://x.example","spec_url":"/openapi.json"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"spec_url"}},
		{name: "bad settings", method: "POST", path: createPath, key: adminKey,
			body:       `{"name":"x","base_url":"https://x.example","settings":{"route_maps":[{"mcp_type":"nope"}],"max_concurrency":-1}}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"settings.route_maps[0].mcp_type", "settings.max_concurrency"}},
		{name: "wrong type", method: "POST", path: createPath, key: adminKey, body: `{"name":123,"base_url":"https://x.example"}`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: `field "name" must be a string, not a number`, wantField: "name"},
		{name: "wrong nested type", method: "POST", path: createPath, key: adminKey,
			body:       `{"name":"x","base_url":"https://x.example","settings":{"upstream_timeout_ms":"soon"}}`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "must be an integer, not a string", wantField: "settings.upstream_timeout_ms"},
		{name: "unknown field", method: "POST", path: createPath, key: adminKey, body: `{"name":"x","base_url":"https://x.example","colour":"red"}`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: `field "colour" is not allowed`, wantField: "colour"},
		{name: "malformed JSON", method: "POST", path: createPath, key: adminKey, body: `{"name":`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "ends in the middle"},
		{name: "syntax error", method: "POST", path: createPath, key: adminKey, body: `{"name" "x"}`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "not valid JSON"},
		{name: "empty body", method: "POST", path: createPath, key: adminKey,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "empty"},
		{name: "array body", method: "POST", path: createPath, key: adminKey, body: `[]`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "must be a JSON object, not an array"},
		{name: "trailing data", method: "POST", path: createPath, key: adminKey, body: `{"name":"x","base_url":"https://x.example"} {}`,
			wantStatus: 400, wantCode: "bad_json", wantMsg: "exactly one JSON object"},
		{name: "empty patch", method: "PATCH", path: "/api/v1/tenants/t1", key: adminKey, body: `{}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"body"}},
		{name: "patch bad base_url", method: "PATCH", path: "/api/v1/tenants/t1", key: adminKey, body: `{"base_url":"javascript:alert(1)"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"base_url"}},
		{name: "bad status filter", method: "GET", path: "/api/v1/tenants?status=sleepy", key: adminKey,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"status"}},
		{name: "bad audit limit", method: "GET", path: "/api/v1/tenants/t1/audit?limit=abc", key: adminKey,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"limit"}},
		{name: "credential without type", method: "PUT", path: "/api/v1/tenants/t1/credentials/up", key: adminKey, body: `{"value":"v"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"type"}},
		{name: "credential bad name", method: "PUT", path: "/api/v1/tenants/t1/credentials/b%20d", key: adminKey, body: `{"type":"bearer","value":"v"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"name"}},
		{name: "token expiry in the past", method: "POST", path: "/api/v1/tenants/t1/tokens", key: adminKey, body: `{"name":"a","expires_at":"2001-01-01T00:00:00Z"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"expires_at"}},
		{name: "token expiry not a time", method: "POST", path: "/api/v1/tenants/t1/tokens", key: adminKey, body: `{"name":"a","expires_at":"tomorrow"}`,
			wantStatus: 422, wantCode: "invalid_input", wantMsg: "RFC 3339", wantFields: []string{"expires_at"}},
		{name: "token expiry wrong type", method: "POST", path: "/api/v1/tenants/t1/tokens", key: adminKey, body: `{"name":"a","expires_at":17}`,
			wantStatus: 400, wantCode: "bad_json", wantField: "expires_at"},
		{name: "api key bad scope", method: "POST", path: "/api/v1/tenants/t1/api-keys", key: adminKey, body: `{"name":"a","scopes":["root"]}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"scopes[0]"}},
		{name: "api key no scopes", method: "POST", path: "/api/v1/tenants/t1/api-keys", key: adminKey, body: `{"name":"a"}`,
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"scopes"}},

		// Path ids cannot be overridden by the body: DTOs carry no id, so it is unknown.
		{name: "body id on patch", method: "PATCH", path: "/api/v1/tenants/t1", key: t1Key, body: `{"id":"t2","name":"x"}`,
			wantStatus: 400, wantCode: "bad_json", wantField: "id"},
		{name: "body tenant_id on token", method: "POST", path: "/api/v1/tenants/t1/tokens", key: t1Key, body: `{"name":"x","tenant_id":"t2"}`,
			wantStatus: 400, wantCode: "bad_json", wantField: "tenant_id"},
		{name: "body name on credential", method: "PUT", path: "/api/v1/tenants/t1/credentials/a", key: t1Key, body: `{"name":"b","type":"bearer","value":"v"}`,
			wantStatus: 400, wantCode: "bad_json", wantField: "name"},

		// Domain errors.
		{name: "unknown tenant", method: "GET", path: "/api/v1/tenants/nope", key: adminKey, store: storeErr(fmt.Errorf("query: %w", tenant.ErrNotFound)),
			wantStatus: 404, wantCode: "not_found", wantMsg: "tenant nope was not found"},
		{name: "credentials of unknown tenant", method: "GET", path: "/api/v1/tenants/nope/credentials", key: adminKey, store: storeErr(tenant.ErrNotFound),
			wantStatus: 404, wantCode: "not_found", wantMsg: "tenant nope was not found"},
		{name: "duplicate tenant", method: "POST", path: createPath, key: adminKey, body: `{"name":"Pets","base_url":"https://x.example"}`,
			store: storeErr(tenant.ErrConflict), wantStatus: 409, wantCode: "conflict", wantMsg: `"Pets" already exists`},
		{name: "database down", method: "GET", path: "/api/v1/tenants/t1", key: adminKey, store: storeErr(tenant.ErrUnavailable),
			wantStatus: 503, wantCode: "database_unavailable", wantHeader: [2]string{"Retry-After", "5"}},
		{name: "store invalid", method: "POST", path: createPath, key: adminKey, body: `{"name":"Pets","base_url":"https://x.example"}`,
			store:      storeErr(&tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "base_url", Problem: "resolves to a private address"}}}),
			wantStatus: 422, wantCode: "invalid_input", wantFields: []string{"base_url"}},
		{name: "invalid transition", method: "POST", path: "/api/v1/tenants/t1/activate", key: adminKey,
			rt: &fakeRuntime{ActivateFn: func(context.Context, string, string) (*tenant.Tenant, error) {
				return nil, fmt.Errorf("activate: %w", &tenant.TransitionError{From: tenant.StatusActive, To: tenant.StatusActive})
			}},
			wantStatus: 409, wantCode: "invalid_transition", wantMsg: "tenant is active and cannot become active"},
		{name: "activation: spec unreachable", method: "POST", path: "/api/v1/tenants/t1/activate", key: adminKey,
			rt: &fakeRuntime{ActivateFn: func(context.Context, string, string) (*tenant.Tenant, error) {
				return nil, &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url", Reason: "GET https://x.example/openapi.json: connection refused"}
			}},
			wantStatus: 502, wantCode: "activation_failed", wantMsg: "connection refused"},
		{name: "activation: spec invalid", method: "POST", path: "/api/v1/tenants/t1/activate", key: adminKey,
			rt: &fakeRuntime{ActivateFn: func(context.Context, string, string) (*tenant.Tenant, error) {
				return nil, &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url", Reason: "the document is not OpenAPI"}
			}},
			wantStatus: 422, wantCode: "activation_failed", wantMsg: "not OpenAPI"},
		{name: "tools of inactive tenant", method: "GET", path: "/api/v1/tenants/t1/tools", key: adminKey,
			rt:         &fakeRuntime{ToolsFn: func(context.Context, string) ([]tenant.Tool, error) { return nil, tenant.ErrNotFound }},
			wantStatus: 404, wantCode: "not_found", wantMsg: "tenant t1 is not active"},
		{name: "unknown token", method: "DELETE", path: "/api/v1/tenants/t1/tokens/x", key: adminKey,
			store:      &fakeStore{RevokeTokenFn: func(context.Context, string, string, string) error { return tenant.ErrNotFound }},
			wantStatus: 404, wantCode: "not_found", wantMsg: "token x of tenant t1 was not found"},
		{name: "internal error hides details", method: "GET", path: "/api/v1/tenants/t1", key: adminKey,
			store:      storeErr(fmt.Errorf("dial postgres://portico:hunter2@db/portico: boom")),
			wantStatus: 500, wantCode: "internal", wantMsg: "internal error (request id "},

		// Auth.
		{name: "no key", method: "GET", path: "/api/v1/tenants", wantStatus: 401, wantCode: "unauthorized",
			wantHeader: [2]string{"WWW-Authenticate", `Bearer realm="portico"`}},
		{name: "unknown key", method: "GET", path: "/api/v1/tenants", key: "pk_nope", wantStatus: 401, wantCode: "unauthorized",
			wantHeader: [2]string{"WWW-Authenticate", `Bearer realm="portico"`}},
		{name: "not an api key", method: "GET", path: "/api/v1/tenants", key: "mcp_token", wantStatus: 401, wantCode: "unauthorized"},
		{name: "tenant key on another tenant", method: "GET", path: "/api/v1/tenants/t2", key: t1Key,
			wantStatus: 404, wantCode: "not_found", wantMsg: "tenant t2 was not found"},
		{name: "tenant key on another tenant's credentials", method: "PUT", path: "/api/v1/tenants/t2/credentials/a", key: t1Key,
			body: `{"type":"bearer","value":"v"}`, wantStatus: 404, wantCode: "not_found"},
		{name: "read-only key mutation", method: "POST", path: "/api/v1/tenants/t1/activate", key: t1ReadKey,
			wantStatus: 403, wantCode: "forbidden", wantMsg: "write scope"},
		{name: "read-only admin key mutation", method: "DELETE", path: "/api/v1/tenants/t1", key: adminReadOK,
			wantStatus: 403, wantCode: "forbidden"},
		{name: "tenant key cannot create tenants", method: "POST", path: createPath, key: t1Key, body: `{"name":"x","base_url":"https://x.example"}`,
			wantStatus: 403, wantCode: "forbidden", wantMsg: "admin API key"},
		{name: "tenant key cannot create admin keys", method: "POST", path: "/api/v1/api-keys", key: t1Key, body: `{"name":"x","scopes":["write"]}`,
			wantStatus: 403, wantCode: "forbidden"},
		{name: "tenant key cannot list admin keys", method: "GET", path: "/api/v1/api-keys", key: t1Key,
			wantStatus: 403, wantCode: "forbidden"},
		{name: "key check fails on outage", method: "GET", path: "/api/v1/tenants", key: adminKey,
			store: &fakeStore{VerifyAPIKeyFn: func(context.Context, string) (tenant.APIKey, error) {
				return tenant.APIKey{}, tenant.ErrUnavailable
			}},
			wantStatus: 503, wantCode: "database_unavailable"},

		// Router.
		{name: "no such route", method: "GET", path: "/nope", wantStatus: 404, wantCode: "route_not_found"},
		{name: "no such api route", method: "GET", path: "/api/v1/nope", wantStatus: 404, wantCode: "route_not_found"},
		{name: "no such tenant sub-route", method: "GET", path: "/api/v1/tenants/t1/nope", key: adminKey, wantStatus: 404, wantCode: "route_not_found"},
		{name: "wrong method", method: "PUT", path: "/api/v1/tenants", key: adminKey, wantStatus: 405, wantCode: "method_not_allowed"},
		{name: "not ready", method: "GET", path: "/readyz",
			store:      &fakeStore{PingFn: func(context.Context) error { return tenant.ErrUnavailable }},
			wantStatus: 503, wantCode: "not_ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, newTestServer(t, tt.store, tt.rt), tt.method, tt.path, tt.key, tt.body)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			e := decodeError(t, w.Body.String())
			if e.Error.Code != tt.wantCode {
				t.Errorf("code = %q, want %q (message %q)", e.Error.Code, tt.wantCode, e.Error.Message)
			}
			if !strings.Contains(e.Error.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", e.Error.Message, tt.wantMsg)
			}
			if tt.wantFields != nil {
				if diff := cmp.Diff(tt.wantFields, fieldsOf(e)); diff != "" {
					t.Errorf("details.fields (-want +got):\n%s", diff)
				}
			}
			if tt.wantField != "" && e.Error.Details["field"] != tt.wantField {
				t.Errorf("details.field = %v, want %q (message %q)", e.Error.Details["field"], tt.wantField, e.Error.Message)
			}
			if h := tt.wantHeader; h[0] != "" && w.Header().Get(h[0]) != h[1] {
				t.Errorf("header %s = %q, want %q", h[0], w.Header().Get(h[0]), h[1])
			}
			for _, leak := range []string{"hunter2", "postgres://", "goroutine", ".go:", "fake:"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body leaks %q: %s", leak, w.Body)
				}
			}
		})
	}
}

func TestActivationErrorDetails(t *testing.T) {
	rt := &fakeRuntime{ActivateFn: func(context.Context, string, string) (*tenant.Tenant, error) {
		return nil, &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url", Reason: "timed out"}
	}}
	w := do(t, newTestServer(t, nil, rt), "POST", "/api/v1/tenants/t1/activate", adminKey, "")
	want := map[string]any{"code": "spec_unreachable", "field": "spec_url", "reason": "timed out"}
	if diff := cmp.Diff(want, decodeError(t, w.Body.String()).Error.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}

func TestBodyLimit(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", DefaultBodyLimit) + `","base_url":"https://x.example"}`
	st := &fakeStore{CreateTenantFn: func(context.Context, *tenant.Tenant, string) error {
		return fmt.Errorf("fake: oversized body reached the store")
	}}
	h := newTestServer(t, st, nil)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v1/tenants", strings.NewReader(big))
			req.Header.Set("Authorization", "Bearer "+adminKey)
			if chunked {
				req.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413; body %.200s", w.Code, w.Body)
			}
			e := decodeError(t, w.Body.String())
			if e.Error.Code != "body_too_large" || !strings.Contains(e.Error.Message, "1 MiB") {
				t.Errorf("error = %+v, want body_too_large naming 1 MiB", e.Error)
			}
		})
	}
}

// TestPanicPassesThroughObserved: a handler panic is not answered inside
// api (the one recovery layer is the server's outer handler, which
// TestPanicIsRecoveredAndLogged covers); api counts it as a 500 on its
// route and passes it on with its value.
func TestPanicPassesThroughObserved(t *testing.T) {
	var route string
	var status int
	h := New(Options{
		Store:   &fakeStore{TenantFn: func(context.Context, string) (*tenant.Tenant, error) { panic("secret-in-panic") }},
		Runtime: &fakeRuntime{}, Logger: slog.New(slog.DiscardHandler),
		Observe: func(_, r string, s int, _ time.Duration) { route, status = r, s },
	}).Handler()
	var got any
	func() {
		defer func() { got = recover() }()
		do(t, h, "GET", "/api/v1/tenants/t1", adminKey, "")
	}()
	if got != "secret-in-panic" {
		t.Errorf("recovered %v, want the handler's panic passed on", got)
	}
	if route != "/api/v1/tenants/:id" || status != 500 {
		t.Errorf("observed %q %d, want /api/v1/tenants/:id 500", route, status)
	}
}

// TestCredentialValueNeverEchoed sends a recognisable value through every
// credential path, including failures, and looks for it in each response.
func TestCredentialValueNeverEchoed(t *testing.T) {
	const value = "VALUE-5f3a9c-DO-NOT-ECHO"
	tests := []struct {
		name  string
		body  string
		store *fakeStore
		rt    *fakeRuntime
	}{
		{name: "stored", body: `{"type":"bearer","value":"` + value + `"}`,
			store: &fakeStore{PutCredentialFn: func(context.Context, string, tenant.Credential, string, string) error { return nil }}},
		{name: "invalid for basic", body: `{"type":"basic","value":"` + value + `"}`},
		{name: "invalid type", body: `{"type":"magic","value":"` + value + `"}`},
		{name: "wrong type for header", body: `{"type":"header","header":42,"value":"` + value + `"}`},
		{name: "unknown field", body: `{"type":"bearer","value":"` + value + `","extra":"` + value + `"}`},
		{name: "store fails quoting it", body: `{"type":"bearer","value":"` + value + `"}`,
			store: &fakeStore{PutCredentialFn: func(_ context.Context, _ string, _ tenant.Credential, v, _ string) error {
				return fmt.Errorf("encrypt %q: boom", v)
			}}},
		{name: "reload fails", body: `{"type":"bearer","value":"` + value + `"}`,
			store: &fakeStore{PutCredentialFn: func(context.Context, string, tenant.Credential, string, string) error { return nil }},
			rt: &fakeRuntime{ReloadFn: func(context.Context, string) error {
				return &tenant.ActivationError{Code: "credentials_unreadable", Reason: "cannot decrypt"}
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, newTestServer(t, tt.store, tt.rt), "PUT", "/api/v1/tenants/t1/credentials/up", t1Key, tt.body)
			if w.Code == 200 || w.Code == 201 {
				t.Errorf("status = %d; a credential write never returns a body", w.Code)
			}
			if strings.Contains(w.Body.String(), value) || strings.Contains(fmt.Sprint(w.Header()), value) {
				t.Errorf("response echoes the credential value: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestBareSentinels covers stores or runtimes that return a sentinel
// without its carrier type: the status must still be right.
func TestBareSentinels(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"invalid", tenant.ErrInvalid, 422, "invalid_input"},
		{"transition", tenant.ErrInvalidTransition, 409, "invalid_transition"},
		{"activation", fmt.Errorf("x: %w", tenant.ErrActivation), 422, "activation_failed"},
		{"conflict", tenant.ErrConflict, 409, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &fakeRuntime{ActivateFn: func(context.Context, string, string) (*tenant.Tenant, error) { return nil, tt.err }}
			w := do(t, newTestServer(t, nil, rt), "POST", "/api/v1/tenants/t1/activate", adminKey, "")
			e := decodeError(t, w.Body.String())
			if w.Code != tt.wantStatus || e.Error.Code != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", w.Code, e.Error.Code, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestReloadFailureAfterSaveIsReported(t *testing.T) {
	st := &fakeStore{UpdateTenantFn: func(context.Context, string, tenant.TenantPatch, string) (*tenant.Tenant, error) {
		return cloneT1(), nil
	}}
	rt := &fakeRuntime{ReloadFn: func(context.Context, string) error {
		return &tenant.ActivationError{Code: "spec_unreachable", Field: "spec_url", Reason: "connection refused"}
	}}
	w := do(t, newTestServer(t, st, rt), "PATCH", "/api/v1/tenants/t1", adminKey, `{"spec_url":"https://y.example/openapi.json"}`)
	if w.Code != http.StatusBadGateway || decodeError(t, w.Body.String()).Error.Code != "activation_failed" {
		t.Errorf("got %d %s, want 502 activation_failed", w.Code, w.Body)
	}
}

// TestJSONIsNotHTMLEscaped: "<", ">" and "&" in a JSON response stay as
// written (they are common in descriptions and URLs).
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	e := echo.New()
	e.JSONSerializer = plainJSON{}
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest("GET", "/", nil), rec)
	if err := c.JSON(200, map[string]string{"url": "https://x.example/?a=1&b=<2>"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"url":"https://x.example/?a=1&b=<2>"}` {
		t.Errorf("body = %s", got)
	}
}
