package bridge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestConvertBudgetWeighsMemory: conversions wait for room by estimated
// memory, not only by count, and one estimated above the whole budget runs
// alone rather than never.
func TestConvertBudgetWeighsMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newConvertBudget(100, 4)
		ctx := context.Background()
		relBig, err := b.acquire(ctx, 80)
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan string, 3)
		run := func(name string, est int64) {
			rel, err := b.acquire(ctx, est)
			if err != nil {
				t.Error(err)
				return
			}
			started <- name
			rel()
		}
		go run("small fits beside", 20)
		synctest.Wait()
		if got := <-started; got != "small fits beside" {
			t.Fatalf("started %q", got)
		}
		go run("second 30 waits", 30)
		go run("oversized waits for all", 1000)
		synctest.Wait()
		if len(started) != 0 {
			t.Fatalf("%q started while 80 of 100 were taken", <-started)
		}
		relBig()
		synctest.Wait()
		if len(started) != 2 {
			t.Fatalf("%d conversions ran after the budget freed, want both", len(started))
		}
	})
}

// TestConvertBudgetCountsSlots: small conversions are also bounded by count,
// since each keeps a core busy.
func TestConvertBudgetCountsSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newConvertBudget(1<<30, 2)
		ctx := context.Background()
		r1, _ := b.acquire(ctx, 1)
		r2, _ := b.acquire(ctx, 1)
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := b.acquire(wctx, 1); err == nil {
			t.Fatal("a third conversion started with two slots taken")
		}
		r1()
		r2()
		if rel, err := b.acquire(ctx, 1); err != nil {
			t.Fatal(err)
		} else {
			rel()
		}
	})
}

// TestPreviewWaitsThenAnswersBusy: with the replica's conversion budget
// taken (as by two big activations), a preview does not pile up on top of
// it: after PreviewWait it fails converter_busy naming the setting, and once
// the budget frees the same preview converts. Activation and refresh take
// from the same budget (convertSpec).
func TestPreviewWaitsThenAnswersBusy(t *testing.T) {
	doc := manyOpsSpec(40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(doc) }))
	defer srv.Close()
	rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		ConvertMemory: 64 << 20, PreviewWait: time.Millisecond})
	held, err := rt.convert.acquire(context.Background(), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Preview(context.Background(), srv.URL+"/openapi.json", tenant.Settings{})
	var ae *tenant.ActivationError
	if !errors.As(err, &ae) || ae.Code != "converter_busy" || ae.Field != "spec_url" {
		t.Fatalf("err = %v, want converter_busy on spec_url", err)
	}
	if !strings.Contains(ae.Reason, "PORTICO_CONVERT_MEMORY_MB") || !strings.Contains(ae.Reason, "retry") {
		t.Errorf("reason %q does not say what to do", ae.Reason)
	}
	// An activation whose context ends while waiting fails the same way.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := rt.convertSpec(ctx, doc, &tenant.Tenant{SpecURL: srv.URL}); !errors.As(err, &ae) || ae.Code != "converter_busy" {
		t.Fatalf("activation while full: err = %v, want converter_busy", err)
	}
	held()
	rt.opts.PreviewWait = time.Minute
	if _, err := rt.Preview(context.Background(), srv.URL+"/openapi.json", tenant.Settings{}); err != nil {
		t.Fatalf("preview after the budget freed: %v", err)
	}
}

// TestPreviewsInFlightBounded: previews beyond twice the conversion slots
// are answered converter_busy at once, before fetching anything, so waiting
// previews cannot each hold a fetched document.
func TestPreviewsInFlightBounded(t *testing.T) {
	var fetched atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write(manyOpsSpec(8))
	}))
	defer srv.Close()
	rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, ConvertConcurrency: 2})
	if !rt.convert.previews.TryAcquire(4) {
		t.Fatal("expected room for 4 previews")
	}
	_, err := rt.Preview(context.Background(), srv.URL+"/openapi.json", tenant.Settings{})
	var ae *tenant.ActivationError
	if !errors.As(err, &ae) || ae.Code != "converter_busy" {
		t.Fatalf("fifth preview: err = %v, want converter_busy", err)
	}
	if fetched.Load() != 0 {
		t.Errorf("the refused preview fetched its document")
	}
	rt.convert.previews.Release(1)
	if _, err := rt.Preview(context.Background(), srv.URL+"/openapi.json", tenant.Settings{}); err != nil {
		t.Fatalf("preview with room: %v", err)
	}
}

func TestEstimateConvertBytes(t *testing.T) {
	for _, c := range []struct {
		bytes, ops int
		want       int64
	}{
		{13 << 20, 1223, 13 << 20 * convertBytesPerDocByte}, // GitHub: size dominates
		{3800 << 10, 20000, 20000 * convertBytesPerOp},      // many small operations
		{0, 0, 0},
	} {
		if got := estimateConvertBytes(c.bytes, c.ops); got != c.want {
			t.Errorf("estimate(%d B, %d ops) = %d, want %d", c.bytes, c.ops, got, c.want)
		}
	}
}

// BenchmarkParallelPreviews previews GitHub's and Kubernetes' documents at
// the same time, as two users of the wizard would, with the default
// conversion budget and with one too big to bound anything (the count of 2
// alone, as before the budget). peak-heap-MB is the largest live heap
// sampled every 5 ms; wall time shows what the budget costs in waiting.
func BenchmarkParallelPreviews(b *testing.B) {
	dir := specsDir(b)
	var docs [][]byte
	for _, f := range []string{"github__api.github.com.json", "kubernetes__swagger.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, raw)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(docs[len(r.URL.Path)%2]) // /a → 1, /bb → 0
	}))
	defer srv.Close()
	for _, c := range []struct {
		name string
		mem  int64
	}{{"budget=512MB", 0}, {"unbounded", 1 << 40}} {
		b.Run(c.name, func(b *testing.B) {
			rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, ConvertMemory: c.mem, PreviewWait: time.Minute})
			runtime.GC()
			peak := watchHeap()
			for b.Loop() {
				var wg sync.WaitGroup
				for _, p := range []string{"/a", "/bb"} {
					wg.Go(func() {
						if _, err := rt.Preview(context.Background(), srv.URL+p, tenant.Settings{}); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(peak()/(1<<20), "peak-heap-MB")
		})
	}
}
