// Command portico-bench measures Portico's overhead against calling the
// upstream directly and against a minimal go-sdk server, on loopback, with
// bounded loads, and writes the figures as JSON and as tables in
// docs/benchmarks.md.
//
//	go run ./cmd/portico-bench            # full run, a few minutes
//	go run ./cmd/portico-bench -quick     # CI-sized run
//
// The upstream, Portico and the minimal servers of the call-path scenarios
// run as child processes (this binary re-executed, see child.go), so each
// server's CPU and allocations are its own and the load generator's are
// reported apart.
//
// It needs the local Postgres (127.0.0.1:5432, user postgres, trust) for the
// Portico scenarios; it creates and drops its own database. The big-spec
// documents are read from ../shared/specs when present.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

type options struct {
	quick      bool
	db         string
	specs      string
	out        string
	md         string
	only       string
	duration   time.Duration
	warm       time.Duration
	concs      []int
	tenants    int
	active     int
	python     string
	cpuprof    string
	logDir     string
	profileDir string
	stdout     io.Writer
	stderr     io.Writer
	startedAt  time.Time
}

func main() {
	if kind := os.Getenv(childEnv); kind != "" {
		if err := runChild(kind); err != nil {
			fmt.Fprintf(os.Stderr, "portico-bench %s: %v\n", kind, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portico-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portico-bench", flag.ContinueOnError)
	o := options{stdout: stdout, stderr: stderr, startedAt: time.Now()}
	fs.BoolVar(&o.quick, "quick", false, "CI-sized run: short loads, fewer tenants")
	fs.StringVar(&o.db, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "Postgres server URL (a throwaway database is created and dropped)")
	fs.StringVar(&o.specs, "specs", "../shared/specs", "directory of the big OpenAPI documents")
	fs.StringVar(&o.out, "json", "docs/benchmarks.json", "where to write the figures as JSON (empty: don't)")
	fs.StringVar(&o.md, "md", "docs/benchmarks.md", "markdown file whose Portico sections are rewritten (empty: don't)")
	fs.StringVar(&o.only, "only", "", "comma list of scenarios to run: callpath,fastapi,bigspecs,tenants (default all)")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "python with fastapi and uvicorn, for the real FastAPI scenario")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the bench process (load generator) to this file (go tool pprof)")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of the Portico process during its runs at the highest concurrency into this directory")
	fs.StringVar(&o.logDir, "logs", "", "directory for the server processes' logs (default: a new one under the temporary directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.logDir == "" {
		d, err := os.MkdirTemp("", "portico-bench-logs-")
		if err != nil {
			return err
		}
		o.logDir = d
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	o.duration, o.warm, o.concs, o.tenants, o.active = 4*time.Second, time.Second, []int{1, 16, 64}, 10000, 1000
	if o.quick {
		o.duration, o.warm, o.tenants, o.active = time.Second, 300*time.Millisecond, 500, 100
	}
	rep := newReport(o)
	want := func(s string) bool { return o.only == "" || strings.Contains(","+o.only+",", ","+s+",") }
	if want("callpath") {
		if err := callPath(ctx, o, rep); err != nil {
			return fmt.Errorf("call path: %w", err)
		}
	}
	if want("fastapi") {
		if err := realFastAPI(ctx, o, rep); err != nil {
			return fmt.Errorf("real FastAPI: %w", err)
		}
	}
	if want("bigspecs") {
		if err := bigSpecs(ctx, o, rep); err != nil {
			return fmt.Errorf("big specs: %w", err)
		}
	}
	if want("tenants") {
		if err := manyTenants(ctx, o, rep); err != nil {
			return fmt.Errorf("many tenants: %w", err)
		}
	}
	return rep.write()
}
