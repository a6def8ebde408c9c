package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// tenantStore is what the runtime needs from tenant.Store.
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
// the tenants the database says are active.
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
	ops         map[string]*Operation // by MCP name (tools) or URI / URI template (resources)
	list        []*Operation          // in document order, for listing: base with settings.tools applied
	base        []*Operation          // the conversion's operations, shared and never changed
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

// Activate starts tenant id's lifespan: it loads the newest cached spec (or
// fetches one), converts it, opens the tenant's connection pool with its
// decrypted credentials, registers its MCP server and marks it active. When
// any step fails the tenant is left failed with the reason stored, and the
// error is a *tenant.ActivationError.
func (r *Runtime) Activate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	unlock := r.locks.lock(id)
	defer unlock()
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("activate tenant %s: %w", id, err)
	}
	if !tenant.CanTransition(t.Status, tenant.StatusActive) {
		return nil, &tenant.TransitionError{From: t.Status, To: tenant.StatusActive}
	}
	ctx, tr := r.track(ctx, id, "activate")
	l, err := r.start(ctx, t)
	if err != nil {
		tr.done(err, "")
		var ae *tenant.ActivationError
		if !errors.As(err, &ae) {
			return nil, fmt.Errorf("activate tenant %s: %w", id, err)
		}
		if _, serr := r.store.SetStatus(ctx, id, tenant.StatusFailed, ae.Reason, actor); serr != nil {
			return nil, fmt.Errorf("record failed activation of tenant %s: %w", id, serr)
		}
		r.log.Info("tenant activation failed", "tenant", id, "code", ae.Code, "reason", ae.Reason)
		return nil, err
	}
	t, err = r.store.SetStatus(ctx, id, tenant.StatusActive, "", actor)
	if err != nil {
		l.close()
		tr.done(err, "")
		return nil, fmt.Errorf("activate tenant %s: %w", id, err)
	}
	l.state.Load().tenant = t
	r.register(l)
	tr.done(nil, fmt.Sprintf("serving %d tools, resources and templates", len(l.state.Load().list)))
	r.log.Info("tenant activated", "tenant", id, "operations", len(l.state.Load().list))
	return t, nil
}

// Deactivate ends tenant id's lifespan: new calls get 404 at once, calls in
// flight finish (up to the drain deadline), then the pool is closed and the
// decrypted credentials dropped.
func (r *Runtime) Deactivate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	unlock := r.locks.lock(id)
	defer unlock()
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("deactivate tenant %s: %w", id, err)
	}
	if !tenant.CanTransition(t.Status, tenant.StatusInactive) {
		return nil, &tenant.TransitionError{From: t.Status, To: tenant.StatusInactive}
	}
	t, err = r.store.SetStatus(ctx, id, tenant.StatusInactive, "", actor)
	if err != nil {
		return nil, fmt.Errorf("deactivate tenant %s: %w", id, err)
	}
	r.stop(id)
	r.log.Info("tenant deactivated", "tenant", id)
	return t, nil
}

// Reload re-reads an active tenant's settings, credentials and serving spec
// version and applies them to its live server. Calls in flight finish with
// what they started with.
func (r *Runtime) Reload(ctx context.Context, id string) error {
	unlock := r.locks.lock(id)
	defer unlock()
	l := r.lookup(id)
	if l == nil {
		return nil
	}
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	st, gen, err := r.buildState(ctx, t, false, l.state.Load(), nil)
	if err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	if err := r.apply(l, st); err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	l.gen.Store(gen)
	return nil
}

// Tools lists what active tenant id serves.
func (r *Runtime) Tools(_ context.Context, id string) ([]tenant.Tool, error) {
	l := r.lookup(id)
	if l == nil {
		return nil, fmt.Errorf("tenant %s is not active: %w", id, tenant.ErrNotFound)
	}
	return toolsOf(l.state.Load()), nil
}

// toolsOf lists what st serves.
func toolsOf(st *state) []tenant.Tool {
	out := make([]tenant.Tool, 0, len(st.list))
	for _, op := range st.list {
		out = append(out, tenant.Tool{
			Name: op.Name, Title: op.Title, Kind: op.Kind, Method: op.Method, Path: op.Path, URI: op.URI,
			Description: op.Description, Tags: op.Tags, InputSchema: op.InputSchema, OutputSchema: op.OutputSchema,
		})
	}
	return out
}

// Restore activates, from the spec cache, every tenant the database marks
// active: the lifespans a restart interrupted. A tenant that cannot start is
// marked failed with the reason; the others still start.
func (r *Runtime) Restore(ctx context.Context) error {
	ts, err := r.store.Tenants(ctx, tenant.TenantFilter{Status: tenant.StatusActive})
	if err != nil {
		return fmt.Errorf("restore active tenants: %w", err)
	}
	// Tenants start on a pool as wide as the CPUs (a start is conversion,
	// CPU, between database reads), and tenants serving the same document
	// with the same settings share one conversion: operations are immutable.
	share := &convShare{m: make(map[string]*sharedConv)}
	r.share.Store(share)
	defer r.share.CompareAndSwap(share, nil)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *tenant.Tenant)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ts)) {
		wg.Go(func() {
			for t := range work {
				if err := r.restore(ctx, t); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, t := range ts {
		select {
		case work <- t:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	r.log.Info("restored active tenants", "count", len(ts))
	r.loadLogLevels(ctx) // sessions' log levels, before the first resync
	return nil
}

// restore starts and registers one tenant for Restore; a tenant that
// cannot start is marked failed, and only a failure to record that (or an
// error that is not the tenant's) is returned.
func (r *Runtime) restore(ctx context.Context, t *tenant.Tenant) error {
	l, err := r.start(ctx, t)
	if err != nil {
		r.log.Warn("could not restore tenant", "tenant", t.ID, "err", err)
		var ae *tenant.ActivationError
		if errors.As(err, &ae) {
			if _, serr := r.store.SetStatus(ctx, t.ID, tenant.StatusFailed, ae.Reason, "system"); serr != nil {
				return fmt.Errorf("restore tenant %s: %w", t.ID, serr)
			}
			return nil
		}
		return fmt.Errorf("restore tenant %s: %w", t.ID, err)
	}
	r.register(l)
	return nil
}

// convShare hands one conversion to every tenant that needs it while a
// Restore runs, keyed by convKey (document hash and conversion settings).
type convShare struct {
	mu sync.Mutex
	m  map[string]*sharedConv
}

type sharedConv struct {
	done chan struct{}
	conv *Conversion // nil when the conversion failed
}

// convert returns the operations of raw converted for t, converting once
// per key. A failed conversion is not shared: its error names the tenant's
// spec URL, so each tenant converts (and fails) on its own.
func (s *convShare) convert(ctx context.Context, r *Runtime, key string, raw []byte, t *tenant.Tenant) (*Conversion, error) {
	s.mu.Lock()
	c, ok := s.m[key]
	if !ok {
		c = &sharedConv{done: make(chan struct{})}
		s.m[key] = c
	}
	s.mu.Unlock()
	if ok {
		<-c.done
		if c.conv != nil {
			return c.conv, nil
		}
	} else {
		defer close(c.done)
	}
	conv, err := r.convertSpec(ctx, raw, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		c.conv = conv
	}
	return conv, nil
}

// EndStreams ends the long-lived listen streams of every tenant (clients
// reconnect, to another replica) without touching calls in flight; the first
// step of a graceful shutdown, so the HTTP server can go idle.
func (r *Runtime) EndStreams() { r.endStreams() }

// Shutdown drains every tenant of this process without changing their
// stored status, so the next start restores them. Calls still in flight when
// ctx ends (or after the drain timeout) are cut.
func (r *Runtime) Shutdown(ctx context.Context) {
	r.endStreams()
	stopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	ids := make([]string, 0, len(r.active))
	for id := range r.active {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { r.stopWithin(stopCtx, id) })
	}
	wg.Wait()
}

// ActiveCount reports how many tenants this process serves.
func (r *Runtime) ActiveCount() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.active)
}

// start builds a live tenant without registering it.
func (r *Runtime) start(ctx context.Context, t *tenant.Tenant) (*live, error) {
	st, gen, err := r.buildState(ctx, t, true, nil, nil)
	if err != nil {
		return nil, err
	}
	conc := r.maxConcurrency(t.Settings)
	client, tr := upstreamClient(r.guard, conc)
	// otelhttp makes a client span per upstream call and sends the W3C
	// traceparent, so a trace continues into the tenant's service; with
	// tracing off only the incoming context is passed on (tracedTransport).
	client.Transport = newTracedTransport(client.Transport)
	impl := &mcp.Implementation{Name: "portico/" + t.Name, Version: r.opts.Version}
	l := &live{
		id:       t.ID,
		impl:     impl,
		tr:       tr,
		conc:     newConcLimit(conc),
		limits:   callLimits{fleet: r.opts.Limiter, tenantKey: "mcp:tenant:" + t.ID},
		client:   client,
		identity: r.opts.Identity,
		linked:   r.opts.Linked,
		metrics:  r.opts.Metrics,
		calls:    r.opts.Calls,
		log:      r.log,
		breaker: newBreaker(r.opts.Breaker, func(s breakerState, opened bool) {
			r.opts.Metrics.breakerState(t.ID, s, opened)
			if opened {
				r.log.Warn("circuit breaker opened: upstream calls paused", "tenant", t.ID, "cool_down", r.opts.Breaker.CoolDown)
			}
		}),
	}
	l.server = l.newServer()
	trackerFrom(ctx).phase(tenant.PhaseServe, fmt.Sprintf("%d tools, resources and templates", len(st.list)))
	l.ctx, l.cancel = context.WithCancel(context.Background())
	r.opts.Metrics.breakerState(t.ID, breakerClosed, false)
	if err := r.apply(l, st); err != nil {
		l.close()
		return nil, err
	}
	l.gen.Store(gen)
	return l, nil
}

// newServer is an MCP server of l (the tenant's own, or a toolset's): its
// lists and calls are answered from the state of the request's endpoint
// (serveFromState), its registry kept in line with that state by apply.
func (l *live) newServer() *mcp.Server {
	srv := mcp.NewServer(l.impl, &mcp.ServerOptions{
		Logger:   l.log,
		PageSize: 5000, // clients that ignore cursors still see every tool
		Capabilities: &mcp.ServerCapabilities{
			Tools:     &mcp.ToolCapabilities{ListChanged: true},
			Resources: &mcp.ResourceCapabilities{ListChanged: true},
			// A call reports its upstream exchange to clients that set a
			// log level (sessionlog.go).
			Logging: &mcp.LoggingCapabilities{},
		},
		// Resource reads (the only results the SDK builds whose
		// caching it decides) are for the tenant's token holders.
		SetCacheable: func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "private" },
		// Template variables complete from the spec's enum and
		// examples, prompt arguments from their completions; the
		// capability is advertised only when there is something to
		// complete (withCapabilities).
		CompletionHandler: l.complete,
	})
	srv.AddReceivingMiddleware(l.serveFromState)
	return srv
}

// buildState loads the tenant's serving spec version (pinned, else newest;
// fetching and storing one when the cache is empty and fetchIfMissing is
// set), converts it with the tenant's settings unless prev already holds
// that conversion or conv is given, and decrypts its credentials. It also
// returns the tenant's generation, read before anything else, so a change
// racing the build is picked up by the next resync.
func (r *Runtime) buildState(ctx context.Context, t *tenant.Tenant, fetchIfMissing bool, prev *state, conv *preconverted) (*state, int64, error) {
	status, err := r.store.SpecStatus(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read spec status: %w", err)
	}
	var spec tenant.SpecVersion
	var ops []*Operation
	var report *tenant.ConversionReport
	cached := false // converted from a stored version
	switch v := status.ServingVersion; {
	case prev != nil && !prev.closed && v > 0 && prev.spec.Version == v && prev.convKey == convKey(prev.spec.SHA256, t.Settings):
		spec, ops, report = prev.spec, prev.base, prev.report // versions never change: no load, no conversion
	case conv != nil && v > 0 && conv.spec.Version == v && conv.key == convKey(conv.spec.SHA256, t.Settings):
		spec, ops, report = conv.spec, conv.ops, conv.report
	case v > 0:
		cached = true
		trackerFrom(ctx).phase(tenant.PhaseDownload, fmt.Sprintf("nothing to download: version %d is in the spec cache", v))
		spec, err = r.store.Spec(ctx, t.ID, v)
		if err != nil {
			return nil, 0, fmt.Errorf("load cached spec: %w", err)
		}
		if share := r.share.Load(); share != nil && spec.SHA256 != "" {
			c, err := share.convert(ctx, r, convKey(spec.SHA256, t.Settings), spec.Raw, t)
			if err != nil {
				return nil, 0, err
			}
			ops, report = c.Operations, &c.Report
			break
		}
		c, err := r.convertSpec(ctx, spec.Raw, t)
		if err != nil {
			return nil, 0, err
		}
		ops, report = c.Operations, &c.Report
	case !fetchIfMissing:
		return nil, 0, fmt.Errorf("load cached spec: %w", tenant.ErrNotFound)
	default:
		tr := trackerFrom(ctx)
		tr.phase(tenant.PhaseDownload, auditableSpecURL(t.SpecURL))
		f, ferr := fetchSpec(ctx, r.fetch, t.SpecURL, r.opts.MaxSpecBytes, nil)
		if ferr != nil {
			return nil, 0, ferr
		}
		c, cerr := r.convertSpec(ctx, f.raw, t)
		if cerr != nil {
			return nil, 0, cerr
		}
		tr.phase(tenant.PhaseStore, fmt.Sprintf("%s as a new spec version", sizeOf(len(f.raw))))
		spec, _, err = r.store.AddSpecVersion(ctx, t.ID, tenant.SpecVersion{
			SHA256: f.sha256, ETag: f.etag, LastModified: f.lastModified, Raw: f.raw,
			ToolCount: len(c.Operations), Warnings: c.Warnings,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("store spec version: %w", err)
		}
		ops, report = c.Operations, &c.Report
	}
	if cached {
		trackerFrom(ctx).phase(tenant.PhaseStore, fmt.Sprintf("nothing to store: serving stored version %d", spec.Version))
	}
	key := convKey(spec.SHA256, t.Settings)
	spec.Raw, spec.Diff = nil, nil // not needed once converted
	creds, err := r.store.LiveCredentials(ctx, t.ID)
	if err != nil {
		return nil, 0, &tenant.ActivationError{Code: "credentials_unreadable",
			Reason: "could not decrypt the tenant's credentials: " + errors.Unwrap(err).Error()}
	}
	prompts, err := r.store.Prompts(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read prompts: %w", err)
	}
	toolsets, err := r.store.Toolsets(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read toolsets: %w", err)
	}
	timeout := r.opts.UpstreamTimeout
	if t.Settings.UpstreamTimeoutMS > 0 {
		timeout = time.Duration(t.Settings.UpstreamTimeoutMS) * time.Millisecond
	}
	maxResponse := r.opts.MaxResponseBytes
	if t.Settings.MaxResponseBytes > 0 {
		maxResponse = t.Settings.MaxResponseBytes
	}
	base := ops
	if len(t.Settings.Tools) > 0 {
		// Saved settings were checked against the document then; parts a
		// later document no longer fits are skipped, the rest applies.
		var inv *tenant.InvalidError
		if ops, inv = transformTools(base, t.Settings.Tools, maxResponse); len(inv.Problems) > 0 {
			r.log.Warn("settings.tools do not all apply to the serving document", "tenant", t.ID, "problems", inv.Error())
		}
	}
	st := &state{tenant: t, base: base, creds: creds, clientCreds: r.clientCreds(creds, prev), timeout: timeout,
		maxResponse: maxResponse, spec: spec, convKey: key, report: report, cors: newCORSPolicy(t.Settings)}
	st.serve(ops, prompts)
	st.withToolsets(toolsets, prompts)
	return st, status.Generation, nil
}

// serve makes st serve ops and prompts: the lookup by key, the lists MCP
// clients get (in st.tenant's listing and tool mode) and what completes.
// A tenant's state and each toolset's view are built by it alike.
func (st *state) serve(ops []*Operation, prompts []tenant.Prompt) {
	st.list, st.ops = ops, make(map[string]*Operation, len(ops))
	for _, op := range ops {
		st.ops[op.key()] = op
		switch op.Kind {
		case tenant.KindResource:
			st.resources = append(st.resources, &mcp.Resource{Name: op.Name, URI: op.URI, Description: op.Description, MIMEType: op.mimeType()})
		case tenant.KindResourceTemplate:
			st.templates = append(st.templates, &mcp.ResourceTemplate{Name: op.Name, URITemplate: op.URI, Description: op.Description, MIMEType: op.mimeType()})
		}
	}
	s := st.tenant.Settings
	st.lean = s.ListingMode() == tenant.ListingLean
	st.tools = listedTools(ops, s.ListingMode())
	if s.ToolMode == tenant.ToolModeDiscovery {
		st.discovery, st.tools = true, discoveryTools()
	}
	st.completions = completionsFor(ops)
	st.prompts = newPromptSet(prompts)
}

// preconverted is a conversion done by a refresh, handed to buildState so
// the new version is not converted twice.
type preconverted struct {
	spec   tenant.SpecVersion // without its document
	key    string             // convKey of the conversion
	ops    []*Operation
	report *tenant.ConversionReport
}

// convKey identifies a conversion: the same document converted with the
// same route maps and names gives the same operations.
func convKey(sha string, s tenant.Settings) string {
	b, _ := json.Marshal(struct {
		M []tenant.RouteMap
		N map[string]string
		U map[string]string `json:",omitempty"`
		L string            `json:",omitempty"` // the report's cost depends on it
	}{s.RouteMaps, s.Names, s.URIs, leanOnly(s.ListingMode())})
	return sha + "|" + string(b)
}

// mimeType is what op's resource lists as its mimeType: the success
// response's media type (parameters dropped), JSON when the document names
// none.
func (op *Operation) mimeType() string {
	if op.ResponseType == "" {
		return "application/json"
	}
	mt, _, _ := strings.Cut(op.ResponseType, ";")
	return strings.TrimSpace(mt)
}

// leanDescribe reports whether st lists lean listing's describe_tool: in
// lean listing, outside discovery mode, when no operation has the name.
func (st *state) leanDescribe() bool {
	return st.lean && !st.discovery && st.ops["tool:"+describeToolName] == nil
}

// leanOnly is listing when lean and "" otherwise, so the conversion keys
// of tenants in full listing stay what they were before lean existed.
func leanOnly(listing string) string {
	if listing == tenant.ListingLean {
		return listing
	}
	return ""
}

func (op *Operation) tool() *mcp.Tool {
	a := op.Annotations
	if a == nil { // an Operation built by hand rather than converted
		a = httpAnnotations(op.Method)
	}
	t := &mcp.Tool{Name: op.Name, Title: op.Title, Description: op.Description, InputSchema: op.InputSchema, Annotations: a}
	if len(op.OutputSchema) > 0 {
		t.OutputSchema = op.OutputSchema
	}
	return t
}

// registryInputSchema is the input schema of every operation tool in the
// SDK's registry. Clients never see it: serveFromState and the fast paths
// list the state's tools (op.tool()) and route calls by the state. The
// registry only dispatches tools/call to the handler and notifies sessions
// of changes, so it holds the smallest schema AddTool accepts: AddTool
// decodes the schemas it is given into maps to check their type, which for
// a big spec cost more than converting it (GitHub: ~2 s of 3.6 s CPU). The
// one other reader, the 2026-07-28 x-mcp-header check, needs the real
// schema only when it has such annotations, which the converter does not
// emit; registered checks anyway.
var registryInputSchema = json.RawMessage(`{"type":"object"}`)

// registered is op's tool as the SDK's registry holds it (see
// registryInputSchema).
func (op *Operation) registered() *mcp.Tool {
	if bytes.Contains(op.InputSchema, []byte(`"x-mcp-header"`)) {
		return op.tool()
	}
	return &mcp.Tool{Name: op.Name, InputSchema: registryInputSchema}
}

// httpAnnotations are the hints HTTP semantics give a client about a tool:
// GET and HEAD only read, DELETE destroys, PUT and DELETE can be repeated,
// and every tool reaches a service outside Portico.
func httpAnnotations(method string) *mcp.ToolAnnotations {
	yes, no := true, false
	a := &mcp.ToolAnnotations{OpenWorldHint: &yes}
	switch method {
	case "GET", "HEAD", "OPTIONS":
		a.ReadOnlyHint = true
	case "DELETE":
		a.DestructiveHint, a.IdempotentHint = &yes, true
	case "PUT":
		a.DestructiveHint, a.IdempotentHint = &yes, true
	case "POST", "PATCH":
		a.DestructiveHint = &no
	}
	return a
}

// convertSpec converts a document off the request path, within this
// replica's conversion budget (convertbudget.go), since a big spec costs
// hundreds of MB. It waits for room as long as ctx allows.
func (r *Runtime) convertSpec(ctx context.Context, raw []byte, t *tenant.Tenant) (*Conversion, error) {
	// Counted before taking from the budget and before libopenapi builds
	// its model: a 20k-operation document cost ~500 MB to convert.
	n, err := countOperations(raw)
	if err == nil && n > r.opts.MaxOperations {
		return nil, &tenant.ActivationError{Code: "spec_too_large", Field: "spec_url",
			Reason: fmt.Sprintf("the document at spec_url %s has %d operations, more than the limit of %d (PORTICO_MAX_OPERATIONS); serve a smaller document or exclude paths upstream", t.SpecURL, n, r.opts.MaxOperations)}
	}
	est := estimateConvertBytes(len(raw), n)
	release, err := r.convert.acquire(ctx, est)
	if err != nil {
		return nil, r.convert.busyError(est)
	}
	defer release()
	r.converted.Add(1)
	tr := trackerFrom(ctx)
	if n > 0 {
		tr.phase(tenant.PhaseParse, fmt.Sprintf("%s, %d operations", sizeOf(len(raw)), n))
	} else {
		tr.phase(tenant.PhaseParse, sizeOf(len(raw)))
	}
	var parsed func()
	if tr != nil {
		parsed = func() { tr.phase(tenant.PhaseConvert, "operations to tools") }
	}
	conv, err := Convert(raw, Options{RouteMaps: t.Settings.RouteMaps, Names: t.Settings.Names, URIs: t.Settings.URIs, Listing: t.Settings.ListingMode(), Logger: r.log, Parsed: parsed})
	if err != nil {
		return nil, &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url",
			Reason: "the document at spec_url " + t.SpecURL + " could not be converted: " + err.Error()}
	}
	return conv, nil
}

// apply makes st the live state of l in one step (one pointer swap: lists
// and calls read the state once) and brings the SDK's registry in line so
// connected sessions get list_changed: operations new or visibly changed are
// (re)added before the swap, operations gone from st are removed after it,
// on the same server object. Operations that look the same to clients are left alone, so a
// rebuild that changes nothing sends no notification.
func (r *Runtime) apply(l *live, st *state) (err error) {
	defer func() {
		// The SDK panics on a schema it rejects; one bad tool must not take
		// the process down.
		if p := recover(); p != nil {
			err = &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url", Reason: fmt.Sprintf("an operation could not be registered: %v", p)}
		}
	}()
	old := l.state.Load()
	// Each toolset has a server of its own, kept while the toolset exists.
	oldSets := l.toolsetServers.Load()
	sets := make(map[string]*mcp.Server, len(st.toolsets))
	type pair struct {
		srv     *mcp.Server
		old, st *state
	}
	pairs := []pair{{l.server, old, st}}
	for name, view := range st.toolsets {
		srv, prev := (*mcp.Server)(nil), (*state)(nil)
		if oldSets != nil {
			srv = (*oldSets)[name]
		}
		if srv != nil {
			prev = old.view(name)
		} else {
			srv = l.newServer()
		}
		sets[name] = srv
		pairs = append(pairs, pair{srv, prev, view})
	}
	// New and changed operations are registered before the swap, so a call
	// routed with st (live.go) always finds its handler in the SDK.
	for _, p := range pairs {
		l.register(p.srv, p.old, p.st)
	}
	l.toolsetServers.Store(&sets)
	l.state.Store(st)
	for _, p := range pairs {
		l.unregister(p.srv, p.old, p.st)
	}
	l.watchers.publishChange(old, st)
	// A deleted toolset's open streams end: its URL answers 404 now.
	if oldSets != nil {
		for name, srv := range *oldSets {
			if sets[name] == nil {
				for ss := range srv.Sessions() {
					ss.Close()
				}
			}
		}
	}
	l.limits.configure(limitsFor(st.tenant.Settings, r.opts.TenantRate, r.opts.TokenRate))
	l.conc.setLimit(r.maxConcurrency(st.tenant.Settings))
	return nil
}

// register adds to srv's registry what st serves new or visibly changed
// since old (nil: everything), before st is swapped in.
func (l *live) register(srv *mcp.Server, old, st *state) {
	var oldOps map[string]*Operation
	if old != nil {
		oldOps = old.ops
	}
	wasDiscovery := old != nil && old.discovery
	// A change of listing mode changes every tool clients see, though
	// not the operations: re-adding them tells connected sessions.
	relist := old != nil && old.lean != st.lean
	for _, op := range st.list {
		isTool := op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate
		if isTool && st.discovery {
			continue // reached through call_tool only
		}
		if prev, ok := oldOps[op.key()]; ok && visible(prev, op) && !(isTool && (wasDiscovery || relist)) {
			continue
		}
		switch op.Kind {
		case tenant.KindResource:
			srv.AddResource(&mcp.Resource{Name: op.Name, URI: op.URI, Description: op.Description, MIMEType: op.mimeType()}, l.readResource(op))
		case tenant.KindResourceTemplate:
			srv.AddResourceTemplate(&mcp.ResourceTemplate{Name: op.Name, URITemplate: op.URI, Description: op.Description, MIMEType: op.mimeType()}, l.readResource(op))
		default:
			srv.AddTool(op.registered(), l.callTool(op))
		}
	}
	if st.discovery && !wasDiscovery {
		for _, mt := range discoveryTools() {
			srv.AddTool(mt, l.discoveryHandler(mt.Name))
		}
	}
	if st.leanDescribe() && (old == nil || !old.leanDescribe() && !old.discovery) {
		srv.AddTool(leanDescribeTool(), l.discoveryHandler(describeToolName))
	}
	l.addPrompts(srv, old, st)
}

// unregister removes from srv's registry what old served and st does
// not, once st is swapped in.
func (l *live) unregister(srv *mcp.Server, old, st *state) {
	var oldOps map[string]*Operation
	wasDiscovery := false
	if old != nil {
		oldOps, wasDiscovery = old.ops, old.discovery
	}
	l.removePrompts(srv, old, st)
	var tools, resources, templates []string
	switch {
	case wasDiscovery && !st.discovery:
		tools = append(tools, searchToolsName, describeToolName, callToolName)
	case st.discovery && !wasDiscovery:
		for _, op := range oldOps {
			if op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate {
				tools = append(tools, op.Name)
			}
		}
	}
	for k, op := range oldOps {
		if _, ok := st.ops[k]; ok {
			continue
		}
		switch op.Kind {
		case tenant.KindResource:
			resources = append(resources, op.URI)
		case tenant.KindResourceTemplate:
			templates = append(templates, op.URI)
		default:
			if !wasDiscovery && !st.discovery {
				tools = append(tools, op.Name)
			}
		}
	}
	if old != nil && old.leanDescribe() && !st.leanDescribe() && !st.discovery {
		tools = append(tools, describeToolName)
	}
	// Never remove a name st still serves: an operation of that name, or
	// the describe_tool of lean listing.
	tools = slices.DeleteFunc(tools, func(name string) bool {
		if name == describeToolName && (st.leanDescribe() || st.discovery) {
			return true
		}
		if st.discovery {
			return name == searchToolsName || name == callToolName
		}
		op := st.ops["tool:"+name]
		return op != nil && op.Kind != tenant.KindResource && op.Kind != tenant.KindResourceTemplate
	})
	sort.Strings(tools)
	tools = slices.Compact(tools)
	if len(tools) > 0 {
		srv.RemoveTools(tools...)
	}
	if len(resources) > 0 {
		srv.RemoveResources(resources...)
	}
	if len(templates) > 0 {
		srv.RemoveResourceTemplates(templates...)
	}
}

// maxConcurrency is the tenant's own cap on concurrent upstream calls, or
// the operator's default.
func (r *Runtime) maxConcurrency(s tenant.Settings) int {
	if s.MaxConcurrency > 0 {
		return s.MaxConcurrency
	}
	return r.opts.MaxConcurrency
}

func (r *Runtime) register(l *live) {
	r.mu.Lock()
	r.active[l.id] = l
	r.mu.Unlock()
}

// stop unregisters tenant id (new requests get 404), waits for requests in
// flight up to the drain deadline, then closes its pool and drops its secrets.
func (r *Runtime) stop(id string) { r.stopWithin(context.Background(), id) }

// stopWithin is stop bounded also by ctx.
func (r *Runtime) stopWithin(ctx context.Context, id string) {
	r.mu.Lock()
	l := r.active[id]
	delete(r.active, id)
	r.mu.Unlock()
	if l == nil {
		return
	}
	done := make(chan struct{})
	go func() { l.inflight.Wait(); close(done) }()
	timer := time.NewTimer(r.opts.DrainTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		r.log.Warn("drain deadline passed; closing tenant with calls in flight", "tenant", id)
	case <-ctx.Done():
		r.log.Warn("shutdown deadline passed; closing tenant with calls in flight", "tenant", id)
	}
	l.close()
	r.opts.Metrics.forget(id)
}

// close ends the tenant's open requests and sessions, releases its pool and
// drops its decrypted credentials. Closed sessions leave the stateful
// handler, so a session id from before a restart of the tenant is unknown.
func (l *live) close() {
	l.cancel()
	for ss := range l.server.Sessions() {
		ss.Close()
	}
	if sets := l.toolsetServers.Load(); sets != nil {
		for _, srv := range *sets {
			for ss := range srv.Sessions() {
				ss.Close()
			}
		}
	}
	l.tr.CloseIdleConnections()
	l.state.Store(&state{closed: true})
}

func (r *Runtime) lookup(id string) *live {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active[id]
}

// acquire returns the live tenant id, or nil when it is not active. When
// counted, the request is counted in flight under the read lock, so stop
// (which removes the tenant under the write lock before it waits) waits for
// every counted request that found the tenant.
func (r *Runtime) acquire(id string, counted bool) *live {
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.active[id]
	if l != nil && counted {
		l.inflight.Add(1)
	}
	return l
}

// upstreamClient is a tenant's own connection pool to its upstream: every
// dial goes through the guard, redirects included; no proxy from the
// environment (a proxy would dial on our behalf, past the guard).
func upstreamClient(g guard, conc int) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DialContext:           g.dialContext(),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          conc,
		MaxIdleConnsPerHost:   conc,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}, tr
}

// checkRedirect bounds redirects and keeps credentials on their host: Go
// drops Authorization on a cross-host redirect but would forward a custom
// credential header (X-API-Key …), so a cross-host hop keeps only headers
// that carry nothing secret. Every hop dials through the guard again.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		for k := range req.Header {
			switch k {
			case "Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "User-Agent":
			default:
				req.Header.Del(k)
			}
		}
	}
	return nil
}

// key is how an operation is found when called: tools by name, resources by URI.
func (op *Operation) key() string {
	if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return "resource:" + op.URI
	}
	return "tool:" + op.Name
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
