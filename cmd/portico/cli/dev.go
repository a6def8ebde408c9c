package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/server"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// devDatabaseName names the dev database on a shared local server after the
// working directory: its data is encrypted under ./.portico/master.key, so
// two checkouts must not share one database (the second could not decrypt
// the first's credentials).
func devDatabaseName() string {
	dir, err := os.Getwd()
	if err != nil {
		return "portico_dev"
	}
	sum := sha256.Sum256([]byte(dir))
	return "portico_dev_" + hex.EncodeToString(sum[:4])
}

// devLocalPostgres is where `portico dev` looks for a running server first
// (a variable so a test can make it miss and exercise the private server).
var devLocalPostgres = struct {
	host string
	port int
}{"127.0.0.1", 5432}

// cmdDev is the one-command local run: a database (DATABASE_URL, the local
// server, or a private one it starts), migrations, a dev master key, the demo
// API registered as an active tenant, and everything printed to get going.
func cmdDev(ctx context.Context, cfg *server.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("portico dev takes no arguments (got %q); configure it with environment variables", strings.Join(args, " "))
	}
	cfg.LogJSON = false
	log := cfg.Logger(stderr)
	if err := os.MkdirAll(".portico", 0o700); err != nil {
		return fmt.Errorf("create ./.portico: %w", err)
	}
	dbURL, stopDB, err := devDatabase(ctx, cfg.DatabaseURL, stdout)
	if err != nil {
		return err
	}
	defer stopDB()
	cfg.DatabaseURL = dbURL
	if err := migrations.Up(ctx, dbURL); err != nil {
		return fmt.Errorf("migrate the dev database: %w", err)
	}
	if len(cfg.MasterKeys) == 0 {
		if cfg.MasterKeys, err = devMasterKey(filepath.Join(".portico", "master.key")); err != nil {
			return err
		}
	}
	// The demo API and a developer's own services run on this machine.
	cfg.AllowCIDRs = append(cfg.AllowCIDRs, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))

	demoLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the demo API: %w", err)
	}
	demoSrv := &http.Server{Handler: newDemoAPI().handler(), ReadHeaderTimeout: 5 * time.Second}
	go demoSrv.Serve(demoLn)
	defer demoSrv.Close()
	demoURL := "http://" + demoLn.Addr().String()

	a, err := server.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	store := a.Store()
	demo, err := ensureDemoTenant(ctx, store, demoURL)
	if err != nil {
		return err
	}
	if err := a.Restore(ctx); err != nil {
		return err
	}
	if demo, err = store.Tenant(ctx, demo.ID); err != nil {
		return err
	}
	if demo.Status != tenant.StatusActive {
		if demo, err = a.Runtime().Activate(ctx, demo.ID, "dev"); err != nil {
			return fmt.Errorf("activate the demo tenant: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set PORTICO_ADDR=:8081 to use another port)", cfg.Addr, err)
	}
	if cfg.MetricsAddr == "" && cfg.MetricsToken == "" {
		cfg.MetricsAddr = "127.0.0.1:0" // loopback only, a free port
	}
	if err := a.Listen(ln); err != nil {
		ln.Close()
		return err
	}
	metricsURL := "on the public port with PORTICO_METRICS_TOKEN"
	if addr := a.MetricsAddr(); addr != nil {
		metricsURL = "http://" + addr.String() + "/metrics"
	}
	_, adminKey, err := store.CreateAPIKey(ctx, "", "portico dev "+time.Now().Format(time.DateTime), []string{tenant.ScopeRead, tenant.ScopeWrite}, tenant.Minter{}, "dev")
	if err != nil {
		return fmt.Errorf("create the dev admin key: %w", err)
	}
	// A person's sign-in for the dashboard: an operator account with a
	// password made for this run (set again on every start, so it is always
	// the one printed below).
	devPassword := strings.ToLower(rand.Text())
	if _, err := store.CreateUser(ctx, devUserEmail, devPassword, true, "dev"); errors.Is(err, tenant.ErrConflict) {
		_, err = store.SetUserPassword(ctx, devUserEmail, devPassword, "dev")
		if err != nil {
			return fmt.Errorf("set the dev user's password: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("create the dev user: %w", err)
	}
	_, mcpToken, err := store.CreateToken(ctx, demo.ID, "portico dev "+time.Now().Format(time.DateTime), nil, "dev")
	if err != nil {
		return fmt.Errorf("create the demo MCP token: %w", err)
	}
	mcpURL := a.PublicURL() + "/t/" + demo.ID + "/mcp"
	fmt.Fprintf(stdout, `
Portico %s is running (dev mode). Press Ctrl-C to stop.

  Dashboard      %s/
  Email          %s
  Password       %s   (new on every start)
  REST API       %s/api/v1   (send Authorization: Bearer <admin key>)
  Admin API key  %s   (or sign in to the dashboard with it)
  Demo tenant    %s, serving the demo bookstore API at %s
  MCP URL        %s
  MCP token      %s
  Metrics        %s

List the demo tools with the MCP Inspector CLI (1.0.x looks for a package.json one
directory up from where it runs, hence the scratch directory):
  (cd "$(mktemp -d)" && echo '{}' > package.json && mkdir run && cd run && \
   npx -y @modelcontextprotocol/inspector-cli --cli %s --transport http \
     --header "Authorization: Bearer %s" --method tools/list)

`, version, a.PublicURL(), devUserEmail, devPassword, a.PublicURL(), adminKey, demo.Name, demoURL, mcpURL, mcpToken, metricsURL, mcpURL, mcpToken)
	return a.Run(ctx, ln)
}

// devUserEmail is the dashboard account `portico dev` makes.
const devUserEmail = "dev@portico.localhost"

// ensureDemoTenant registers the demo API as tenant "demo", or points the
// existing one at this run's demo API, and stores its credential.
func ensureDemoTenant(ctx context.Context, store *pgstore.Store, baseURL string) (*tenant.Tenant, error) {
	ts, err := store.Tenants(ctx, tenant.TenantFilter{})
	if err != nil {
		return nil, err
	}
	var demo *tenant.Tenant
	for _, t := range ts {
		if t.Name == "demo" {
			demo = t
		}
	}
	specURL := tenant.DefaultSpecURL(baseURL)
	switch {
	case demo == nil:
		demo = &tenant.Tenant{Name: "demo", BaseURL: baseURL, SpecURL: specURL}
		if err := store.CreateTenant(ctx, demo, "dev"); err != nil {
			return nil, fmt.Errorf("register the demo tenant: %w", err)
		}
	case demo.BaseURL != baseURL:
		if demo, err = store.UpdateTenant(ctx, demo.ID, tenant.TenantPatch{BaseURL: &baseURL, SpecURL: &specURL}, "dev"); err != nil {
			return nil, fmt.Errorf("update the demo tenant: %w", err)
		}
	}
	if err := store.PutCredential(ctx, demo.ID, tenant.Credential{Name: "bookstore", Type: tenant.CredBearer}, DemoSecret, "dev"); err != nil {
		return nil, fmt.Errorf("store the demo credential: %w", err)
	}
	return demo, nil
}

// devMasterKey reads the dev master key from path, creating it on first use.
func devMasterKey(path string) ([]tenant.MasterKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		b = []byte("dev:" + base64.StdEncoding.EncodeToString(key) + "\n")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write the dev master key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read the dev master key: %w", err)
	}
	keys, err := tenant.ParseMasterKeys(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete the file to make a new one; stored credentials will then need to be set again)", path, err)
	}
	return keys, nil
}

// devDatabase picks the dev database: DATABASE_URL when set, else the local
// server on 127.0.0.1:5432 when one answers, else a private server started
// from the machine's PostgreSQL binaries (stopped by the returned func).
func devDatabase(ctx context.Context, databaseURL string, stdout io.Writer) (string, func(), error) {
	noop := func() {}
	if databaseURL != "" {
		return databaseURL, noop, ensureDatabase(ctx, databaseURL, stdout)
	}
	if url, err := devUseServer(ctx, devLocalPostgres.host, devLocalPostgres.port); err == nil {
		fmt.Fprintf(stdout, "Using the local PostgreSQL on %s:%d, database %s (this directory's).\n", devLocalPostgres.host, devLocalPostgres.port, devDatabaseName())
		return url, noop, nil
	}
	bin, err := findPostgresBin()
	if err != nil {
		return "", noop, err
	}
	dir, err := filepath.Abs(filepath.Join(".portico", "pg"))
	if err != nil {
		return "", noop, err
	}
	port, err := freePort()
	if err != nil {
		return "", noop, err
	}
	asRoot := os.Geteuid() == 0 // initdb refuses root: run as the postgres user
	// Not bound to ctx: stopping the server must work after ctx has ended.
	pgcmd := func(name string, args ...string) *exec.Cmd {
		if asRoot {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
		return exec.Command(filepath.Join(bin, name), args...)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", noop, err
		}
		if asRoot {
			if out, err := exec.Command("chown", "-R", "postgres:postgres", filepath.Dir(dir)).CombinedOutput(); err != nil {
				return "", noop, fmt.Errorf("give %s to the postgres user: %v: %s", dir, err, out)
			}
		}
		fmt.Fprintf(stdout, "Creating a private PostgreSQL in %s …\n", dir)
		if out, err := pgcmd("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
			return "", noop, fmt.Errorf("initdb %s failed: %v\n%s", dir, err, out)
		}
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", port, dir)
	if out, err := pgcmd("pg_ctl", "-D", dir, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		return "", noop, fmt.Errorf("start the private PostgreSQL: %v\n%s", err, out)
	}
	stop := func() {
		if out, err := pgcmd("pg_ctl", "-D", dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the private PostgreSQL: %v\n%s", err, out)
		}
	}
	url, err := devUseServer(ctx, "127.0.0.1", port)
	if err != nil {
		stop()
		return "", noop, err
	}
	fmt.Fprintf(stdout, "Started a private PostgreSQL on 127.0.0.1:%d (data in %s).\n", port, dir)
	return url, stop, nil
}

// ensureDatabase creates the database DATABASE_URL names when its server
// answers that it does not exist (SQLSTATE 3D000), connecting to the
// server's postgres database with the same credentials to do so. Any other
// failure is left to the migration step, which reports it.
func ensureDatabase(ctx context.Context, databaseURL string, stdout io.Writer) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return nil
	}
	name := cfg.Database
	admin := cfg.Copy()
	admin.Database = "postgres"
	aconn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("database %s does not exist, and connecting to the server's postgres database to create it failed: %w (create it yourself, or point DATABASE_URL at one that exists)", name, err)
	}
	defer aconn.Close(ctx)
	if _, err := aconn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("database %s does not exist and could not be created: %w", name, err)
	}
	fmt.Fprintf(stdout, "Created database %s on %s (it did not exist).\n", name, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	return nil
}

// devUseServer connects to the server at host:port and makes sure the dev
// database exists, returning its URL.
func devUseServer(ctx context.Context, host string, port int) (string, error) {
	base := fmt.Sprintf("postgres://postgres@%s/%%s?sslmode=disable&connect_timeout=3", net.JoinHostPort(host, strconv.Itoa(port)))
	conn, err := pgx.Connect(ctx, fmt.Sprintf(base, "postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	name := devDatabaseName()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return fmt.Sprintf(base, name), nil
}

// findPostgresBin finds the directory holding initdb and pg_ctl.
func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- { // newest version first
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New(`no PostgreSQL found: nothing answers on 127.0.0.1:5432 and there is no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin.
Install PostgreSQL (Debian/Ubuntu: apt-get install -y postgresql; macOS: brew install postgresql@16),
or set DATABASE_URL to a server you have, or run the whole stack with: docker compose up`)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
