package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// manyOpsSpec is a JSON OpenAPI document with n operations (n/4 paths, four
// methods each), the shape of the 20k-operation document that took a
// server from 60 MB to 560 MB through /api/v1/preview.
func manyOpsSpec(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"openapi":"3.1.0","info":{"title":"Big","version":"1"},"paths":{`)
	for i := 0; i < n/4; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"/r%d/{id}":{`, i)
		for j, m := range []string{"get", "put", "post", "delete"} {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s":{"operationId":"%s_r%d","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"ok"}}}`, m, m, i)
		}
		b.WriteString(`}`)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

func TestPreviewRefusesTooManyOperations(t *testing.T) {
	big := manyOpsSpec(20000)
	small := manyOpsSpec(40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big.json":
			w.Write(big)
		case "/small.json":
			w.Write(small)
		case "/small.yaml":
			w.Write([]byte("openapi: 3.1.0\ninfo: {title: Y, version: '1'}\npaths:\n  /a:\n    get: {responses: {'200': {description: ok}}}\n    post: {responses: {'200': {description: ok}}}\n    parameters: []\n  /b:\n    get: {responses: {'200': {description: ok}}}\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rt := New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	ctx := context.Background()

	for _, c := range []struct {
		name, url string
		max       int
		code      string
	}{
		{"default refuses 20k operations", "/big.json", 0, "spec_too_large"},
		{"small JSON under the limit", "/small.json", 0, ""},
		{"JSON over a lowered limit", "/small.json", 39, "spec_too_large"},
		{"JSON at a lowered limit", "/small.json", 40, ""},
		{"YAML over a lowered limit", "/small.yaml", 2, "spec_too_large"},
		{"YAML at a lowered limit", "/small.yaml", 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt.opts.MaxOperations = c.max
			if c.max == 0 {
				rt.opts.MaxOperations = New(nil, Config{}).opts.MaxOperations
			}
			_, err := rt.Preview(ctx, srv.URL+c.url, tenant.Settings{})
			if c.code == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var ae *tenant.ActivationError
			if !errors.As(err, &ae) || ae.Code != c.code || ae.Field != "spec_url" {
				t.Fatalf("err = %v, want ActivationError %s on spec_url", err, c.code)
			}
			for _, want := range []string{"operations", "PORTICO_MAX_OPERATIONS"} {
				if !strings.Contains(ae.Reason, want) {
					t.Errorf("reason %q does not mention %q", ae.Reason, want)
				}
			}
		})
	}
}

// TestRefusedSpecPeakHeap reports (does not assert) the heap a refused
// 20k-operation document costs: the count runs before libopenapi builds a model.
func TestRefusedSpecPeakHeap(t *testing.T) {
	big := manyOpsSpec(20000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := openapi.CountOperations(big)
	runtime.ReadMemStats(&after)
	if err != nil || n != 20000 {
		t.Fatalf("countOperations = %d, %v; want 20000", n, err)
	}
	t.Logf("document %d KiB, counted %d operations, allocated %d KiB while counting",
		len(big)>>10, n, (after.TotalAlloc-before.TotalAlloc)>>10)
}

// TestCorpusUnderOperationLimit counts every real document in
// ../shared/specs: each must be admitted by the default limit with margin.
func TestCorpusUnderOperationLimit(t *testing.T) {
	dir := specsDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	limit := New(nil, Config{}).opts.MaxOperations
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".json" && ext != ".yaml" || e.Name() == "manifest.json" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			n, err := openapi.CountOperations(raw)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d operations, %d KiB", n, len(raw)>>10)
			if n == 0 || n*2 > limit {
				t.Errorf("%d operations: want between 1 and half the default limit %d", n, limit)
			}
		})
	}
}
