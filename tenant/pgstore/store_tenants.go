package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

const tenantCols = `id, name, base_url, spec_url, status, status_reason, settings, spec_version, created_at, updated_at`

func scanTenant(row pgx.Row) (*tenant.Tenant, error) {
	var t tenant.Tenant
	err := row.Scan(&t.ID, &t.Name, &t.BaseURL, &t.SpecURL, &t.Status, &t.StatusReason,
		&t.Settings, &t.SpecVersion, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTenant registers t as a new pending tenant and fills in its ID,
// status and timestamps. Its name is trimmed and must be unique regardless of
// case (ErrConflict otherwise), because users tell tenants apart by name.
// A fresh data key is made for it now so credentials can be stored at once.
func (s *Store) CreateTenant(ctx context.Context, t *tenant.Tenant, actor string) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	id := newID()
	wrapped, kid, err := s.sealer.NewDataKey(id)
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `
			INSERT INTO tenants (id, name, base_url, spec_url, settings, dek_wrapped, dek_kid)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+tenantCols,
			id, t.Name, t.BaseURL, t.SpecURL, t.Settings, wrapped, kid)
		created, err := scanTenant(row)
		if err != nil {
			return dbErr("", err)
		}
		*t = *created
		return audit(ctx, tx, id, actor, "tenant.create", map[string]any{
			"name": t.Name, "base_url": auditURL(t.BaseURL), "spec_url": auditURL(t.SpecURL),
		})
	})
	if err != nil {
		return fmt.Errorf("create tenant %q: %w", t.Name, err)
	}
	return nil
}

// Tenant returns one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (*tenant.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1`, id))
	if err != nil {
		return nil, dbErr("tenant "+id, err)
	}
	return t, nil
}

// Tenants lists tenants oldest first (ties broken by id, so pages are stable).
func (s *Store) Tenants(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error) {
	if f.Status != "" && !f.Status.Valid() {
		inv := &tenant.InvalidError{}
		inv.Add("status", fmt.Sprintf("%q is not one of pending, active, inactive, failed, suspended", f.Status))
		return nil, inv
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+tenantCols+` FROM tenants
		WHERE ($1::text[] IS NULL OR id = ANY ($1))
		  AND ($2 = '' OR status = $2)
		ORDER BY created_at, id`, f.IDs, string(f.Status))
	if err != nil {
		return nil, dbErr("list tenants", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*tenant.Tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, dbErr("list tenants", err)
	}
	return ts, nil
}

// UpdateTenant applies p to tenant id and returns the result.
//
// When the base URL changes and the spec URL was the default derived from the
// old base URL, the spec URL follows the new base URL: the user never chose
// it, so keeping it would silently point at the old service. A spec URL the
// user set explicitly is kept. An explicit empty SpecURL resets it to the
// default. A patch that changes nothing writes nothing, not even an audit row.
func (s *Store) UpdateTenant(ctx context.Context, id string, p tenant.TenantPatch, actor string) (*tenant.Tenant, error) {
	var out *tenant.Tenant
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanTenant(tx.QueryRow(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return dbErr("", err)
		}
		next := *cur
		if p.Name != nil {
			next.Name = *p.Name
		}
		if p.BaseURL != nil {
			next.BaseURL = *p.BaseURL
			if p.SpecURL == nil && cur.SpecURL == tenant.DefaultSpecURL(cur.BaseURL) {
				next.SpecURL = tenant.DefaultSpecURL(next.BaseURL)
			}
		}
		if p.SpecURL != nil {
			next.SpecURL = *p.SpecURL // "" becomes the default in validate
		}
		if p.Settings != nil {
			next.Settings = *p.Settings
		}
		if err := next.Validate(); err != nil {
			return err
		}
		// Each changed field is named with its new value (settings: the
		// word "changed"), and "changes" holds the field-by-field diff, a
		// setting at a time, for people reading the log.
		changed, diff := map[string]any{}, map[string]any{}
		if next.Name != cur.Name {
			changed["name"] = next.Name
			diff["name"] = fromTo(cur.Name, next.Name)
		}
		if next.BaseURL != cur.BaseURL {
			changed["base_url"] = auditURL(next.BaseURL)
			diff["base_url"] = fromTo(auditURL(cur.BaseURL), auditURL(next.BaseURL))
		}
		if next.SpecURL != cur.SpecURL {
			changed["spec_url"] = auditURL(next.SpecURL)
			diff["spec_url"] = fromTo(auditURL(cur.SpecURL), auditURL(next.SpecURL))
		}
		if !jsonEqual(next.Settings, cur.Settings) {
			changed["settings"] = "changed"
			settingsDiff(diff, cur.Settings, next.Settings)
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		out, err = scanTenant(tx.QueryRow(ctx, `
			UPDATE tenants
			SET name = $2, base_url = $3, spec_url = $4, settings = $5, updated_at = now()
			WHERE id = $1
			RETURNING `+tenantCols,
			id, next.Name, next.BaseURL, next.SpecURL, next.Settings))
		if err != nil {
			return dbErr("", err)
		}
		changed["changes"] = diff
		return audit(ctx, tx, id, actor, "tenant.update", changed)
	})
	if err != nil {
		return nil, fmt.Errorf("update tenant %s: %w", id, err)
	}
	return out, nil
}

// DeleteTenant removes a tenant and, by cascade, its credentials, tokens,
// tenant API keys and spec versions. Its audit log stays.
func (s *Store) DeleteTenant(ctx context.Context, id, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM tenants WHERE id = $1 RETURNING name`, id).Scan(&name)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, id, actor, "tenant.delete", map[string]any{"name": name})
	})
	if err != nil {
		return fmt.Errorf("delete tenant %s: %w", id, err)
	}
	return nil
}

// SetStatus moves a tenant through its lifecycle, refusing moves the lifecycle
// table does not allow with a *TransitionError. The row is locked so two
// replicas cannot both act on the same old status. reason explains failed and
// suspended states; it is cleared on becoming active or inactive, where a
// stale reason would only mislead.
func (s *Store) SetStatus(ctx context.Context, id string, to tenant.Status, reason string, actor string) (*tenant.Tenant, error) {
	if !to.Valid() {
		inv := &tenant.InvalidError{}
		inv.Add("status", fmt.Sprintf("%q is not one of pending, active, inactive, failed, suspended", to))
		return nil, fmt.Errorf("set status of tenant %s: %w", id, inv)
	}
	reason = strings.TrimSpace(reason)
	if to == tenant.StatusActive || to == tenant.StatusInactive {
		reason = ""
	}
	if r := []rune(reason); len(r) > 2000 {
		reason = string(r[:2000]) // a reason is a sentence, not a log dump
	}
	var out *tenant.Tenant
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var from tenant.Status
		if err := tx.QueryRow(ctx, `SELECT status FROM tenants WHERE id = $1 FOR UPDATE`, id).Scan(&from); err != nil {
			return dbErr("", err)
		}
		if !tenant.CanTransition(from, to) {
			return &tenant.TransitionError{From: from, To: to}
		}
		var err error
		out, err = scanTenant(tx.QueryRow(ctx, `
			UPDATE tenants SET status = $2, status_reason = $3, updated_at = now()
			WHERE id = $1
			RETURNING `+tenantCols, id, to, reason))
		if err != nil {
			return dbErr("", err)
		}
		details := map[string]any{"from": from, "to": to}
		if reason != "" {
			details["reason"] = reason
		}
		return audit(ctx, tx, id, actor, "tenant.status", details)
	})
	if err != nil {
		return nil, fmt.Errorf("set status of tenant %s to %s: %w", id, to, err)
	}
	return out, nil
}

// RotateKeys re-wraps every tenant data key that is not under the newest
// master key, and returns how many it re-wrapped. It works in small batches
// of row-locked tenants, each its own transaction, so it can run while
// serving: data keys do not change, only their wrapping, so concurrent reads
// and writes of credentials are unaffected. Once it returns, master keys
// other than the newest can be removed.
func (s *Store) RotateKeys(ctx context.Context, actor string) (int, error) {
	const batch = 100
	newest := s.sealer.NewestKeyID()
	total := 0
	for {
		n := 0
		err := s.withTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `
				SELECT id, dek_wrapped, dek_kid FROM tenants
				WHERE dek_kid <> $1
				ORDER BY id
				LIMIT $2
				FOR UPDATE`, newest, batch)
			if err != nil {
				return dbErr("", err)
			}
			type dek struct {
				id, kid string
				wrapped []byte
			}
			deks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dek, error) {
				var d dek
				err := r.Scan(&d.id, &d.wrapped, &d.kid)
				return d, err
			})
			if err != nil {
				return dbErr("", err)
			}
			for _, d := range deks {
				wrapped, kid, err := s.sealer.Rewrap(d.id, d.kid, d.wrapped)
				if err != nil {
					return err
				}
				_, err = tx.Exec(ctx, `UPDATE tenants SET dek_wrapped = $2, dek_kid = $3 WHERE id = $1`, d.id, wrapped, kid)
				if err != nil {
					return dbErr("", err)
				}
				if err := audit(ctx, tx, d.id, actor, "tenant.rewrap_key",
					map[string]any{"from_key_id": d.kid, "to_key_id": kid}); err != nil {
					return err
				}
			}
			n = len(deks)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rotate keys (%d re-wrapped so far): %w", total, err)
		}
		total += n
		// Stop only on an empty batch: a short one may just mean another
		// replica re-wrapped rows we waited for.
		if n == 0 {
			return total, nil
		}
	}
}

func fromTo(from, to any) map[string]any { return map[string]any{"from": from, "to": to} }

// settingsDiff adds to diff each setting that differs between a and b, as
// "settings.<key>" with its old and new JSON value (absent: null).
func settingsDiff(diff map[string]any, a, b tenant.Settings) {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if json.Unmarshal(ja, &ma) != nil || json.Unmarshal(jb, &mb) != nil {
		return
	}
	keys := map[string]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	for k := range keys {
		if string(ma[k]) == string(mb[k]) {
			continue
		}
		var from, to any
		if ma[k] != nil {
			_ = json.Unmarshal(ma[k], &from)
		}
		if mb[k] != nil {
			_ = json.Unmarshal(mb[k], &to)
		}
		diff["settings."+k] = fromTo(from, to)
	}
}
