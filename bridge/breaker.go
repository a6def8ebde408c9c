package bridge

import (
	"fmt"
	"sync"
	"time"
)

// BreakerConfig tunes the per-tenant circuit breaker. Zero values mean the
// documented defaults.
type BreakerConfig struct {
	// Failures in a row that open the circuit (default 5).
	Failures int
	// Window is how many recent calls the failure rate is taken over (default 20);
	// the rate only counts once the window is full.
	Window int
	// FailureRate in the window that opens the circuit (default 0.5).
	FailureRate float64
	// CoolDown is how long the circuit stays open before one probe call is
	// let through (default 10 s).
	CoolDown time.Duration
	// Disabled turns the breaker off: every call goes upstream.
	Disabled bool
}

func (c *BreakerConfig) setDefaults() {
	if c.Failures <= 0 {
		c.Failures = 5
	}
	if c.Window <= 0 {
		c.Window = 20
	}
	if c.FailureRate <= 0 || c.FailureRate > 1 {
		c.FailureRate = 0.5
	}
	if c.CoolDown <= 0 {
		c.CoolDown = 10 * time.Second
	}
}

type breakerState int

const (
	breakerClosed breakerState = iota
	breakerHalfOpen
	breakerOpen
)

// breaker stops calling a tenant's upstream while it keeps failing, so a
// broken service gets time to recover, agents get a fast answer saying when
// to retry, and the tenant's connection slots are not held by doomed calls.
// Failures are transport errors, timeouts and HTTP 5xx; a 4xx is the
// caller's mistake and counts as a success.
type breaker struct {
	cfg      BreakerConfig
	onChange func(s breakerState, opened bool)

	mu          sync.Mutex
	state       breakerState
	consecutive int
	recent      []bool // ring of the last cfg.Window outcomes, true = failure
	next        int
	filled      int
	failed      int // failures in recent
	until       time.Time
	probing     bool
	reason      string
}

func newBreaker(cfg BreakerConfig, onChange func(breakerState, bool)) *breaker {
	cfg.setDefaults()
	if onChange == nil {
		onChange = func(breakerState, bool) {}
	}
	return &breaker{cfg: cfg, onChange: onChange, recent: make([]bool, cfg.Window)}
}

// openError is the tool error of a call refused by an open circuit.
type openError struct {
	reason  string
	retryAt time.Time
}

func (e *openError) Error() string {
	wait := max(time.Until(e.retryAt).Round(time.Second), time.Second)
	return fmt.Sprintf("circuit breaker open: this tenant's upstream service is failing (%s), so Portico is not calling it for now; retry in %s (after %s)",
		e.reason, wait, e.retryAt.UTC().Format(time.RFC3339))
}

// allow reports whether a call may go upstream now; when it may not, the
// error says why and when to retry. A call that was allowed must be
// followed by exactly one record.
func (b *breaker) allow(now time.Time) error {
	if b.cfg.Disabled {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerClosed:
		return nil
	case breakerOpen:
		if now.Before(b.until) {
			return &openError{reason: b.reason, retryAt: b.until}
		}
		b.state, b.probing = breakerHalfOpen, true
		b.onChange(breakerHalfOpen, false)
		return nil
	default: // half-open: one probe at a time
		if b.probing {
			return &openError{reason: b.reason + "; a probe call is checking it now", retryAt: now.Add(time.Second)}
		}
		b.probing = true
		return nil
	}
}

// record notes the outcome of an allowed call; cause describes a failure.
func (b *breaker) record(failure bool, cause string, now time.Time) {
	if b.cfg.Disabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == breakerHalfOpen {
		b.probing = false
		if failure {
			b.open(now, "the probe call failed: "+cause)
		} else {
			b.reset()
			b.onChange(breakerClosed, false)
		}
		return
	}
	if b.state == breakerOpen {
		return // a call let through before the circuit opened
	}
	if old := b.recent[b.next]; b.filled == len(b.recent) && old {
		b.failed--
	}
	b.recent[b.next] = failure
	b.next = (b.next + 1) % len(b.recent)
	b.filled = min(b.filled+1, len(b.recent))
	if failure {
		b.failed++
		b.consecutive++
	} else {
		b.consecutive = 0
	}
	switch {
	case b.consecutive >= b.cfg.Failures:
		b.open(now, fmt.Sprintf("%d failures in a row, the last: %s", b.consecutive, cause))
	case b.filled == len(b.recent) && float64(b.failed)/float64(b.filled) >= b.cfg.FailureRate:
		b.open(now, fmt.Sprintf("%d of the last %d calls failed, the last: %s", b.failed, b.filled, cause))
	}
}

// abandon ends an allowed call that never got an answer for reasons of its
// own (the client went away): it counts neither way.
func (b *breaker) abandon() {
	if b.cfg.Disabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == breakerHalfOpen {
		b.probing = false
	}
}

func (b *breaker) open(now time.Time, reason string) {
	b.state, b.until, b.reason = breakerOpen, now.Add(b.cfg.CoolDown), reason
	b.onChange(breakerOpen, true)
}

func (b *breaker) reset() {
	b.state, b.consecutive, b.next, b.filled, b.failed, b.reason = breakerClosed, 0, 0, 0, 0, ""
	clear(b.recent)
}
