package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestActivityAndLimitsAcrossReplicas: three `portico serve` replicas on
// one database behind a round-robin balancer. After N tool calls (one
// replica restarted mid-run) /calls and /usage count exactly N; a tenant
// limit of 10/s admits no more than the shared bucket allows across the three; and a database outage
// of 20 s during load (Postgres reached through a loopback proxy that is cut) loses
// no call record that fits the buffers, while those that do not are counted
// exactly in portico_call_records_dropped_total.
func TestActivityAndLimitsAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three portico processes")
	}
	db := pgtest.NewDB(t)
	pg := startPGProxy(t, db)
	bin := buildBinary(t)
	fastapi := startFastAPI(t)
	adminKey := generateAdminKey()
	const buffer = 300
	const outage = 20 * time.Second
	replicas := make([]*replica, 3)
	for i := range replicas {
		replicas[i] = startReplica(t, bin, pg.url, adminKey,
			"PORTICO_CALL_FLUSH_INTERVAL=100ms", fmt.Sprintf("PORTICO_CALL_BUFFER=%d", buffer),
			"PORTICO_METRICS_TOKEN="+testMetricsToken)
	}
	lb := newRoundRobin(t, replicas)
	p := &portico{url: lb.url, adminKey: adminKey, logs: replicas[0].logs, responses: &syncBuffer{}}
	direct := &portico{url: replicas[0].url, adminKey: adminKey, logs: replicas[0].logs, responses: &syncBuffer{}}
	id, _, token := direct.register(t, "fleet", fastapi.url)
	for _, r := range replicas {
		waitTools(t, "every replica after activation", r.url+"/t/"+id+"/mcp", token, toolsV1)
	}
	endpoint := lb.url + "/t/" + id + "/mcp"
	client := &http.Client{Timeout: 30 * time.Second}
	var recorded atomic.Int64 // tool calls answered (each is one call record)
	// target is where calls go: the balancer, or (during the outage, when
	// every replica reports unready and the balancer would send everything
	// to one) the replicas in turn.
	var direct3 atomic.Int64
	target := func(viaLB bool) string {
		if viaLB {
			return endpoint
		}
		return replicas[direct3.Add(1)%3].url + "/t/" + id + "/mcp"
	}
	viaLB := true
	call := func() (limited bool, err error) {
		limited, err = callDirect(client, target(viaLB), token)
		if err == nil {
			recorded.Add(1)
		}
		return limited, err
	}
	load := func(n, workers int, during func(done int64)) (failed int) {
		var wg sync.WaitGroup
		var next, fails atomic.Int64
		for range workers {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > int64(n) {
						return
					}
					if during != nil {
						during(i)
					}
					if _, err := call(); err != nil {
						fails.Add(1)
						t.Logf("call %d: %v", i, err)
					}
				}
			})
		}
		wg.Wait()
		return int(fails.Load())
	}
	dropped := func() (n int64) {
		for _, r := range replicas {
			n += metricValue(t, r.url, "portico_call_records_dropped_total")
		}
		return n
	}
	// counts reads the fleet's figures: calls paged through /calls and the
	// total of /usage.
	counts := func() (listed, usage int64) {
		cursor := ""
		for {
			var page struct {
				Calls      []struct{ Tool string } `json:"calls"`
				NextCursor string                  `json:"next_cursor"`
			}
			q := url.Values{"limit": {"1000"}, "from": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			p.do(t, "GET", "/api/v1/tenants/"+id+"/calls?"+q.Encode(), nil, 200, &page)
			listed += int64(len(page.Calls))
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		var u struct {
			Total struct{ Calls int64 } `json:"total"`
		}
		q := url.Values{"bucket": {"minute"}, "from": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
			"to": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}}
		p.do(t, "GET", "/api/v1/tenants/"+id+"/usage?"+q.Encode(), nil, 200, &u)
		return listed, u.Total.Calls
	}
	expectExact := func(what string, want int64) {
		t.Helper()
		var listed, usage int64
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if listed, usage = counts(); listed == want && usage == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /calls lists %d, /usage counts %d; want %d recorded (dropped %d)", what, listed, usage, want, dropped())
			}
		}
		t.Logf("%s: /calls lists %d, /usage counts %d, %d recorded", what, listed, usage, want)
	}

	// 1. N calls, one replica restarted (SIGTERM, so it writes its buffer) mid-run.
	const n = 600
	var restarted sync.Once
	restartDone := make(chan struct{})
	if fails := load(n, 4, func(i int64) {
		if i == n/2 {
			restarted.Do(func() {
				go func() { replicas[1].restart(t); close(restartDone) }()
			})
		}
	}); fails > 0 {
		t.Errorf("%d of %d calls failed across the restart", fails, n)
	}
	<-restartDone
	if d := dropped(); d != 0 {
		t.Fatalf("%d call records dropped with the database up", d)
	}
	expectExact("after N calls and a restart", recorded.Load())

	// 2. A tenant limit of 10/s across three replicas: the shared bucket's bound.
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/settings", map[string]any{"rate_limit_per_second": 10, "rate_limit_burst": 5}, 200, nil)
	for _, r := range replicas { // each replica has applied the setting
		waitFor(t, 10*time.Second, "the limit on "+r.url, func() bool {
			for range 10 {
				limited, err := callDirect(client, r.url+"/t/"+id+"/mcp", token)
				if err == nil {
					recorded.Add(1)
				}
				if limited {
					return true
				}
			}
			return false
		})
	}
	// Load runs for a second first, so the window starts with the shared
	// bucket drained, then the calls started within 5 s are counted.
	var admitted, refused atomic.Int64
	fallbacks := func() (n int64) {
		for _, r := range replicas {
			n += metricValue(t, r.url, "portico_rate_limit_fallback_decisions_total")
		}
		return n
	}
	fallbacksBefore := fallbacks()
	windowStart := time.Now().Add(time.Second)
	windowEnd := windowStart.Add(5 * time.Second)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				at := time.Now()
				if !at.Before(windowEnd) {
					return
				}
				limited, err := call()
				switch {
				case err != nil:
					t.Errorf("call under the limit: %v", err)
					return
				case at.Before(windowStart):
				case limited:
					refused.Add(1)
				default:
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	rate := float64(admitted.Load()) / 5
	local := fallbacks() - fallbacksBefore
	t.Logf("limit 10/s (bursts of 5) over 5 s across 3 replicas: %d admitted (%.2f/s), %d refused, %d decided by a local share", admitted.Load(), rate, refused.Load(), local)
	// What the shared bucket guarantees, whatever the machine's speed: at
	// most the rate over the window, plus its burst, plus the batch each
	// replica may hold (one token at 10/s), plus one call per worker that
	// started in the window and was admitted just after it. How close to
	// 10/s it gets is a figure of a loaded or idle machine (logged above,
	// docs/benchmarks.md), not a property. A lease slower than 250 ms lets
	// a replica decide by its local share (by design, so a slow database
	// never stalls calls), and then only the limit biting is checked.
	const bound = 10*5 + 5 + 3 + 6
	switch {
	case admitted.Load() == 0 || refused.Load() == 0:
		t.Errorf("%d admitted, %d refused under a 10/s limit: want both", admitted.Load(), refused.Load())
	case local == 0 && admitted.Load() > bound:
		t.Errorf("the shared bucket admitted %d calls in 5 s, want at most %d (10/s, burst 5, three held batches, six workers)", admitted.Load(), bound)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/settings", map[string]any{}, 200, nil)
	expectExact("after the rate-limited calls", recorded.Load())

	// 3. A database outage during load: every record that fits the buffers
	// is written once the database is back; the rest are counted.
	for _, r := range replicas { // the token is cached on every replica before the cut
		if _, err := callDirect(client, r.url+"/t/"+id+"/mcp", token); err != nil {
			t.Fatal(err)
		}
		recorded.Add(1)
	}
	viaLB = false
	pg.cut()
	cutAt := time.Now()
	before := recorded.Load()
	fails := load(3*buffer/2, 4, nil) // fits: half a buffer per replica
	mid := recorded.Load()
	fails += load(3*buffer, 4, nil) // overflows
	// The outage lasts 20 s, with calls going on throughout (ten a second,
	// all past the full buffers); the buffers hold what they hold meanwhile.
	for time.Since(cutAt) < outage {
		fails += load(1, 1, nil)
		time.Sleep(100 * time.Millisecond)
	}
	pg.restore()
	viaLB = true
	t.Logf("outage of %s: %d calls answered, %d failed", time.Since(cutAt).Round(time.Millisecond), recorded.Load()-before, fails)
	if fails > 0 {
		t.Errorf("%d calls failed during the outage (MCP serving must not need the database)", fails)
	}
	d := dropped()
	if d == 0 || d > recorded.Load()-mid {
		t.Errorf("dropped %d records; want some of the %d recorded after the buffers filled", d, recorded.Load()-mid)
	}
	expectExact(fmt.Sprintf("after the outage (%d dropped)", d), recorded.Load()-d)
}

// callDirect makes one tool call at endpoint; limited reports a rate-limit refusal.
func callDirect(client *http.Client, endpoint, token string) (limited bool, err error) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami_whoami_get","arguments":{}}}`
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"result"`) {
		return false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, tail(string(b), 300))
	}
	return strings.Contains(string(b), "rate limit reached"), nil
}

// metricValue reads one unlabelled series from a replica's /metrics.
func metricValue(t *testing.T, base, name string) int64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no %s in /metrics (HTTP %d)", base, name, resp.StatusCode)
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return int64(f)
}

// pgProxy is a loopback TCP proxy in front of Postgres that can be cut: cut
// closes every connection and refuses new ones until restore.
type pgProxy struct {
	url    string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	target string
}

func startPGProxy(t *testing.T, dbURL string) *pgProxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{target: u.Host, conns: map[net.Conn]struct{}{}}
	u.Host = ln.Addr().String()
	p.url = u.String()
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *pgProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // ends when either side closes
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}
