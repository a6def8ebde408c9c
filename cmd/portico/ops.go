package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// cmdHealth is the container health check: distroless images have no shell
// or curl, so the binary checks itself. It exits 0 only when the URL (by
// default this process's /readyz on PORTICO_ADDR) answers 200.
func cmdHealth(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
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

// cmdTenant is the REST client side of tenant onboarding, for scripts and
// the docker compose demo: it uses the API like any automation would.
func cmdTenant(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "register" {
		return errors.New("usage: portico tenant register --name NAME --base-url URL [--spec-url URL] [--activate] [--api URL] (admin key in PORTICO_API_KEY)")
	}
	fs := flag.NewFlagSet("tenant register", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiURL := fs.String("api", or(getenv("PORTICO_API_URL"), "http://127.0.0.1:8080"), "Portico's URL (PORTICO_API_URL)")
	name := fs.String("name", "", "tenant name; an existing tenant with this name is reused")
	baseURL := fs.String("base-url", "", "the service's base URL")
	specURL := fs.String("spec-url", "", "its OpenAPI document (default base URL + /openapi.json)")
	activate := fs.Bool("activate", false, "activate the tenant (serve its tools) if it is not active")
	tokenName := fs.String("token-name", "portico tenant register", "name of the MCP token printed at the end")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for Portico to answer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	key := getenv("PORTICO_API_KEY")
	switch {
	case key == "":
		return errors.New("tenant register: set PORTICO_API_KEY to an admin API key (e.g. the PORTICO_BOOTSTRAP_ADMIN_KEY)")
	case *name == "" || *baseURL == "":
		return errors.New("tenant register: --name and --base-url are required")
	}
	c := &restClient{base: strings.TrimRight(*apiURL, "/"), key: key}
	if err := c.waitReady(ctx, *wait); err != nil {
		return err
	}
	var list struct {
		Tenants []tenantOut `json:"tenants"`
	}
	if err := c.do(ctx, "GET", "/api/v1/tenants", nil, &list); err != nil {
		return err
	}
	var t *tenantOut
	for i := range list.Tenants {
		if list.Tenants[i].Name == *name {
			t = &list.Tenants[i]
		}
	}
	if t == nil {
		body := map[string]any{"name": *name, "base_url": *baseURL}
		if *specURL != "" {
			body["spec_url"] = *specURL
		}
		t = &tenantOut{}
		if err := c.do(ctx, "POST", "/api/v1/tenants", body, t); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "registered tenant %s (%s)\n", t.Name, t.ID)
	} else {
		fmt.Fprintf(stderr, "tenant %s exists (%s, %s)\n", t.Name, t.ID, t.Status)
	}
	if *activate && t.Status != string(tenant.StatusActive) {
		fmt.Fprintf(stderr, "activating %s: waiting for Portico to download, parse, convert, store and serve its spec\n", t.Name)
		stop := c.watchProgress(ctx, t.ID, "activate", stderr)
		err := c.do(ctx, "POST", "/api/v1/tenants/"+t.ID+"/activate", nil, t)
		stop()
		if err != nil {
			return err
		}
	}
	var tok struct {
		Secret string `json:"secret"`
	}
	if err := c.do(ctx, "POST", "/api/v1/tenants/"+t.ID+"/tokens", map[string]any{"name": *tokenName}, &tok); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "TENANT_ID=%s\nTENANT_STATUS=%s\nMCP_URL=%s\nMCP_TOKEN=%s\n", t.ID, t.Status, t.MCPURL, tok.Secret)
	return nil
}

type tenantOut struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	MCPURL string `json:"mcp_url"`
}

type restClient struct {
	base, key string
}

func (c *restClient) waitReady(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Portico at %s is not ready after %s (last: %v)", c.base, wait, describe(resp, err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

func (c *restClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}
