package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// ErrNotActive matches the error of a spec operation that needs an active
// tenant. It wraps tenant.ErrConflict, so the API answers 409.
var ErrNotActive = fmt.Errorf("tenant is not active: %w", tenant.ErrConflict)

// Refresh re-fetches an active tenant's spec now (a conditional GET). An
// unchanged document costs no conversion and stores nothing. A changed one
// is converted off the request path, stored as a new version with its diff,
// and swapped into the live server unless the tenant is pinned. Any failure
// (spec endpoint down, too slow, too big, not OpenAPI, not convertible)
// stores no version, leaves the serving version as it was, is recorded with
// its time and cause (SpecStatus) and comes back as a *tenant.ActivationError.
func (r *Runtime) Refresh(ctx context.Context, id, actor string) (tenant.RefreshResult, error) {
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return tenant.RefreshResult{}, fmt.Errorf("refresh spec of tenant %s: %w", id, err)
	}
	if t.Status != tenant.StatusActive {
		return tenant.RefreshResult{}, fmt.Errorf("refresh spec of tenant %s: it is %s; activate it first: %w", id, t.Status, ErrNotActive)
	}
	var res tenant.RefreshResult
	err = r.store.WithRefreshLock(ctx, id, true, func() error {
		var err error
		res, err = r.refreshLocked(ctx, t)
		return err
	})
	if err != nil {
		return tenant.RefreshResult{}, fmt.Errorf("refresh spec of tenant %s: %w", id, err)
	}
	if res.Changed {
		r.log.Info("spec refreshed", "tenant", id, "actor", actor, "version", res.Version, "diff", res.Diff.Summary())
	}
	return res, nil
}

// refreshLocked does one refresh while holding the tenant's refresh lock.
func (r *Runtime) refreshLocked(ctx context.Context, t *tenant.Tenant) (res tenant.RefreshResult, err error) {
	ctx, tr := r.track(ctx, t.ID, "refresh")
	defer func() {
		switch {
		case err != nil:
			tr.done(err, "")
		case res.Changed:
			tr.done(nil, fmt.Sprintf("serving version %d", res.Version))
		default:
			tr.done(nil, fmt.Sprintf("unchanged: still version %d", res.Version))
		}
	}()
	t0 := time.Now()
	prev, err := r.store.LatestSpecInfo(ctx, t.ID)
	havePrev := err == nil
	if err != nil && !errors.Is(err, tenant.ErrNotFound) {
		return tenant.RefreshResult{}, err
	}
	var cond *tenant.SpecVersion
	if havePrev {
		cond = &prev
	}
	fail := func(err error) (tenant.RefreshResult, error) {
		cause := err.Error()
		if rerr := r.store.RecordRefresh(context.WithoutCancel(ctx), t.ID, cause); rerr != nil {
			r.log.Warn("could not record a failed refresh", "tenant", t.ID, "err", rerr)
		}
		return tenant.RefreshResult{}, err
	}
	tr.phase(tenant.PhaseDownload, auditableSpecURL(t.SpecURL))
	fctx, cancel := context.WithTimeout(ctx, r.opts.SpecFetchTimeout)
	f, err := fetchSpec(fctx, r.fetch, t.SpecURL, r.opts.MaxSpecBytes, cond)
	cancel()
	if err != nil {
		return fail(err)
	}
	if havePrev && (f.notModified || f.sha256 == prev.SHA256) {
		if err := r.store.RecordRefresh(ctx, t.ID, ""); err != nil {
			return tenant.RefreshResult{}, err
		}
		return tenant.RefreshResult{Version: prev.Version, Diff: tenant.SpecDiff{}.NonNil()}, nil
	}
	tFetched := time.Now()
	conv, err := r.convertSpec(ctx, f.raw, t)
	if err != nil {
		return fail(err)
	}
	tConverted := time.Now()
	var before []*openapi.Operation
	if havePrev {
		// The previous version's conversion, for the diff, is not a phase of its own.
		before, err = r.operationsOf(withTracker(ctx, nil), t, prev)
		if err != nil {
			// The previous version no longer converts (e.g. settings changed
			// since); diff against nothing rather than fail the refresh.
			r.log.Warn("could not convert the previous spec version for the diff", "tenant", t.ID, "err", err)
		}
	}
	diff := openapi.Diff(before, conv.Operations)
	tDiffed := time.Now()
	tr.phase(tenant.PhaseStore, fmt.Sprintf("%s, %d added, %d removed, %d changed", sizeOf(len(f.raw)), len(diff.Added), len(diff.Removed), len(diff.Changed)))
	stored, added, err := r.store.AddSpecVersion(ctx, t.ID, tenant.SpecVersion{
		SHA256: f.sha256, ETag: f.etag, LastModified: f.lastModified, Raw: f.raw,
		ToolCount: len(conv.Operations), Warnings: conv.Warnings, Diff: &diff,
	})
	if err != nil {
		return tenant.RefreshResult{}, err
	}
	if err := r.store.RecordRefresh(ctx, t.ID, ""); err != nil {
		return tenant.RefreshResult{}, err
	}
	stored.Raw = nil
	tStored := time.Now()
	tr.phase(tenant.PhaseServe, fmt.Sprintf("%d tools, resources and templates", len(conv.Operations)))
	r.swapIn(ctx, t.ID, &preconverted{spec: stored, key: convKey(stored.SHA256, t.Settings), ops: conv.Operations, report: &conv.Report})
	r.log.Debug("spec refresh timings", "tenant", t.ID, "fetch", tFetched.Sub(t0), "convert", tConverted.Sub(tFetched),
		"diff", tDiffed.Sub(tConverted), "store", tStored.Sub(tDiffed), "swap", time.Since(tStored))
	if !added {
		diff = tenant.SpecDiff{}.NonNil()
	}
	return tenant.RefreshResult{Version: stored.Version, Changed: added, Diff: diff}, nil
}

// operationsOf returns the operations of stored version v, from the live
// state when it serves exactly that conversion, else by converting it.
func (r *Runtime) operationsOf(ctx context.Context, t *tenant.Tenant, v tenant.SpecVersion) ([]*openapi.Operation, error) {
	if l := r.lookup(t.ID); l != nil {
		if st := l.state.Load(); !st.closed && st.convKey == convKey(v.SHA256, t.Settings) {
			return st.base, nil
		}
	}
	if v.Raw == nil {
		full, err := r.store.Spec(ctx, t.ID, v.Version)
		if err != nil {
			return nil, err
		}
		v = full
	}
	c, err := r.convertSpec(ctx, v.Raw, t)
	if err != nil {
		return nil, err
	}
	return c.Operations, nil
}

// swapIn applies a freshly stored version to this replica's live tenant at
// once (other replicas follow through the database notification). A pinned
// tenant keeps serving its pin.
func (r *Runtime) swapIn(ctx context.Context, id string, conv *preconverted) {
	unlock := r.locks.lock(id)
	defer unlock()
	l := r.lookup(id)
	if l == nil {
		return
	}
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		r.log.Warn("new spec stored; swap on this replica deferred to the next resync", "tenant", id, "err", err)
		return
	}
	st, gen, err := r.buildState(ctx, t, false, l.state.Load(), conv)
	if err == nil {
		err = r.apply(l, st)
	}
	if err != nil {
		r.log.Warn("new spec stored; swap on this replica deferred to the next resync", "tenant", id, "err", err)
		return
	}
	l.gen.Store(gen)
}

// Pin makes tenant id serve spec version v (a rollback) on every replica
// until Unpin. ErrNotFound when the version does not exist.
func (r *Runtime) Pin(ctx context.Context, id string, v int, actor string) (tenant.SpecStatus, error) {
	if err := r.store.PinSpec(ctx, id, v, actor); err != nil {
		return tenant.SpecStatus{}, err
	}
	if err := r.Reload(ctx, id); err != nil {
		return tenant.SpecStatus{}, fmt.Errorf("pinned; apply on this replica: %w", err)
	}
	return r.SpecStatus(ctx, id)
}

// Unpin makes tenant id follow its newest spec version again.
func (r *Runtime) Unpin(ctx context.Context, id, actor string) (tenant.SpecStatus, error) {
	if err := r.store.UnpinSpec(ctx, id, actor); err != nil {
		return tenant.SpecStatus{}, err
	}
	if err := r.Reload(ctx, id); err != nil {
		return tenant.SpecStatus{}, fmt.Errorf("unpinned; apply on this replica: %w", err)
	}
	return r.SpecStatus(ctx, id)
}

// SpecStatus is the tenant's spec cache state, with the version this
// replica serves and the effective refresh interval.
func (r *Runtime) SpecStatus(ctx context.Context, id string) (tenant.SpecStatus, error) {
	st, err := r.store.SpecStatus(ctx, id)
	if err != nil {
		return tenant.SpecStatus{}, err
	}
	st.RefreshEveryS = int(r.opts.RefreshInterval / time.Second)
	if l := r.lookup(id); l != nil {
		s := l.state.Load()
		st.LiveVersion = s.spec.Version
		if s.tenant != nil && s.tenant.Settings.RefreshIntervalS > 0 {
			st.RefreshEveryS = s.tenant.Settings.RefreshIntervalS
		}
	}
	return st, nil
}

// SpecVersions lists the tenant's stored versions, newest first.
func (r *Runtime) SpecVersions(ctx context.Context, id string) ([]tenant.SpecVersion, error) {
	return r.store.SpecVersions(ctx, id)
}

// SpecVersion returns one stored version with its diff (without the document).
func (r *Runtime) SpecVersion(ctx context.Context, id string, v int) (tenant.SpecVersion, error) {
	sv, err := r.store.Spec(ctx, id, v)
	sv.Raw = nil
	return sv, err
}

// RotateHookSecret sets a new spec webhook secret (shown once).
func (r *Runtime) RotateHookSecret(ctx context.Context, id, actor string) (string, error) {
	return r.store.RotateHookSecret(ctx, id, actor)
}

// DeleteHookSecret disables the tenant's spec webhook.
func (r *Runtime) DeleteHookSecret(ctx context.Context, id, actor string) error {
	return r.store.DeleteHookSecret(ctx, id, actor)
}

// HookSecret returns the tenant's webhook secret for signature checks.
func (r *Runtime) HookSecret(ctx context.Context, id string) (tenant.Secret, error) {
	return r.store.HookSecret(ctx, id)
}
