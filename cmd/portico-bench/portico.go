package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/e2e/harness"
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

// portico is Portico wired as `portico serve` wires it (harness.Serve:
// package server's Start, the wiring the end-to-end tests run too),
// serving on loopback.
type portico struct {
	url     string
	db      *database // its database; close drops it
	store   *pgstore.Store
	runtime *bridge.Runtime
	running *harness.Running
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
	p, err = servePortico(ctx, db, io.Discard)
	if err != nil {
		db.drop()
		return nil, err
	}
	return p, nil
}

// servePortico serves Portico on loopback over the migrated database db,
// logging warnings and errors to logs. Rate limits and the failed-credential
// throttle are off: the load is the benchmark's own.
func servePortico(ctx context.Context, db *database, logs io.Writer) (*portico, error) {
	env := map[string]string{
		"DATABASE_URL":                     db.url,
		"PORTICO_MASTER_KEYS":              benchKey.ID + ":" + base64.StdEncoding.EncodeToString(benchKey.Key),
		"PORTICO_ADDR":                     "127.0.0.1:0",
		"PORTICO_ALLOW_UPSTREAM_CIDRS":     "127.0.0.0/8",
		"PORTICO_LOG_LEVEL":                "warn",
		"PORTICO_LOG_FORMAT":               "text",
		"PORTICO_MCP_RATE_LIMIT_TENANT":    "0",
		"PORTICO_MCP_RATE_LIMIT_TOKEN":     "0",
		"PORTICO_RATE_LIMIT_CALLER":        "0",
		"PORTICO_RATE_LIMIT_TENANT":        "0",
		"PORTICO_RATE_LIMIT_AUTH_FAILURES": "0",
	}
	r, err := harness.Serve(ctx, func(k string) string { return env[k] }, logs)
	if err != nil {
		return nil, err
	}
	p := &portico{url: r.URL, db: db, store: r.Store(), runtime: r.Runtime(), running: r}
	// Ready means the change listener has connected and resynced: tenants
	// seeded after this are activated by the measured Restore, not by the
	// listener's first resync.
	if err := waitReady(ctx, p.url); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("portico at %s was not ready within 30s (last: %v)", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// stop stops serving (drain, then close the pool), leaving the database.
func (p *portico) stop() { p.running.Stop() }

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
