// Package harness starts what the end-to-end tests and the benchmark run
// against: Portico in the test's own process, wired by package server
// exactly as `portico serve` wires it, and records which heavy suites of a
// test binary ran or were skipped. Tests that need Portico as a separate
// process build the binary (BuildBinary).
package harness

import (
	"context"
	"io"

	"github.com/portico-mcp/portico/server"
)

// Running is Portico serving in this process until Stop.
type Running struct {
	*server.Server
	// URL is where it answers: its public URL, from PORTICO_PUBLIC_URL or
	// the listener.
	URL  string
	stop context.CancelFunc
	done chan error
}

// Serve starts Portico in this process as `portico serve` does
// (server.Start: the bootstrap admin key, restoring active tenants,
// listening on PORTICO_ADDR) with getenv as its environment, and serves
// until Stop. Its log goes to logs.
func Serve(ctx context.Context, getenv func(string) string, logs io.Writer) (*Running, error) {
	cfg, err := server.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	cfg.Version = "dev" // as an unversioned build of the binary reports
	s, ln, err := server.Start(ctx, cfg, cfg.Logger(logs))
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &Running{Server: s, URL: s.PublicURL(), stop: cancel, done: make(chan error, 1)}
	go func() {
		err := s.Run(rctx, ln)
		s.Close()
		r.done <- err
	}()
	return r, nil
}

// Stop shuts Portico down as SIGTERM does (drain, then close) and returns
// what serving returned.
func (r *Running) Stop() error {
	r.stop()
	return <-r.done
}
