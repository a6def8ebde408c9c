package tenant

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// The phases of an activation or a spec refresh, in order. A phase that has
// nothing to do (an activation from the spec cache downloads nothing) is
// still reported, with a Detail saying why.
const (
	PhaseDownload = "download"
	PhaseParse    = "parse"
	PhaseConvert  = "convert"
	PhaseStore    = "store"
	PhaseServe    = "serve"
)

// Phases lists the phases in the order they run.
var Phases = []string{PhaseDownload, PhaseParse, PhaseConvert, PhaseStore, PhaseServe}

// Progress is where one long piece of work on a tenant stands: an activation
// or a spec refresh. It is never stored: replicas hear of it through a
// Postgres notification (NotifyProgress) and keep the latest in a
// ProgressBoard, so whichever replica answers a poll knows it.
type Progress struct {
	TenantID  string    `json:"tenant_id"`
	Op        string    `json:"op"`               // activate | refresh
	Phase     string    `json:"phase"`            // one of Phases
	Detail    string    `json:"detail,omitempty"` // e.g. "13.2 MB", "1,223 operations"
	Done      bool      `json:"done"`             // the work ended (Error says whether it failed)
	Error     string    `json:"error,omitempty"`  // the failure, a sentence that never holds a secret
	StartedAt time.Time `json:"started_at"`
	At        time.Time `json:"at"` // when this phase began, or when the work ended
	// Steps are the phases begun so far, in order, so a client that polls
	// now and then still sees each one with its time.
	Steps []ProgressStep `json:"steps"`
}

// ProgressStep is one phase of a Progress: when it began and what it did.
type ProgressStep struct {
	Phase  string    `json:"phase"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// ProgressOf reads the Progress a change of kind "progress" carries.
func ProgressOf(c Change) (Progress, bool) {
	if c.Kind != ProgressKind {
		return Progress{}, false
	}
	var p Progress
	if err := json.NewDecoder(strings.NewReader(c.Ref)).Decode(&p); err != nil || p.TenantID != c.TenantID || p.Op == "" {
		return Progress{}, false
	}
	return p, true
}

// IsProgress reports whether c only carries progress: nothing changed that
// a replica has to apply.
func (c Change) IsProgress() bool { return c.Kind == ProgressKind }

// ProgressBoard keeps the latest Progress of each tenant's running or just
// finished work. Finished work is kept for keep, running work that has not
// moved for stale (its replica may have died) is dropped.
type ProgressBoard struct {
	mu    sync.Mutex
	m     map[string]Progress
	keep  time.Duration
	stale time.Duration
	now   func() time.Time
}

// NewProgressBoard returns an empty board that keeps finished work for a
// minute and forgets running work that has not moved for ten.
func NewProgressBoard() *ProgressBoard {
	return &ProgressBoard{m: map[string]Progress{}, keep: time.Minute, stale: 10 * time.Minute, now: time.Now}
}

// Set records p unless the board already holds a later step of the same
// work (notifications of one work arrive in order, but the replica that
// does it also records its own steps directly).
func (b *ProgressBoard) Set(p Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.m[p.TenantID]; ok && cur.StartedAt.Equal(p.StartedAt) && cur.Op == p.Op && later(cur, p) {
		return
	}
	b.m[p.TenantID] = p
	b.gc()
}

// later reports whether a is a later step of the same work than p.
func later(a, p Progress) bool {
	if a.Done != p.Done {
		return a.Done
	}
	return a.At.After(p.At) || phaseIndex(a.Phase) > phaseIndex(p.Phase)
}

func phaseIndex(ph string) int {
	for i, x := range Phases {
		if x == ph {
			return i
		}
	}
	return -1
}

// Get returns tenant id's latest progress, if any is still worth showing.
func (b *ProgressBoard) Get(id string) (Progress, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gc()
	p, ok := b.m[id]
	return p, ok
}

func (b *ProgressBoard) gc() {
	now := b.now()
	for id, p := range b.m {
		if p.Done && now.Sub(p.At) > b.keep || !p.Done && now.Sub(p.At) > b.stale {
			delete(b.m, id)
		}
	}
}

// TenantChanged records the progress a notification carries (it makes the
// board a Listener beside the runtime).
func (b *ProgressBoard) TenantChanged(c Change) {
	if p, ok := ProgressOf(c); ok {
		b.Set(p)
	}
}

// Resync does nothing: progress missed while disconnected is simply not shown.
func (b *ProgressBoard) Resync(context.Context) {}

// progressKind is the Change kind progress travels under on ChangeChannel.
const ProgressKind = "progress"
