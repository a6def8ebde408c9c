package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestNoisyNeighbour: tenant A's upstream takes 2 s per call and is hit at
// high concurrency; tenant B's p99 must stay within 2× its baseline. The
// figures go to the log (and to $PORTICO_BENCH_OUT when set) for
// docs/benchmarks.md; the ratio is reported, not asserted (see the end).
// What is asserted: B has no failed call, and the token checks reaching the
// shared database pool stay at one per token per cache TTL (a count).
//
// Portico, both upstreams and the load generator share one process here, so
// each phase also reports what the process did: CPU seconds, GC cycles and
// goroutines, and B's latency as Portico itself measured it (the call log),
// which splits B's client-side p99 into the server's share and the share of
// the load generator, the loopback transport and the scheduler.
// PORTICO_NOISY_PROFILE=dir writes a CPU profile of every measured phase
// there, with goroutines labelled role=load (the test's clients) and
// role=upstream; unlabelled samples are Portico and the runtime.
func TestNoisyNeighbour(t *testing.T) {
	harness.HeavySuite(t, "load test")
	began := time.Now()
	dbURL := pgtest.NewDB(t)
	var slow, quick *testUpstream
	pprof.Do(context.Background(), pprof.Labels("role", "upstream"), func(context.Context) {
		slow = startUpstream(t, 2*time.Second)
		// B's service does 10 ms of work per call, like a real one; on a
		// shared 2-core machine a sub-millisecond baseline would make any
		// ratio noise.
		quick = startUpstream(t, 10*time.Millisecond)
	})
	p := startPorticoWith(t, dbURL, map[string]string{"PORTICO_LOG_LEVEL": "warn"})
	_, aURL, aToken := p.register(t, "noisy", slow.url)
	bID, bURL, bToken := p.register(t, "quiet", quick.url)
	// Everything the test goroutine starts from here on is load generator.
	defer pprof.SetGoroutineLabels(context.Background())
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("role", "load")))
	profDir := os.Getenv("PORTICO_NOISY_PROFILE")

	const (
		bWorkers = 4
		bCalls   = 50 // per worker and round
		rounds   = 4
		aWorkers = 128 // twice A's default concurrency limit of 64
		// aBackoff is how long an A caller waits after a tool error before
		// calling again. Agents do not retry in a zero-delay loop: a
		// model turn alone takes longer, and Portico's errors say when to
		// retry. Without it a rejection storm would measure the test's own
		// loop, not a realistic neighbour.
		aBackoff = time.Second
	)
	bTransport, aTransport := newLoadTransport(), newLoadTransport()
	bSessions := make([]*mcp.ClientSession, bWorkers)
	for i := range bSessions {
		bSessions[i] = connectPool(context.Background(), t, bURL, bToken, bTransport)
	}
	measureB := func(name string) (latencies, int, *phase) {
		var (
			mu     sync.Mutex
			all    latencies
			failed int
			wg     sync.WaitGroup
		)
		ph := startPhase(t, profDir, name)
		for w, cs := range bSessions {
			wg.Go(func() {
				for i := range bCalls {
					start := time.Now()
					err := callWork(context.Background(), cs, fmt.Sprintf("b%d-%d", w, i))
					d := time.Since(start)
					mu.Lock()
					if err != nil {
						failed++
					} else {
						all = append(all, d)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		ph.stop(t)
		// What Portico measured of the same calls: the newest entries of
		// B's call log are exactly this phase's (nothing else calls B).
		ph.server, ph.gateway = serverLatencies(t, p, bID, bWorkers*bCalls)
		return all, failed, ph
	}
	measureB("warmup") // warm up connections and code paths

	// A's load runs in rounds, interleaved with quiet rounds, so noise from
	// the rest of the machine lands on both samples alike.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		aOn             atomic.Bool
		aDone, aFailed  atomic.Int64
		aInflight       atomic.Int64
		wg              sync.WaitGroup
		base, noisy     latencies
		baseSrv         latencies
		noisySrv        latencies
		baseGw, noisyGw latencies
		basePh          phase
		noisyPh         phase
		baseFailed, nf  int
	)
	for w := range aWorkers {
		cs := connectPool(context.Background(), t, aURL, aToken, aTransport)
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if !aOn.Load() {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				// Agents do not arrive in lock-step: spread the first calls of
				// a round over one 2 s upstream period.
				if i == 0 || time.Now().UnixNano()%int64(aWorkers) == int64(w) {
					time.Sleep(time.Duration(w) * 2 * time.Second / aWorkers)
				}
				aInflight.Add(1)
				err := callWork(ctx, cs, fmt.Sprintf("a%d-%d", w, i))
				aInflight.Add(-1)
				if err != nil {
					if ctx.Err() == nil {
						aFailed.Add(1)
					}
					time.Sleep(aBackoff)
					continue
				}
				aDone.Add(1)
			}
		})
	}
	for round := range rounds {
		aOn.Store(false)
		waitFor(t, 10*time.Second, "tenant A to go quiet", func() bool { return aInflight.Load() == 0 })
		l, f, ph := measureB(fmt.Sprintf("alone-%d", round))
		base, baseFailed = append(base, l...), baseFailed+f
		baseSrv, baseGw = append(baseSrv, ph.server...), append(baseGw, ph.gateway...)
		basePh.add(ph)
		aOn.Store(true)
		before := slow.calls.Load()
		waitFor(t, 10*time.Second, "tenant A's upstream to be saturated", func() bool { return slow.calls.Load()-before >= 96 })
		l, f, ph = measureB(fmt.Sprintf("beside-%d", round))
		noisy, nf = append(noisy, l...), nf+f
		noisySrv, noisyGw = append(noisySrv, ph.server...), append(noisyGw, ph.gateway...)
		noisyPh.add(ph)
		t.Logf("round %d: B alone p99 %s (server %s), B beside A p99 %s (server %s)", round,
			ms(base.pct(0.99)), ms(baseSrv.pct(0.99)), ms(noisy.pct(0.99)), ms(noisySrv.pct(0.99)))
	}
	noisyFailed := nf
	cancel()
	wg.Wait()
	// Every MCP call checks its bearer token; what the checks cost the
	// shared database pool is the one resource both tenants' calls queue for.
	m := scrape(t, p.url)
	t.Logf("token checks: %v from the cache, %v from the database, %v sharing another call's database check; database pool: %v acquires, %v had to wait, %.2f s waited in all",
		m[`portico_mcp_token_checks_total{source="cache"}`], m[`portico_mcp_token_checks_total{source="database"}`], m[`portico_mcp_token_checks_total{source="shared"}`],
		m[`portico_db_pool_acquires_total`], m[`portico_db_pool_empty_acquires_total`], m[`portico_db_pool_acquire_wait_seconds_total`])
	var calls float64
	for series, v := range m {
		if strings.HasPrefix(series, "portico_mcp_calls_total{") {
			calls += v
		}
	}
	t.Logf("fast path: %v tools/call answered without the SDK's session, of %v calls finished", m[`portico_mcp_fast_path_total{method="tools/call"}`], calls)
	// Not a timing: each token may reach the database once per cache TTL
	// (10 s by default), however many calls carry it at once. Before checks
	// were shared, every call of A in flight at an expiry made its own
	// (11–176 per run), and B's refresh queued behind them for the pool.
	tokenTTL := 10 * time.Second
	if bound := 2 * (int(time.Since(began)/tokenTTL) + 2); m[`portico_mcp_token_checks_total{source="database"}`] > float64(bound) {
		t.Errorf("%v token checks reached the database in %s, want at most %d (2 tokens, one check per %s each)",
			m[`portico_mcp_token_checks_total{source="database"}`], time.Since(began).Round(time.Second), bound, tokenTTL)
	}

	ratio := float64(noisy.pct(0.99)) / float64(base.pct(0.99))
	srvRatio := float64(noisySrv.pct(0.99)) / float64(baseSrv.pct(0.99))
	row := func(name string, l, srv, gw latencies, ph phase) string {
		return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", name, len(l), ms(l.pct(0.5)), ms(l.pct(0.99)), ms(l.pct(1)), ms(srv.pct(0.99)), ms(gw.pct(0.99)), ph)
	}
	report := row("B alone", base, baseSrv, baseGw, basePh) +
		row(fmt.Sprintf("B while A has %d callers on a 2 s upstream", aWorkers), noisy, noisySrv, noisyGw, noisyPh) +
		fmt.Sprintf("\np99 ratio %.2f (target ≤ 2.00), inside Portico %.2f; A completed %d calls meanwhile (%d failed)\n",
			ratio, srvRatio, aDone.Load(), aFailed.Load())
	t.Logf("tenant B latency, %d workers × %d calls × %d rounds (10 ms upstream):\n"+
		"| run | calls | p50 | p99 | max | p99 in Portico | p99 Portico's own | process during the phase |\n|---|---|---|---|---|---|---|---|\n%s",
		bWorkers, bCalls, rounds, report)
	if out := os.Getenv("PORTICO_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(report), 0o644)
	}
	if baseFailed+noisyFailed != 0 {
		t.Errorf("tenant B had %d failed calls, want 0", baseFailed+noisyFailed)
	}
	// The p99 ratio is a timing: it is reported here and in
	// docs/benchmarks.md, never asserted, so a busy CI machine cannot fail the
	// build on scheduling noise (the acceptance figure is read from the log).
	load, cores := loadAverage(), runtime.NumCPU()
	t.Logf("noisy neighbour: p99 ratio %.2f (target ≤ 2.00) with load average %.1f on %d cores", ratio, load, cores)
}

// phase is what the test process did while B was measured.
type phase struct {
	wall, cpu  time.Duration // wall clock; user+system CPU of the whole process
	gcs        uint32
	gcPause    time.Duration
	alloc      uint64    // bytes allocated
	goroutines int       // at the end of the phase (the largest, after add)
	server     latencies // B's calls as Portico timed them
	gateway    latencies // the same minus the upstream exchange
	prof       *os.File
	start      struct {
		wall  time.Time
		cpu   time.Duration
		gcs   uint32
		pause uint64
		alloc uint64
	}
}

func startPhase(t *testing.T, profDir, name string) *phase {
	t.Helper()
	ph := &phase{}
	if profDir != "" {
		f, err := os.Create(filepath.Join(profDir, name+".prof"))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		ph.prof = f
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	ph.start.wall, ph.start.cpu, ph.start.gcs, ph.start.pause, ph.start.alloc = time.Now(), processCPU(), m.NumGC, m.PauseTotalNs, m.TotalAlloc
	return ph
}

func (ph *phase) stop(t *testing.T) {
	t.Helper()
	if ph.prof != nil {
		pprof.StopCPUProfile()
		ph.prof.Close()
		// Who the goroutines are at the end of the phase, grouped by stack.
		if f, err := os.Create(strings.TrimSuffix(ph.prof.Name(), ".prof") + ".goroutines.txt"); err == nil {
			pprof.Lookup("goroutine").WriteTo(f, 1)
			f.Close()
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	ph.wall, ph.cpu = time.Since(ph.start.wall), processCPU()-ph.start.cpu
	ph.gcs, ph.gcPause = m.NumGC-ph.start.gcs, time.Duration(m.PauseTotalNs-ph.start.pause)
	ph.goroutines, ph.alloc = runtime.NumGoroutine(), m.TotalAlloc-ph.start.alloc
}

func (ph *phase) add(o *phase) {
	ph.wall += o.wall
	ph.cpu += o.cpu
	ph.gcs += o.gcs
	ph.gcPause += o.gcPause
	ph.alloc += o.alloc
	ph.goroutines = max(ph.goroutines, o.goroutines)
}

func (ph phase) String() string {
	return fmt.Sprintf("%.2f cores, %d MB allocated, %d GCs (%s paused), %d goroutines",
		ph.cpu.Seconds()/ph.wall.Seconds(), ph.alloc>>20, ph.gcs, ph.gcPause.Round(10*time.Microsecond), ph.goroutines)
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverLatencies reads the latency of tenant id's newest n calls from its
// call log: the time from Portico receiving each MCP request to its result,
// and the part of it that was Portico's own (not waiting for the upstream).
func serverLatencies(t *testing.T, p *portico, id string, n int) (total, gateway latencies) {
	t.Helper()
	var out struct {
		Calls []struct {
			LatencyMS  float64 `json:"latency_ms"`
			UpstreamMS float64 `json:"upstream_ms"`
		} `json:"calls"`
	}
	p.do(t, "GET", fmt.Sprintf("/api/v1/tenants/%s/calls?limit=%d", id, n), nil, 200, &out)
	for _, c := range out.Calls {
		total = append(total, time.Duration(c.LatencyMS*float64(time.Millisecond)))
		gateway = append(gateway, time.Duration((c.LatencyMS-c.UpstreamMS)*float64(time.Millisecond)))
	}
	return total, gateway
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// TestCircuitBreakerAndMetrics: a tenant whose upstream fails gets its
// circuit opened (tool errors say so and when to retry) while another tenant
// is untouched, and /metrics shows the scenario's series with exact counts.
func TestCircuitBreakerAndMetrics(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	failing := startUpstream(t, 0)
	failing.failing.Store(503)
	healthy := startUpstream(t, 0)
	p := startPorticoWith(t, dbURL, map[string]string{"PORTICO_BREAKER_FAILURES": "3", "PORTICO_BREAKER_COOLDOWN": "1m"})
	cID, cURL, cToken := p.register(t, "failing", failing.url)
	hID, hURL, hToken := p.register(t, "healthy", healthy.url)
	ctx := context.Background()
	cs := connect(ctx, t, cURL, cToken)
	hs := connect(ctx, t, hURL, hToken)

	var errs []string
	for i := range 6 {
		err := callWork(ctx, cs, fmt.Sprint(i))
		if err == nil {
			t.Fatalf("call %d to the failing tenant succeeded", i)
		}
		errs = append(errs, err.Error())
	}
	for i, e := range errs {
		open := strings.Contains(e, "circuit breaker open") && strings.Contains(e, "retry in")
		if i < 3 && (open || !strings.Contains(e, "503")) {
			t.Errorf("call %d: %q, want the upstream's 503", i, e)
		}
		if i >= 3 && !open {
			t.Errorf("call %d: %q, want the open circuit, saying when to retry", i, e)
		}
	}
	if got := failing.calls.Load(); got != 3 {
		t.Errorf("failing upstream got %d calls, want 3 (the open circuit stops the rest)", got)
	}
	for i := range 5 {
		if err := callWork(ctx, hs, fmt.Sprint(i)); err != nil {
			t.Fatalf("healthy tenant: %v", err)
		}
	}

	// The in-flight gauge drops just after a response is written, so the
	// client can be faster than the decrement: scrape until it settles.
	m := scrape(t, p.url)
	for deadline := time.Now().Add(5 * time.Second); m[`portico_mcp_inflight_requests`] != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = scrape(t, p.url)
	}
	want := map[string]float64{
		fmt.Sprintf(`portico_mcp_calls_total{status="upstream_5xx",tenant=%q,tool="work"}`, cID):           3,
		fmt.Sprintf(`portico_mcp_calls_total{status="circuit_open",tenant=%q,tool="work"}`, cID):           3,
		fmt.Sprintf(`portico_mcp_calls_total{status="ok",tenant=%q,tool="work"}`, hID):                     5,
		fmt.Sprintf(`portico_mcp_call_duration_seconds_count{part="upstream",tenant=%q,tool="work"}`, hID): 5,
		fmt.Sprintf(`portico_mcp_call_duration_seconds_count{part="gateway",tenant=%q,tool="work"}`, hID):  5,
		fmt.Sprintf(`portico_mcp_call_duration_seconds_count{part="upstream",tenant=%q,tool="work"}`, cID): 3,
		fmt.Sprintf(`portico_circuit_state{tenant=%q}`, cID):                                               2,
		fmt.Sprintf(`portico_circuit_state{tenant=%q}`, hID):                                               0,
		fmt.Sprintf(`portico_circuit_opens_total{tenant=%q}`, cID):                                         1,
		`portico_active_tenants`: 2,
		`portico_http_requests_total{code="201",method="POST",route="/api/v1/tenants"}`: 2,
		`portico_mcp_inflight_requests`:     0,
		`portico_build_info{version="dev"}`: 1,
		// The go-sdk client speaks 2026-07-28: every call takes the fast path.
		`portico_mcp_fast_path_total{method="tools/call"}`: 11,
	}
	for series, v := range want {
		if got, ok := m[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	// Every MCP POST is counted under the route pattern, not the tenant path.
	if m[`portico_http_requests_total{code="200",method="POST",route="/t/:id/mcp"}`] < 11 {
		t.Errorf("MCP requests under route /t/:id/mcp: %v, want at least 11", m[`portico_http_requests_total{code="200",method="POST",route="/t/:id/mcp"}`])
	}
	for _, series := range []string{
		`portico_db_pool_connections{state="max"}`, `portico_db_pool_acquires_total`,
		`portico_mcp_token_checks_total{source="database"}`, `go_goroutines`, `process_resident_memory_bytes`,
	} {
		if _, ok := m[series]; !ok {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// loadAverage is the 1-minute load average, or 0 where unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}
