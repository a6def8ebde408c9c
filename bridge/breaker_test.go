package bridge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBreakerOpensOnConsecutiveFailuresAndProbes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var states []breakerState
	b := newBreaker(BreakerConfig{Failures: 3, CoolDown: 10 * time.Second}, func(s breakerState, _ bool) { states = append(states, s) })
	call := func(fail bool) error {
		if err := b.allow(now); err != nil {
			return err
		}
		b.record(fail, "HTTP 503", now)
		return nil
	}
	for i := range 3 {
		if err := call(true); err != nil {
			t.Fatalf("call %d refused before the circuit should open: %v", i, err)
		}
	}
	err := call(false)
	var oe *openError
	if !errors.As(err, &oe) {
		t.Fatalf("after 3 failures: err = %v, want an open circuit", err)
	}
	for _, want := range []string{"circuit breaker open", "3 failures in a row", "HTTP 503", "retry in"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("tool error %q lacks %q", err, want)
		}
	}
	now = now.Add(11 * time.Second) // cool-down over: one probe, others wait
	if err := b.allow(now); err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if err := b.allow(now); err == nil || !strings.Contains(err.Error(), "probe") {
		t.Fatalf("second call during the probe: err = %v, want refused", err)
	}
	b.record(false, "", now)
	if err := call(true); err != nil {
		t.Fatalf("after a good probe the circuit should be closed: %v", err)
	}
	want := []breakerState{breakerOpen, breakerHalfOpen, breakerClosed}
	if len(states) != len(want) {
		t.Fatalf("state changes = %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("state changes = %v, want %v", states, want)
		}
	}
}

func TestBreakerFailureRateAndFailedProbe(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newBreaker(BreakerConfig{Failures: 100, Window: 10, FailureRate: 0.5, CoolDown: time.Second}, nil)
	for i := range 10 { // alternate: never 2 in a row, 50% overall
		if err := b.allow(now); err != nil {
			t.Fatalf("call %d refused early: %v", i, err)
		}
		b.record(i%2 == 0, "timeout", now)
	}
	if err := b.allow(now); err == nil || !strings.Contains(err.Error(), "5 of the last 10 calls failed") {
		t.Fatalf("err = %v, want open on failure rate", err)
	}
	now = now.Add(2 * time.Second)
	if err := b.allow(now); err != nil {
		t.Fatal(err)
	}
	b.record(true, "timeout", now)
	if err := b.allow(now); err == nil || !strings.Contains(err.Error(), "probe call failed") {
		t.Fatalf("after a failed probe: err = %v, want open again", err)
	}
}

func TestBreakerIgnoresAbandonedAndDisabled(t *testing.T) {
	now := time.Now()
	b := newBreaker(BreakerConfig{Failures: 1, CoolDown: time.Millisecond}, nil)
	b.allow(now)
	b.record(true, "x", now)
	now = now.Add(time.Second)
	if err := b.allow(now); err != nil { // the probe
		t.Fatal(err)
	}
	b.abandon() // the client went away: the next call may probe
	if err := b.allow(now); err != nil {
		t.Fatalf("after an abandoned probe: %v", err)
	}
	off := newBreaker(BreakerConfig{Failures: 1, Disabled: true}, nil)
	for range 5 {
		off.record(true, "x", now)
		if err := off.allow(now); err != nil {
			t.Fatalf("disabled breaker refused: %v", err)
		}
	}
}
