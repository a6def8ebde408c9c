package tenant

import (
	"encoding/json"
	"testing"
	"time"
)

func TestProgressBoard(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := NewProgressBoard()
	b.now = func() time.Time { return now }
	start := now.Add(-time.Second)
	step := func(ph string, at time.Duration, done bool) Progress {
		return Progress{TenantID: "t1", Op: "activate", Phase: ph, StartedAt: start, At: start.Add(at), Done: done}
	}
	b.Set(step(PhaseParse, 200*time.Millisecond, false))
	// A notification of an earlier step arriving after the replica recorded
	// a later one directly does not move the board back.
	b.Set(step(PhaseDownload, 0, false))
	if p, _ := b.Get("t1"); p.Phase != PhaseParse {
		t.Errorf("phase = %s after a late earlier step, want parse", p.Phase)
	}
	b.Set(step(PhaseServe, 900*time.Millisecond, true))
	b.Set(step(PhaseStore, 500*time.Millisecond, false))
	if p, _ := b.Get("t1"); !p.Done {
		t.Errorf("a late running step replaced the end of the work: %+v", p)
	}
	// New work replaces finished work at once.
	next := Progress{TenantID: "t1", Op: "refresh", Phase: PhaseDownload, StartedAt: now, At: now}
	b.Set(next)
	if p, _ := b.Get("t1"); p.Op != "refresh" {
		t.Errorf("op = %s, want the new refresh", p.Op)
	}
	// Finished work is kept a minute; running work that stopped moving, ten.
	b.Set(Progress{TenantID: "t2", Op: "refresh", Phase: PhaseServe, Done: true, StartedAt: now, At: now})
	now = now.Add(2 * time.Minute)
	if _, ok := b.Get("t2"); ok {
		t.Error("finished work is still shown after two minutes")
	}
	if _, ok := b.Get("t1"); !ok {
		t.Error("running work was dropped after two minutes")
	}
	now = now.Add(10 * time.Minute)
	if _, ok := b.Get("t1"); ok {
		t.Error("running work that has not moved for twelve minutes is still shown")
	}
}

func TestProgressOfChange(t *testing.T) {
	p := Progress{TenantID: "abc", Op: "refresh", Phase: PhaseConvert, Detail: "a: b", StartedAt: time.Unix(1, 0).UTC(), At: time.Unix(2, 0).UTC(),
		Steps: []ProgressStep{{Phase: PhaseDownload, At: time.Unix(1, 0).UTC()}}}
	b, _ := json.Marshal(p)
	c, ok := ParseChange("abc:" + ProgressKind + ":" + string(b))
	if !ok || !c.IsProgress() {
		t.Fatalf("parseChange = %+v, %v", c, ok)
	}
	got, ok := ProgressOf(c)
	if !ok || got.Detail != "a: b" || got.Phase != PhaseConvert || len(got.Steps) != 1 {
		t.Errorf("ProgressOf = %+v, %v", got, ok)
	}
	// A payload naming another tenant than the channel's prefix is ignored.
	if _, ok := ProgressOf(Change{TenantID: "other", Kind: ProgressKind, Ref: string(b)}); ok {
		t.Error("progress of tenant abc accepted under tenant other")
	}
	if _, ok := ProgressOf(Change{TenantID: "abc", Kind: ProgressKind, Ref: "{not json"}); ok {
		t.Error("a broken payload was accepted")
	}
}
