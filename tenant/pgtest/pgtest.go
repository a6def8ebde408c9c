// Package pgtest gives each test its own freshly migrated Postgres database.
//
// Migrating per test is slow, so the first caller (across every `go test`
// package running in parallel) migrates a template database once and each
// test clones it with CREATE DATABASE … TEMPLATE, which takes milliseconds.
// The template's name carries a hash of the migration files, so a changed
// schema builds a new template instead of reusing a stale one, and checkouts
// with different migrations can share one server.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-mcp/portico/migrations"
)

// DefaultURL is the server tried when PORTICO_TEST_DATABASE_URL is unset: the
// machine's own Postgres with trust auth, as in CI and the dev container.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// serverURL is where template and test databases are created. It must be a
// URL (not a key=value DSN) because test database URLs are derived from it by
// swapping the path.
func serverURL() string {
	if u := os.Getenv("PORTICO_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// errNoServer marks failures to reach the server, which skip rather than fail
// outside CI.
var errNoServer = errors.New("no Postgres server answers")

// template builds the template once per process; other processes wait on the
// advisory lock inside buildTemplate.
var template = sync.OnceValues(buildTemplate)

// NewDB creates an empty, fully migrated database for t and returns its URL.
// The database is dropped when t ends. Without a reachable server the test is
// skipped loudly, or fails when CI=true so a broken CI setup cannot pass.
func NewDB(t testing.TB) string {
	t.Helper()
	tmpl, err := template()
	if err != nil {
		noServer(t, err)
		t.Fatalf("pgtest: prepare template database: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, serverURL())
	if err != nil {
		noServer(t, err)
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)

	name := "t_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", name, tmpl)); err != nil {
		t.Fatalf("pgtest: clone template %s: %v", tmpl, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx, serverURL())
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(serverURL(), name)
}

// NewPool returns a pool on a fresh database from NewDB, closed when t ends
// (before the database is dropped, since cleanups run last-in first-out).
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := NewDB(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func noServer(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, errNoServer) {
		return
	}
	msg := fmt.Sprintf(`
************************************************************************
pgtest: %v
Database tests need PostgreSQL 15+. Start the local one with
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
or point PORTICO_TEST_DATABASE_URL at a server (default %s).
************************************************************************`, err, DefaultURL)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func connect(ctx context.Context, dbURL string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", errNoServer, redact(dbURL), err)
	}
	return conn, nil
}

// buildTemplate returns the name of a migrated template database, creating it
// unless another process already did. A template left half-built by a killed
// process is not marked IS_TEMPLATE, so it is dropped and rebuilt.
func buildTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "portico_tmpl_" + hash
	conn, err := connect(ctx, serverURL())
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)

	// Session-level lock: released when conn closes, even if we panic.
	h := fnv.New64a()
	h.Write([]byte(name))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(h.Sum64())); err != nil {
		return "", fmt.Errorf("lock template creation: %w", err)
	}
	var exists, ready bool
	err = conn.QueryRow(ctx, "SELECT true, datistemplate FROM pg_database WHERE datname = $1", name).Scan(&exists, &ready)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("look up template %s: %w", name, err)
	}
	if ready {
		return name, nil
	}
	if exists {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop half-built template %s: %w", name, err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create template %s: %w", name, err)
	}
	if err := migrations.Up(ctx, withDatabase(serverURL(), name)); err != nil {
		return "", fmt.Errorf("migrate template %s: %w", name, err)
	}
	// ALLOW_CONNECTIONS false: a stray session on a template makes every
	// clone fail with "source database is being accessed by other users".
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark template %s: %w", name, err)
	}
	return name, nil
}

// migrationsHash is a short digest of every embedded migration file's name
// and contents.
func migrationsHash() (string, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return "", fmt.Errorf("read migrations: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", n, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// withDatabase returns serverURL pointing at database name.
func withDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		// The server URL was already used to connect; a parse failure here
		// means a key=value DSN, which pgtest does not support.
		panic(fmt.Sprintf("pgtest: PORTICO_TEST_DATABASE_URL must be a postgres:// URL: %v", err))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// redact hides a password in a URL shown in test output.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
