package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/tenant"
)

// headerFlags collects repeated --header 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// cmdRun is `portico run`: one OpenAPI service as an MCP server, with no
// database, over stdio (for desktop clients) or HTTP — the local
// equivalent of FastMCP.from_fastapi.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("openapi", "", "URL or file of the OpenAPI document (required)")
	baseURL := fs.String("base-url", "", "base URL of the service the tools call (required)")
	transport := fs.String("transport", "stdio", "stdio, or http to serve Streamable HTTP at /mcp")
	addr := fs.String("addr", "127.0.0.1:8000", "listen address with --transport http")
	var headers headerFlags
	fs.Var(&headers, "header", "'Name: value' sent with every upstream call (repeatable), e.g. 'Authorization: Bearer s3cret'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var inv tenant.InvalidError
	if *spec == "" {
		inv.Add("--openapi", "is required: the URL or file of the OpenAPI document")
	}
	if err := tenant.ValidateHTTPURL("--base-url", *baseURL); err != nil {
		var ie *tenant.InvalidError
		errors.As(err, &ie)
		inv.Problems = append(inv.Problems, ie.Problems...)
	}
	if *transport != "stdio" && *transport != "http" {
		inv.Add("--transport", "must be stdio or http")
	}
	var creds []tenant.LiveCredential
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		c := tenant.Credential{Name: fmt.Sprintf("header%d", len(creds)+1), Type: tenant.CredHeader, Header: strings.TrimSpace(name)}
		if !ok || c.Validate(strings.TrimSpace(value)) != nil {
			inv.Add("--header", fmt.Sprintf("%q must look like 'Name: value'", name))
			continue
		}
		creds = append(creds, tenant.LiveCredential{Credential: c, Value: tenant.Secret(strings.TrimSpace(value))})
	}
	if err := inv.Err(); err != nil {
		return err
	}

	t := &tenant.Tenant{ID: "local", Name: "local", BaseURL: *baseURL, SpecURL: *spec, Status: tenant.StatusPending}
	ms := &memStore{t: t, creds: creds}
	if !strings.HasPrefix(*spec, "http://") && !strings.HasPrefix(*spec, "https://") {
		raw, err := os.ReadFile(*spec)
		if err != nil {
			return fmt.Errorf("--openapi: %w", err)
		}
		sum := sha256.Sum256(raw)
		ms.spec = &tenant.SpecVersion{TenantID: t.ID, Version: 1, SHA256: hex.EncodeToString(sum[:]), Raw: raw, FetchedAt: time.Now()}
	}
	// Logs go to stderr: with stdio, stdout carries the protocol.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt := bridge.New(ms, bridge.Config{
		Logger: log,
		// A local run acts for the person running it, on their own network.
		AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
		Version:    version,
	})
	if _, err := rt.Activate(ctx, t.ID, "local"); err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())
	srv := rt.Server(t.ID)

	if *transport == "stdio" {
		err := srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "serving %s as MCP at http://%s/mcp\n", *spec, ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// memStore is the runtime's store for `portico run`: one tenant, in memory.
type memStore struct {
	mu    sync.Mutex
	t     *tenant.Tenant
	spec  *tenant.SpecVersion
	creds []tenant.LiveCredential
}

func (m *memStore) Tenant(_ context.Context, id string) (*tenant.Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id != m.t.ID {
		return nil, tenant.ErrNotFound
	}
	c := *m.t
	return &c, nil
}

func (m *memStore) Tenants(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error) {
	t, _ := m.Tenant(ctx, m.t.ID)
	if f.Status != "" && t.Status != f.Status {
		return nil, nil
	}
	return []*tenant.Tenant{t}, nil
}

func (m *memStore) SetStatus(ctx context.Context, id string, to tenant.Status, reason, _ string) (*tenant.Tenant, error) {
	m.mu.Lock()
	if id != m.t.ID {
		m.mu.Unlock()
		return nil, tenant.ErrNotFound
	}
	m.t.Status, m.t.StatusReason = to, reason
	m.mu.Unlock()
	return m.Tenant(ctx, id)
}

func (m *memStore) LiveCredentials(context.Context, string) ([]tenant.LiveCredential, error) {
	return m.creds, nil
}

func (m *memStore) AddSpecVersion(_ context.Context, _ string, v tenant.SpecVersion) (tenant.SpecVersion, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v.Version = 1
	m.spec = &v
	return v, true, nil
}

func (m *memStore) LatestSpec(context.Context, string) (tenant.SpecVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spec == nil {
		return tenant.SpecVersion{}, tenant.ErrNotFound
	}
	return *m.spec, nil
}

func (m *memStore) VerifyToken(context.Context, string) (tenant.Token, error) {
	return tenant.Token{}, tenant.ErrNotFound // `portico run` serves no /t/<id>/mcp
}

// errNotHere answers what a single in-memory tenant cannot do.
var errNotHere = errors.New("not available without a database (portico run / Portico's own /mcp)")

func (m *memStore) LatestSpecInfo(ctx context.Context, id string) (tenant.SpecVersion, error) {
	return m.LatestSpec(ctx, id)
}

func (m *memStore) Spec(ctx context.Context, id string, version int) (tenant.SpecVersion, error) {
	s, err := m.LatestSpec(ctx, id)
	if err != nil || s.Version != version {
		return tenant.SpecVersion{}, tenant.ErrNotFound
	}
	return s, nil
}

func (m *memStore) SpecVersions(ctx context.Context, id string) ([]tenant.SpecVersion, error) {
	s, err := m.LatestSpec(ctx, id)
	if err != nil {
		return []tenant.SpecVersion{}, nil
	}
	return []tenant.SpecVersion{s}, nil
}

func (m *memStore) SpecStatus(_ context.Context, id string) (tenant.SpecStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := tenant.SpecStatus{TenantID: id}
	if m.spec != nil {
		st.NewestVersion, st.ServingVersion = m.spec.Version, m.spec.Version
	}
	return st, nil
}

func (m *memStore) PinSpec(context.Context, string, int, string) error { return errNotHere }
func (m *memStore) UnpinSpec(context.Context, string, string) error    { return errNotHere }
func (m *memStore) RecordRefresh(context.Context, string, string) error {
	return nil
}

func (m *memStore) TenantGenerations(context.Context) ([]tenant.TenantGeneration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []tenant.TenantGeneration{{ID: m.t.ID, Status: m.t.Status}}, nil
}

func (m *memStore) WithRefreshLock(_ context.Context, _ string, _ bool, fn func() error) error {
	return fn()
}

func (m *memStore) RotateHookSecret(context.Context, string, string) (string, error) {
	return "", errNotHere
}
func (m *memStore) DeleteHookSecret(context.Context, string, string) error { return errNotHere }
func (m *memStore) HookSecret(context.Context, string) (tenant.Secret, error) {
	return "", tenant.ErrNotFound
}
