package bridge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/portico-mcp/portico/tenant"
)

// CallSink stores batches of call records: the fleet-wide call history in
// Postgres (tenant.Store.WriteCalls).
type CallSink interface {
	WriteCalls(ctx context.Context, recs []tenant.CallRecord) error
}

// CallRecorder buffers each replica's tool calls and resource reads in
// memory and writes them to the call history in batches: one write per
// flush interval (or sooner when a batch fills), never one per call, and a
// call never waits for it. When the database is unreachable the buffer
// keeps up to its capacity of records (those being retried included) and
// writes them once it is back; a call recorded while the buffer is full is
// dropped and counted exactly (DroppedTotal, and a log line per flush
// interval that dropped any). A nil *CallRecorder records nothing.
type CallRecorder struct {
	sink     CallSink
	capacity int
	batch    int
	interval time.Duration
	log      *slog.Logger

	flushMu sync.Mutex // one flush at a time (Run's, Flush's)
	mu      sync.Mutex
	pending []tenant.CallRecord // recorded, not yet taken by the flusher
	spare   []tenant.CallRecord // the other buffer, swapped in by take
	held    int                 // records the flusher took and has not stored yet
	dropped int64               // under mu; also mirrored in droppedTotal

	droppedTotal atomic.Int64
	written      atomic.Int64
	failures     atomic.Int64
	kick         chan struct{}
	retry        []tenant.CallRecord // owned by the flusher
}

// RecorderConfig sizes a CallRecorder; zero values take the defaults.
type RecorderConfig struct {
	Capacity      int           // records buffered at most (100,000)
	FlushInterval time.Duration // longest wait before a batch is written (1 s)
	Batch         int           // records that trigger a flush before the interval (5,000)
}

// NewCallRecorder returns a recorder writing to sink; Run does the writing.
func NewCallRecorder(sink CallSink, cfg RecorderConfig, log *slog.Logger) *CallRecorder {
	if cfg.Capacity < 1 {
		cfg.Capacity = 100_000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Batch < 1 {
		cfg.Batch = 5000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CallRecorder{sink: sink, capacity: cfg.Capacity, batch: min(cfg.Batch, cfg.Capacity), interval: cfg.FlushInterval,
		log: log, kick: make(chan struct{}, 1)}
}

// record buffers one call of tenant id; it never blocks on the database.
func (c *CallRecorder) record(id string, r tenant.CallRecord) {
	if c == nil {
		return
	}
	if len(r.Error) > tenant.CallErrorText {
		cut := tenant.CallErrorText
		for cut > 0 && !utf8.RuneStart(r.Error[cut]) {
			cut--
		}
		r.Error = r.Error[:cut] + "…"
	}
	r.TenantID = id
	c.mu.Lock()
	if len(c.pending)+c.held >= c.capacity {
		c.dropped++
		c.mu.Unlock()
		c.droppedTotal.Add(1)
		return
	}
	if c.pending == nil {
		c.pending = make([]tenant.CallRecord, 0, min(c.capacity, c.batch))
	}
	c.pending = append(c.pending, r)
	full := len(c.pending) == c.batch
	c.mu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Run writes the buffer every flush interval until ctx ends. It does not
// flush on the way out: call Flush once the calls in flight are done.
func (c *CallRecorder) Run(ctx context.Context) {
	if c == nil {
		return
	}
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
		c.flush(ctx)
	}
}

// Flush writes everything buffered now, giving up when ctx ends (what is
// left stays buffered). It waits for a flush of Run in progress, so a
// reader that flushes first sees every call this replica finished.
func (c *CallRecorder) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	return c.flush(ctx)
}

// flush takes the pending records and writes them together with any that
// failed before, oldest first, in batches of at most c.batch.
func (c *CallRecorder) flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	taken := c.pending
	c.pending, c.spare = c.spare[:0], nil
	c.held += len(taken)
	dropped := c.dropped
	c.dropped = 0
	c.mu.Unlock()
	if dropped > 0 {
		c.log.Warn("call history buffer full: call records dropped", "dropped", dropped,
			"dropped_total", c.droppedTotal.Load(), "capacity", c.capacity)
	}
	c.retry = append(c.retry, taken...)
	var err error
	for len(c.retry) > 0 {
		n := min(len(c.retry), c.batch)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = c.sink.WriteCalls(wctx, c.retry[:n])
		cancel()
		if err != nil {
			if c.failures.Add(1) == 1 || ctx.Err() == nil {
				c.log.Warn("write call history: keeping the records buffered to retry", "err", err,
					"buffered", len(c.retry), "capacity", c.capacity)
			}
			break
		}
		c.written.Add(int64(n))
		c.retry = c.retry[n:]
		c.mu.Lock()
		c.held -= n
		c.mu.Unlock()
	}
	if len(c.retry) == 0 {
		c.failures.Store(0)
		c.retry = nil
	}
	c.mu.Lock()
	if c.spare == nil && cap(taken) > 0 && cap(taken) <= c.capacity {
		c.spare = taken[:0] // reuse the buffer the next take swaps in
	}
	c.mu.Unlock()
	return err
}

// DroppedTotal is how many call records were dropped because the buffer
// was full since the process started.
func (c *CallRecorder) DroppedTotal() int64 {
	if c == nil {
		return 0
	}
	return c.droppedTotal.Load()
}

// WrittenTotal is how many call records were stored.
func (c *CallRecorder) WrittenTotal() int64 {
	if c == nil {
		return 0
	}
	return c.written.Load()
}

// Buffered is how many call records wait to be written.
func (c *CallRecorder) Buffered() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) + c.held
}
