// Package api is Portico's HTTP front door: the REST API v1 that tenant
// admins and automation use to register services, manage credentials and
// tokens and drive the tenant lifecycle, plus the mounting point for the MCP
// data plane and the health probes.
//
// It depends on the tenant domain and on echo v4 only. The store and the MCP
// runtime are reached through small interfaces declared here, so cmd can wire
// the real ones and tests can use tiny fakes. Echo stays unexported so a later
// move to echo v5 touches this package alone.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// Store is every store method the API calls. *tenant.Store satisfies it
// (cmd asserts that at compile time);
// each handler takes only the one- or two-method slice of it that it uses.
type Store interface {
	tenantCreator
	tenantGetter
	tenantLister
	tenantUpdater
	tenantDeleter
	credentialPutter
	credentialLister
	credentialDeleter
	promptStore
	toolsetStore
	tokenCreator
	tokenLister
	tokenRevoker
	oauthGrantManager
	apiKeyCreator
	apiKeyLister
	apiKeyRevoker
	auditReader
	pinger
	authStore
	roleGetter
	loginer
	membershipLister
	userManager
	memberManager
	userKeyManager
}

// Runtime is the part of the MCP bridge the API drives: the tenant lifespan
// (activate, deactivate), the live tool list and re-applying changed
// settings or credentials. cmd wires the bridge in; api never imports it.
type Runtime interface {
	activator
	deactivator
	toolLister
	reloader
	toolsetRuntime
}

// Options configure a Server. Store and Runtime are required.
type Options struct {
	Store   Store
	Runtime Runtime

	// Spec serves the spec cache routes (/tenants/{id}/spec/...). Nil means
	// Runtime, when it implements Spec.
	Spec Spec

	// Calls serves the call history routes (GET /tenants/{id}/calls,
	// /tenants/{id}/usage, /usage) from the fleet-wide history. Nil means
	// Store, when it implements Calls; else the routes answer with empty
	// lists.
	Calls Calls

	// Progress serves GET /tenants/{id}/progress: where a running activation
	// or spec refresh stands, whichever replica runs it. Nil answers none.
	Progress ProgressReader

	// MCP serves the tenant data plane; it is mounted at /t/{id}/mcp and
	// /t/{id}/mcp/{toolset} for every method (Streamable HTTP uses GET,
	// POST and DELETE). Nil leaves it out.
	MCP http.Handler
	// ResourceMetadata serves each tenant endpoint's RFC 9728 protected
	// resource metadata, /.well-known/oauth-protected-resource/t/{id}/mcp
	// (and a toolset's). Nil leaves it out.
	ResourceMetadata http.Handler
	// SelfMCP serves Portico's own MCP server at /mcp. Nil leaves it out.
	SelfMCP http.Handler
	// Metrics serves /metrics. Nil leaves it out.
	Metrics http.Handler
	// Dashboard serves the web dashboard at DashboardPaths. Nil leaves it out.
	Dashboard      http.Handler
	DashboardPaths []string

	// Ready backs /readyz. Nil means "the database answers" (Store.Ping).
	Ready func(ctx context.Context) error

	// ReadyChecks, when set, back /readyz instead of Ready: every check runs
	// and the response names each one's state; /readyz?exclude=NAME skips
	// one, as Kubernetes' own /readyz does.
	ReadyChecks []ReadyCheck

	// Observe, when set, is told about every finished request with its
	// route pattern (e.g. /api/v1/tenants/:id), for metrics. It must not
	// block. It never wraps the response writer, so streams keep flushing.
	Observe func(method, route string, status int, elapsed time.Duration)

	// Logger receives request failures with their request id. Nil discards.
	Logger *slog.Logger

	// Schemas are the JSON Schemas published, public, at
	// /api/v1/schemas/{name} (e.g. portico.yaml.json, the configuration
	// file's). Nil publishes none.
	Schemas map[string][]byte

	// BaseURL is Portico's public URL, used to build each tenant's mcp_url.
	// Empty means "derive it from the request", which is only right when no
	// proxy rewrites the host or scheme.
	BaseURL string

	// Previewer backs POST /api/v1/preview (the dashboard's preview of what
	// a spec becomes). Nil answers 501.
	Previewer previewer

	// ToolPreviewer backs POST /api/v1/tenants/{id}/preview (the tool
	// editor's live preview). Nil answers 501.
	ToolPreviewer toolPreviewer

	// BodyLimit caps /api/v1 request bodies in bytes; 0 means 1 MiB.
	BodyLimit int64

	// CredentialTester serves POST /tenants/{id}/credentials/{name}/test.
	// Nil means Runtime, when it implements CredentialTester.
	CredentialTester CredentialTester

	// JWKS, when set, lists the public keys that sign identity assertions
	// (JWKs), served at /.well-known/jwks.json.
	JWKS func(ctx context.Context) ([]json.RawMessage, error)
	// CheckUpstream, when set, vets a base_url or spec_url before it is
	// stored; an error (an internal address, say) refuses the registration
	// as invalid input naming the field.
	CheckUpstream func(ctx context.Context, rawURL string) error

	// CallerRate limits each API key or session, TenantRate each tenant's
	// routes (counted after the caller is authorized for that tenant),
	// LoginRate sign-in attempts per client address and per email. Zero
	// values mean no limit.
	CallerRate, TenantRate, LoginRate tenant.RateLimit
	// Limiter enforces them across the fleet; nil means buckets local to
	// this process.
	Limiter *tenant.Limiter

	// SessionTTL is how long a dashboard login lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// InsecureCookies drops Secure from the session cookie, for plain-http
	// local runs only (portico dev on localhost).
	InsecureCookies bool
	// OAuth, when set, makes Portico the OAuth 2.1 authorization server of
	// every tenant's MCP endpoint: /.well-known/oauth-authorization-server
	// and /oauth/{authorize,token,register,revoke} (see oauth.go).
	OAuth *OAuthOptions

	// Link, when set, lets users link their own upstream accounts for
	// credentials of type oauth2_authorization_code (linked.go):
	// /tenants/{id}/connected-accounts, /tenants/{id}/linked-accounts and
	// the providers' callback /oauth/link/callback.
	Link *LinkOptions

	// TrustProxy takes the client address from X-Forwarded-For (the audit
	// log's "from where"); set it only behind a proxy that sets the header.
	TrustProxy bool

	// FailureThrottle, when set, refuses (429) clients whose API keys or
	// OAuth codes / refresh tokens have failed too often; cmd shares it with
	// the MCP endpoint so one source has one budget. Nil throttles nothing.
	// Failed sign-ins are throttled at LoginRate per source and per (email,
	// source) regardless.
	FailureThrottle *FailureThrottle
}

// DefaultBodyLimit is the /api/v1 request body cap when Options.BodyLimit is 0.
// Every API body is a small JSON object; the cap stops a client from making
// the decoder buffer megabytes.
const DefaultBodyLimit = 1 << 20

// Server is the HTTP surface. Build it with New, serve Handler.
type Server struct {
	e      *echo.Echo
	limits *rateLimits
}

// TenantChanged drops what the server caches of tenant c.TenantID (its REST
// rate limits), so a settings change made on another replica applies here
// too. With Resync it makes Server a tenant.Listener; cmd feeds it the same
// notifications as the MCP runtime.
func (s *Server) TenantChanged(c tenant.Change) {
	if s != nil && c.Kind != "token" && !c.IsProgress() {
		s.limits.forget(c.TenantID)
	}
}

// Resync drops every cached tenant's limits: notifications sent while the
// listener was away are lost.
func (s *Server) Resync(context.Context) {
	if s != nil {
		s.limits.forget("")
	}
}

// New builds the server and registers every route (see routes.go). It does
// not recover handler panics: the caller wraps Handler in its recovery layer
// (the server package's outer handler answers the generic 500, with the
// request id, and logs the stack), one for every handler tree.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.Ready == nil {
		opts.Ready = opts.Store.Ping
	}
	if sp, ok := opts.Runtime.(Spec); ok && opts.Spec == nil {
		opts.Spec = sp
	}
	if cl, ok := opts.Store.(Calls); ok && opts.Calls == nil {
		opts.Calls = cl
	}
	if ct, ok := opts.Runtime.(CredentialTester); ok && opts.CredentialTester == nil {
		opts.CredentialTester = ct
	}
	if len(opts.ReadyChecks) == 0 {
		// Ready's error may carry internals: log it, show a plain sentence.
		ready, log := opts.Ready, opts.Logger
		opts.ReadyChecks = []ReadyCheck{{Name: "ready", Check: func(ctx context.Context) error {
			if err := ready(ctx); err != nil {
				log.Warn("readiness check failed", "err", err)
				return errors.New("not ready to serve")
			}
			return nil
		}}}
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = handleError(opts.Logger, opts.BodyLimit)
	e.JSONSerializer = plainJSON{}
	e.IPExtractor = echo.ExtractIPDirect()
	if opts.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(requestID)
	if opts.Observe != nil {
		e.Use(observe(opts.Observe))
	}
	e.Use(withSource, refuseNUL)
	s := &Server{e: e}
	s.routes(opts)
	return s
}

// Handler returns the server as an http.Handler for http.Server.
func (s *Server) Handler() http.Handler { return s.e }

// plainJSON is echo's JSON serializer without HTML escaping: responses are
// application/json, never inlined into a page, so "<", ">" and "&" (in
// descriptions, URLs with query strings, error texts) stay as written
// instead of becoming \u003c, \u003e and \u0026.
type plainJSON struct{ echo.DefaultJSONSerializer }

func (plainJSON) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}
