// Command portico runs Portico: the hosted control plane that turns a team's
// OpenAPI (FastAPI) services into MCP servers, one per tenant, at /t/<id>/mcp.
// See `portico help` for the commands; they live in package cli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/portico-mcp/portico/cmd/portico/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portico:", err)
		stop()
		os.Exit(1)
	}
}
