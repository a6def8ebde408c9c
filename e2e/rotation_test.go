package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

const (
	masterK1 = "k1:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLW9uZS0zMmJ5dGU="
	masterK2 = "k2:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLXR3by0zMmJ5dGU="
)

// TestKeyRotationUnderLoad re-wraps every tenant's data key under a new
// master key while tool calls, settings reloads (which decrypt the
// credentials again) and credential writes run without pause, then removes
// the old master key: no call may fail, everything must still decrypt, and
// the canary secret must appear in no log, response or column.
func TestKeyRotationUnderLoad(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	upstream := startThingsUpstream(t)
	noLimits := map[string]string{"PORTICO_RATE_LIMIT_CALLER": "0", "PORTICO_RATE_LIMIT_TENANT": "0",
		"PORTICO_MCP_RATE_LIMIT_TENANT": "0", "PORTICO_MCP_RATE_LIMIT_TOKEN": "0"}
	with := func(keys string) map[string]string {
		m := map[string]string{"PORTICO_MASTER_KEYS": keys}
		for k, v := range noLimits {
			m[k] = v
		}
		return m
	}

	// Before: every data key is wrapped by k1, across more than one batch.
	old := startPorticoWith(t, dbURL, with(masterK1))
	const tenants = 120
	ids := make([]string, tenants)
	for i := range ids {
		var tn struct{ ID string }
		old.do(t, "POST", "/api/v1/tenants", map[string]any{"name": fmt.Sprintf("rot-%03d", i), "base_url": upstream}, 201, &tn)
		old.do(t, "PUT", "/api/v1/tenants/"+tn.ID+"/credentials/upstream", map[string]any{"type": "bearer", "value": canary}, 204, nil)
		ids[i] = tn.ID
	}
	hot := ids[0]

	// The rolling deploy: a replica that knows k2 (newest) and k1.
	p := startPorticoWith(t, dbURL, with(masterK2+","+masterK1))
	p.do(t, "POST", "/api/v1/tenants/"+hot+"/activate", nil, 200, nil)
	token := p.token(t, hot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var calls, failures atomic.Int64
	var failMu sync.Mutex
	var firstFailure string
	fail := func(msg string) {
		failures.Add(1)
		failMu.Lock()
		if firstFailure == "" {
			firstFailure = msg
		}
		failMu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		cs := connect(ctx, t, p.url+"/t/"+hot+"/mcp", token)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				calls.Add(1)
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "getThing", Arguments: map[string]any{}})
				switch {
				case err != nil:
					fail("tool call: " + err.Error())
				case res.IsError || !strings.Contains(textOf(res), `"authorized":true`):
					fail("tool result: " + textOf(res))
				}
			}
		})
	}
	admin := bearer("admin", p.adminKey)
	wg.Go(func() { // reloads decrypt the credentials again, mid-rotation
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			calls.Add(1)
			if st, b, _ := p.send(t, admin, "PUT", "/api/v1/tenants/"+hot+"/settings", map[string]any{"upstream_timeout_ms": 10000 + i%2}); st != 200 {
				fail(fmt.Sprintf("settings reload: %d %s", st, b))
			}
			calls.Add(1)
			if st, b, _ := p.send(t, admin, "PUT", "/api/v1/tenants/"+ids[1+i%(tenants-1)]+"/credentials/upstream", map[string]any{"type": "bearer", "value": canary}); st != 204 {
				fail(fmt.Sprintf("credential write: %d %s", st, b))
			}
		}
	})

	time.Sleep(300 * time.Millisecond) // load is running before the rotation starts
	var out bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": masterK2 + "," + masterK1}[k]
	}
	start := time.Now()
	if err := cli.Run(ctx, []string{"keys", "rotate"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("keys rotate: %v", err)
	}
	took := time.Since(start)
	time.Sleep(300 * time.Millisecond) // and keeps running after it
	close(stop)
	wg.Wait()
	t.Logf("rotation: %s in %s; %d calls during it, %d failed", strings.TrimSpace(out.String()), took, calls.Load(), failures.Load())
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed during rotation; first: %s", failures.Load(), calls.Load(), firstFailure)
	}
	if !strings.Contains(out.String(), "re-wrapped") {
		t.Errorf("rotate said %q", out.String())
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var notK2 int
	conn.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE dek_kid <> 'k2'`).Scan(&notK2)
	conn.Close(ctx)
	if notK2 != 0 {
		t.Fatalf("%d tenants still wrapped by an old key", notK2)
	}

	// After: k1 is gone. Everything still decrypts: a reload of the hot
	// tenant, and activation of tenants whose keys were re-wrapped.
	p3 := startPorticoWith(t, dbURL, with(masterK2))
	p3.do(t, "PUT", "/api/v1/tenants/"+hot+"/settings", map[string]any{}, 200, nil)
	for _, id := range []string{ids[1], ids[tenants/2], ids[tenants-1]} {
		p3.do(t, "POST", "/api/v1/tenants/"+id+"/activate", nil, 200, nil)
	}
	token3 := p3.token(t, ids[tenants-1])
	cs := connect(ctx, t, p3.url+"/t/"+ids[tenants-1]+"/mcp", token3)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "getThing", Arguments: map[string]any{}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), `"authorized":true`) {
		t.Fatalf("call with only the new master key: %v %q", err, textOf(res))
	}

	for _, srv := range []*portico{old, p, p3} {
		if strings.Contains(srv.logs.String(), canary) || strings.Contains(srv.responses.String(), canary) {
			t.Error("the canary appears in a log or API response")
		}
	}
	scanDatabase(t, dbURL)
	var audit struct{ Audit []struct{ Action string } }
	p3.do(t, "GET", "/api/v1/tenants/"+ids[5]+"/audit", nil, 200, &audit)
	b, _ := json.Marshal(audit)
	if !strings.Contains(string(b), "tenant.rewrap_key") {
		t.Errorf("audit of a re-wrapped tenant lacks tenant.rewrap_key: %s", b)
	}
}
