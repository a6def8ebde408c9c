package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const commandsUsage = `Portico turns OpenAPI (FastAPI) services into MCP servers, one per tenant.

Usage:
  portico dev                       run everything locally (database, demo tenant) in one command
  portico serve                     serve the API, dashboard and MCP endpoints (production)
  portico migrate up|down N|force N|version
                                    manage the database schema (force N: mark version N applied and
                                    clean, after fixing a failed migration by hand)
  portico convert SPEC [--json]     print the tools an OpenAPI document becomes (no database)
  portico run --openapi URL|FILE --base-url URL [--header 'K: V']... [--transport stdio|http]
              [--addr 127.0.0.1:8765] [--route-maps FILE] [--settings FILE]
                                    one service as an MCP server, no database (stdio by default);
                                    over http it answers as a tenant endpoint at /mcp; under the
                                    MCP Inspector write -header (one dash): it takes --header itself
  portico admin key create --name N print a new admin API key
  portico admin user create --email E  create a dashboard user (operator by default);
                                    password from PORTICO_ADMIN_PASSWORD or stdin
  portico admin key generate        print a random admin key for PORTICO_BOOTSTRAP_ADMIN_KEY (no database)
  portico health [--url URL]        exit 0 when Portico answers ready (container health checks)
  portico keys generate             print a new master key for PORTICO_MASTER_KEYS
  portico keys rotate               re-wrap every tenant's data key under the newest master key
  portico version                   print the version

Clients of the REST API (--api URL or PORTICO_API_URL, default http://127.0.0.1:8080;
API key in PORTICO_API_KEY; -o table|json; TENANT is an id or a name):
  portico apply -f portico.yaml [--dry-run] [--prune] [--put-credentials]
                                    bring Portico to the file: prints the plan, then applies it
  portico export [-f FILE]          write Portico's tenants in the format apply takes
  portico tenants list | get TENANT | activate TENANT | deactivate TENANT | delete TENANT
  portico tokens create TENANT --name N [--expires 720h] [--toolset NAME] | list TENANT | revoke TENANT TOKEN_ID
  portico toolsets list TENANT
  portico tools list TENANT [--search WORDS]
  portico call TENANT TOOL [--arg NAME=STRING] [--arg NAME:=JSON]...
                                    call a tool through the tenant's MCP endpoint
  portico logs TENANT [--follow]    recent tool calls (as the answering replica saw them)
  portico tenant register --name N --base-url URL [--activate] [--wait 60s]
                                    register (or find) a tenant and print its MCP URL and a token

`

// usage is `portico help`: the commands, then every variable of settings.
func usage() string { return commandsUsage + "\n" + settingsHelp() }

// run is the whole program: main only adds the process around it, so tests
// can start Portico in-process with their own arguments and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errors.New("no command given")
	}
	// Commands that read the configuration parse it; the others (convert,
	// run, tenant, version, help) work whatever the environment holds.
	withConfig := func(f func(*config) error) error {
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return f(cfg)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return withConfig(func(cfg *config) error { return cmdServe(ctx, cfg, rest, stdout, stderr) })
	case "dev":
		return withConfig(func(cfg *config) error { return cmdDev(ctx, cfg, rest, stdout, stderr) })
	case "migrate":
		return withConfig(func(cfg *config) error { return cmdMigrate(ctx, cfg, rest, stdout) })
	case "convert":
		return cmdConvert(rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, os.Stdin, stdout, stderr)
	case "admin":
		return withConfig(func(cfg *config) error { return cmdAdmin(ctx, cfg, rest, stdout) })
	case "keys":
		return withConfig(func(cfg *config) error { return cmdKeys(ctx, cfg, rest, stdout) })
	case "health":
		return withConfig(func(cfg *config) error { return cmdHealth(ctx, cfg, rest, stdout, stderr) })
	case "tenant", "tenants":
		if len(rest) > 0 && rest[0] == "register" {
			return cmdTenantRegister(ctx, rest[1:], getenv, stdout, stderr)
		}
		return cmdTenants(ctx, rest, getenv, stdout, stderr)
	case "tokens":
		return cmdTokens(ctx, rest, getenv, stdout, stderr)
	case "tools":
		return cmdTools(ctx, rest, getenv, stdout, stderr)
	case "toolsets":
		return cmdToolsets(ctx, rest, getenv, stdout, stderr)
	case "call":
		return cmdCall(ctx, rest, getenv, stdout, stderr)
	case "logs":
		return cmdLogs(ctx, rest, getenv, stdout, stderr)
	case "apply":
		return cmdApply(ctx, rest, getenv, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "portico", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	default:
		fmt.Fprint(stderr, usage())
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func cmdServe(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set: point it at PostgreSQL (postgres://user:password@host:5432/db), or run `portico dev` for a local setup")
	}
	if len(cfg.MasterKeys) == 0 {
		return errors.New("PORTICO_MASTER_KEYS is not set: create one with `portico keys generate` and keep it secret; credentials are encrypted with it")
	}
	log := cfg.logger(stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.bootstrapAdminKey(ctx); err != nil {
		return err
	}
	if err := a.restore(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a.setPublicURL(ln)
	if err := a.listenMetrics(); err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "portico %s serving on %s\n", version, a.publicURL)
	if a.metricsLn != nil {
		fmt.Fprintf(stdout, "portico metrics on http://%s/metrics\n", a.metricsLn.Addr())
	}
	return a.serve(ctx, ln)
}

// app is a running Portico: database pool, store, tenant runtime and HTTP surface.
type app struct {
	cfg       *config
	log       *slog.Logger
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

// openApp wires Portico top to bottom: schema check → pool → sealer → store
// → runtime (restoring active tenants) → HTTP API.
func openApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
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
	tel, err := newTelemetry(ctx, cfg.Tracing, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, pool: pool, publicURL: cfg.PublicURL, tel: tel, progress: tenant.NewProgressBoard()}
	a.store = pgstore.NewStore(pool, sealer)
	a.limits = tenant.NewLimiter(a.store, replicaID(), log)
	a.calls = bridge.NewCallRecorder(a.store, bridge.RecorderConfig{Capacity: cfg.CallBuffer, FlushInterval: cfg.CallFlushInterval}, log)
	a.failures = api.NewFailureThrottle(cfg.AuthFailureRate, cfg.TrustProxy)
	a.identity = bridge.NewIdentity(cfg.PublicURL, a.store, cfg.identityKeyPolicy(), log)
	a.linked = bridge.NewLinkedAccounts(a.store, cfg.PublicURL, log)
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
		Version:          version,
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
		ExternalAuth:     externalAuth(cfg),
		// Without an external authorization server Portico is its own.
		AuthorizationServer: cfg.OAuthIssuer == "",
	})
	tel.watch(a.runtime.ActiveCount, pool)
	tel.watchCalls(a.calls, a.limits)
	return a, nil
}

// externalAuth returns the validator of the operator's authorization
// server, or nil when none is configured.
func externalAuth(cfg *config) *bridge.ExternalAuth {
	if cfg.OAuthIssuer == "" {
		return nil
	}
	return bridge.NewExternalAuth(cfg.OAuthIssuer, cfg.OAuthJWKSURL)
}

// jwks lists the public identity keys for /.well-known/jwks.json.
func (a *app) jwks(ctx context.Context) ([]json.RawMessage, error) {
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

// restore brings back the tenants the database marks active, then reports ready.
func (a *app) restore(ctx context.Context) error {
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
func (a *app) readyChecks() []api.ReadyCheck {
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

// bootstrapAdminKey makes sure PORTICO_BOOTSTRAP_ADMIN_KEY exists as an admin key.
func (a *app) bootstrapAdminKey(ctx context.Context) error {
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

func (a *app) setPublicURL(ln net.Listener) {
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

// serve answers HTTP on ln until ctx ends, then shuts down in order: stop
// accepting, drain every tenant's calls in flight, close the database.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
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
func (a *app) drain(srv *http.Server, self *selfMCP) error {
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

func (a *app) close() {
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
func (a *app) maintainCallHistory(ctx context.Context) {
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
func (a *app) handler(self *selfMCP) http.Handler {
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
func (a *app) oauthServer() *api.OAuthOptions {
	if a.cfg.OAuthIssuer != "" {
		return nil
	}
	return &api.OAuthOptions{Store: a.store, Fetch: a.runtime.GuardedClient(5 * time.Second), Forget: a.runtime.ForgetToken}
}

// announceProgress shows a phase of an activation or refresh this replica
// runs on its own board at once, and tells the others through Postgres.
func (a *app) announceProgress(p tenant.Progress) {
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

func cmdMigrate(ctx context.Context, cfg *config, args []string, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set: point it at the PostgreSQL database to migrate")
	}
	if len(args) == 0 {
		return errors.New("usage: portico migrate up | down N | force N | version")
	}
	switch args[0] {
	case "up":
		if err := migrations.Up(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	case "down":
		if len(args) != 2 {
			return errors.New("usage: portico migrate down N (N migrations to undo, at least 1)")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			return fmt.Errorf("migrate down: %q is not a positive number of migrations", args[1])
		}
		if err := migrations.Down(ctx, cfg.DatabaseURL, n); err != nil {
			return err
		}
	case "force":
		latest := migrations.Latest()
		if len(args) != 2 {
			return fmt.Errorf("usage: portico migrate force N (N from 0 to %d: the last version that fully applied, once the schema was fixed by hand)", latest)
		}
		n, err := strconv.ParseUint(args[1], 10, 32)
		if err != nil || uint(n) > latest {
			return fmt.Errorf("migrate force: %q is not a schema version from 0 to %d", args[1], latest)
		}
		if err := migrations.Force(ctx, cfg.DatabaseURL, uint(n)); err != nil {
			return err
		}
	case "version":
	default:
		return fmt.Errorf("unknown migrate command %q: use up, down N, force N or version", args[0])
	}
	v, dirty, err := migrations.Version(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed half-way; fix it before going on)"
	}
	fmt.Fprintf(stdout, "schema version %d of %d%s\n", v, migrations.Latest(), state)
	return nil
}

func cmdAdmin(ctx context.Context, cfg *config, args []string, stdout io.Writer) error {
	if len(args) >= 2 && args[0] == "user" && args[1] == "create" {
		return cmdAdminUserCreate(ctx, cfg, args[2:], stdout)
	}
	if len(args) == 2 && args[0] == "key" && args[1] == "generate" {
		fmt.Fprintln(stdout, generateAdminKey())
		return nil
	}
	if len(args) < 2 || args[0] != "key" || args[1] != "create" {
		return errors.New("usage: portico admin key create --name NAME | portico admin key generate | portico admin user create --email EMAIL [--operator=false]")
	}
	fs := flag.NewFlagSet("admin key create", flag.ContinueOnError)
	name := fs.String("name", "", "a name for the key, e.g. the person or script using it")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("admin key create: --name is required (who or what will use the key)")
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	_, secret, err := store.CreateAPIKey(ctx, "", *name, []string{tenant.ScopeRead, tenant.ScopeWrite}, tenant.Minter{}, "cli")
	if err != nil {
		return fmt.Errorf("create admin key: %w", err)
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdKeys(ctx context.Context, cfg *config, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: portico keys generate | rotate")
	}
	switch args[0] {
	case "generate":
		key := make([]byte, 32)
		rand.Read(key)
		// The date orders keys for a reader; the random part keeps two
		// keys made the same day apart (equal ids would break rotation).
		kid := "k" + time.Now().UTC().Format("20060102") + "-" + strings.ToLower(rand.Text()[:8])
		fmt.Fprintf(stdout, "%s:%s\n", kid, base64.StdEncoding.EncodeToString(key))
		return nil
	case "rotate":
		store, closeStore, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer closeStore()
		n, err := store.RotateKeys(ctx, "cli")
		if err != nil {
			return fmt.Errorf("rotate keys: %w", err)
		}
		fmt.Fprintf(stdout, "re-wrapped %d tenant data keys under master key %s\n", n, cfg.MasterKeys[0].ID)
		return nil
	default:
		return fmt.Errorf("unknown keys command %q: use generate or rotate", args[0])
	}
}

// openStore opens just the store, for one-shot commands.
func openStore(ctx context.Context, cfg *config) (*pgstore.Store, func(), error) {
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
