package bridge

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// BenchmarkRefreshGitHub measures refreshing the GitHub REST spec (13 MB,
// ~1,100 operations) on an active tenant against real Postgres:
//
//	unchanged: conditional GET + SHA-256, no conversion (conversions/op = 0)
//	changed:   fetch, convert, diff, store (gzip) and swap into the live server
//
// peak-heap-MB is the largest live heap sampled during the run. Run with
//
//	go test ./bridge -run '^$' -bench RefreshGitHub -benchtime 5x
//
// and copy the figures into docs/benchmarks.md.
func BenchmarkRefreshGitHub(b *testing.B) {
	dir := os.Getenv("PORTICO_SPECS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "specs")
	}
	orig, err := os.ReadFile(filepath.Join(dir, "github__api.github.com.json"))
	if err != nil {
		b.Skipf("GitHub spec not found (set PORTICO_SPECS_DIR): %v", err)
	}
	// Two documents that differ by one removed path, alternated by the
	// "changed" case so every refresh stores a new version.
	var doc map[string]any
	if err := json.Unmarshal(orig, &doc); err != nil {
		b.Fatal(err)
	}
	docA, _ := json.Marshal(doc)
	paths := doc["paths"].(map[string]any)
	for p := range paths {
		delete(paths, p)
		break
	}
	docB, _ := json.Marshal(doc)
	var serve atomic.Pointer[[]byte]
	serve.Store(&docA)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(*serve.Load())
	}))
	defer srv.Close()

	ctx := context.Background()
	pool := pgtest.NewPool(b)
	key := tenant.MasterKey{ID: "k1", Key: make([]byte, 32)}
	sealer, err := tenant.NewSealer([]tenant.MasterKey{key})
	if err != nil {
		b.Fatal(err)
	}
	store := pgstore.NewStore(pool, sealer)
	var logger *slog.Logger
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r := New(store, Config{Logger: logger, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	tn := &tenant.Tenant{Name: "github", BaseURL: srv.URL, SpecURL: srv.URL + "/openapi.json"}
	if err := store.CreateTenant(ctx, tn, "bench"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := r.Activate(ctx, tn.ID, "bench"); err != nil {
		b.Fatal(err)
	}
	b.Logf("activation (fetch, convert, store, register %d tools): %s", len(r.lookup(tn.ID).state.Load().list), time.Since(start).Round(time.Millisecond))

	b.Run("unchanged", func(b *testing.B) {
		peak := watchHeap()
		before := r.converted.Load()
		for b.Loop() {
			res, err := r.Refresh(ctx, tn.ID, "bench")
			if err != nil || res.Changed {
				b.Fatalf("refresh of an unchanged spec: %+v %v", res, err)
			}
		}
		b.ReportMetric(float64(r.converted.Load()-before)/float64(b.N), "conversions/op")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
	})
	b.Run("changed", func(b *testing.B) {
		runtime.GC()
		peak := watchHeap()
		before := r.converted.Load()
		flip := false
		for b.Loop() {
			flip = !flip
			if flip {
				serve.Store(&docB)
			} else {
				serve.Store(&docA)
			}
			res, err := r.Refresh(ctx, tn.ID, "bench")
			if err != nil || !res.Changed || res.Diff.Empty() {
				b.Fatalf("refresh of a changed spec: changed=%v diff=%+v err=%v", res.Changed, res.Diff.Summary(), err)
			}
		}
		b.ReportMetric(float64(r.converted.Load()-before)/float64(b.N), "conversions/op")
		b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
	})
	r.Shutdown(ctx)
}

// watchHeap samples the live heap every 5 ms until the returned function
// is called, which reports the largest sample in bytes.
func watchHeap() func() float64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(done); <-stopped; return float64(peak.Load()) }
}
