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
	name   string
	mode   string // "http", "stateless" or "session"
	worker func(ctx context.Context, client *http.Client) (caller, error)
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
	// CPU and allocations of the whole process (load generator, server and
	// upstream together) per call; subtract the direct run for what the
	// server adds.
	CPUusPerCall    float64 `json:"cpu_us_per_call"`
	AllocsPerCall   float64 `json:"allocs_per_call"`
	AllocKBPerCall  float64 `json:"alloc_kb_per_call"`
	FirstError      string  `json:"first_error,omitempty"`
	RatioVsDirect   float64 `json:"ratio_vs_direct,omitempty"`
	RatioVsMinimal  float64 `json:"ratio_vs_minimal,omitempty"`
	AddedP50ms      float64 `json:"added_p50_ms,omitempty"`
	AddedCPUusPerCl float64 `json:"added_cpu_us_per_call,omitempty"`
}

func newLoadClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
}

// runLoad drives tg with conc workers for warm-up then d, and measures.
func runLoad(ctx context.Context, scenario string, tg target, conc int, warm, d time.Duration) (result, error) {
	client := newLoadClient(conc)
	defer client.CloseIdleConnections()
	callers := make([]caller, conc)
	for i := range callers {
		c, err := tg.worker(ctx, client)
		if err != nil {
			return result{}, fmt.Errorf("%s: start worker: %w", tg.name, err)
		}
		callers[i] = c
	}
	// Warm up: connections, pools, caches, JIT-free but GC-sized heaps.
	runPhase(ctx, callers, warm, nil)
	runtime.GC()
	cpu0, m0 := cpuTime(), readAllocs()
	lat := make([][]int64, conc)
	start := time.Now()
	errs, firstErr := runPhase(ctx, callers, d, lat)
	elapsed := time.Since(start)
	cpu1, m1 := cpuTime(), readAllocs()
	var all []int64
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := result{Scenario: scenario, Target: tg.name, Mode: tg.mode, Concurrency: conc, Calls: len(all), Errors: errs, Seconds: elapsed.Seconds()}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	if len(all) > 0 {
		n := float64(len(all))
		r.RPS = n / elapsed.Seconds()
		r.P50ms = ms(pct(all, 0.50))
		r.P99ms = ms(pct(all, 0.99))
		r.P999ms = ms(pct(all, 0.999))
		r.CPUusPerCall = float64(cpu1-cpu0) / float64(time.Microsecond) / n
		r.AllocsPerCall = float64(m1.objects-m0.objects) / n
		r.AllocKBPerCall = float64(m1.bytes-m0.bytes) / 1024 / n
	}
	return r, nil
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

type allocs struct{ objects, bytes uint64 }

func readAllocs() allocs {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return allocs{s[0].Value.Uint64(), s[1].Value.Uint64()}
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

// mcpTarget sends tools/call as a Streamable HTTP client does. In session
// mode each worker first initializes its own session.
func mcpTarget(name, mode, endpoint, token, tool string, args func(n int) string) target {
	return target{name: name, mode: mode, worker: func(ctx context.Context, client *http.Client) (caller, error) {
		session := ""
		if mode == "session" {
			sid, err := initialize(ctx, client, endpoint, token)
			if err != nil {
				return nil, err
			}
			session = sid
		}
		n := 0
		return func(ctx context.Context) error {
			n++
			body := `{"jsonrpc":"2.0","id":` + strconv.Itoa(n) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args(n) + `}}`
			req := mcpRequest(ctx, endpoint, token, session, body)
			return send(client, req, []byte(`"result"`))
		}, nil
	}}
}

func mcpRequest(ctx context.Context, endpoint, token, session, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	return req
}

func initialize(ctx context.Context, client *http.Client, endpoint, token string) (string, error) {
	req := mcpRequest(ctx, endpoint, token, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"portico-bench","version":"1"}}}`)
	req.Header.Del("Mcp-Protocol-Version")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("initialize: HTTP %d", resp.StatusCode)
	}
	req = mcpRequest(ctx, endpoint, token, sid, `{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
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
