package bridge

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
)

// TestConversionDoesNotRetainDocument: holding a Conversion (a serving
// state keeps its report) must not keep libopenapi's model of the
// document alive. The document carries 2 MB in extension members, which
// libopenapi's node tree holds and the conversion drops; after a GC the
// heap kept by the conversion must be a small fraction of that.
func TestConversionDoesNotRetainDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("converts a 3 MB document")
	}
	base := liveHeap()
	var b strings.Builder
	b.WriteString(`{"openapi":"3.1.0","info":{"title":"big","version":"1"},"paths":{`)
	const ops, props = 200, 40
	for i := range ops {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"/r%d":{"get":{"operationId":"get_r%d","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/S%d"}}}}}}}`, i, i, i)
	}
	b.WriteString(`},"components":{"schemas":{`)
	for i := range ops {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"S%d":{"type":"object","x-pad":"%s","properties":{`, i, strings.Repeat("x", 4096))
		for j := range props {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"p%d":{"type":"string","x-note":"%s"}`, j, strings.Repeat("y", 256))
		}
		b.WriteString(`}}`)
	}
	b.WriteString(`}}}`)
	doc := []byte(b.String())
	b.Reset()
	size := len(doc)

	conv, err := Convert(doc, openapi.Options{}, "")
	if err != nil {
		t.Fatal(err)
	}
	doc = nil
	kept := int64(liveHeap()) - int64(base)
	if len(conv.Operations) != ops {
		t.Fatalf("%d operations, want %d", len(conv.Operations), ops)
	}
	runtime.KeepAlive(conv)
	t.Logf("document %d KB, kept %d KB", size>>10, kept>>10)
	if limit := int64(size / 2); kept > limit {
		t.Errorf("a held Conversion keeps %d KB of heap, more than %d KB: it holds the document's model", kept>>10, limit>>10)
	}
}

// liveHeap is the heap live after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
