// Package server is Portico's serving process wired top to bottom: the
// store over PostgreSQL, the tenants' MCP runtime, Portico's own /mcp, the
// REST API and dashboard, metrics and tracing, and the ordered shutdown.
// `portico serve` and `portico dev` run it; the end-to-end tests and the
// benchmark build the same Server in their own process.
package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-mcp/portico/api"
	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/manifest"
	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/web"
)

// Server is a running Portico: database pool, store, tenant runtime and HTTP surface.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	stopJWKS  context.CancelFunc // ends the external issuer's JWKS refresh
	pool      *pgxpool.Pool
	store     *pgstore.Store
	runtime   *bridge.Runtime
	identity  *bridge.Identity       // signs the caller identity assertions of upstream calls
	linked    *bridge.LinkedAccounts // users' own upstream tokens (oauth2_authorization_code)
	calls     *bridge.CallRecorder   // buffers this replica's calls into the fleet's call history
	limits    *tenant.Limiter        // rate limits shared by every replica
	progress  *tenant.ProgressBoard  // running activations and refreshes of every replica
	tel       *telemetry
	publicURL string
	ready     atomic.Bool
	listening atomic.Bool          // the change listener has connected: this replica hears other replicas' changes
	rest      *api.Server          // set by handler; hears tenant changes beside the runtime
	failures  *api.FailureThrottle // failed credentials per source, shared by REST and MCP
	metricsLn net.Listener         // PORTICO_METRICS_ADDR, when set
}

// Build wires Portico top to bottom: schema check → pool → sealer → store
// → runtime → HTTP API. Restore brings the active tenants back; Listen and
// Run serve; Close releases what Build opened.
func Build(ctx context.Context, cfg *Config, log *slog.Logger) (*Server, error) {
	if err := migrations.Check(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	sealer, err := tenant.NewSealer(cfg.MasterKeys)
	if err != nil {
		pool.Close()
		return nil, err
	}
	tel, err := newTelemetry(ctx, cfg.Version, cfg.Tracing, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	a := &Server{cfg: cfg, log: log, pool: pool, publicURL: cfg.PublicURL, tel: tel, progress: tenant.NewProgressBoard()}
	a.store = pgstore.NewStore(pool, sealer)
	a.limits = tenant.NewLimiter(a.store, replicaID(), log)
	a.calls = bridge.NewCallRecorder(a.store, bridge.RecorderConfig{Capacity: cfg.CallBuffer, FlushInterval: cfg.CallFlushInterval}, log)
	a.failures = api.NewFailureThrottle(cfg.AuthFailureRate, cfg.TrustProxy)
	a.identity = bridge.NewIdentity(cfg.PublicURL, a.store, cfg.identityKeyPolicy(), log)
	a.linked = bridge.NewLinkedAccounts(a.store, cfg.PublicURL, log)
	jwksCtx, stopJWKS := context.WithCancel(context.WithoutCancel(ctx))
	a.stopJWKS = stopJWKS
	external, err := externalAuth(jwksCtx, cfg, log)
	if err != nil {
		stopJWKS()
		pool.Close()
		return nil, err
	}
	a.runtime = bridge.New(a.store, bridge.Config{
		Identity:         a.identity,
		Linked:           a.linked,
		FailureThrottle:  a.failures,
		Logger:           log,
		AllowCIDRs:       cfg.AllowCIDRs,
		DrainTimeout:     cfg.DrainTimeout,
		RefreshInterval:  cfg.RefreshInterval,
		SpecFetchTimeout: cfg.SpecFetchTimeout,
		MaxSpecBytes:     cfg.MaxSpecBytes,
		MaxOperations:    cfg.MaxOperations,
		MasterKeys:       cfg.MasterKeys,
		SessionTTL:       cfg.MCPSessionTTL,
		ConvertMemory:    cfg.ConvertMemory,
		Version:          cfg.Version,
		UpstreamTimeout:  cfg.UpstreamTimeout,
		MaxConcurrency:   cfg.MaxConcurrency,
		MaxResponseBytes: cfg.MaxResponseBytes,
		TenantRate:       cfg.MCPTenantRate,
		TokenRate:        cfg.MCPTokenRate,
		Limiter:          a.limits,
		Metrics:          tel.bridge,
		Calls:            a.calls,
		Progress:         a.announceProgress,
		Breaker:          bridge.BreakerConfig{Failures: cfg.BreakerFailures, CoolDown: cfg.BreakerCoolDown, Disabled: cfg.BreakerOff},
		TokenCache:       bridge.TokenCacheConfig{TTL: cfg.TokenCacheTTL, MaxStale: cfg.TokenCacheStale},
		ExternalAuth:     external,
		// Without an external authorization server Portico is its own.
		AuthorizationServer: cfg.OAuthIssuer == "",
	})
	tel.watch(a.runtime.ActiveCount, pool)
	tel.watchCalls(a.calls, a.limits)
	return a, nil
}

// externalAuth returns the validator of the operator's authorization
// server, or nil when none is configured.
func externalAuth(ctx context.Context, cfg *Config, log *slog.Logger) (*bridge.ExternalAuth, error) {
	if cfg.OAuthIssuer == "" {
		return nil, nil
	}
	return bridge.NewExternalAuth(ctx, cfg.OAuthIssuer, cfg.OAuthJWKSURL, log)
}

// jwks lists the public identity keys for /.well-known/jwks.json.
func (a *Server) jwks(ctx context.Context) ([]json.RawMessage, error) {
	keys, err := a.store.PublicIdentityKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		out[i] = k.Public
	}
	return out, nil
}

// Restore brings back the tenants the database marks active, then reports ready.
func (a *Server) Restore(ctx context.Context) error {
	if err := a.runtime.Restore(ctx); err != nil {
		return err
	}
	a.ready.Store(true)
	return nil
}

func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %w", redactURL(url), err)
	}
	return pool, nil
}

// readyChecks back /readyz. Their errors are shown to anonymous probes, so
// they name the cause without addresses; the details go to the log.
func (a *Server) readyChecks() []api.ReadyCheck {
	return []api.ReadyCheck{
		{Name: "tenants", Check: func(context.Context) error {
			if !a.ready.Load() {
				return errors.New("starting up (restoring active tenants) or shutting down")
			}
			return nil
		}},
		{Name: "changes", Check: func(context.Context) error {
			if !a.listening.Load() {
				return errors.New("starting up (connecting to the change feed other replicas notify)")
			}
			return nil
		}},
		{Name: "database", Check: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := a.pool.Ping(ctx); err != nil {
				a.log.WarnContext(ctx, "readiness: PostgreSQL ping failed", "err", err)
				return errors.New("PostgreSQL is unreachable: MCP calls of active tenants are served from memory; REST changes fail with 503 until it is back")
			}
			return nil
		}},
	}
}

// BootstrapAdminKey makes sure PORTICO_BOOTSTRAP_ADMIN_KEY exists as an admin key.
func (a *Server) BootstrapAdminKey(ctx context.Context) error {
	if a.cfg.BootstrapAdminKey == "" {
		return nil
	}
	key, created, err := a.store.EnsureAdminKey(ctx, a.cfg.BootstrapAdminKey, "bootstrap (PORTICO_BOOTSTRAP_ADMIN_KEY)", "bootstrap")
	if err != nil {
		return fmt.Errorf("PORTICO_BOOTSTRAP_ADMIN_KEY: %w", err)
	}
	if created {
		a.log.Info("created the bootstrap admin key", "key_id", key.ID, "prefix", key.Prefix)
	}
	return nil
}

// internalURL is how this process reaches its own listener.
func internalURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Serve is `portico serve` once its flags are parsed: Start, then Run
// until ctx ends. The first line on stdout names the URL it serves on;
// logs go to stderr.
func Serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	a, ln, err := Start(ctx, cfg, cfg.Logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "portico %s serving on %s\n", cfg.Version, a.publicURL)
	if a.metricsLn != nil {
		fmt.Fprintf(stdout, "portico metrics on http://%s/metrics\n", a.metricsLn.Addr())
	}
	return a.Run(ctx, ln)
}

// Start is what `portico serve` does before it answers: Build, the
// bootstrap admin key, Restore, then Listen on cfg.Addr. The caller Runs
// the Server on the listener and Closes it.
func Start(ctx context.Context, cfg *Config, log *slog.Logger) (*Server, net.Listener, error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, errors.New("DATABASE_URL is not set: point it at PostgreSQL (postgres://user:password@host:5432/db), or run `portico dev` for a local setup")
	}
	if len(cfg.MasterKeys) == 0 {
		return nil, nil, errors.New("PORTICO_MASTER_KEYS is not set: create one with `portico keys generate` and keep it secret; credentials are encrypted with it")
	}
	a, err := Build(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	ln, err := a.start(ctx)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, ln, nil
}

func (a *Server) start(ctx context.Context) (net.Listener, error) {
	if err := a.BootstrapAdminKey(ctx); err != nil {
		return nil, err
	}
	if err := a.Restore(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	if err := a.Listen(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Listen prepares serving on ln: the public URL (PORTICO_PUBLIC_URL, or
// ln's address) and the separate metrics listener when
// PORTICO_METRICS_ADDR names one.
func (a *Server) Listen(ln net.Listener) error {
	a.setPublicURL(ln)
	return a.listenMetrics()
}

// Store is the tenant store Portico serves from.
func (a *Server) Store() *pgstore.Store { return a.store }

// Runtime is the tenants' MCP runtime.
func (a *Server) Runtime() *bridge.Runtime { return a.runtime }

// PublicURL is how clients reach Portico, known once Listen has run.
func (a *Server) PublicURL() string { return a.publicURL }

// MetricsAddr is the address of the separate metrics listener, or nil.
func (a *Server) MetricsAddr() net.Addr {
	if a.metricsLn == nil {
		return nil
	}
	return a.metricsLn.Addr()
}

func (a *Server) setPublicURL(ln net.Listener) {
	if a.publicURL == "" {
		addr := ln.Addr().(*net.TCPAddr)
		host := addr.IP.String()
		if addr.IP.IsUnspecified() {
			host = "localhost"
		}
		a.publicURL = "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	}
	if a.runtime != nil {
		a.runtime.SetPublicURL(a.publicURL) // resource URLs in OAuth metadata and 401s
	}
	if a.identity != nil {
		a.identity.SetIssuer(a.publicURL)
	}
	if a.linked != nil {
		a.linked.SetPublicURL(a.publicURL) // link URLs in tool errors
	}
}

// Run answers HTTP on ln until ctx ends, then shuts down in order: stop
// accepting, drain every tenant's calls in flight (Close then closes the
// database).
func (a *Server) Run(ctx context.Context, ln net.Listener) error {
	self, err := newSelfMCP(ctx, a, internalURL(ln))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler(self),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    a.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	// Background work: spec refreshes, and changes made on other replicas
	// arriving through Postgres LISTEN/NOTIFY. It stops after the drain.
	bg, stopBG := context.WithCancel(context.Background())
	var bgWG sync.WaitGroup
	bgWG.Go(func() { a.runtime.Run(bg) })
	bgWG.Go(func() { a.identity.Run(bg) })
	bgWG.Go(func() { a.calls.Run(bg) })
	bgWG.Go(func() { a.limits.Run(bg) })
	bgWG.Go(func() { a.maintainCallHistory(bg) })
	bgWG.Go(func() {
		a.store.Listen(bg, listeners{a.runtime, a.rest, a.progress, listenerUp{&a.listening}}, a.cfg.ResyncInterval, func(err error) {
			a.log.Warn("lost the tenant change listener; reconnecting, then resyncing", "err", err)
		})
	})
	defer func() { stopBG(); bgWG.Wait() }()

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if a.metricsLn != nil {
		msrv := &http.Server{Handler: a.tel.metricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := msrv.Serve(a.metricsLn); !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		defer msrv.Close()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return a.drain(srv, self)
}

// drain is the graceful shutdown, in order: report unready (and keep serving
// for PORTICO_SHUTDOWN_DELAY so load balancers notice), end long-lived listen
// streams, stop accepting and wait for every request in flight up to
// PORTICO_DRAIN_TIMEOUT, then close the tenants' pools. Calls cut by the
// deadline are logged; the exit is still clean.
func (a *Server) drain(srv *http.Server, self *selfMCP) error {
	a.ready.Store(false)
	if d := a.cfg.ShutdownDelay; d > 0 {
		a.log.Info("shutting down: unready, serving on while load balancers notice", "delay", d)
		time.Sleep(d)
	}
	a.log.Info("shutting down: refusing new connections and draining requests in flight", "drain_timeout", a.cfg.DrainTimeout)
	a.runtime.EndStreams()
	self.runtime.EndStreams()
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.DrainTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		a.log.Warn("drain deadline passed: cutting the requests still in flight", "err", err)
		srv.Close()
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer tcancel()
	a.runtime.Shutdown(tctx)
	self.shutdown(tctx)
	// Every call has finished: write what this replica still buffers.
	if ferr := a.calls.Flush(tctx); ferr != nil {
		a.log.Warn("shutting down: could not write the buffered call history", "err", ferr, "records", a.calls.Buffered())
	}
	if err == nil {
		a.log.Info("shut down cleanly")
	}
	return nil
}

// Close flushes the traces and closes the database pool.
func (a *Server) Close() {
	a.stopJWKS()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tel.shutdown(ctx); err != nil {
		a.log.Warn("flush traces", "err", err)
	}
	a.pool.Close()
}

// replicaID names this process in the replicas table: host name and a
// random suffix, so a restarted pod counts once its old row goes stale.
func replicaID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%x", host, b)
}

// maintainCallHistory creates the call history's day partitions ahead and
// drops those past retention, at start and then hourly. Every replica does
// it; the statements are idempotent.
func (a *Server) maintainCallHistory(ctx context.Context) {
	for {
		if err := a.store.MaintainCallHistory(ctx, time.Now(), a.cfg.CallRetentionDays, a.cfg.RollupRetentionDays); err != nil && ctx.Err() == nil {
			a.log.Warn("call history maintenance failed; retrying in a minute", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// callHistory is the REST API's view of the call history: the store, after
// writing what this replica buffered, so a caller sees its own calls at
// once (the other replicas' within their flush interval).
type callHistory struct {
	*pgstore.Store
	rec *bridge.CallRecorder
}

func (h callHistory) sync(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = h.rec.Flush(fctx) // a failure keeps the records buffered; the read still answers
}

func (h callHistory) Calls(ctx context.Context, id string, f tenant.CallFilter) (tenant.CallPage, error) {
	h.sync(ctx)
	return h.Store.Calls(ctx, id, f)
}

func (h callHistory) Usage(ctx context.Context, id string, q tenant.UsageQuery) (tenant.Usage, error) {
	h.sync(ctx)
	return h.Store.Usage(ctx, id, q)
}

func (h callHistory) DailyUsage(ctx context.Context, id string, from, to time.Time) ([]tenant.UsageDay, error) {
	h.sync(ctx)
	return h.Store.DailyUsage(ctx, id, from, to)
}

// handler is Portico's whole HTTP surface: REST API, MCP endpoints, probes
// and the dashboard.
func (a *Server) handler(self *selfMCP) http.Handler {
	s := api.New(api.Options{
		Store:            tokenRevocations{a.store, a.runtime},
		JWKS:             a.jwks,
		Runtime:          a.runtime,
		Spec:             a.runtime,
		Calls:            callHistory{a.store, a.calls},
		Progress:         a.progress,
		MCP:              a.runtime.Handler(),
		SelfMCP:          self.handler,
		Metrics:          publicMetrics(a.tel.metricsHandler(), a.cfg.MetricsToken, a.cfg.MetricsAddr),
		Dashboard:        web.Handler(),
		ResourceMetadata: a.runtime.ResourceMetadata(),
		DashboardPaths:   web.Paths,
		Previewer:        a.runtime,
		ToolPreviewer:    a.runtime,
		ReadyChecks:      a.readyChecks(),
		Observe:          a.tel.observeHTTP,
		Logger:           a.log,
		BaseURL:          a.publicURL,
		Schemas:          publishedSchemas(),

		BodyLimit:       a.cfg.BodyLimit,
		CheckUpstream:   a.runtime.CheckUpstream,
		CallerRate:      a.cfg.RESTCallerRate,
		TenantRate:      a.cfg.RESTTenantRate,
		LoginRate:       a.cfg.LoginRate,
		Limiter:         a.limits,
		SessionTTL:      a.cfg.SessionTTL,
		InsecureCookies: !strings.HasPrefix(a.publicURL, "https://"),
		TrustProxy:      a.cfg.TrustProxy,
		FailureThrottle: a.failures,
		OAuth:           a.oauthServer(),
		Link:            &api.LinkOptions{Store: a.store, Linker: a.linked},
	})
	a.rest = s
	return withRequestContext(s.Handler(), a.log)
}

// oauthServer configures Portico's own OAuth authorization server, which
// runs unless the operator names an external one (PORTICO_OAUTH_ISSUER).
func (a *Server) oauthServer() *api.OAuthOptions {
	if a.cfg.OAuthIssuer != "" {
		return nil
	}
	return &api.OAuthOptions{Store: a.store, Fetch: a.runtime.GuardedClient(5 * time.Second), Forget: a.runtime.ForgetToken}
}

// announceProgress shows a phase of an activation or refresh this replica
// runs on its own board at once, and tells the others through Postgres.
func (a *Server) announceProgress(p tenant.Progress) {
	a.progress.Set(p)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.store.NotifyProgress(ctx, p); err != nil {
		a.log.Debug("could not announce progress to other replicas", "tenant", p.TenantID, "err", err)
	}
}

// listeners fans tenant change notifications out to each listener in turn:
// the MCP runtime (reloads) and the REST API (its cached per-tenant limits).
type listeners []pgstore.Listener

func (ls listeners) TenantChanged(c tenant.Change) {
	for _, l := range ls {
		if l != nil {
			l.TenantChanged(c)
		}
	}
}

func (ls listeners) Resync(ctx context.Context) {
	for _, l := range ls {
		if l != nil {
			l.Resync(ctx)
		}
	}
}

// listenerUp records that the change listener connected (Resync runs after
// each connect), so readiness waits until changes made on other replicas
// reach this one.
type listenerUp struct{ up *atomic.Bool }

func (l listenerUp) TenantChanged(tenant.Change) {}

func (l listenerUp) Resync(context.Context) { l.up.Store(true) }

// tokenRevocations tells the runtime's token cache about revocations made
// through this replica's API, so they bite at once here (other replicas
// learn within the cache TTL, or at once through LISTEN/NOTIFY).
type tokenRevocations struct {
	api.Store
	rt *bridge.Runtime
}

// RevokeOAuthGrant revokes an application's access from the dashboard or
// the API; the bridge caches its access tokens as "oauth:<grant id>".
func (s tokenRevocations) RevokeOAuthGrant(ctx context.Context, tenantID, grantID, actor string) error {
	err := s.Store.RevokeOAuthGrant(ctx, tenantID, grantID, actor)
	if err == nil {
		s.rt.ForgetToken("oauth:" + grantID)
	}
	return err
}

func (s tokenRevocations) RevokeToken(ctx context.Context, tenantID, tokenID, actor string) error {
	err := s.Store.RevokeToken(ctx, tenantID, tokenID, actor)
	if err == nil {
		s.rt.ForgetToken(tokenID)
	}
	return err
}

func (s tokenRevocations) DeleteTenant(ctx context.Context, id, actor string) error {
	err := s.Store.DeleteTenant(ctx, id, actor)
	if err == nil {
		s.rt.ForgetTenantTokens(id)
	}
	return err
}

var (
	_ api.Store   = (*pgstore.Store)(nil)
	_ api.Runtime = (*bridge.Runtime)(nil)
	_ api.Spec    = (*bridge.Runtime)(nil)
)

// OpenStore opens just the store, for one-shot commands.
func OpenStore(ctx context.Context, cfg *Config) (*pgstore.Store, func(), error) {
	if cfg.DatabaseURL == "" {
		return nil, nil, errors.New("DATABASE_URL is not set")
	}
	if len(cfg.MasterKeys) == 0 {
		return nil, nil, errors.New("PORTICO_MASTER_KEYS is not set")
	}
	if err := migrations.Check(ctx, cfg.DatabaseURL); err != nil {
		return nil, nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := tenant.NewSealer(cfg.MasterKeys)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pgstore.NewStore(pool, sealer), pool.Close, nil
}

// publishedSchemas are the JSON Schemas served at /api/v1/schemas/{name}.
func publishedSchemas() map[string][]byte {
	b, err := manifest.SchemaJSON()
	if err != nil {
		panic(err) // derived from Go types: a programming error, caught by every test that serves
	}
	return map[string][]byte{manifest.SchemaName: b}
}
