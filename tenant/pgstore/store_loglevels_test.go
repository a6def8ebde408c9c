package pgstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestSessionLogLevels: a level is stored per tenant and session key,
// replaced when set again, announced to listeners in its own transaction,
// and left out (then removed) once its session has expired; a level the
// schema does not know is refused.
func TestSessionLogLevels(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t)
	a := f.createTenant(t, "Acme")
	b := f.createTenant(t, "Bravo")
	rec := &recorder{got: make(chan struct{}, 100)}
	go f.store.Listen(ctx, rec, time.Hour, nil)
	wait := func(what string) {
		t.Helper()
		select {
		case <-rec.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("no callback for %s", what)
		}
	}
	wait("the resync on connect")

	later := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := f.store.SetSessionLogLevel(ctx, a.ID, "k1", "info", later); err != nil {
		t.Fatal(err)
	}
	wait("the level's announcement")
	rec.mu.Lock()
	last := rec.changes[len(rec.changes)-1]
	rec.mu.Unlock()
	if want := (tenant.Change{TenantID: a.ID, Kind: tenant.LogLevelChange, Ref: "k1@info@" + strconv.FormatInt(later.Unix(), 10)}); last != want {
		t.Errorf("announcement %+v, want %+v", last, want)
	}
	if err := f.store.SetSessionLogLevel(ctx, a.ID, "k1", "error", later); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetSessionLogLevel(ctx, b.ID, "k1", "debug", later); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetSessionLogLevel(ctx, a.ID, "gone", "debug", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetSessionLogLevel(ctx, a.ID, "k2", "loud", later); err == nil {
		t.Error("level \"loud\" was stored, want a refusal")
	}
	got, err := f.store.SessionLogLevels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, l := range got {
		levels[l.TenantID+"/"+l.SessionKey] = l.Level
		if !l.ExpiresAt.Equal(later) {
			t.Errorf("%s/%s expires %v, want %v", l.TenantID, l.SessionKey, l.ExpiresAt, later)
		}
	}
	want := map[string]string{a.ID + "/k1": "error", b.ID + "/k1": "debug"}
	if len(levels) != len(want) || levels[a.ID+"/k1"] != "error" || levels[b.ID+"/k1"] != "debug" {
		t.Errorf("levels %v, want %v", levels, want)
	}
	// The expired row goes with the tenant's next write.
	f.store.SetSessionLogLevel(ctx, a.ID, "k1", "warning", later)
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM session_log_levels WHERE session_key = 'gone'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("expired rows: %d (%v), want 0", n, err)
	}
}
