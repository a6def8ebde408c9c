package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"
)

// bigSpec is one large document: fetch → parse → convert → serve timings.
type bigSpec struct {
	Name          string  `json:"name"`
	File          string  `json:"file"`
	MB            float64 `json:"mb"`
	Tools         int     `json:"tools"`
	ActivateS     float64 `json:"activate_s"`
	ActivateCPUS  float64 `json:"activate_cpu_s"`
	PeakHeapMB    float64 `json:"peak_heap_mb"`
	RetainedMB    float64 `json:"retained_heap_mb"`
	FirstListms   float64 `json:"tools_list_first_ms"`
	ListP50ms     float64 `json:"tools_list_p50_ms"`
	ListMaxms     float64 `json:"tools_list_max_ms"`
	ListBytes     int     `json:"tools_list_bytes"`
	SkippedReason string  `json:"skipped,omitempty"`
}

var bigSpecFiles = []struct{ name, file string }{
	{"github", "github__api.github.com.json"},
	{"stripe", "stripe__spec3.json"},
	{"kubernetes", "kubernetes__swagger.json"},
}

// bigSpecs activates a tenant per big document through Portico's own path
// (fetch from a loopback server, store in the spec cache, parse, convert,
// register the tools) and times tools/list at the server.
func bigSpecs(ctx context.Context, o options, rep *report) error {
	p, err := startPortico(ctx, o.db)
	if err != nil {
		return err
	}
	defer p.close()
	for _, s := range bigSpecFiles {
		path := filepath.Join(o.specs, s.file)
		raw, err := os.ReadFile(path)
		if err != nil {
			msg := fmt.Sprintf("%s not found: run from the repository root with ../shared/specs present (or -specs DIR)", path)
			fmt.Fprintln(o.stderr, "big specs: skipping", s.name+":", msg)
			rep.addSpec(bigSpec{Name: s.name, File: s.file, SkippedReason: msg})
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		doc := raw
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(doc)
		})}
		go srv.Serve(ln)
		base := "http://" + ln.Addr().String()
		runtime.GC()
		before := heapBytes()
		stop := sampleHeap()
		t0, cpu0 := time.Now(), cpuTime()
		id, token, err := p.addTenant(ctx, "big-"+s.name, base)
		elapsed, cpu := time.Since(t0), cpuTime()-cpu0
		peak := stop()
		srv.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		runtime.GC()
		retained := heapBytes()
		tools, _ := p.runtime.Tools(ctx, id)
		r := bigSpec{Name: s.name, File: s.file, MB: float64(len(raw)) / 1e6, Tools: len(tools), ActivateS: elapsed.Seconds(), ActivateCPUS: cpu.Seconds(),
			PeakHeapMB: float64(peak-before) / 1e6, RetainedMB: float64(int64(retained)-int64(before)) / 1e6}
		// tools/list at the server: the handler called in-process, no network.
		var lat []time.Duration
		for i := -1; i < 15 && (i < 3 || sum(lat) < 2*time.Second); i++ {
			req := httptest.NewRequest("POST", "/t/"+id+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", versionStateless)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			t := time.Now()
			p.runtime.Handler().ServeHTTP(w, req)
			if i >= 0 { // the first list encodes the tool set; it is reported apart
				lat = append(lat, time.Since(t))
			} else {
				r.FirstListms = float64(time.Since(t)) / 1e6
			}
			if w.Code != 200 {
				return fmt.Errorf("%s: tools/list: HTTP %d", s.name, w.Code)
			}
			r.ListBytes = w.Body.Len()
		}
		slices.Sort(lat)
		r.ListP50ms, r.ListMaxms = float64(lat[len(lat)/2])/1e6, float64(lat[len(lat)-1])/1e6
		fmt.Fprintf(o.stderr, "big spec %-10s %5.1f MB %5d tools: serving in %.2f s (%.2f s CPU), peak heap +%.0f MB, retained +%.1f MB, tools/list first %.1f ms, p50 %.1f ms (%d KB)\n",
			r.Name, r.MB, r.Tools, r.ActivateS, r.ActivateCPUS, r.PeakHeapMB, r.RetainedMB, r.FirstListms, r.ListP50ms, r.ListBytes/1024)
		rep.addSpec(r)
		p.runtime.Deactivate(ctx, id, "bench")
		if s.name == "github" {
			n := 200
			if o.quick {
				n = 20
			}
			ls, err := listOverLoopback(ctx, o, s.name, raw, n)
			if err != nil {
				return fmt.Errorf("%s over loopback: %w", s.name, err)
			}
			rep.lists = append(rep.lists, ls...)
		}
	}
	return nil
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the live-and-garbage heap every 2 ms until stopped and
// returns its peak: a close lower bound of the true peak.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak {
				peak = h
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak }
}

func sum(d []time.Duration) (t time.Duration) {
	for _, x := range d {
		t += x
	}
	return t
}

// loopbackList is tools/list of one big document timed end to end by a
// client over loopback against Portico in a process of its own: request
// sent, whole body read.
type loopbackList struct {
	Document   string  `json:"document"`
	Mode       string  `json:"mode"`
	Tools      int     `json:"tools"`
	Bytes      int     `json:"bytes"`
	N          int     `json:"n"`
	FirstMs    float64 `json:"first_ms"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	Maxms      float64 `json:"max_ms"`
	ServerCPUm float64 `json:"server_cpu_ms_per_list"`
}

// listOverLoopback activates a big document in a Portico child and has
// one client of each mode list its tools over loopback: session
// (2025-11-25), as the clients in use today do, session-less and
// 2026-07-28. Each client's first list is reported apart (the first of a
// tool-set version encodes it); then the clients take turns, n lists each,
// so the three share the machine's state of the moment.
func listOverLoopback(ctx context.Context, o options, name string, raw []byte, n int) ([]loopbackList, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(raw)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	p, err := startPorticoChild(ctx, o, "portico-"+name, []childTenant{{Name: name, BaseURL: base, SpecURL: base + "/openapi.json"}})
	if err != nil {
		return nil, err
	}
	defer p.close()
	t := p.Tenants[0]
	type lister struct {
		http *http.Client
		mcp  *mcpClient
		res  loopbackList
		lat  []int64
		cpu  time.Duration
		buf  bytes.Buffer // reused, so the client's own garbage stays out of the timings
	}
	var ls []*lister
	for _, mode := range []string{"session", "stateless", version20260728} {
		client := newLoadClient(1)
		defer client.CloseIdleConnections()
		c, err := newMCPClient(ctx, client, mode, t.Endpoint, t.Token)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mode, err)
		}
		ls = append(ls, &lister{http: client, mcp: c, res: loopbackList{Document: name, Mode: mode, Tools: t.Tools, N: n}})
	}
	list := func(l *lister, i int) (time.Duration, []byte, error) {
		req := l.mcp.request(ctx, i+1, "tools/list", "", "")
		t0 := time.Now()
		resp, err := l.http.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("%s tools/list: %w", l.res.Mode, err)
		}
		l.buf.Reset()
		_, err = l.buf.ReadFrom(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return 0, nil, fmt.Errorf("%s tools/list: %w", l.res.Mode, err)
		}
		body := l.buf.Bytes()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"tools":[`)) {
			return 0, nil, fmt.Errorf("%s tools/list: HTTP %d: %.300s", l.res.Mode, resp.StatusCode, body)
		}
		return d, body, nil
	}
	for _, l := range ls {
		d, body, err := list(l, 0)
		if err != nil {
			return nil, err
		}
		l.res.FirstMs, l.res.Bytes = ms(int64(d)), len(body)
		if got := countTools(body); got != t.Tools {
			return nil, fmt.Errorf("%s tools/list: %d tools, the tenant has %d", l.res.Mode, got, t.Tools)
		}
	}
	for i := 1; i <= n; i++ {
		for _, l := range ls {
			cpu0 := p.cpu()
			d, _, err := list(l, i)
			if err != nil {
				return nil, err
			}
			l.cpu += p.cpu() - cpu0
			l.lat = append(l.lat, int64(d))
		}
	}
	var out []loopbackList
	for _, l := range ls {
		r := l.res
		slices.Sort(l.lat)
		r.P50ms, r.P99ms, r.Maxms = ms(pct(l.lat, 0.5)), ms(pct(l.lat, 0.99)), ms(l.lat[len(l.lat)-1])
		r.ServerCPUm = float64(l.cpu) / float64(time.Millisecond) / float64(n)
		fmt.Fprintf(o.stderr, "big spec %-10s tools/list over loopback, %-10s %d tools %d KB: first %.1f ms, p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d), server CPU %.1f ms/list\n",
			name, r.Mode, r.Tools, r.Bytes/1024, r.FirstMs, r.P50ms, r.P99ms, r.Maxms, n, r.ServerCPUm)
		out = append(out, r)
	}
	return out, nil
}

// countTools counts the tools of a tools/list answer, SSE or JSON.
func countTools(body []byte) int {
	if i := bytes.Index(body, []byte("data: ")); i >= 0 {
		body = body[i+len("data: "):]
		if j := bytes.IndexByte(body, '\n'); j >= 0 {
			body = body[:j]
		}
	}
	var m struct {
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &m) != nil {
		return -1
	}
	return len(m.Result.Tools)
}
