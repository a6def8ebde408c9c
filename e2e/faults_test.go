package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
)

// TestPostgresOutage stops and restarts a real PostgreSQL server under a
// running Portico while agents keep calling tools: no MCP call of an active
// tenant fails, REST writes get 503 with a clear error, /readyz names the
// cause, and afterwards everything works again without a restart and every
// acknowledged write is there.
func TestPostgresOutage(t *testing.T) {
	harness.HeavySuite(t, "starts its own PostgreSQL server")
	pg := startThrowawayPostgres(t)
	if err := cli.Run(context.Background(), []string{"migrate", "up"}, func(k string) string {
		return map[string]string{"DATABASE_URL": pg.url}[k]
	}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, 5*time.Millisecond)
	// A short token TTL makes the outage exercise the stale-cache path
	// rather than ride on fresh entries.
	p := startPorticoWith(t, pg.url, map[string]string{"PORTICO_TOKEN_CACHE_TTL": "300ms"})
	tenantID, mcpURL, token := p.register(t, "steady", up.url)

	var acked []string // tenants whose creation was acknowledged (201)
	write := func(name string) int {
		body := strings.NewReader(fmt.Sprintf(`{"name":%q,"base_url":%q}`, name, up.url))
		req, _ := http.NewRequest("POST", p.url+"/api/v1/tenants", body)
		req.Header.Set("Authorization", "Bearer "+p.adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 201 {
			acked = append(acked, name)
		} else if resp.StatusCode == 503 && !strings.Contains(string(b), "database_unavailable") {
			t.Errorf("503 without the database_unavailable code: %s", b)
		}
		return resp.StatusCode
	}
	for i := range 3 {
		if code := write(fmt.Sprintf("before-%d", i)); code != 201 {
			t.Fatalf("write before the outage: %d", code)
		}
	}

	// Agents call throughout.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		ok, failed atomic.Int64
		duringDown atomic.Int64
		down       atomic.Bool
		mu         sync.Mutex
		failures   []string
		wg         sync.WaitGroup
	)
	for w := range 4 {
		cs := connect(context.Background(), t, mcpURL, token)
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				wasDown := down.Load()
				err := callWork(context.Background(), cs, fmt.Sprintf("w%d-%d", w, i))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				ok.Add(1)
				if wasDown && down.Load() {
					duringDown.Add(1)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)

	t.Log("stopping PostgreSQL")
	pg.stop(t)
	down.Store(true)
	outageStart := time.Now()
	code, body := getStatus(t, p.url+"/readyz")
	if code != 503 || !strings.Contains(body, "PostgreSQL is unreachable") {
		t.Errorf("/readyz during the outage: %d %s; want 503 naming PostgreSQL", code, body)
	}
	if code, body := getStatus(t, p.url+"/readyz?exclude=database"); code != 200 {
		t.Errorf("/readyz?exclude=database during the outage: %d %s; want 200 (MCP is still served)", code, body)
	}
	writes503 := 0
	for i := 0; time.Since(outageStart) < 3*time.Second; i++ {
		if code := write(fmt.Sprintf("during-%d", i)); code != 503 {
			t.Errorf("write during the outage: status %d, want 503", code)
		} else {
			writes503++
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Log("starting PostgreSQL again")
	pg.start(t)
	down.Store(false)
	waitFor(t, 20*time.Second, "/readyz to recover", func() bool { c, _ := getStatus(t, p.url+"/readyz"); return c == 200 })
	for i := range 3 {
		if code := write(fmt.Sprintf("after-%d", i)); code != 201 {
			t.Errorf("write after recovery: status %d, want 201", code)
		}
	}
	time.Sleep(500 * time.Millisecond) // calls keep flowing after recovery too
	cancel()
	wg.Wait()

	// Every acknowledged write is stored.
	var list struct {
		Tenants []struct{ Name string } `json:"tenants"`
	}
	p.do(t, "GET", "/api/v1/tenants", nil, 200, &list)
	have := map[string]bool{}
	for _, tn := range list.Tenants {
		have[tn.Name] = true
	}
	for _, name := range acked {
		if !have[name] {
			t.Errorf("acknowledged write %s is missing after recovery", name)
		}
	}

	m := scrape(t, p.url)
	stale := m[`portico_mcp_token_checks_total{source="stale"}`]
	t.Logf("MCP calls: %d ok (%d while PostgreSQL was down), %d failed; writes during the outage: %d, all 503; acknowledged writes: %d, all present; stale token checks: %.0f",
		ok.Load(), duringDown.Load(), failed.Load(), writes503, len(acked), stale)
	if failed.Load() != 0 {
		t.Errorf("%d MCP calls failed, want 0; first: %s", failed.Load(), failures[0])
	}
	if duringDown.Load() == 0 {
		t.Error("no MCP call completed while PostgreSQL was down: the test proved nothing")
	}
	if stale == 0 {
		t.Error("the token cache never served a stale entry: the outage path was not exercised")
	}
	if got := m[fmt.Sprintf(`portico_mcp_calls_total{status="ok",tenant=%q,tool="work"}`, tenantID)]; got != float64(ok.Load()) {
		t.Errorf("portico_mcp_calls_total ok = %v, want %d", got, ok.Load())
	}
}
