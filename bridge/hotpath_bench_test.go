package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// The micro-benchmarks of the tools/call hot path, one per step, with
// allocation counts. cmd/portico-bench measures the whole path.

func benchOps(b *testing.B) map[string]*openapi.Operation {
	b.Helper()
	conv, err := Convert([]byte(fastSpec), openapi.Options{}, "")
	if err != nil {
		b.Fatal(err)
	}
	ops := map[string]*openapi.Operation{}
	for _, op := range conv.Operations {
		ops[op.Name] = op
	}
	return ops
}

// BenchmarkParseToolCall is the fast path's single decode of a request body.
func BenchmarkParseToolCall(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseToolCall(body); !ok {
			b.Fatal("not parsed")
		}
	}
}

// BenchmarkNewRequest builds the upstream request of a call: path and query
// parameters, and a JSON body.
func BenchmarkNewRequest(b *testing.B) {
	ops := benchOps(b)
	ctx := context.Background()
	b.Run("path+query", func(b *testing.B) {
		op := ops["get_r"]
		args := map[string]any{"kind": "obj", "q": "bench"}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := op.NewRequest(ctx, "http://127.0.0.1:8000/api", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json body", func(b *testing.B) {
		op := ops["create_item"]
		args := map[string]any{"name": "lamp", "price": json.Number("12.5")}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := op.NewRequest(ctx, "http://127.0.0.1:8000", args); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeArgs is the handler's decoding of the tool arguments.
func BenchmarkDecodeArgs(b *testing.B) {
	raw := json.RawMessage(`{"kind":"obj","q":"bench"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeArgs(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResultEncoding turns an upstream JSON body into the bytes on the
// wire: tool result, CallToolResult JSON, JSON-RPC envelope.
func BenchmarkResultEncoding(b *testing.B) {
	op := benchOps(b)["get_r"]
	res := &upstreamResult{status: 200, contentType: "application/json",
		body: []byte(`{"item_id":42,"name":"Widget","price":9.5,"tags":["blue","small"],"q":"bench"}`)}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := encodeResponse(&buf, []byte("17"), res.toolResult(op), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFastCall is one whole tools/call through Runtime.Handler against
// an httptest upstream: auth (cached), fast path, upstream round trip.
// The 2026-07-28 variant is what a go-sdk v1.8 client sends.
func BenchmarkFastCall(b *testing.B) {
	for _, c := range []struct{ name, version string }{{"", "2025-06-18"}, {" 2026-07-28", "2026-07-28"}} {
		for _, fast := range []bool{true, false} {
			benchmarkFastCall(b, fast, c.name, c.version)
		}
	}
}

func benchmarkFastCall(b *testing.B, fast bool, suffix, version string) {
	name := "fast path" + suffix
	if !fast {
		name = "SDK path" + suffix
	}
	b.Run(name, func(b *testing.B) {
		up := httptest.NewServer(http.HandlerFunc(fastUpstream))
		defer up.Close()
		r := newFastRuntime(b, up.URL)
		r.noFastPath = !fast
		h := r.Handler()
		body := `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"}}}`
		if version == version20260728 {
			body = `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"},"_meta":{` +
				`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`
		}
		calls := r.fastCalls.Load()
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer mcp_ok")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", version)
			if version == version20260728 {
				req.Header.Set("Mcp-Method", "tools/call")
				req.Header.Set("Mcp-Name", "get_r")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body.String())
			}
		}
		if answered := r.fastCalls.Load() > calls; answered != fast {
			b.Fatalf("fast path answered: %v, want %v", answered, fast)
		}
	})
}

// BenchmarkMetricsCall records one finished call in the Prometheus series.
func BenchmarkMetricsCall(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	b.ReportAllocs()
	for b.Loop() {
		m.call("t1", "get_r", StatusOK, 300*time.Microsecond, 200*time.Microsecond)
		m.tokenCheck("cache")
	}
}

// BenchmarkFastCallJQ is BenchmarkFastCall's 2025-06-18 call of get_r on
// the fast path, plain and with settings.tools shaping its answer with a
// jq projection (the expression compiled once per state, run per call),
// and with the agent's own _select on top (parsed and compiled per call).
func BenchmarkFastCallJQ(b *testing.B) {
	for _, c := range []struct{ name, jq, args string }{
		{"plain", "", `{"kind":"obj","q":"bench"}`},
		{"jq projection", `{id, a: .nested.a}`, `{"kind":"obj","q":"bench"}`},
		{"jq projection+_select", `{id, a: .nested.a}`, `{"kind":"obj","q":"bench","_select":".a[1:]"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			up := httptest.NewServer(http.HandlerFunc(fastUpstream))
			defer up.Close()
			var s tenant.Settings
			if c.jq != "" {
				s.Tools = map[string]tenant.ToolTransform{"get_r": {Response: &tenant.ResponseShape{JQ: c.jq, Select: strings.Contains(c.args, "_select")}}}
			}
			r := newFastRuntimeSettings(b, up.URL, Config{}, nil, s)
			h := r.Handler()
			body := `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":` + c.args + `}}`
			calls := r.fastCalls.Load()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer mcp_ok")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 || strings.Contains(w.Body.String(), `"isError":true`) {
					b.Fatal(w.Code, w.Body.String())
				}
			}
			if r.fastCalls.Load() == calls {
				b.Fatal("not answered by the fast path")
			}
		})
	}
}

// discardSink stores nothing, so BenchmarkRecordingOverhead's "discard"
// case measures what recording costs the call path without the database.
type discardSink struct{}

func (discardSink) WriteCalls(context.Context, []tenant.CallRecord) error { return nil }

// BenchmarkRecordingOverhead runs fast-path tool calls from 64 goroutines
// without the call history recorder, with it writing to a sink that
// discards, and with it writing to PostgreSQL through tenant.Store (COPY and
// rollups, as `portico serve` does; skipped without a test database). Each
// case reports cpu-µs/call, the process's CPU per call including the
// flusher and the pgx encoding (not the database server's). With -count the
// cases alternate, so compare medians:
//
//	go test -run '^$' -bench RecordingOverhead -benchtime 20000x -count 8 ./bridge
func BenchmarkRecordingOverhead(b *testing.B) {
	for _, sinkName := range []string{"off", "discard", "postgres"} {
		b.Run("recording="+sinkName, func(b *testing.B) {
			up := httptest.NewServer(http.HandlerFunc(fastUpstream))
			defer up.Close()
			var rec *CallRecorder
			if sinkName != "off" {
				var sink CallSink = discardSink{}
				if sinkName == "postgres" {
					key := tenant.MasterKey{ID: "k1", Key: make([]byte, 32)}
					sealer, err := tenant.NewSealer([]tenant.MasterKey{key})
					if err != nil {
						b.Fatal(err)
					}
					sink = pgstore.NewStore(pgtest.NewPool(b), sealer)
				}
				rec = NewCallRecorder(sink, RecorderConfig{}, nil)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				defer func() { cancel(); <-done }()
				go func() { rec.Run(ctx); close(done) }()
			}
			r := newFastRuntimeWith(b, up.URL, Config{Calls: rec}, nil)
			h := r.Handler()
			body := `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"}}}`
			b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer mcp_ok")
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json, text/event-stream")
					req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Error(w.Code)
						return
					}
				}
			})
			if rec != nil {
				// The batch still buffered is part of these calls' cost.
				if err := rec.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/call")
			b.StopTimer()
			if rec != nil && rec.DroppedTotal() != 0 {
				b.Errorf("dropped %d records", rec.DroppedTotal())
			}
		})
	}
}

// BenchmarkShapeLarge shapes a 400 KB answer (1,000 repositories of ~400
// bytes each) down to their ids and names: the step a jq projection adds to
// a call whose answer would otherwise flood a model's context.
func BenchmarkShapeLarge(b *testing.B) {
	conv, err := Convert([]byte(xfSpec), openapi.Options{}, "")
	if err != nil {
		b.Fatal(err)
	}
	op := conv.Operations[0]
	var body strings.Builder
	body.WriteString(`{"total":1000,"items":[`)
	for i := range 1000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"id":%d,"name":"repo-%d","private":false,"description":"%s"}`, i, i, strings.Repeat("d", 340))
	}
	body.WriteString(`]}`)
	res := &upstreamResult{status: 200, contentType: "application/json", body: []byte(body.String())}
	sh, _, err := openapi.NewShaper(op, &tenant.ResponseShape{JQ: `[.items[] | {id, name}]`}, 10<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(res.body)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if out := shapeResult(ctx, sh, op, res, ""); out.IsError {
			b.Fatal(out.Content[0].(*mcp.TextContent).Text)
		}
	}
	out := shapeResult(ctx, sh, op, res, "")
	b.ReportMetric(float64(len(out.Content[0].(*mcp.TextContent).Text)), "out-bytes")
}

// BenchmarkFastCallToolset is BenchmarkFastCall's 2025-06-18 fast-path
// call of get_r, on the tenant's endpoint and on a toolset's
// (/t/t1/mcp/ro, read-only): serving a view costs one map lookup.
func BenchmarkFastCallToolset(b *testing.B) {
	for _, path := range []string{"/t/t1/mcp", "/t/t1/mcp/ro"} {
		b.Run(path, func(b *testing.B) {
			up := httptest.NewServer(http.HandlerFunc(fastUpstream))
			defer up.Close()
			r := newFastRuntime(b, up.URL)
			r.store.(*fakeStore).toolsetsFn = func(context.Context, string) ([]tenant.Toolset, error) {
				return []tenant.Toolset{{Name: "ro", ReadOnly: true}}, nil
			}
			if err := r.Reload(context.Background(), "t1"); err != nil {
				b.Fatal(err)
			}
			h := r.Handler()
			body := `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"bench"}}}`
			calls := r.fastCalls.Load()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer mcp_ok")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 || strings.Contains(w.Body.String(), `"isError":true`) {
					b.Fatal(w.Code, w.Body.String())
				}
			}
			if r.fastCalls.Load() == calls {
				b.Fatal("the fast path answered no call")
			}
		})
	}
}
