package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// toolsetDefinition is what the toolsets table keeps of a Toolset:
// everything but its name and times, which are columns.
type toolsetDefinition struct {
	Description string   `json:"description,omitempty"`
	Tools       []string `json:"tools"`
	Tags        []string `json:"tags"`
	ReadOnly    bool     `json:"read_only"`
}

func toolsetDefinitionOf(ts tenant.Toolset) []byte {
	b, _ := json.Marshal(toolsetDefinition{Description: ts.Description, Tools: ts.Tools, Tags: ts.Tags, ReadOnly: ts.ReadOnly})
	return b
}

// toolsetNameTaken is the problem of a toolset whose name another toolset
// of the tenant has.
func toolsetNameTaken(name string) error {
	var inv tenant.InvalidError
	inv.Add("name", fmt.Sprintf("%q is the name of another toolset of this tenant; choose another name, or PUT /toolsets/%s to change that one", name, name))
	return &inv
}

// CreateToolset stores a new toolset. A name the tenant already uses is an
// *InvalidError on name; nothing is stored then.
func (s *Store) CreateToolset(ctx context.Context, tenantID string, ts tenant.Toolset, actor string) (tenant.Toolset, error) {
	if err := ts.Validate(); err != nil {
		return tenant.Toolset{}, fmt.Errorf("create toolset: %w", err)
	}
	ts.Normalize()
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM toolsets WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
			return dbErr("", err)
		}
		if n >= tenant.MaxToolsets {
			var inv tenant.InvalidError
			inv.Add("name", fmt.Sprintf("this tenant has %d toolsets, the most it may have; delete one first", n))
			return &inv
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO toolsets (tenant_id, name, definition) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, name) DO NOTHING
			RETURNING created_at, updated_at`, tenantID, ts.Name, toolsetDefinitionOf(ts)).Scan(&ts.CreatedAt, &ts.UpdatedAt)
		if err == pgx.ErrNoRows {
			return toolsetNameTaken(ts.Name)
		}
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "toolset.create", toolsetAudit(ts))
	})
	if err != nil {
		return tenant.Toolset{}, fmt.Errorf("create toolset %q of tenant %s: %w", ts.Name, tenantID, err)
	}
	return ts, nil
}

// UpdateToolset replaces toolset name with ts, which may rename it: the
// tokens restricted to it and the prompts attached to it follow the new
// name in the same transaction. A new name another toolset has is an
// *InvalidError on name.
func (s *Store) UpdateToolset(ctx context.Context, tenantID, name string, ts tenant.Toolset, actor string) (tenant.Toolset, error) {
	if err := ts.Validate(); err != nil {
		return tenant.Toolset{}, fmt.Errorf("update toolset: %w", err)
	}
	ts.Normalize()
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if ts.Name != name {
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM toolsets WHERE tenant_id = $1 AND name = $2)`, tenantID, ts.Name).Scan(&taken); err != nil {
				return dbErr("", err)
			}
			if taken {
				return toolsetNameTaken(ts.Name)
			}
		}
		err := tx.QueryRow(ctx, `
			UPDATE toolsets SET name = $3, definition = $4, updated_at = now()
			WHERE tenant_id = $1 AND name = $2
			RETURNING created_at, updated_at`, tenantID, name, ts.Name, toolsetDefinitionOf(ts)).Scan(&ts.CreatedAt, &ts.UpdatedAt)
		if err != nil {
			return dbErr("toolset "+name, err)
		}
		details := toolsetAudit(ts)
		if ts.Name != name {
			details["renamed_from"] = name
			if _, err := tx.Exec(ctx, `
				UPDATE mcp_tokens SET toolsets = array_replace(toolsets, $2, $3)
				WHERE tenant_id = $1 AND $2 = ANY (toolsets)`, tenantID, name, ts.Name); err != nil {
				return dbErr("", err)
			}
			if err := renamePromptToolset(ctx, tx, tenantID, name, ts.Name); err != nil {
				return err
			}
		}
		return audit(ctx, tx, tenantID, actor, "toolset.update", details)
	})
	if err != nil {
		return tenant.Toolset{}, fmt.Errorf("update toolset %q of tenant %s: %w", name, tenantID, err)
	}
	return ts, nil
}

// renamePromptToolset renames toolset from to to (to "" drops it) in the
// prompts attached to it.
func renamePromptToolset(ctx context.Context, tx pgx.Tx, tenantID, from, to string) error {
	rows, err := tx.Query(ctx, `
		SELECT name, definition FROM prompts
		WHERE tenant_id = $1 AND definition->'toolsets' ? $2 FOR UPDATE`, tenantID, from)
	if err != nil {
		return dbErr("", err)
	}
	type change struct {
		name string
		def  []byte
	}
	var changes []change
	for rows.Next() {
		var name string
		var raw []byte
		if err := rows.Scan(&name, &raw); err != nil {
			rows.Close()
			return dbErr("", err)
		}
		var d promptDefinition
		if err := json.Unmarshal(raw, &d); err != nil {
			rows.Close()
			return fmt.Errorf("prompt %s: stored definition: %w", name, err)
		}
		out := d.Toolsets[:0]
		for _, t := range d.Toolsets {
			switch {
			case t != from:
				out = append(out, t)
			case to != "":
				out = append(out, to)
			}
		}
		d.Toolsets = out
		b, _ := json.Marshal(d)
		changes = append(changes, change{name, b})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbErr("", err)
	}
	for _, c := range changes {
		if _, err := tx.Exec(ctx, `UPDATE prompts SET definition = $3, updated_at = now() WHERE tenant_id = $1 AND name = $2`, tenantID, c.name, c.def); err != nil {
			return dbErr("", err)
		}
	}
	return nil
}

// DeleteToolset removes one toolset and detaches it from prompts. It
// refuses (*ToolsetInUseError) while unrevoked tokens are restricted to it.
func (s *Store) DeleteToolset(ctx context.Context, tenantID, name, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT name || ' (' || prefix || '…)' FROM mcp_tokens
			WHERE tenant_id = $1 AND revoked_at IS NULL AND $2 = ANY (toolsets)
			ORDER BY created_at, id`, tenantID, name)
		if err != nil {
			return dbErr("", err)
		}
		toks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return dbErr("", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM toolsets WHERE tenant_id = $1 AND name = $2`, tenantID, name)
		if err != nil {
			return dbErr("", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("toolset %s: %w", name, tenant.ErrNotFound)
		}
		if len(toks) > 0 {
			return &tenant.ToolsetInUseError{Toolset: name, Tokens: toks}
		}
		if err := renamePromptToolset(ctx, tx, tenantID, name, ""); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, actor, "toolset.delete", map[string]any{"name": name})
	})
	if err != nil {
		return fmt.Errorf("delete toolset %q of tenant %s: %w", name, tenantID, err)
	}
	return nil
}

// Toolsets lists a tenant's toolsets by name; ErrNotFound when the tenant
// does not exist.
func (s *Store) Toolsets(ctx context.Context, tenantID string) ([]tenant.Toolset, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list toolsets: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT name, definition, created_at, updated_at
		FROM toolsets WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, dbErr("list toolsets of tenant "+tenantID, err)
	}
	out, err := pgx.CollectRows(rows, scanToolset)
	if err != nil {
		return nil, dbErr("list toolsets of tenant "+tenantID, err)
	}
	return out, nil
}

// Toolset reads one toolset.
func (s *Store) Toolset(ctx context.Context, tenantID, name string) (tenant.Toolset, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT name, definition, created_at, updated_at
		FROM toolsets WHERE tenant_id = $1 AND name = $2`, tenantID, name)
	if err != nil {
		return tenant.Toolset{}, dbErr("read toolset", err)
	}
	ts, err := pgx.CollectExactlyOneRow(rows, scanToolset)
	if err != nil {
		return tenant.Toolset{}, dbErr(fmt.Sprintf("toolset %s of tenant %s", name, tenantID), err)
	}
	return ts, nil
}

func scanToolset(r pgx.CollectableRow) (tenant.Toolset, error) {
	var ts tenant.Toolset
	var def []byte
	if err := r.Scan(&ts.Name, &def, &ts.CreatedAt, &ts.UpdatedAt); err != nil {
		return ts, err
	}
	var d toolsetDefinition
	if err := json.Unmarshal(def, &d); err != nil {
		return ts, fmt.Errorf("toolset %s: stored definition: %w", ts.Name, err)
	}
	ts.Description, ts.Tools, ts.Tags, ts.ReadOnly = d.Description, d.Tools, d.Tags, d.ReadOnly
	ts.Normalize()
	return ts, nil
}

// toolsetAudit is what the audit log says of a toolset.
func toolsetAudit(ts tenant.Toolset) map[string]any {
	return map[string]any{"name": ts.Name, "tools": ts.Tools, "tags": ts.Tags, "read_only": ts.ReadOnly}
}

// CheckToolsets refuses names that name no toolset of the tenant, as
// saving a prompt or token restricted to them would (an *InvalidError on
// toolsets[i]); it stores nothing.
func (s *Store) CheckToolsets(ctx context.Context, tenantID string, names []string) error {
	return toolsetsExist(ctx, s.pool, tenantID, names)
}

// toolsetsExist refuses names (of field "toolsets") that name no toolset
// of the tenant, as an *InvalidError listing the ones it has.
func toolsetsExist(ctx context.Context, q querier, tenantID string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT name FROM toolsets WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return dbErr("", err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbErr("", err)
	}
	var inv tenant.InvalidError
	for i, n := range names {
		if !slices.Contains(have, n) {
			list := "it has none; create one with POST /api/v1/tenants/{id}/toolsets"
			if len(have) > 0 {
				list = "its toolsets: " + strings.Join(have, ", ")
			}
			inv.Add(fmt.Sprintf("toolsets[%d]", i), fmt.Sprintf("%q is not a toolset of this tenant (%s)", n, list))
		}
	}
	return inv.Err()
}
