package pgstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// hookAAD binds a sealed webhook secret to its tenant.
func hookAAD(tenantID string) string { return tenantID + "|spec-hook" }

// SpecStatus returns the tenant's spec cache state.
func (s *Store) SpecStatus(ctx context.Context, tenantID string) (tenant.SpecStatus, error) {
	st := tenant.SpecStatus{TenantID: tenantID}
	err := s.pool.QueryRow(ctx, `
		SELECT status, spec_version, pinned_version, COALESCE(pinned_version, spec_version),
		       hook_secret IS NOT NULL, last_refresh_error, last_refresh_at, last_refresh_error_at, generation
		FROM tenants WHERE id = $1`, tenantID).Scan(&st.Status, &st.NewestVersion, &st.PinnedVersion,
		&st.ServingVersion, &st.HookEnabled, &st.LastRefreshErr, &st.LastRefreshAt, &st.LastRefreshErrAt, &st.Generation)
	if err != nil {
		return tenant.SpecStatus{}, dbErr("spec status of tenant "+tenantID, err)
	}
	return st, nil
}

// PinSpec makes the tenant serve version instead of the newest one, until
// UnpinSpec. ErrNotFound when the tenant or the version does not exist.
func (s *Store) PinSpec(ctx context.Context, tenantID string, version int, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		err := tx.QueryRow(ctx, `SELECT true FROM spec_versions WHERE tenant_id = $1 AND version = $2`,
			tenantID, version).Scan(&ok)
		if err != nil {
			return dbErr(fmt.Sprintf("spec version %d", version), err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tenants SET pinned_version = $2, updated_at = now() WHERE id = $1`,
			tenantID, version); err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "spec.pin", map[string]any{"version": version})
	})
	if err != nil {
		return fmt.Errorf("pin spec version %d of tenant %s: %w", version, tenantID, err)
	}
	return nil
}

// UnpinSpec makes the tenant follow its newest spec version again.
func (s *Store) UnpinSpec(ctx context.Context, tenantID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var was *int
		err := tx.QueryRow(ctx, `SELECT pinned_version FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&was)
		if err != nil {
			return dbErr("", err)
		}
		if was == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE tenants SET pinned_version = NULL, updated_at = now() WHERE id = $1`, tenantID); err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "spec.unpin", map[string]any{"was": *was})
	})
	if err != nil {
		return fmt.Errorf("unpin spec of tenant %s: %w", tenantID, err)
	}
	return nil
}

// RecordRefresh stores the outcome of a refresh attempt: cause "" for a
// success, else a sentence saying why it failed (shown by the API).
func (s *Store) RecordRefresh(ctx context.Context, tenantID, cause string) error {
	if r := []rune(cause); len(r) > 2000 {
		cause = string(r[:2000])
	}
	_, err := s.pool.Exec(ctx, `
		UPDATE tenants SET last_refresh_at = now(), last_refresh_error = $2,
		       last_refresh_error_at = CASE WHEN $2 = '' THEN last_refresh_error_at ELSE now() END
		WHERE id = $1`, tenantID, cause)
	return dbErr("record refresh of tenant "+tenantID, err)
}

// TenantGenerations lists every tenant's status and change counter: what a
// replica compares with what it serves when it resyncs.
func (s *Store) TenantGenerations(ctx context.Context) ([]tenant.TenantGeneration, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, status, generation FROM tenants`)
	if err != nil {
		return nil, dbErr("list tenant generations", err)
	}
	gs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.TenantGeneration, error) {
		var g tenant.TenantGeneration
		err := r.Scan(&g.ID, &g.Status, &g.Generation)
		return g, err
	})
	if err != nil {
		return nil, dbErr("list tenant generations", err)
	}
	return gs, nil
}

// RotateHookSecret sets a new secret for the tenant's spec webhook and
// returns it; it is shown once and stored sealed with the tenant's data key.
func (s *Store) RotateHookSecret(ctx context.Context, tenantID, actor string) (string, error) {
	secret := tenant.HookSecretPrefix + strings.ToLower(rand.Text())
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		wrapped, kid, err := dataKey(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		ct, err := s.sealer.Seal(tenantID, kid, wrapped, hookAAD(tenantID), []byte(secret))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tenants SET hook_secret = $2 WHERE id = $1`, tenantID, ct); err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "spec.hook_secret", map[string]any{"prefix": secret[:12]})
	})
	if err != nil {
		return "", fmt.Errorf("rotate webhook secret of tenant %s: %w", tenantID, err)
	}
	return secret, nil
}

// DeleteHookSecret disables the tenant's spec webhook.
func (s *Store) DeleteHookSecret(ctx context.Context, tenantID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var had bool
		err := tx.QueryRow(ctx, `
			UPDATE tenants t SET hook_secret = NULL FROM (SELECT hook_secret IS NOT NULL AS had FROM tenants WHERE id = $1 FOR UPDATE) old
			WHERE t.id = $1 RETURNING old.had`, tenantID).Scan(&had)
		if err != nil {
			return dbErr("", err)
		}
		if !had {
			return fmt.Errorf("webhook secret: %w", tenant.ErrNotFound)
		}
		return audit(ctx, tx, tenantID, actor, "spec.hook_secret_delete", nil)
	})
	if err != nil {
		return fmt.Errorf("delete webhook secret of tenant %s: %w", tenantID, err)
	}
	return nil
}

// HookSecret returns the tenant's webhook secret, ErrNotFound when the
// tenant does not exist or has no webhook.
func (s *Store) HookSecret(ctx context.Context, tenantID string) (tenant.Secret, error) {
	var ct, wrapped []byte
	var kid string
	err := s.pool.QueryRow(ctx, `SELECT hook_secret, dek_wrapped, dek_kid FROM tenants WHERE id = $1 AND hook_secret IS NOT NULL`,
		tenantID).Scan(&ct, &wrapped, &kid)
	if err != nil {
		return "", dbErr("webhook secret of tenant "+tenantID, err)
	}
	pt, err := s.sealer.Open(tenantID, kid, wrapped, hookAAD(tenantID), ct)
	if err != nil {
		return "", fmt.Errorf("decrypt webhook secret of tenant %s: %w", tenantID, err)
	}
	return tenant.Secret(pt), nil
}

// WithRefreshLock runs fn while holding the tenant's refresh lock, a
// Postgres session advisory lock, so one replica at a time fetches and
// converts a tenant's spec. With wait false it returns ErrLocked at once
// when the lock is taken; with wait true it waits up to ctx's deadline.
func (s *Store) WithRefreshLock(ctx context.Context, tenantID string, wait bool, fn func() error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return dbErr("refresh lock", err)
	}
	// Lock ids are (namespace, hashtext(id)); a hash collision only makes two
	// tenants take turns.
	const namespace = 0x7065 // "pe"
	var got bool
	if wait {
		_, err = conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, namespace, tenantID)
		got = err == nil
	} else {
		err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, namespace, tenantID).Scan(&got)
	}
	if err != nil {
		// The connection may be mid-query; do not return it to the pool.
		conn.Hijack().Close(context.Background())
		return dbErr("refresh lock", err)
	}
	if !got {
		conn.Release()
		return tenant.ErrLocked
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, namespace, tenantID); err != nil {
			// A session lock dies with its session: close rather than pool it.
			conn.Hijack().Close(uctx)
			return
		}
		conn.Release()
	}()
	return fn()
}
