package bridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// fakeSink stores batches, or fails while down is set.
type fakeSink struct {
	mu      sync.Mutex
	down    bool
	stored  []tenant.CallRecord
	batches int
}

func (s *fakeSink) WriteCalls(_ context.Context, recs []tenant.CallRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("database unreachable")
	}
	s.stored = append(s.stored, recs...)
	s.batches++
	return nil
}

func (s *fakeSink) setDown(d bool) { s.mu.Lock(); s.down = d; s.mu.Unlock() }

func (s *fakeSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.stored) }

func TestCallRecorderBatchesAndTruncates(t *testing.T) {
	sink := &fakeSink{}
	c := NewCallRecorder(sink, RecorderConfig{Capacity: 100, Batch: 4}, nil)
	long := strings.Repeat("é", 300)
	for i := range 10 {
		c.record("t1", tenant.CallRecord{Tool: "a", Error: long, LatencyMS: float64(i)})
	}
	if sink.count() != 0 {
		t.Fatal("record wrote to the sink on the call path")
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 10 || sink.batches != 3 {
		t.Fatalf("stored %d records in %d batches, want 10 in 3 (batches of at most 4)", sink.count(), sink.batches)
	}
	for i, r := range sink.stored {
		if r.TenantID != "t1" || r.LatencyMS != float64(i) {
			t.Errorf("record %d = %+v, want tenant t1 in recording order", i, r)
		}
		if len(r.Error) > tenant.CallErrorText+len("…") || !strings.HasSuffix(r.Error, "…") || !strings.HasPrefix(long, strings.TrimSuffix(r.Error, "…")) {
			t.Errorf("error text not cut on a rune boundary: %q", r.Error)
		}
	}
	if c.Buffered() != 0 || c.WrittenTotal() != 10 {
		t.Errorf("buffered %d, written %d; want 0 and 10", c.Buffered(), c.WrittenTotal())
	}
}

// An outage keeps every record that fits the buffer and counts exactly the
// ones that do not.
func TestCallRecorderOutageKeepsWhatFitsAndCountsDrops(t *testing.T) {
	sink := &fakeSink{}
	c := NewCallRecorder(sink, RecorderConfig{Capacity: 50, Batch: 10}, nil)
	ctx := context.Background()
	sink.setDown(true)
	for range 30 {
		c.record("t1", tenant.CallRecord{Tool: "a"})
	}
	if err := c.Flush(ctx); err == nil {
		t.Fatal("flush during the outage reported success")
	}
	for range 30 { // 20 fit beside the 30 held for retry; 10 do not
		c.record("t1", tenant.CallRecord{Tool: "b"})
	}
	if err := c.Flush(ctx); err == nil {
		t.Fatal("flush during the outage reported success")
	}
	if got := c.DroppedTotal(); got != 10 {
		t.Errorf("dropped %d, want exactly 10", got)
	}
	sink.setDown(false)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 50 {
		t.Errorf("stored %d after the outage, want all 50 that fit", sink.count())
	}
	if sink.stored[0].Tool != "a" || sink.stored[49].Tool != "b" {
		t.Error("records not stored oldest first")
	}
}

func TestCallRecorderConcurrent(t *testing.T) {
	sink := &fakeSink{}
	c := NewCallRecorder(sink, RecorderConfig{Capacity: 1 << 20, Batch: 64, FlushInterval: time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.record("t1", tenant.CallRecord{Tool: "a"})
			}
		})
	}
	wg.Wait()
	cancel()
	<-done
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 8000 || c.DroppedTotal() != 0 {
		t.Errorf("stored %d, dropped %d; want 8000 and 0", sink.count(), c.DroppedTotal())
	}
}

func TestCallRecorderRecordAllocates(t *testing.T) {
	c := NewCallRecorder(&fakeSink{}, RecorderConfig{Capacity: 1 << 20, Batch: 1 << 20}, nil)
	r := tenant.CallRecord{Tool: "a", Status: StatusOK}
	c.record("t1", r) // the buffer is allocated once
	if n := testing.AllocsPerRun(1000, func() { c.record("t1", r) }); n != 0 {
		t.Errorf("record allocates %v times per call, want 0", n)
	}
	var nilRec *CallRecorder
	nilRec.record("t1", r)
	if nilRec.Flush(context.Background()) != nil || nilRec.DroppedTotal() != 0 {
		t.Error("a nil recorder must do nothing")
	}
}

// A failed call's recorded message never carries the tenant's credential
// values, even when the upstream echoed one back in an error body.
func TestCallRecordRedactsCredentials(t *testing.T) {
	l := &live{id: "t1"}
	l.state.Store(&state{creds: []tenant.LiveCredential{{Value: tenant.Secret("s3cret-value")}, {Value: tenant.Secret("ab")}}})
	res := toolError("upstream returned HTTP 401 for GET /x: %s", `{"detail":"bad token s3cret-value"}`)
	r := l.redact(callRecord(time.Now(), "x", "tok", &outcome{status: StatusUpstream4xx, httpStatus: 401}, time.Millisecond, res))
	if strings.Contains(r.Error, "s3cret-value") || !strings.Contains(r.Error, "[REDACTED]") || !r.IsError || r.UpstreamStatus != 401 || r.TokenID != "tok" {
		t.Errorf("recorded error = %+v", r)
	}
	ok := l.redact(callRecord(time.Now(), "x", "", &outcome{status: StatusOK, bytes: 42}, time.Millisecond, &mcp.CallToolResult{}))
	if ok.IsError || ok.Error != "" || ok.Status != StatusOK || ok.Bytes != 42 || ok.Kind != "tool" {
		t.Errorf("a good call = %+v", ok)
	}
	read := callRecord(time.Now(), "r", "", &outcome{status: StatusUpstream5xx}, time.Millisecond, nil)
	if read.Kind != "resource" || !read.IsError {
		t.Errorf("a failed resource read = %+v", read)
	}
}
