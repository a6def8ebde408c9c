package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-mcp/portico/api"
	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// database is a throwaway database on the local Postgres, dropped on close.
type database struct {
	admin string // URL of the server's postgres database
	name  string
	url   string
}

func createDatabase(ctx context.Context, serverURL string) (*database, error) {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres at %s (start one, or set -db): %w", serverURL, err)
	}
	defer conn.Close(ctx)
	name := "portico_bench_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	u := serverURL
	if i := strings.LastIndex(u, "/"); i > len("postgres://") {
		rest := ""
		if j := strings.Index(u[i:], "?"); j >= 0 {
			rest = u[i+j:]
		}
		u = u[:i+1] + name + rest
	}
	db := &database{admin: serverURL, name: name, url: u}
	if err := migrations.Up(ctx, u); err != nil {
		db.drop()
		return nil, err
	}
	return db, nil
}

func (d *database) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
}

// portico is Portico wired as `portico serve` wires it (store, runtime, REST
// API with the MCP endpoints mounted), serving on loopback.
type portico struct {
	url     string
	db      *database // its database; close drops it
	pool    *pgxpool.Pool
	store   *pgstore.Store
	runtime *bridge.Runtime
	srv     *http.Server
}

var benchKey = tenant.MasterKey{ID: "bench", Key: []byte("portico-bench-master-key-32bytes")}

// startPortico starts Portico in this process on a new, migrated database
// of the Postgres server at serverURL; close stops it and drops the
// database. The call-path scenarios run Portico as a child process instead
// (startPorticoChild); this is for the scenarios that measure the
// process's own heap and restore time.
func startPortico(ctx context.Context, serverURL string) (p *portico, err error) {
	db, err := createDatabase(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	p, err = servePortico(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		db.drop()
		return nil, err
	}
	return p, nil
}

// servePortico serves Portico on loopback over the migrated database db.
func servePortico(ctx context.Context, db *database, log *slog.Logger) (p *portico, err error) {
	pool, err := pgxpool.New(ctx, db.url)
	if err != nil {
		return nil, err
	}
	sealer, err := tenant.NewSealer([]tenant.MasterKey{benchKey})
	if err != nil {
		pool.Close()
		return nil, err
	}
	p = &portico{db: db, pool: pool, store: pgstore.NewStore(pool, sealer)}
	p.runtime = bridge.New(p.store, bridge.Config{
		Logger:     log,
		AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, err
	}
	p.url = "http://" + ln.Addr().String()
	h := api.New(api.Options{Store: p.store, Runtime: p.runtime, MCP: p.runtime.Handler(), Logger: log, BaseURL: p.url}).Handler()
	p.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// addTenant registers, tokens and activates one tenant for baseURL, whose
// document is at baseURL/openapi.json.
func (p *portico) addTenant(ctx context.Context, name, baseURL string) (id, token string, err error) {
	return p.addTenantSpec(ctx, name, baseURL, baseURL+"/openapi.json")
}

// addTenantSpec registers, tokens and activates one tenant.
func (p *portico) addTenantSpec(ctx context.Context, name, baseURL, specURL string) (id, token string, err error) {
	t := &tenant.Tenant{Name: name, BaseURL: baseURL, SpecURL: specURL}
	if err := p.store.CreateTenant(ctx, t, "bench"); err != nil {
		return "", "", err
	}
	_, secret, err := p.store.CreateToken(ctx, t.ID, "bench", nil, "bench")
	if err != nil {
		return "", "", err
	}
	if _, err := p.runtime.Activate(ctx, t.ID, "bench"); err != nil {
		return "", "", err
	}
	return t.ID, secret, nil
}

func (p *portico) endpoint(id string) string { return p.url + "/t/" + id + "/mcp" }

// toolName returns the single tool of tenant id (names are Portico's to choose).
func (p *portico) toolName(ctx context.Context, id string) (string, error) {
	tools, err := p.runtime.Tools(ctx, id)
	if err != nil {
		return "", err
	}
	for _, t := range tools {
		if t.Kind == tenant.KindTool || t.Kind == "" {
			return t.Name, nil
		}
	}
	if len(tools) > 0 {
		return tools[0].Name, nil
	}
	return "", fmt.Errorf("tenant %s has no tools", id)
}

// stop stops serving and closes the pool, leaving the database.
func (p *portico) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
	p.runtime.Shutdown(ctx)
	p.pool.Close()
}

func (p *portico) close() {
	p.stop()
	p.db.drop()
}

// porticoChild is Portico serving in a child process, on a database of
// its own that close drops once the child has stopped.
type porticoChild struct {
	*child
	db *database
}

// startPorticoChild starts Portico in a child process with tenants
// registered and activated.
func startPorticoChild(ctx context.Context, o options, name string, tenants []childTenant) (*porticoChild, error) {
	db, err := createDatabase(ctx, o.db)
	if err != nil {
		return nil, err
	}
	c, err := startChild(ctx, o, name, "portico", childConfig{DB: db.url, Tenants: tenants})
	if err != nil {
		db.drop()
		return nil, err
	}
	return &porticoChild{child: c, db: db}, nil
}

func (p *porticoChild) close() {
	p.child.close()
	p.db.drop()
}
