package bridge

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// syncQueue holds tenants to reconcile with the database. A burst of
// notifications about one tenant collapses into one rebuild.
type syncQueue struct {
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func (q *syncQueue) init() {
	q.pending = make(map[string]bool)
	q.wake = make(chan struct{}, 1)
}

func (q *syncQueue) add(id string) {
	q.mu.Lock()
	q.pending[id] = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *syncQueue) take() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for id := range q.pending {
		delete(q.pending, id)
		return id, true
	}
	return "", false
}

// TenantChanged is called for each change notification from the database
// (tenant.Listener): the tenant is reconciled in the background. A revoked
// token ends the long-lived streams it opened on this replica at once.
func (r *Runtime) TenantChanged(c tenant.Change) {
	if c.IsProgress() {
		return // nothing to apply
	}
	if c.Kind == "session_ended" {
		r.sessionEnded(c.Ref)
		return
	}
	if c.Kind == tenant.LogLevelChange {
		r.logLevelChanged(c.TenantID, c.Ref)
		return
	}
	if c.Kind == "linked_account" { // a user linked or unlinked: nothing to rebuild
		if r.opts.Linked != nil {
			r.opts.Linked.forget(c.TenantID, c.Ref)
			cred, user, _ := strings.Cut(c.Ref, "/")
			r.log.Info("linked account changed; dropped its cached token", "tenant", c.TenantID, "credential", cred, "user", user)
		}
		return
	}
	if r.opts.Linked != nil && c.Kind != "token" {
		r.opts.Linked.forgetTenant(c.TenantID) // its credentials may have changed
	}
	if c.Kind == "token" {
		r.ForgetToken(c.Ref)
		if l := r.lookup(c.TenantID); l != nil {
			if n := l.streams.end(c.Ref); n > 0 {
				r.log.Info("ended streams of a revoked token", "tenant", c.TenantID, "token", c.Ref, "streams", n)
			}
		}
		return
	}
	if l := r.lookup(c.TenantID); l != nil {
		l.catchUp.mark()
	}
	r.sync.add(c.TenantID)
}

// Resync compares every tenant's status and generation in the database with
// what this replica serves and queues the ones that differ. It runs after
// each (re)connect of the change listener, since notifications sent while
// it was away are lost, and periodically as a safety net.
func (r *Runtime) Resync(ctx context.Context) {
	r.loadLogLevels(ctx) // levels set while this replica was not listening
	if r.opts.Linked != nil {
		r.opts.Linked.forgetAll() // unlinks announced while away were missed
	}
	gens, err := r.store.TenantGenerations(ctx)
	if err != nil {
		r.log.Warn("resync with the database failed; serving what is loaded", "err", err)
		return
	}
	inDB := make(map[string]bool, len(gens))
	queued := 0
	for _, g := range gens {
		inDB[g.ID] = true
		l := r.lookup(g.ID)
		if (g.Status == tenant.StatusActive) != (l != nil) || l != nil && l.gen.Load() != g.Generation {
			r.sync.add(g.ID)
			queued++
		}
	}
	r.mu.RLock()
	for id := range r.active {
		if !inDB[id] {
			r.sync.add(id)
			queued++
		}
	}
	r.mu.RUnlock()
	if queued > 0 {
		r.log.Info("resync found tenants to reconcile", "count", queued)
	}
}

// Run reconciles tenants with the database and refreshes specs on their
// interval until ctx ends. cmd runs it beside tenant.Store.Listen, which
// feeds it through TenantChanged and Resync.
func (r *Runtime) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(2, r.opts.ConvertConcurrency) {
		wg.Go(func() { r.syncWorker(ctx) })
	}
	wg.Go(func() { r.refreshLoop(ctx) })
	wg.Wait()
}

func (r *Runtime) syncWorker(ctx context.Context) {
	for {
		id, ok := r.sync.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-r.sync.wake:
				continue
			}
		}
		l := r.lookup(id)
		var upto uint64
		if l != nil {
			upto = l.catchUp.begin()
		}
		if err := r.reconcile(ctx, id); err != nil && ctx.Err() == nil {
			r.log.Warn("could not apply a tenant change; the next resync retries", "tenant", id, "err", err)
		}
		if l != nil {
			l.catchUp.finish(upto)
		}
		// Another worker may have been woken for nothing; make sure queued
		// work is not left waiting for the next notification.
		select {
		case r.sync.wake <- struct{}{}:
		default:
		}
	}
}

// reconcile makes this replica serve tenant id as the database says: start
// it, stop it, or rebuild its state (reusing the conversion when the spec
// version and conversion settings did not change). It never changes the
// stored status: only the replica that handles an activation records its
// failure.
func (r *Runtime) reconcile(ctx context.Context, id string) error {
	unlock := r.locks.lock(id)
	defer unlock()
	t, err := r.store.Tenant(ctx, id)
	if errors.Is(err, tenant.ErrNotFound) {
		r.stop(id)
		return nil
	}
	if err != nil {
		return err
	}
	l := r.lookup(id)
	switch {
	case t.Status != tenant.StatusActive:
		if l != nil {
			r.stop(id)
			r.log.Info("tenant stopped by a change on another replica", "tenant", id, "status", t.Status)
		}
		return nil
	case l == nil:
		l, err := r.start(ctx, t)
		if err != nil {
			return err
		}
		r.register(l)
		r.log.Info("tenant started by a change on another replica", "tenant", id)
		return nil
	}
	old := l.state.Load()
	st, gen, err := r.buildState(ctx, t, false, old, nil)
	if err != nil {
		return err
	}
	if err := r.apply(l, st); err != nil {
		return err
	}
	l.gen.Store(gen)
	if old.spec.Version != st.spec.Version {
		r.log.Info("tenant now serves another spec version", "tenant", id, "from", old.spec.Version, "to", st.spec.Version)
	}
	return nil
}

// refreshLoop re-fetches every active tenant's spec on its interval. Each
// replica runs it for the tenants it serves; the per-tenant advisory lock
// and the recorded last refresh time keep the work to one replica per
// interval.
func (r *Runtime) refreshLoop(ctx context.Context) {
	tick := time.NewTicker(r.refreshTick())
	defer tick.Stop()
	next := make(map[string]time.Time)
	sem := make(chan struct{}, r.opts.RefreshConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		r.mu.RLock()
		due := make([]*live, 0)
		for id, l := range r.active {
			at, ok := next[id]
			if !ok {
				next[id] = now.Add(jitter(r.interval(l)))
				continue
			}
			if now.After(at) {
				due = append(due, l)
			}
		}
		for id := range next {
			if r.active[id] == nil {
				delete(next, id)
			}
		}
		r.mu.RUnlock()
		for _, l := range due {
			select {
			case sem <- struct{}{}:
			default:
				continue // busy: try again on the next tick
			}
			next[l.id] = now.Add(jitter(r.interval(l)))
			wg.Go(func() {
				defer func() { <-sem }()
				r.scheduledRefresh(ctx, l.id, r.interval(l))
			})
		}
	}
}

func (r *Runtime) refreshTick() time.Duration {
	return min(time.Second, r.opts.RefreshInterval/4)
}

func (r *Runtime) interval(l *live) time.Duration {
	if s := l.state.Load().tenant; s != nil && s.Settings.RefreshIntervalS > 0 {
		return time.Duration(s.Settings.RefreshIntervalS) * time.Second
	}
	return r.opts.RefreshInterval
}

// jitter spreads d by ±10 % so tenants do not all refresh at once.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

func (r *Runtime) scheduledRefresh(ctx context.Context, id string, every time.Duration) {
	err := r.store.WithRefreshLock(ctx, id, false, func() error {
		st, err := r.store.SpecStatus(ctx, id)
		if err != nil {
			return err
		}
		if st.Status != tenant.StatusActive {
			return nil
		}
		// Another replica refreshed it recently.
		if st.LastRefreshAt != nil && time.Since(*st.LastRefreshAt) < every/2 {
			return nil
		}
		t, err := r.store.Tenant(ctx, id)
		if err != nil {
			return err
		}
		res, err := r.refreshLocked(ctx, t)
		if err == nil && res.Changed {
			r.log.Info("spec changed", "tenant", id, "version", res.Version, "diff", res.Diff.Summary())
		}
		return err
	})
	switch {
	case errors.Is(err, tenant.ErrLocked), err == nil:
	case ctx.Err() != nil:
	default:
		r.log.Warn("scheduled spec refresh failed; serving the last good version", "tenant", id, "err", err)
	}
}

// catchUpWait bounds how long a list or an unknown-tool call waits for this
// replica to apply a change it was notified of; past it, the request is
// answered from what is served.
const catchUpWait = 5 * time.Second

// catchUp tracks the change notifications a live tenant has received and
// not yet applied. Another replica that made a change notifies sessions as
// soon as it has applied it, and a client's next tools/list may reach this
// replica while it is still converting; lists (and calls of tools it does
// not know yet) wait for the pending reconcile instead of answering with
// the previous set. No database round trip is added to any request: the
// notification itself says a change is on its way.
type catchUp struct {
	mu         sync.Mutex
	want, done uint64
	ch         atomic.Pointer[chan struct{}] // set while done < want
}

// mark records a notification.
func (c *catchUp) mark() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want++
	if c.ch.Load() == nil {
		ch := make(chan struct{})
		c.ch.Store(&ch)
	}
}

// begin is called before a reconcile reads the database; finish(begin())
// after it, whatever its outcome, releases the waiters of every
// notification received before the read.
func (c *catchUp) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.want
}

func (c *catchUp) finish(upto uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = max(c.done, upto)
	if ch := c.ch.Load(); ch != nil && c.done >= c.want {
		close(*ch)
		c.ch.Store(nil)
	}
}

// wait returns at once when nothing is pending (one atomic load), else when
// the pending changes are applied, ctx ends or catchUpWait passes. It
// reports whether it waited.
func (c *catchUp) wait(ctx context.Context) bool {
	ch := c.ch.Load()
	if ch == nil {
		return false
	}
	t := time.NewTimer(catchUpWait)
	defer t.Stop()
	select {
	case <-*ch:
	case <-ctx.Done():
	case <-t.C:
	}
	return true
}
