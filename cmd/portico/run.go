package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	"github.com/portico-mcp/portico/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Portico turns OpenAPI (FastAPI) services into MCP servers, one per tenant.

Usage:
  portico dev                       run everything locally (database, demo tenant) in one command
  portico serve                     serve the API, dashboard and MCP endpoints (production)
  portico migrate up|down N|version manage the database schema
  portico convert SPEC [--json]     print the tools an OpenAPI document becomes (no database)
  portico run --openapi URL|FILE --base-url URL [--header 'K: V']... [--transport stdio|http]
                                    one service as an MCP server, no database (stdio by default)
  portico admin key create --name N print a new admin API key
  portico keys generate             print a new master key for PORTICO_MASTER_KEYS
  portico keys rotate               re-wrap every tenant's data key under the newest master key
  portico version                   print the version

Configuration (environment): DATABASE_URL, PORTICO_ADDR (:8080), PORTICO_PUBLIC_URL,
PORTICO_MASTER_KEYS (kid:base64 32 bytes, comma list, newest first),
PORTICO_ALLOW_UPSTREAM_CIDRS, PORTICO_DRAIN_TIMEOUT (30s), PORTICO_LOG_LEVEL, PORTICO_LOG_FORMAT,
PORTICO_SPEC_REFRESH_INTERVAL (5m), PORTICO_SPEC_FETCH_TIMEOUT (30s), PORTICO_SPEC_MAX_BYTES (32 MiB),
PORTICO_RESYNC_INTERVAL (60s).
`

// run is the whole program: main only adds the process around it, so tests
// can start Portico in-process with their own arguments and environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, cfg, rest, stdout, stderr)
	case "dev":
		return cmdDev(ctx, cfg, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, cfg, rest, stdout)
	case "convert":
		return cmdConvert(rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, os.Stdin, stdout, stderr)
	case "admin":
		return cmdAdmin(ctx, cfg, rest, stdout)
	case "keys":
		return cmdKeys(ctx, cfg, rest, stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "portico", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
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
	if err := a.restore(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a.setPublicURL(ln)
	fmt.Fprintf(stdout, "portico %s serving on %s\n", version, a.publicURL)
	return a.serve(ctx, ln)
}

// app is a running Portico: database pool, store, tenant runtime and HTTP surface.
type app struct {
	cfg       *config
	log       *slog.Logger
	pool      *pgxpool.Pool
	store     *tenant.Store
	runtime   *bridge.Runtime
	publicURL string
	ready     atomic.Bool
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
	a := &app{cfg: cfg, log: log, pool: pool, publicURL: cfg.PublicURL}
	a.store = tenant.NewStore(pool, sealer)
	a.runtime = bridge.New(a.store, bridge.Config{
		Logger:           log,
		AllowCIDRs:       cfg.AllowCIDRs,
		DrainTimeout:     cfg.DrainTimeout,
		RefreshInterval:  cfg.RefreshInterval,
		SpecFetchTimeout: cfg.SpecFetchTimeout,
		MaxSpecBytes:     cfg.MaxSpecBytes,
		Version:          version,
		ExternalAuth:     externalAuth(cfg),
	})
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

// readiness is /readyz: tenants restored and PostgreSQL answering.
func (a *app) readiness(ctx context.Context) error {
	if !a.ready.Load() {
		return errors.New("not ready: starting up or shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		return fmt.Errorf("PostgreSQL is unreachable: %w", err)
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
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	// Background work: spec refreshes, and changes made on other replicas
	// arriving through Postgres LISTEN/NOTIFY. It stops after the drain.
	bg, stopBG := context.WithCancel(context.Background())
	var bgWG sync.WaitGroup
	bgWG.Go(func() { a.runtime.Run(bg) })
	bgWG.Go(func() {
		a.store.Listen(bg, a.runtime, a.cfg.ResyncInterval, func(err error) {
			a.log.Warn("lost the tenant change listener; reconnecting, then resyncing", "err", err)
		})
	})
	defer func() { stopBG(); bgWG.Wait() }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: refusing new connections and draining tenants")
	a.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.DrainTimeout+5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.runtime.Shutdown(sctx) })
	wg.Go(func() { self.shutdown(sctx) })
	err = srv.Shutdown(sctx)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("shut down cleanly")
	return nil
}

func (a *app) close() { a.pool.Close() }

// handler is Portico's whole HTTP surface: REST API, MCP endpoints, probes
// and the dashboard.
func (a *app) handler(self *selfMCP) http.Handler {
	s := api.New(api.Options{
		Store:     a.store,
		Runtime:   a.runtime,
		Spec:      a.runtime,
		MCP:       a.runtime.Handler(),
		Previewer: a.runtime,
		Ready:     a.readiness,
		Logger:    a.log,
		BaseURL:   a.publicURL,
	})
	s.Mount("/mcp", self.handler)
	dash := web.Handler()
	for _, p := range web.Paths {
		s.Mount(p, dash)
	}
	return s.Handler()
}

var (
	_ api.Store   = (*tenant.Store)(nil)
	_ api.Runtime = (*bridge.Runtime)(nil)
	_ api.Spec    = (*bridge.Runtime)(nil)
)

func cmdMigrate(ctx context.Context, cfg *config, args []string, stdout io.Writer) error {
	if cfg.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set: point it at the PostgreSQL database to migrate")
	}
	if len(args) == 0 {
		return errors.New("usage: portico migrate up | down N | version")
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
	case "version":
	default:
		return fmt.Errorf("unknown migrate command %q: use up, down N or version", args[0])
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
	if len(args) < 2 || args[0] != "key" || args[1] != "create" {
		return errors.New("usage: portico admin key create --name NAME")
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
	_, secret, err := store.CreateAPIKey(ctx, "", *name, []string{tenant.ScopeRead, tenant.ScopeWrite}, "cli")
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
		kid := "k" + time.Now().UTC().Format("20060102")
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
func openStore(ctx context.Context, cfg *config) (*tenant.Store, func(), error) {
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
	return tenant.NewStore(pool, sealer), pool.Close, nil
}
