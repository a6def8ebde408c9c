package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// caller sends one request and reports whether it succeeded. Each load
// worker owns one, so it may keep per-connection state (an MCP session).
type caller func(ctx context.Context) error

// target is one way of making the same call: directly, through the minimal
// go-sdk server, or through Portico.
type target struct {
	name string
	mode string // "http", "stateless", "session" or "2026-07-28"
	// server and upstream are the processes serving the target, whose CPU
	// and allocations are measured apart from the load generator's; nil
	// when there is none (direct has no server) or it runs in this process.
	server, upstream *child
	worker           func(ctx context.Context, client *http.Client) (caller, error)
}

// result is one bounded load run against one target at one concurrency.
type result struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency"`
	Calls       int     `json:"calls"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	P999ms      float64 `json:"p999_ms"`
	// CPU per call of every process of the run: the server under test,
	// the upstream and the load generator (this process), and their sum.
	// Without child processes, LoadGenCPUus is the whole process.
	CPUusPerCall  float64 `json:"cpu_us_per_call"`
	ServerCPUus   float64 `json:"server_cpu_us_per_call,omitempty"`
	UpstreamCPUus float64 `json:"upstream_cpu_us_per_call,omitempty"`
	LoadGenCPUus  float64 `json:"loadgen_cpu_us_per_call"`
	// Allocations per call of the server process (in-process runs: of
	// the whole process).
	AllocsPerCall   float64 `json:"allocs_per_call"`
	AllocKBPerCall  float64 `json:"alloc_kb_per_call"`
	GCsPer1kCalls   float64 `json:"server_gcs_per_1k_calls"`
	FirstError      string  `json:"first_error,omitempty"`
	RatioVsDirect   float64 `json:"ratio_vs_direct,omitempty"`
	RatioVsMinimal  float64 `json:"ratio_vs_minimal,omitempty"`
	AddedP50ms      float64 `json:"added_p50_ms,omitempty"`
	AddedCPUusPerCl float64 `json:"added_cpu_us_per_call,omitempty"`
	Profile         string  `json:"cpu_profile,omitempty"`
}

func newLoadClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
}

// runLoad drives tg with conc workers for warm-up then d, and measures.
// With profile set, the server process's CPU profile over the measured
// phase is written there.
func runLoad(ctx context.Context, scenario string, tg target, conc int, warm, d time.Duration, profile string) (result, error) {
	client := newLoadClient(conc)
	defer client.CloseIdleConnections()
	callers := make([]caller, conc)
	for i := range callers {
		c, err := tg.worker(ctx, client)
		if err != nil {
			return result{}, fmt.Errorf("%s %s: start worker: %w", tg.name, tg.mode, err)
		}
		callers[i] = c
	}
	// Warm up: connections, pools, caches, JIT-free but GC-sized heaps.
	runPhase(ctx, callers, warm, nil)
	runtime.GC()
	tg.server.gc(ctx)
	m0, err := serverAllocs(ctx, tg.server)
	if err != nil {
		return result{}, err
	}
	var profErr chan error
	if profile != "" && tg.server != nil {
		profErr = make(chan error, 1)
		go func() { profErr <- tg.server.profile(ctx, d, profile) }()
	}
	self0, srv0, up0 := cpuTime(), tg.server.cpu(), tg.upstream.cpu()
	lat := make([][]int64, conc)
	start := time.Now()
	errs, firstErr := runPhase(ctx, callers, d, lat)
	elapsed := time.Since(start)
	self1, srv1, up1 := cpuTime(), tg.server.cpu(), tg.upstream.cpu()
	m1, err := serverAllocs(ctx, tg.server)
	if err != nil {
		return result{}, err
	}
	var all []int64
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := result{Scenario: scenario, Target: tg.name, Mode: tg.mode, Concurrency: conc, Calls: len(all), Errors: errs, Seconds: elapsed.Seconds()}
	if profErr != nil {
		if err := <-profErr; err != nil {
			return result{}, err
		}
		r.Profile = profile
	}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	if len(all) > 0 {
		n := float64(len(all))
		us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / n }
		r.RPS = n / elapsed.Seconds()
		r.P50ms = ms(pct(all, 0.50))
		r.P99ms = ms(pct(all, 0.99))
		r.P999ms = ms(pct(all, 0.999))
		r.ServerCPUus, r.UpstreamCPUus, r.LoadGenCPUus = us(srv1-srv0), us(up1-up0), us(self1-self0)
		r.CPUusPerCall = r.ServerCPUus + r.UpstreamCPUus + r.LoadGenCPUus
		r.AllocsPerCall = float64(m1.Objects-m0.Objects) / n
		r.AllocKBPerCall = float64(m1.Bytes-m0.Bytes) / 1024 / n
		r.GCsPer1kCalls = float64(m1.GCs-m0.GCs) * 1000 / n
	}
	return r, nil
}

// serverAllocs reads the allocation counters of server, or of this process
// when the server runs in it (or there is none).
func serverAllocs(ctx context.Context, server *child) (childStats, error) {
	if server == nil {
		a := readAllocs()
		return childStats{Objects: a.objects, Bytes: a.bytes, GCs: a.gcs}, nil
	}
	return server.stats(ctx)
}

// runPhase runs every caller in a loop for d; lat, when set, gets each
// successful call's latency in nanoseconds.
func runPhase(ctx context.Context, callers []caller, d time.Duration, lat [][]int64) (errs int, first error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var nerr atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for i, c := range callers {
		wg.Go(func() {
			var l []int64
			if lat != nil {
				l = make([]int64, 0, 1<<16)
			}
			for ctx.Err() == nil {
				t0 := time.Now()
				err := c(ctx)
				if ctx.Err() != nil {
					break // cut off by the end of the phase
				}
				if err != nil {
					nerr.Add(1)
					once.Do(func() { first = err })
					continue
				}
				if lat != nil {
					l = append(l, int64(time.Since(t0)))
				}
			}
			if lat != nil {
				lat[i] = l
			}
		})
	}
	wg.Wait()
	return int(nerr.Load()), first
}

func pct(sorted []int64, p float64) int64 {
	i := int(float64(len(sorted)) * p)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type allocs struct{ objects, bytes, gcs uint64 }

func readAllocs() allocs {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return allocs{s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()}
}

// directTarget sends the upstream request the tool call stands for.
func directTarget(url string) target {
	return target{name: "direct", mode: "http", worker: func(ctx context.Context, client *http.Client) (caller, error) {
		n := 0
		return func(ctx context.Context) error {
			n++
			req, _ := http.NewRequestWithContext(ctx, "GET", url+strconv.Itoa(42+n%1000)+"?q=bench", nil)
			return send(client, req, nil)
		}, nil
	}}
}

// Protocol versions the load generator speaks: session-less clients send
// 2025-06-18 with no session; session clients initialize at 2025-11-25, as
// the TypeScript SDK 1.32 does, and send the session id and version on
// every request; 2026-07-28 clients have no session and name the method,
// tool and client in headers and params._meta, as the go-sdk v1.8 does.
const (
	versionStateless = "2025-06-18"
	versionSession   = "2025-11-25"
	version20260728  = "2026-07-28"
)

// meta20260728 is the params._meta of a 2026-07-28 request.
const meta20260728 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"portico-bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// mcpTarget sends tools/call as a Streamable HTTP client of mode does
// ("stateless", "session" or "2026-07-28"). In session mode each worker
// first initializes its own session, as each client connection would.
func mcpTarget(name, mode, endpoint, token, tool string, args func(n int) string) target {
	return target{name: name, mode: mode, worker: func(ctx context.Context, client *http.Client) (caller, error) {
		c, err := newMCPClient(ctx, client, mode, endpoint, token)
		if err != nil {
			return nil, err
		}
		n := 0
		return func(ctx context.Context) error {
			n++
			return send(client, c.request(ctx, n, "tools/call", tool, `"name":"`+tool+`","arguments":`+args(n)), []byte(`"result"`))
		}, nil
	}}
}

// mcpClient is one MCP client connection's state: its protocol mode and,
// in session mode, its session id.
type mcpClient struct {
	mode, endpoint, token, session string
}

func newMCPClient(ctx context.Context, client *http.Client, mode, endpoint, token string) (*mcpClient, error) {
	c := &mcpClient{mode: mode, endpoint: endpoint, token: token}
	switch mode {
	case "stateless", version20260728:
	case "session":
		sid, err := initialize(ctx, client, endpoint, token)
		if err != nil {
			return nil, err
		}
		c.session = sid
	default:
		return nil, fmt.Errorf("unknown MCP mode %q", mode)
	}
	return c, nil
}

// request is the POST of request id n calling method; params are the
// members of its params object (without braces), name the tool it names.
func (c *mcpClient) request(ctx context.Context, n int, method, name, params string) *http.Request {
	version := versionStateless
	switch c.mode {
	case "session":
		version = versionSession
	case version20260728:
		version = version20260728
		if params != "" {
			params += ","
		}
		params += meta20260728
	}
	body := `{"jsonrpc":"2.0","id":` + strconv.Itoa(n) + `,"method":"` + method + `","params":{` + params + `}}`
	req := mcpRequest(ctx, c.endpoint, c.token, c.session, version, body)
	if c.mode == version20260728 {
		req.Header.Set("Mcp-Method", method)
		if name != "" {
			req.Header.Set("Mcp-Name", name)
		}
	}
	return req
}

func mcpRequest(ctx context.Context, endpoint, token, session, version, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	return req
}

// initialize opens a 2025-11-25 session as the TypeScript SDK does:
// initialize (no version header yet), then notifications/initialized
// carrying the session id and the negotiated version.
func initialize(ctx context.Context, client *http.Client, endpoint, token string) (string, error) {
	req := mcpRequest(ctx, endpoint, token, "", "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+versionSession+`","capabilities":{},"clientInfo":{"name":"portico-bench","version":"1"}}}`)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("initialize: HTTP %d: %.200s", resp.StatusCode, body)
	}
	if sid == "" {
		return "", errors.New("initialize: no Mcp-Session-Id in the answer")
	}
	if !bytes.Contains(body, []byte(`"protocolVersion":"`+versionSession+`"`)) {
		return "", fmt.Errorf("initialize: the server did not agree to %s: %.300s", versionSession, body)
	}
	req = mcpRequest(ctx, endpoint, token, sid, versionSession, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("notifications/initialized: HTTP %d, want 202", resp.StatusCode)
	}
	return sid, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func send(client *http.Client, req *http.Request, want []byte) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b.Bytes())
	}
	if want != nil && (!bytes.Contains(b.Bytes(), want) || bytes.Contains(b.Bytes(), []byte(`"isError":true`))) {
		return errors.New("unexpected response: " + truncate(b.String(), 300))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
