package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/tenant"
)

// Activate starts tenant id's lifespan: it loads the newest cached spec (or
// fetches one), converts it, opens the tenant's connection pool with its
// decrypted credentials, registers its MCP server and marks it active. When
// any step fails the tenant is left failed with the reason stored, and the
// error is a *tenant.ActivationError.
func (r *Runtime) Activate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	unlock := r.locks.lock(id)
	defer unlock()
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("activate tenant %s: %w", id, err)
	}
	if !tenant.CanTransition(t.Status, tenant.StatusActive) {
		return nil, &tenant.TransitionError{From: t.Status, To: tenant.StatusActive}
	}
	ctx, tr := r.track(ctx, id, "activate")
	l, err := r.start(ctx, t)
	if err != nil {
		tr.done(err, "")
		var ae *tenant.ActivationError
		if !errors.As(err, &ae) {
			return nil, fmt.Errorf("activate tenant %s: %w", id, err)
		}
		if _, serr := r.store.SetStatus(ctx, id, tenant.StatusFailed, ae.Reason, actor); serr != nil {
			return nil, fmt.Errorf("record failed activation of tenant %s: %w", id, serr)
		}
		r.log.Info("tenant activation failed", "tenant", id, "code", ae.Code, "reason", ae.Reason)
		return nil, err
	}
	t, err = r.store.SetStatus(ctx, id, tenant.StatusActive, "", actor)
	if err != nil {
		l.close()
		tr.done(err, "")
		return nil, fmt.Errorf("activate tenant %s: %w", id, err)
	}
	l.state.Load().tenant = t
	r.register(l)
	tr.done(nil, fmt.Sprintf("serving %d tools, resources and templates", len(l.state.Load().list)))
	r.log.Info("tenant activated", "tenant", id, "operations", len(l.state.Load().list))
	return t, nil
}

// Deactivate ends tenant id's lifespan: new calls get 404 at once, calls in
// flight finish (up to the drain deadline), then the pool is closed and the
// decrypted credentials dropped.
func (r *Runtime) Deactivate(ctx context.Context, id, actor string) (*tenant.Tenant, error) {
	unlock := r.locks.lock(id)
	defer unlock()
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("deactivate tenant %s: %w", id, err)
	}
	if !tenant.CanTransition(t.Status, tenant.StatusInactive) {
		return nil, &tenant.TransitionError{From: t.Status, To: tenant.StatusInactive}
	}
	t, err = r.store.SetStatus(ctx, id, tenant.StatusInactive, "", actor)
	if err != nil {
		return nil, fmt.Errorf("deactivate tenant %s: %w", id, err)
	}
	r.stop(id)
	r.log.Info("tenant deactivated", "tenant", id)
	return t, nil
}

// Reload re-reads an active tenant's settings, credentials and serving spec
// version and applies them to its live server. Calls in flight finish with
// what they started with.
func (r *Runtime) Reload(ctx context.Context, id string) error {
	unlock := r.locks.lock(id)
	defer unlock()
	l := r.lookup(id)
	if l == nil {
		return nil
	}
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	st, gen, err := r.buildState(ctx, t, false, l.state.Load(), nil)
	if err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	if err := r.apply(l, st); err != nil {
		return fmt.Errorf("reload tenant %s: %w", id, err)
	}
	l.gen.Store(gen)
	return nil
}

// Serve serves t, with no store, from spec (nil: downloaded from
// t.SpecURL through the outbound guard), credentials and prompts, until
// Shutdown. It is how a runtime built with a nil store (`portico run`,
// Portico's own /mcp) gets its one tenant; such a runtime has no tokens,
// refresh, toolsets or replicas, and its tenant's status changes only here.
func (r *Runtime) Serve(ctx context.Context, t *tenant.Tenant, spec []byte, creds []tenant.LiveCredential, prompts []tenant.Prompt) error {
	unlock := r.locks.lock(t.ID)
	defer unlock()
	if spec == nil {
		f, err := fetchSpec(ctx, r.fetch, t.SpecURL, r.opts.MaxSpecBytes, nil)
		if err != nil {
			return err
		}
		spec = f.raw
	}
	c, err := r.convertSpec(ctx, spec, t)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(spec)
	v := tenant.SpecVersion{TenantID: t.ID, Version: 1, SHA256: hex.EncodeToString(sum[:]), ToolCount: len(c.Operations), Warnings: c.Warnings, FetchedAt: time.Now()}
	served := *t
	served.Status, served.SpecVersion = tenant.StatusActive, 1
	st := r.newState(&served, v, c.Operations, &c.Report, tenantParts{creds: creds, prompts: slices.Clone(prompts)}, nil)
	l, err := r.startState(ctx, &served, st, 0)
	if err != nil {
		return err
	}
	r.register(l)
	return nil
}

// Restore activates, from the spec cache, every tenant the database marks
// active: the lifespans a restart interrupted. A tenant that cannot start is
// marked failed with the reason; the others still start.
func (r *Runtime) Restore(ctx context.Context) error {
	ts, err := r.store.Tenants(ctx, tenant.TenantFilter{Status: tenant.StatusActive})
	if err != nil {
		return fmt.Errorf("restore active tenants: %w", err)
	}
	// Tenants start on a pool as wide as the CPUs (a start is conversion,
	// CPU, between database reads), and tenants serving the same document
	// with the same settings share one conversion: operations are immutable.
	share := &convShare{m: make(map[string]*sharedConv)}
	r.share.Store(share)
	defer r.share.CompareAndSwap(share, nil)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *tenant.Tenant)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ts)) {
		wg.Go(func() {
			for t := range work {
				if err := r.restore(ctx, t); err != nil {
					cancel(err)
				}
			}
		})
	}
	for _, t := range ts {
		select {
		case work <- t:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	r.log.Info("restored active tenants", "count", len(ts))
	r.loadLogLevels(ctx) // sessions' log levels, before the first resync
	return nil
}

// restore starts and registers one tenant for Restore; a tenant that
// cannot start is marked failed, and only a failure to record that (or an
// error that is not the tenant's) is returned.
func (r *Runtime) restore(ctx context.Context, t *tenant.Tenant) error {
	l, err := r.start(ctx, t)
	if err != nil {
		r.log.Warn("could not restore tenant", "tenant", t.ID, "err", err)
		var ae *tenant.ActivationError
		if errors.As(err, &ae) {
			if _, serr := r.store.SetStatus(ctx, t.ID, tenant.StatusFailed, ae.Reason, "system"); serr != nil {
				return fmt.Errorf("restore tenant %s: %w", t.ID, serr)
			}
			return nil
		}
		return fmt.Errorf("restore tenant %s: %w", t.ID, err)
	}
	r.register(l)
	return nil
}

// EndStreams ends the long-lived listen streams of every tenant (clients
// reconnect, to another replica) without touching calls in flight; the first
// step of a graceful shutdown, so the HTTP server can go idle.
func (r *Runtime) EndStreams() { r.endStreams() }

// Shutdown drains every tenant of this process without changing their
// stored status, so the next start restores them. Calls still in flight when
// ctx ends (or after the drain timeout) are cut.
func (r *Runtime) Shutdown(ctx context.Context) {
	r.endStreams()
	stopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	ids := make([]string, 0, len(r.active))
	for id := range r.active {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { r.stopWithin(stopCtx, id) })
	}
	wg.Wait()
}

// ActiveCount reports how many tenants this process serves.
func (r *Runtime) ActiveCount() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.active)
}

// start builds a live tenant without registering it.
func (r *Runtime) start(ctx context.Context, t *tenant.Tenant) (*live, error) {
	st, gen, err := r.buildState(ctx, t, true, nil, nil)
	if err != nil {
		return nil, err
	}
	return r.startState(ctx, t, st, gen)
}

// startState starts serving st: t's upstream client and pool, limits,
// breaker and MCP server. Nothing is read from the store.
func (r *Runtime) startState(ctx context.Context, t *tenant.Tenant, st *state, gen int64) (*live, error) {
	conc := r.maxConcurrency(t.Settings)
	client, tr := upstreamClient(r.guard, conc)
	// otelhttp makes a client span per upstream call and sends the W3C
	// traceparent, so a trace continues into the tenant's service; with
	// tracing off only the incoming context is passed on (tracedTransport).
	client.Transport = newTracedTransport(client.Transport)
	impl := &mcp.Implementation{Name: "portico/" + t.Name, Version: r.opts.Version}
	l := &live{
		id:       t.ID,
		impl:     impl,
		tr:       tr,
		conc:     newConcLimit(conc),
		limits:   callLimits{fleet: r.opts.Limiter, tenantKey: "mcp:tenant:" + t.ID},
		client:   client,
		identity: r.opts.Identity,
		linked:   r.opts.Linked,
		metrics:  r.opts.Metrics,
		calls:    r.opts.Calls,
		log:      r.log,
		breaker: newBreaker(r.opts.Breaker, func(s breakerState, opened bool) {
			r.opts.Metrics.breakerState(t.ID, s, opened)
			if opened {
				r.log.Warn("circuit breaker opened: upstream calls paused", "tenant", t.ID, "cool_down", r.opts.Breaker.CoolDown)
			}
		}),
	}
	l.server = l.newServer()
	trackerFrom(ctx).phase(tenant.PhaseServe, fmt.Sprintf("%d tools, resources and templates", len(st.list)))
	l.ctx, l.cancel = context.WithCancel(context.Background())
	r.opts.Metrics.breakerState(t.ID, breakerClosed, false)
	if err := r.apply(l, st); err != nil {
		l.close()
		return nil, err
	}
	l.gen.Store(gen)
	return l, nil
}

func (r *Runtime) register(l *live) {
	r.mu.Lock()
	r.active[l.id] = l
	r.mu.Unlock()
}

// stop unregisters tenant id (new requests get 404), waits for requests in
// flight up to the drain deadline, then closes its pool and drops its secrets.
func (r *Runtime) stop(id string) { r.stopWithin(context.Background(), id) }

// stopWithin is stop bounded also by ctx.
func (r *Runtime) stopWithin(ctx context.Context, id string) {
	r.mu.Lock()
	l := r.active[id]
	delete(r.active, id)
	r.mu.Unlock()
	if l == nil {
		return
	}
	done := make(chan struct{})
	go func() { l.inflight.Wait(); close(done) }()
	timer := time.NewTimer(r.opts.DrainTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		r.log.Warn("drain deadline passed; closing tenant with calls in flight", "tenant", id)
	case <-ctx.Done():
		r.log.Warn("shutdown deadline passed; closing tenant with calls in flight", "tenant", id)
	}
	l.close()
	r.opts.Metrics.forget(id)
}

// close ends the tenant's open requests and sessions, releases its pool and
// drops its decrypted credentials. Closed sessions leave the stateful
// handler, so a session id from before a restart of the tenant is unknown.
func (l *live) close() {
	l.cancel()
	for ss := range l.server.Sessions() {
		ss.Close()
	}
	if sets := l.toolsetServers.Load(); sets != nil {
		for _, srv := range *sets {
			for ss := range srv.Sessions() {
				ss.Close()
			}
		}
	}
	l.tr.CloseIdleConnections()
	l.state.Store(&state{closed: true})
}

func (r *Runtime) lookup(id string) *live {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active[id]
}

// acquire returns the live tenant id, or nil when it is not active. When
// counted, the request is counted in flight under the read lock, so stop
// (which removes the tenant under the write lock before it waits) waits for
// every counted request that found the tenant.
func (r *Runtime) acquire(id string, counted bool) *live {
	r.mu.RLock()
	defer r.mu.RUnlock()
	l := r.active[id]
	if l != nil && counted {
		l.inflight.Add(1)
	}
	return l
}
