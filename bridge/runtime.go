package bridge

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// tenantStore is what the runtime needs from pgstore.Store to run a fleet
// of tenants: their lifecycle, spec cache, credentials, tokens and the
// refresh that keeps replicas in step. A tenant's server itself is built
// from its parts alone (newState, startState), so Serve needs no store.
type tenantStore interface {
	Tenant(ctx context.Context, id string) (*tenant.Tenant, error)
	Tenants(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error)
	SetStatus(ctx context.Context, id string, to tenant.Status, reason, actor string) (*tenant.Tenant, error)
	LiveCredentials(ctx context.Context, tenantID string) ([]tenant.LiveCredential, error)
	Prompts(ctx context.Context, tenantID string) ([]tenant.Prompt, error)
	Toolsets(ctx context.Context, tenantID string) ([]tenant.Toolset, error)
	AddSpecVersion(ctx context.Context, tenantID string, v tenant.SpecVersion) (tenant.SpecVersion, bool, error)
	LatestSpec(ctx context.Context, tenantID string) (tenant.SpecVersion, error)
	LatestSpecInfo(ctx context.Context, tenantID string) (tenant.SpecVersion, error)
	Spec(ctx context.Context, tenantID string, version int) (tenant.SpecVersion, error)
	SpecVersions(ctx context.Context, tenantID string) ([]tenant.SpecVersion, error)
	SpecStatus(ctx context.Context, tenantID string) (tenant.SpecStatus, error)
	PinSpec(ctx context.Context, tenantID string, version int, actor string) error
	UnpinSpec(ctx context.Context, tenantID, actor string) error
	RecordRefresh(ctx context.Context, tenantID, cause string) error
	TenantGenerations(ctx context.Context) ([]tenant.TenantGeneration, error)
	WithRefreshLock(ctx context.Context, tenantID string, wait bool, fn func() error) error
	RotateHookSecret(ctx context.Context, tenantID, actor string) (string, error)
	DeleteHookSecret(ctx context.Context, tenantID, actor string) error
	HookSecret(ctx context.Context, tenantID string) (tenant.Secret, error)
	VerifyToken(ctx context.Context, secret string) (tenant.Token, error)
}

var _ tenantStore = (*pgstore.Store)(nil)

// Config configures a Runtime. Zero values mean the documented defaults.
type Config struct {
	Logger *slog.Logger
	// AllowCIDRs lets upstream calls reach otherwise refused internal
	// addresses (PORTICO_ALLOW_UPSTREAM_CIDRS).
	AllowCIDRs []netip.Prefix
	// Resolver and Dial replace DNS and the socket dial of upstream calls;
	// nil means the system's. Tests inject them so no packet leaves the machine.
	Resolver Resolver
	Dial     DialFunc
	// DrainTimeout bounds how long deactivation waits for in-flight calls (default 30 s).
	DrainTimeout time.Duration
	// UpstreamTimeout bounds one upstream call unless the tenant sets its own (default 30 s).
	UpstreamTimeout time.Duration
	// MaxConcurrency caps a tenant's concurrent upstream calls unless it sets its own (default 64).
	MaxConcurrency int
	// MaxResponseBytes caps an upstream response read into a tool result (default 10 MiB).
	MaxResponseBytes int64
	// MaxSpecBytes caps a fetched OpenAPI document (default 32 MiB).
	MaxSpecBytes int64
	// MaxOperations refuses a document with more operations (path ×
	// method) before it is converted (default 5,000; the largest real
	// document in the test corpus, GitHub's, has 1,223).
	MaxOperations int
	// SpecFetchTimeout bounds one spec download (default 30 s).
	SpecFetchTimeout time.Duration
	// RefreshInterval is how often an active tenant's spec is re-fetched
	// unless the tenant sets its own (default 5 min); each tenant's
	// schedule is jittered by ±10 %.
	RefreshInterval time.Duration
	// ConvertConcurrency caps conversions running at once; converting a
	// big spec costs ~0.4 s of CPU and ~230 MB (default 2).
	ConvertConcurrency int
	// ConvertMemory bounds the estimated heap of the conversions running at
	// once (preview, activation, refresh alike; see convertbudget.go):
	// default 512 MiB. A document estimated above it converts alone.
	ConvertMemory int64
	// PreviewWait is how long a preview waits for room in that budget
	// before it is answered 503 converter_busy (default 10 s); activation
	// and refresh wait as long as their context allows.
	PreviewWait time.Duration
	// RefreshConcurrency caps background refreshes running at once (default 4).
	RefreshConcurrency int
	// SessionTTL is how long a session-based (2025-xx) MCP session lasts
	// from its initialize, at most until its token expires (default 24 h);
	// then the client gets 404 and initializes again.
	SessionTTL time.Duration
	// MasterKeys derive the key that signs session ids (session.go), the
	// same on every replica; none means a random key for this process.
	MasterKeys []tenant.MasterKey
	// TenantRate and TokenRate bound tool calls per tenant and per MCP token
	// unless the tenant sets its own; zero means no limit.
	TenantRate, TokenRate tenant.RateLimit
	// Limiter enforces them across the fleet; nil means buckets local to
	// this process.
	Limiter *tenant.Limiter
	// Version is reported to MCP clients as the server version.
	Version string
	// Metrics receives the data plane's Prometheus series; nil records nothing.
	Metrics *Metrics
	// Calls records every tool call and resource read into the call
	// history; nil records none.
	Calls *CallRecorder
	// Breaker tunes each tenant's upstream circuit breaker.
	Breaker BreakerConfig
	// TokenCache tunes the verified MCP token cache.
	TokenCache TokenCacheConfig
	// Identity signs the caller identity assertions of tenants that set
	// settings.identity_assertion; nil makes such calls fail with a tool
	// error saying so.
	Identity *Identity
	// Linked sends each user's own upstream token for credentials of type
	// oauth2_authorization_code; nil makes such calls fail with a tool
	// error saying so.
	Linked *LinkedAccounts
	// ExternalAuth, when set, also accepts access tokens (JWTs) from an
	// operator-named authorization server, audience = the tenant endpoint.
	ExternalAuth *ExternalAuth
	// FailureThrottle, when set, answers 429 to clients whose MCP tokens have
	// failed too often (per client address, and per token prefix). cmd
	// passes the REST API's, so one source has one budget.
	FailureThrottle FailureThrottle
	// AuthorizationServer says Portico itself is the OAuth authorization
	// server of tenant endpoints (issuer = the public URL): the protected
	// resource metadata names it. Ignored when ExternalAuth is set.
	AuthorizationServer bool
	// Progress, when set, hears the phases of each activation and spec
	// refresh this replica runs (download, parse, convert, store, serve)
	// while they run; cmd passes them on to every replica.
	Progress func(tenant.Progress)
}

func (o *Config) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.UpstreamTimeout == 0 {
		o.UpstreamTimeout = 30 * time.Second
	}
	if o.MaxConcurrency == 0 {
		o.MaxConcurrency = 64
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = 10 << 20
	}
	if o.MaxSpecBytes == 0 {
		o.MaxSpecBytes = 32 << 20
	}
	if o.MaxOperations == 0 {
		o.MaxOperations = 5000
	}
	if o.SpecFetchTimeout == 0 {
		o.SpecFetchTimeout = 30 * time.Second
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = 5 * time.Minute
	}
	if o.ConvertConcurrency == 0 {
		o.ConvertConcurrency = 2
	}
	if o.ConvertMemory == 0 {
		o.ConvertMemory = 512 << 20
	}
	if o.PreviewWait == 0 {
		o.PreviewWait = 10 * time.Second
	}
	if o.RefreshConcurrency == 0 {
		o.RefreshConcurrency = 4
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 24 * time.Hour
	}
	if o.Version == "" {
		o.Version = "dev"
	}
}

// Runtime holds every active tenant of this process: its MCP server, its
// upstream connection pool and its decrypted credentials. Activation is a
// tenant's lifespan start and deactivation its end.
type Runtime struct {
	store tenantStore
	opts  Config
	log   *slog.Logger
	guard guard
	fetch *http.Client // spec downloads, through the same outbound guard
	// stateless serves every request the fast paths do not: 2026-07-28,
	// session-less requests of older clients and, once their session id is
	// checked, 2025-xx session requests (handler.go, session.go).
	stateless http.Handler
	open      http.Handler              // stateless without the bearer check, for TenantHandler
	sessions  *sessionSigner            // issues and checks Mcp-Session-Id (session.go)
	ended     endedSessions             // sessions ended with DELETE, here or elsewhere
	logLevels logLevels                 // sessions' log levels, set here or elsewhere (sessionlog.go)
	locks     keyedMutex                // serialises lifecycle changes per tenant
	convert   *convertBudget            // bounds concurrent conversions
	converted atomic.Int64              // conversions done, for tests and benchmarks
	share     atomic.Pointer[convShare] // while Restore runs: conversions shared by key
	sync      syncQueue                 // tenants to reconcile with the database
	tokens    *tokenCache               // verified MCP tokens
	mu        sync.RWMutex
	active    map[string]*live

	// mcpOpts are the stateless handler's options; the tools/call fast path
	// answers as they say.
	mcpOpts    *mcp.StreamableHTTPOptions
	noFastPath bool         // tests: send every request through the SDK
	fastCalls  atomic.Int64 // tools/call requests the fast path answered
	fastLists  atomic.Int64 // tools/list requests the fast path answered
	// metaVerdicts caches the fast paths' verdicts on a request's _meta.
	metaVerdicts metaVerdicts
	// streams ends long-lived listen streams when the process shuts down,
	// while counted calls drain.
	streams    context.Context
	endStreams context.CancelFunc
	publicURL  atomic.Value // string, see SetPublicURL
	// publicOrigin is publicURL's origin, the one a same-origin Origin names.
	publicOrigin atomic.Value // string
}

// New returns a Runtime with no active tenants; call Restore to bring back
// the tenants the database says are active. With a nil store the runtime
// serves only what Serve gives it: no lifecycle, tokens, refresh or sync.
func New(store tenantStore, opts Config) *Runtime {
	opts.setDefaults()
	if opts.Limiter == nil {
		opts.Limiter = tenant.NewLimiter(nil, "", opts.Logger)
	}
	r := &Runtime{
		store:  store,
		opts:   opts,
		log:    opts.Logger,
		guard:  guard{allow: opts.AllowCIDRs, resolver: opts.Resolver, dial: opts.Dial},
		active: make(map[string]*live),
		tokens: newTokenCache(opts.TokenCache),
	}
	r.convert = newConvertBudget(opts.ConvertMemory, opts.ConvertConcurrency)
	r.sync.init()
	r.streams, r.endStreams = context.WithCancel(context.Background())
	r.fetch = &http.Client{
		Timeout:   opts.SpecFetchTimeout,
		Transport: &http.Transport{DialContext: r.guard.dialContext(), TLSHandshakeTimeout: 10 * time.Second, MaxIdleConns: 16, IdleConnTimeout: 30 * time.Second},
	}
	r.mcpOpts = &mcp.StreamableHTTPOptions{
		// Stateless serves every protocol version from 2025-03-26 to
		// 2026-07-28 and needs no sticky routing between replicas.
		Stateless: true,
		// A 2026-07-28 client that gives up on a call closes the request;
		// the call's context, and so the upstream request, end with it.
		PropagateRequestCancellation: true,
		// Portico authenticates every request with the tenant's token and is
		// usually behind a proxy on loopback; the SDK's Host check would 403 it.
		DisableLocalhostProtection: true,
		Logger:                     r.log,
	}
	authed := func(h http.Handler) http.Handler {
		return auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	}
	r.stateless = authed(mcp.NewStreamableHTTPHandler(r.serverFor, r.mcpOpts))
	r.open = mcp.NewStreamableHTTPHandler(r.serverFor, r.mcpOpts)
	r.sessions = newSessionSigner(opts.MasterKeys)
	if opts.Linked != nil {
		opts.Linked.client.Store(r.GuardedClient(tokenFetchTimeout))
	}
	return r
}

// live is one active tenant.
type live struct {
	id       string
	server   *mcp.Server
	impl     *mcp.Implementation // server's, which 2026-07-28 results name in _meta
	client   *http.Client
	identity *Identity
	linked   *LinkedAccounts // users' upstream tokens (oauth2_authorization_code)
	tr       *http.Transport
	conc     *concLimit            // settings.max_concurrency, changed live by apply
	state    atomic.Pointer[state] // swapped whole on reload; calls keep the one they started with
	inflight sync.WaitGroup        // requests that must finish before the pool closes
	// ctx ends every request still open once the tenant stops (long-lived
	// listen streams at once, other requests after the drain deadline).
	ctx    context.Context
	cancel context.CancelFunc
	// gen is the tenant's database generation this state was built from;
	// a resync rebuilds tenants whose generation moved on.
	gen     atomic.Int64
	streams streams // long-lived requests by token, ended when it is revoked
	// watchers are the session GET streams that hear list_changed.
	watchers watchers
	// toolsetServers are the MCP servers of the tenant's toolsets, by name
	// (toolset.go): each has its own registry, so its 2026-07-28 listen
	// streams hear of its own changes. Replaced whole by apply.
	toolsetServers atomic.Pointer[map[string]*mcp.Server]
	// catchUp holds lists back while a change this replica was notified
	// of is being applied (sync.go).
	catchUp catchUp
	limits  callLimits
	breaker *breaker
	metrics *Metrics
	calls   *CallRecorder
	log     *slog.Logger
}

// state is what a call needs, replaced atomically when settings or credentials change.
type state struct {
	tenant      *tenant.Tenant
	ops         map[string]*openapi.Operation // by MCP name (tools) or URI / URI template (resources)
	list        []*openapi.Operation          // in document order, for listing: base with settings.tools applied
	base        []*openapi.Operation          // the conversion's operations, shared and never changed
	creds       []tenant.LiveCredential
	clientCreds []*clientCred // the oauth2_client_credentials among creds, with their token caches
	timeout     time.Duration
	maxResponse int64
	closed      bool // the tenant stopped: its secrets are gone
	// discovery lists three meta-tools instead of the operations
	// (settings.tool_mode = "discovery", discovery.go).
	discovery bool
	// lean lists the operations in lean form (settings.listing = "lean",
	// lean.go), with describe_tool for the full text.
	lean bool
	// What MCP clients list, built once per state so a list is one read of
	// one pointer: a swap is atomic for clients.
	tools     []*mcp.Tool
	listed    toolsList // tools/list's result, encoded once (fastlist.go)
	listed26  toolsList // the same for 2026-07-28 requests (resultType, serverInfo)
	resources []*mcp.Resource
	templates []*mcp.ResourceTemplate
	// spec is the version the operations came from and convKey identifies
	// the conversion (document hash + conversion settings), so a rebuild
	// that changes neither reuses the operations without converting.
	spec    tenant.SpecVersion
	convKey string
	// report is the conversion's conformance report, kept so the report
	// of the serving version (activation's answer, GET spec/report) needs
	// no second conversion.
	report *tenant.ConversionReport
	// cors is the tenant's browser access (settings.cors_origins), nil
	// when it lists no origin (cors.go).
	cors *corsPolicy
	// completions are the values of resource-template variables that
	// completion/complete offers (complete.go); nil when there are none.
	completions completions
	// prompts are the tenant's prompts (prompts.go); empty when it has none.
	prompts promptSet
	// toolsets are the views of this state each toolset serves, by name
	// (toolset.go); a view's own toolsets is nil and its toolset is set.
	toolsets map[string]*state
	toolset  *tenant.Toolset
	// fingerprints of the listed tools and resources (sessionstream.go),
	// computed once, for list_changed and Last-Event-ID.
	fpOnce               sync.Once
	fpTools, fpResources string
}

// keyedMutex serialises lifecycle changes of one tenant without blocking others.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
