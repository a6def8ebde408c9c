package bridge

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

func TestCallLogRingFiltersAndBuckets(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	c := NewCallLog(3)
	c.now = func() time.Time { return now }
	for i, r := range []tenant.CallRecord{
		{Tool: "a", Status: StatusOK, LatencyMS: 10},
		{Tool: "b", Status: StatusUpstream5xx, IsError: true, LatencyMS: 30, Error: strings.Repeat("é", 300)},
		{Tool: "a", Status: StatusOK, LatencyMS: 20},
		{Tool: "a", Status: StatusTimeout, IsError: true, LatencyMS: 40},
	} {
		r.At = now.Add(time.Duration(i-4) * 30 * time.Second)
		c.record("t1", r)
	}
	c.record("t2", tenant.CallRecord{At: now, Tool: "x", Status: StatusOK})

	all := c.RecentCalls("t1", tenant.CallFilter{})
	if len(all) != 3 || all[0].Status != StatusTimeout || all[2].Tool != "b" {
		t.Fatalf("ring of 3, newest first: %+v", all)
	}
	if e := all[2].Error; len(e) > callErrorText+len("…") || !strings.HasSuffix(e, "…") || !strings.HasPrefix(e, "é") {
		t.Errorf("error text not truncated on a rune boundary: %d bytes", len(e))
	}
	if got := c.RecentCalls("t1", tenant.CallFilter{Tool: "a", Status: "error"}); len(got) != 1 || got[0].Status != StatusTimeout {
		t.Errorf("tool a, errors: %+v", got)
	}
	if got := c.RecentCalls("t1", tenant.CallFilter{Status: StatusOK, Limit: 1}); len(got) != 1 || got[0].LatencyMS != 20 {
		t.Errorf("ok, limit 1: %+v", got)
	}
	if got := c.RecentCalls("nope", tenant.CallFilter{}); got == nil || len(got) != 0 {
		t.Errorf("unknown tenant: %#v", got)
	}

	// Buckets keep all four calls even though the ring kept three.
	bs := c.CallStats("t1", now.Add(-time.Hour))
	calls, errs, maxMS := 0, 0, 0.0
	for i, b := range bs {
		if i > 0 && !bs[i-1].Start.Before(b.Start) {
			t.Errorf("buckets not oldest first: %+v", bs)
		}
		calls, errs, maxMS = calls+b.Calls, errs+b.Errors, max(maxMS, b.LatencyMaxMS)
	}
	if calls != 4 || errs != 2 || maxMS != 40 {
		t.Errorf("buckets: %d calls, %d errors, max %v: %+v", calls, errs, maxMS, bs)
	}
	// A day later the old minute's slot is reused, not added to.
	c.record("t1", tenant.CallRecord{At: now.Add(24*time.Hour - 2*time.Minute), Tool: "a", Status: StatusOK})
	c.now = func() time.Time { return now.Add(24 * time.Hour) }
	if bs := c.CallStats("t1", time.Time{}); len(bs) != 1 || bs[0].Calls != 1 {
		t.Errorf("after a day: %+v", bs)
	}
	var nilLog *CallLog
	nilLog.record("t1", tenant.CallRecord{})
	if len(nilLog.RecentCalls("t1", tenant.CallFilter{})) != 0 || len(nilLog.CallStats("t1", now)) != 0 {
		t.Error("a nil log records nothing")
	}
}

// A failed call's recorded message never carries the tenant's credential
// values, even when the upstream echoed one back in an error body.
func TestCallRecordRedactsCredentials(t *testing.T) {
	l := &live{id: "t1"}
	l.state.Store(&state{creds: []tenant.LiveCredential{{Value: tenant.Secret("s3cret-value")}, {Value: tenant.Secret("ab")}}})
	res := toolError("upstream returned HTTP 401 for GET /x: %s", `{"detail":"bad token s3cret-value"}`)
	r := l.redact(callRecord(time.Now(), "x", &outcome{status: StatusUpstream4xx}, time.Millisecond, res))
	if strings.Contains(r.Error, "s3cret-value") || !strings.Contains(r.Error, "[REDACTED]") || !r.IsError {
		t.Errorf("recorded error = %+v", r)
	}
	ok := l.redact(callRecord(time.Now(), "x", &outcome{status: StatusOK}, time.Millisecond, &mcp.CallToolResult{}))
	if ok.IsError || ok.Error != "" || ok.Status != StatusOK {
		t.Errorf("a good call = %+v", ok)
	}
}

func TestCallLogConcurrent(t *testing.T) {
	c := NewCallLog(50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := []string{"a", "b"}[g%2]
			for range 200 {
				c.record(id, tenant.CallRecord{At: time.Now(), Tool: "x", Status: StatusOK})
				c.RecentCalls(id, tenant.CallFilter{Limit: 5})
				c.CallStats(id, time.Time{})
			}
		}()
	}
	wg.Wait()
	for _, id := range []string{"a", "b"} {
		n := 0
		for _, b := range c.CallStats(id, time.Time{}) {
			n += b.Calls
		}
		if n != 800 || len(c.RecentCalls(id, tenant.CallFilter{})) != 50 {
			t.Errorf("tenant %s: %d calls in buckets, want 800", id, n)
		}
	}
}
