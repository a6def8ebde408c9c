package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-mcp/portico/tenant"
)

func TestPinAndSpecStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	if _, err := f.store.ServingSpec(ctx, tn.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("ServingSpec with none: %v, want ErrNotFound", err)
	}
	diff := tenant.SpecDiff{Added: []tenant.ToolRef{{Name: "b", Kind: "tool", Method: "GET", Path: "/b"}}}
	f.store.AddSpecVersion(ctx, tn.ID, tenant.SpecVersion{Raw: []byte(`{"v":1}`)})
	f.store.AddSpecVersion(ctx, tn.ID, tenant.SpecVersion{Raw: []byte(`{"v":2}`), Diff: &diff})

	v2, err := f.store.Spec(ctx, tn.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(diff.NonNil(), *v2.Diff); diff != "" {
		t.Errorf("stored diff (-want +got):\n%s", diff)
	}
	if v2.DiffSummary != (tenant.DiffSummary{Added: 1}) {
		t.Errorf("summary = %+v", v2.DiffSummary)
	}

	serving := func(want int) {
		t.Helper()
		sv, err := f.store.ServingSpec(ctx, tn.ID)
		st, serr := f.store.SpecStatus(ctx, tn.ID)
		if err != nil || serr != nil || sv.Version != want || st.ServingVersion != want || string(sv.Raw) != `{"v":`+string(rune('0'+want))+`}` {
			t.Errorf("serving v%d (status %d, %v %v), want v%d", sv.Version, st.ServingVersion, err, serr, want)
		}
	}
	serving(2)
	if err := f.store.PinSpec(ctx, tn.ID, 1, "alice"); err != nil {
		t.Fatal(err)
	}
	serving(1)
	if err := f.store.PinSpec(ctx, tn.ID, 9, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("pin unknown version: %v, want ErrNotFound", err)
	}
	serving(1)
	if err := f.store.UnpinSpec(ctx, tn.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	serving(2)
	if err := f.store.PinSpec(ctx, "nope", 1, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("pin on unknown tenant: %v, want ErrNotFound", err)
	}

	if err := f.store.RecordRefresh(ctx, tn.ID, "spec endpoint answered 503"); err != nil {
		t.Fatal(err)
	}
	st, _ := f.store.SpecStatus(ctx, tn.ID)
	if st.LastRefreshErr != "spec endpoint answered 503" || st.LastRefreshAt == nil || st.LastRefreshErrAt == nil {
		t.Errorf("after a failed refresh: %+v", st)
	}
	f.store.RecordRefresh(ctx, tn.ID, "")
	st, _ = f.store.SpecStatus(ctx, tn.ID)
	if st.LastRefreshErr != "" || st.LastRefreshErrAt == nil {
		t.Errorf("after a good refresh: error %q, error time %v; want the error cleared and its time kept", st.LastRefreshErr, st.LastRefreshErrAt)
	}
	if err := f.store.DeleteTenant(ctx, tn.ID, "alice"); err != nil {
		t.Errorf("delete a tenant with versions: %v", err)
	}
}

func TestHookSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
	if _, err := f.store.HookSecret(ctx, tn.ID); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("no secret yet: %v", err)
	}
	s1, err := f.store.RotateHookSecret(ctx, tn.ID, "alice")
	if err != nil || !strings.HasPrefix(s1, tenant.HookSecretPrefix) {
		t.Fatalf("rotate: %q %v", s1, err)
	}
	s2, _ := f.store.RotateHookSecret(ctx, tn.ID, "alice")
	got, err := f.store.HookSecret(ctx, tn.ID)
	if err != nil || got.Reveal() != s2 || s1 == s2 {
		t.Errorf("HookSecret = %v, want the newest", err)
	}
	var raw []byte
	f.pool.QueryRow(ctx, `SELECT hook_secret FROM tenants WHERE id = $1`, tn.ID).Scan(&raw)
	if strings.Contains(string(raw), s2) {
		t.Error("the webhook secret is stored in plaintext")
	}
	if err := f.store.DeleteHookSecret(ctx, tn.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteHookSecret(ctx, tn.ID, "alice"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestRefreshLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	inside := make(chan struct{})
	release := make(chan struct{})
	go f.store.WithRefreshLock(ctx, "a", true, func() error { close(inside); <-release; return nil })
	<-inside
	if err := f.store.WithRefreshLock(ctx, "a", false, func() error { return nil }); !errors.Is(err, tenant.ErrLocked) {
		t.Errorf("second holder of a: %v, want ErrLocked", err)
	}
	ran := false
	if err := f.store.WithRefreshLock(ctx, "b", false, func() error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("another tenant's lock: %v, ran %v", err, ran)
	}
	close(release)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.store.WithRefreshLock(wctx, "a", true, func() error { return nil }); err != nil {
		t.Errorf("waiting for a released lock: %v", err)
	}
}

type recorder struct {
	mu      sync.Mutex
	changes []tenant.Change
	resyncs int
	got     chan struct{}
}

func (r *recorder) TenantChanged(c tenant.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) Resync(context.Context) {
	r.mu.Lock()
	r.resyncs++
	r.mu.Unlock()
	r.got <- struct{}{}
}

// TestListen checks which writes notify (every change a replica must apply,
// in its own transaction) and which do not (refresh bookkeeping, token use).
func TestListen(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t)
	tn := f.createTenant(t, "Acme")
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
	expect := func(what string, kind string, do func()) {
		t.Helper()
		do()
		wait(what)
		rec.mu.Lock()
		last := rec.changes[len(rec.changes)-1]
		rec.mu.Unlock()
		if last.TenantID != tn.ID || last.Kind != kind || last.Ref == "" {
			t.Errorf("%s: change %+v, want kind %s", what, last, kind)
		}
	}
	expect("status", "tenant", func() { f.store.SetStatus(ctx, tn.ID, tenant.StatusActive, "", "a") })
	expect("settings", "tenant", func() {
		f.store.UpdateTenant(ctx, tn.ID, tenant.TenantPatch{Settings: &tenant.Settings{MaxConcurrency: 3}}, "a")
	})
	expect("spec version", "tenant", func() { f.store.AddSpecVersion(ctx, tn.ID, tenant.SpecVersion{Raw: []byte("{}")}) })
	expect("pin", "tenant", func() { f.store.PinSpec(ctx, tn.ID, 1, "a") })
	expect("credential", "credentials", func() {
		f.store.PutCredential(ctx, tn.ID, tenant.Credential{Name: "k", Type: tenant.CredBearer}, "v", "a")
	})
	tok, secret, _ := f.store.CreateToken(ctx, tn.ID, "agent", nil, "a")
	// Neither refresh bookkeeping nor token use is a change to apply.
	f.store.RecordRefresh(ctx, tn.ID, "")
	f.store.VerifyToken(ctx, secret)
	expect("token revoked", "token", func() { f.store.RevokeToken(ctx, tn.ID, tok.ID, "a") })

	// A dropped listener connection reconnects and resyncs, since
	// notifications sent meanwhile are lost.
	if _, err := f.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	wait("the resync after reconnecting")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.resyncs != 2 {
		t.Errorf("resyncs = %d, want 2 (connect, reconnect)", rec.resyncs)
	}
	if len(rec.changes) != 6 {
		t.Errorf("got %d changes, want 6: %+v", len(rec.changes), rec.changes)
	}
	if rec.changes[5].Ref != tok.ID {
		t.Errorf("token change ref %q, want the token id", rec.changes[5].Ref)
	}
	gens, err := f.store.TenantGenerations(ctx)
	if err != nil || len(gens) != 1 || gens[0].Generation < 6 || gens[0].Status != tenant.StatusActive {
		t.Errorf("generations = %+v, %v", gens, err)
	}
}
