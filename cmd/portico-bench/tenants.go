package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portico-mcp/portico/tenant"
)

// tenantsResult is the many-tenants scenario.
type tenantsResult struct {
	Registered       int     `json:"registered"`
	Active           int     `json:"active"`
	ToolsPerTenant   int     `json:"tools_per_tenant"`
	SetupS           float64 `json:"setup_s"`
	RestoreS         float64 `json:"restore_s"`
	RSSBeforeMB      float64 `json:"rss_before_mb"`
	RSSAfterMB       float64 `json:"rss_after_mb"`
	RSSPerActiveKB   float64 `json:"rss_per_active_kb"`
	HeapPerActiveKB  float64 `json:"heap_per_active_kb"`
	InactiveBytes    int     `json:"inactive_bytes_in_process"`
	Spread           result  `json:"spread_calls"`
	Direct           result  `json:"direct_calls"`
	SkippedReason    string  `json:"skipped,omitempty"`
	PetstoreDocument string  `json:"document"`
}

// manyTenants registers o.tenants tenants in bulk (SQL), o.active of them
// active with a cached petstore-sized spec, restores the active ones as
// `portico serve` does at start, and spreads tools/call over all of them.
func manyTenants(ctx context.Context, o options, rep *report) error {
	specPath := filepath.Join(o.specs, "swagger-petstore-v3__openapi.yaml")
	raw, err := os.ReadFile(specPath)
	if err != nil {
		msg := specPath + " not found: run from the repository root with ../shared/specs present (or -specs DIR)"
		fmt.Fprintln(o.stderr, "many tenants: skipping:", msg)
		rep.tenants = &tenantsResult{SkippedReason: msg}
		return nil
	}
	up, err := startUpstream()
	if err != nil {
		return err
	}
	defer up.close()
	p, err := startPortico(ctx, o.db)
	if err != nil {
		return err
	}
	defer p.close()
	res := &tenantsResult{Registered: o.tenants, Active: o.active, PetstoreDocument: filepath.Base(specPath)}
	t0 := time.Now()
	tokens, err := seedTenants(ctx, p, p.db.url, raw, up.url+"/api/v3", o.tenants, o.active)
	if err != nil {
		return err
	}
	res.SetupS = time.Since(t0).Seconds()

	debug.FreeOSMemory()
	rss0, heap0 := rssBytes(), heapBytes()
	t0 = time.Now()
	if err := p.runtime.Restore(ctx); err != nil {
		return err
	}
	res.RestoreS = time.Since(t0).Seconds()
	debug.FreeOSMemory()
	rss1, heap1 := rssBytes(), heapBytes()
	if n := p.runtime.ActiveCount(); n != o.active {
		return fmt.Errorf("restored %d tenants, want %d", n, o.active)
	}
	res.RSSBeforeMB, res.RSSAfterMB = float64(rss0)/1e6, float64(rss1)/1e6
	res.RSSPerActiveKB = float64(int64(rss1)-int64(rss0)) / 1024 / float64(o.active)
	res.HeapPerActiveKB = float64(int64(heap1)-int64(heap0)) / 1024 / float64(o.active)
	ids := make([]string, 0, len(tokens))
	for id := range tokens {
		ids = append(ids, id)
	}
	tools, err := p.runtime.Tools(ctx, ids[0])
	if err != nil {
		return err
	}
	res.ToolsPerTenant = len(tools)
	fmt.Fprintf(o.stderr, "many tenants: %d registered, %d active restored in %.2f s; RSS %.0f -> %.0f MB (%.0f KB per active tenant, heap %.0f KB)\n",
		o.tenants, o.active, res.RestoreS, res.RSSBeforeMB, res.RSSAfterMB, res.RSSPerActiveKB, res.HeapPerActiveKB)

	var next atomic.Int64
	spread := target{name: "portico, spread", mode: "stateless", worker: func(ctx context.Context, client *http.Client) (caller, error) {
		return func(ctx context.Context) error {
			n := next.Add(1)
			id := ids[int(n)%len(ids)]
			body := `{"jsonrpc":"2.0","id":` + strconv.FormatInt(n, 10) + `,"method":"tools/call","params":{"name":"getPetById","arguments":{"petId":` + strconv.FormatInt(n%1000, 10) + `}}}`
			return send(client, mcpRequest(ctx, p.endpoint(id), tokens[id], "", versionStateless, body), []byte(`"result"`))
		}, nil
	}}
	conc := 64
	if res.Direct, err = runLoad(ctx, "many tenants", directTarget(up.url+"/api/v3/pet/"), conc, o.warm, o.duration, ""); err != nil {
		return err
	}
	conns := up.conns.Load()
	if res.Spread, err = runLoad(ctx, "many tenants", spread, conc, o.warm, o.duration, ""); err != nil {
		return err
	}
	fmt.Fprintf(o.stderr, "many tenants: upstream connections opened during the spread calls (warm-up included): %d\n", up.conns.Load()-conns)
	rel := relate([]result{res.Direct, res.Spread})
	res.Direct, res.Spread = rel[0], rel[1]
	fmt.Fprintf(o.stderr, "many tenants: calls over %d tenants at c=%d: %.0f/s (%.2fx direct) p50 %.2f ms p99 %.2f ms p99.9 %.2f ms, errors %d %s\n",
		len(ids), conc, res.Spread.RPS, res.Spread.RatioVsDirect, res.Spread.P50ms, res.Spread.P99ms, res.Spread.P999ms, res.Spread.Errors, res.Spread.FirstError)
	rep.tenants = res
	return nil
}

// seedTenants writes n tenants with SQL, the first active of them active
// with one cached spec version and one MCP token each; it returns the
// active tenants' tokens by id.
func seedTenants(ctx context.Context, p *portico, dbURL string, spec []byte, baseURL string, n, active int) (map[string]string, error) {
	tmpl := &tenant.Tenant{Name: "bench-template", BaseURL: baseURL, SpecURL: baseURL + "/openapi.yaml"}
	if err := p.store.CreateTenant(ctx, tmpl, "bench"); err != nil {
		return nil, err
	}
	if _, _, err := p.store.AddSpecVersion(ctx, tmpl.ID, tenant.SpecVersion{Raw: spec, ToolCount: 19}); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	// Every tenant shares the template's wrapped data key: none has
	// credentials, so it is never unwrapped.
	_, err = conn.Exec(ctx, `
		INSERT INTO tenants (id, name, base_url, spec_url, status, spec_version, dek_wrapped, dek_kid)
		SELECT 'bt' || lpad(i::text, 6, '0'), 'bench-' || i, t.base_url, t.spec_url,
		       CASE WHEN i <= $2 THEN 'active' ELSE 'inactive' END, CASE WHEN i <= $2 THEN 1 ELSE 0 END,
		       t.dek_wrapped, t.dek_kid
		FROM generate_series(1, $1) i, tenants t WHERE t.id = $3`, n, active, tmpl.ID)
	if err != nil {
		return nil, fmt.Errorf("insert tenants: %w", err)
	}
	_, err = conn.Exec(ctx, `
		INSERT INTO spec_versions (tenant_id, version, sha256, etag, last_modified, raw_gzip, tool_count, warnings)
		SELECT t.id, 1, s.sha256, s.etag, s.last_modified, s.raw_gzip, s.tool_count, s.warnings
		FROM tenants t, spec_versions s WHERE s.tenant_id = $1 AND t.status = 'active'`, tmpl.ID)
	if err != nil {
		return nil, fmt.Errorf("insert spec versions: %w", err)
	}
	tokens := make(map[string]string, active)
	rows := make([][]any, 0, active)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := 1; i <= active; i++ {
		id := fmt.Sprintf("bt%06d", i)
		b := make([]byte, 20)
		rand.Read(b)
		secret := tenant.TokenPrefix + strings.ToLower(enc.EncodeToString(b))
		h := sha256.Sum256([]byte(secret))
		tokens[id] = secret
		rows = append(rows, []any{"tok" + id, id, "bench", secret[:12], h[:]})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"mcp_tokens"}, []string{"id", "tenant_id", "name", "prefix", "hash"}, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("insert tokens: %w", err)
	}
	return tokens, nil
}

// rssBytes is this process's resident set size.
func rssBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
