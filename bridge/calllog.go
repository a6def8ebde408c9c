package bridge

import (
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/portico-mcp/portico/tenant"
)

// CallLog keeps each tenant's recent tool calls in memory for the
// dashboard's Activity screen and tenant list: a ring of the last calls and
// per-minute aggregates for the last 24 hours. It is per replica (each
// replica sees the calls it served) and lost on restart; Prometheus
// (portico_mcp_calls_total) is the durable, fleet-wide view. A nil *CallLog
// records nothing.
type CallLog struct {
	size int
	mu   sync.RWMutex // guards logs; each tenant's calls have their own lock
	logs map[string]*tenantCalls
	now  func() time.Time
}

const (
	callBuckets   = 24 * 60 // one a minute for 24 h
	callErrorText = 200     // bytes of a failed call's message kept
)

type tenantCalls struct {
	mu      sync.Mutex
	ring    []tenant.CallRecord
	next    int
	buckets [callBuckets]tenant.CallBucket // indexed by minute mod callBuckets
}

// NewCallLog keeps the last size calls of each tenant (1,000 when size < 1).
func NewCallLog(size int) *CallLog {
	if size < 1 {
		size = 1000
	}
	return &CallLog{size: size, logs: map[string]*tenantCalls{}, now: time.Now}
}

// record adds one call of tenant id.
func (c *CallLog) record(id string, r tenant.CallRecord) {
	if c == nil {
		return
	}
	if len(r.Error) > callErrorText {
		cut := callErrorText
		for cut > 0 && !utf8.RuneStart(r.Error[cut]) {
			cut--
		}
		r.Error = r.Error[:cut] + "…"
	}
	t := c.tenant(id)
	if t == nil {
		c.mu.Lock()
		if t = c.logs[id]; t == nil {
			t = &tenantCalls{ring: make([]tenant.CallRecord, 0, min(c.size, 64))}
			c.logs[id] = t
		}
		c.mu.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.ring) < c.size {
		t.ring = append(t.ring, r)
	} else {
		t.ring[t.next] = r
	}
	t.next = (t.next + 1) % c.size
	minute := r.At.Truncate(time.Minute)
	b := &t.buckets[minute.Unix()/60%callBuckets]
	if !b.Start.Equal(minute) {
		*b = tenant.CallBucket{Start: minute}
	}
	b.Calls++
	if r.IsError {
		b.Errors++
	}
	b.LatencySumMS += r.LatencyMS
	b.UpstreamSumMS += r.UpstreamMS
	b.LatencyMaxMS = max(b.LatencyMaxMS, r.LatencyMS)
}

// RecentCalls returns tenant id's recent calls matching f, newest first.
func (c *CallLog) RecentCalls(id string, f tenant.CallFilter) []tenant.CallRecord {
	out := []tenant.CallRecord{}
	if c == nil {
		return out
	}
	t := c.tenant(id)
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.ring)
	for i := 0; i < n && (f.Limit <= 0 || len(out) < f.Limit); i++ {
		r := t.ring[((t.next-1-i)%n+n)%n]
		if !f.Since.IsZero() && r.At.Before(f.Since) {
			break
		}
		if f.Tool != "" && r.Tool != f.Tool {
			continue
		}
		if f.Status == "error" && !r.IsError || f.Status != "" && f.Status != "error" && r.Status != f.Status {
			continue
		}
		out = append(out, r)
	}
	return out
}

// CallStats returns tenant id's per-minute aggregates since since (at most
// 24 h back), oldest first; minutes without calls are left out.
func (c *CallLog) CallStats(id string, since time.Time) []tenant.CallBucket {
	out := []tenant.CallBucket{}
	if c == nil {
		return out
	}
	if floor := c.now().Add(-24 * time.Hour); since.Before(floor) {
		since = floor
	}
	t := c.tenant(id)
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.buckets {
		if b.Calls > 0 && !b.Start.Before(since.Truncate(time.Minute)) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b tenant.CallBucket) int { return a.Start.Compare(b.Start) })
	return out
}

func (c *CallLog) tenant(id string) *tenantCalls {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.logs[id]
}
