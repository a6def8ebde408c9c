package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/portico-mcp/portico/client"
	"github.com/portico-mcp/portico/server"
	"github.com/portico-mcp/portico/tenant"
)

// cmdHealth is the container health check: distroless images have no shell
// or curl, so the binary checks itself. It exits 0 only when the URL (by
// default this process's /readyz on PORTICO_ADDR) answers 200.
func cmdHealth(ctx context.Context, cfg *server.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", localURL(cfg.Addr)+"/readyz", "URL that must answer 200 (e.g. .../healthz for liveness)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %s does not answer: %w", *url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", *url, resp.StatusCode, bytes.TrimSpace(body))
	}
	fmt.Fprintf(stdout, "%s\n", bytes.TrimSpace(body))
	return nil
}

// localURL is how a process on the same host (or in the same container)
// reaches a server listening on addr.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// generateAdminKey returns a random admin key secret in the pk_ format, for
// PORTICO_BOOTSTRAP_ADMIN_KEY. Nothing is stored until serve starts with it.
func generateAdminKey() string {
	b := make([]byte, 20)
	rand.Read(b)
	return tenant.APIKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// cmdTenantRegister is the REST client side of tenant onboarding, for
// scripts and the docker compose demo: it uses the API like any automation
// would. It first waits for Portico to answer ready, saying so, since in a
// compose file it starts beside Portico.
func cmdTenantRegister(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("api", or(getenv("PORTICO_API_URL"), defaultAPI), "Portico's URL (PORTICO_API_URL)")
	name := fs.String("name", "", "tenant name; an existing tenant with this name is reused")
	baseURL := fs.String("base-url", "", "the service's base URL")
	specURL := fs.String("spec-url", "", "its OpenAPI document (default base URL + /openapi.json)")
	activate := fs.Bool("activate", false, "activate the tenant (serve its tools) if it is not active")
	tokenName := fs.String("token-name", "portico tenant register", "name of the MCP token printed at the end")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for Portico to answer ready")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := getenv("PORTICO_API_KEY")
	switch {
	case key == "":
		return errors.New("tenant register: set PORTICO_API_KEY to an admin API key (e.g. the PORTICO_BOOTSTRAP_ADMIN_KEY)")
	case *name == "" || *baseURL == "":
		return errors.New("usage: portico tenant register --name NAME --base-url URL [--spec-url URL] [--activate] [--api URL] [--wait 60s] (admin key in PORTICO_API_KEY)")
	}
	c := client.New(*apiURL, key)
	if err := waitReady(ctx, c, *wait, stderr); err != nil {
		return err
	}
	t, err := c.Find(ctx, *name)
	switch {
	case client.IsNotFound(err):
		t, err = c.CreateTenant(ctx, client.TenantCreate{Name: *name, BaseURL: *baseURL, SpecURL: *specURL})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "registered tenant %s (%s)\n", t.Name, t.ID)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stderr, "tenant %s exists (%s, %s)\n", t.Name, t.ID, t.Status)
	}
	if *activate && t.Status != tenant.StatusActive {
		fmt.Fprintf(stderr, "activating %s: waiting for Portico to download, parse, convert, store and serve its spec\n", t.Name)
		stop := watchProgress(ctx, c, t.ID, "activate", stderr)
		t, err = c.Activate(ctx, t.ID)
		stop()
		if err != nil {
			return err
		}
	}
	tok, err := c.CreateToken(ctx, t.ID, *tokenName, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "TENANT_ID=%s\nTENANT_STATUS=%s\nMCP_URL=%s\nMCP_TOKEN=%s\n", t.ID, t.Status, t.MCPURL, tok.Secret)
	return nil
}

// waitReady polls /readyz until it answers 200, saying once what it waits
// for; after wait it fails naming the URL and the last answer.
func waitReady(ctx context.Context, c *client.Client, wait time.Duration, stderr io.Writer) error {
	deadline := time.Now().Add(wait)
	said := false
	for {
		err := c.Ready(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			//lint:ignore ST1005 Portico is a name
			return fmt.Errorf("Portico at %s did not answer ready within %s (--wait); last: %v", c.BaseURL+"/readyz", wait, err)
		}
		if !said {
			fmt.Fprintf(stderr, "waiting for Portico at %s to answer ready (up to %s; --api or PORTICO_API_URL sets the URL, --wait the time)\n", c.BaseURL+"/readyz", wait)
			said = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
