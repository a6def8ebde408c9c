// Package cli is the portico command line: every command `portico help`
// lists, from serve, dev and run to the REST API's clients (apply, tenants,
// tools, call, …). Command portico (cmd/portico) only adds the process
// around Run; the end-to-end tests run commands in-process through it.
package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/server"
	"github.com/portico-mcp/portico/tenant"
)

// version is set at build time with
// -ldflags "-X github.com/portico-mcp/portico/cmd/portico/cli.version=…".
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
func usage() string { return commandsUsage + "\n" + server.SettingsHelp() }

// Run is the whole program: main only adds the process around it, so tests
// can start Portico in-process with their own arguments and environment.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return errors.New("no command given")
	}
	// Commands that read the configuration parse it; the others (convert,
	// run, tenant, version, help) work whatever the environment holds.
	withConfig := func(f func(*server.Config) error) error {
		cfg, err := server.LoadConfig(getenv)
		if err != nil {
			return err
		}
		cfg.Version = version
		return f(cfg)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return withConfig(func(cfg *server.Config) error { return cmdServe(ctx, cfg, rest, stdout, stderr) })
	case "dev":
		return withConfig(func(cfg *server.Config) error { return cmdDev(ctx, cfg, rest, stdout, stderr) })
	case "migrate":
		return withConfig(func(cfg *server.Config) error { return cmdMigrate(ctx, cfg, rest, stdout) })
	case "convert":
		return cmdConvert(rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, os.Stdin, stdout, stderr)
	case "admin":
		return withConfig(func(cfg *server.Config) error { return cmdAdmin(ctx, cfg, rest, stdout) })
	case "keys":
		return withConfig(func(cfg *server.Config) error { return cmdKeys(ctx, cfg, rest, stdout) })
	case "health":
		return withConfig(func(cfg *server.Config) error { return cmdHealth(ctx, cfg, rest, stdout, stderr) })
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

func cmdServe(ctx context.Context, cfg *server.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return server.Serve(ctx, cfg, stdout, stderr)
}

func cmdMigrate(ctx context.Context, cfg *server.Config, args []string, stdout io.Writer) error {
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

func cmdAdmin(ctx context.Context, cfg *server.Config, args []string, stdout io.Writer) error {
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
	store, closeStore, err := server.OpenStore(ctx, cfg)
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

func cmdKeys(ctx context.Context, cfg *server.Config, args []string, stdout io.Writer) error {
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
		store, closeStore, err := server.OpenStore(ctx, cfg)
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
