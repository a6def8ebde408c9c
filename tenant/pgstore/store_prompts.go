package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// promptDefinition is what the prompts table keeps of a Prompt: everything
// but its name and times, which are columns.
type promptDefinition struct {
	Title       string                  `json:"title,omitempty"`
	Description string                  `json:"description"`
	Arguments   []tenant.PromptArgument `json:"arguments"`
	Messages    []tenant.PromptMessage  `json:"messages"`
	Toolsets    []string                `json:"toolsets,omitempty"`
}

func definitionOf(p tenant.Prompt) promptDefinition {
	return promptDefinition{Title: p.Title, Description: p.Description, Arguments: p.Arguments, Messages: p.Messages, Toolsets: p.Toolsets}
}

// nameTaken is the problem of a prompt whose name another prompt of the
// tenant has.
func nameTaken(name string) error {
	var inv tenant.InvalidError
	inv.Add("name", fmt.Sprintf("%q is the name of another prompt of this tenant; choose another name, or PUT /prompts/%s to change that one", name, name))
	return &inv
}

// CreatePrompt stores a new prompt. A name the tenant already uses is an
// *InvalidError on name; nothing is stored then.
func (s *Store) CreatePrompt(ctx context.Context, tenantID string, p tenant.Prompt, actor string) (tenant.Prompt, error) {
	if err := p.Validate(); err != nil {
		return tenant.Prompt{}, fmt.Errorf("create prompt: %w", err)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := toolsetsExist(ctx, tx, tenantID, p.Toolsets); err != nil {
			return err
		}
		def, _ := json.Marshal(definitionOf(p))
		err := tx.QueryRow(ctx, `
			INSERT INTO prompts (tenant_id, name, definition) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, name) DO NOTHING
			RETURNING created_at, updated_at`, tenantID, p.Name, def).Scan(&p.CreatedAt, &p.UpdatedAt)
		if err == pgx.ErrNoRows {
			return nameTaken(p.Name)
		}
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "prompt.create", promptAudit(p))
	})
	if err != nil {
		return tenant.Prompt{}, fmt.Errorf("create prompt %q of tenant %s: %w", p.Name, tenantID, err)
	}
	return p, nil
}

// UpdatePrompt replaces prompt name with p, which may rename it; a new
// name another prompt has is an *InvalidError on name.
func (s *Store) UpdatePrompt(ctx context.Context, tenantID, name string, p tenant.Prompt, actor string) (tenant.Prompt, error) {
	if err := p.Validate(); err != nil {
		return tenant.Prompt{}, fmt.Errorf("update prompt: %w", err)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if p.Name != name {
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM prompts WHERE tenant_id = $1 AND name = $2)`, tenantID, p.Name).Scan(&taken); err != nil {
				return dbErr("", err)
			}
			if taken {
				return nameTaken(p.Name)
			}
		}
		if err := toolsetsExist(ctx, tx, tenantID, p.Toolsets); err != nil {
			return err
		}
		def, _ := json.Marshal(definitionOf(p))
		err := tx.QueryRow(ctx, `
			UPDATE prompts SET name = $3, definition = $4, updated_at = now()
			WHERE tenant_id = $1 AND name = $2
			RETURNING created_at, updated_at`, tenantID, name, p.Name, def).Scan(&p.CreatedAt, &p.UpdatedAt)
		if err != nil {
			return dbErr("prompt "+name, err)
		}
		details := promptAudit(p)
		if p.Name != name {
			details["renamed_from"] = name
		}
		return audit(ctx, tx, tenantID, actor, "prompt.update", details)
	})
	if err != nil {
		return tenant.Prompt{}, fmt.Errorf("update prompt %q of tenant %s: %w", name, tenantID, err)
	}
	return p, nil
}

// DeletePrompt removes one prompt.
func (s *Store) DeletePrompt(ctx context.Context, tenantID, name, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM prompts WHERE tenant_id = $1 AND name = $2`, tenantID, name)
		if err != nil {
			return dbErr("", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("prompt %s: %w", name, tenant.ErrNotFound)
		}
		return audit(ctx, tx, tenantID, actor, "prompt.delete", map[string]any{"name": name})
	})
	if err != nil {
		return fmt.Errorf("delete prompt %q of tenant %s: %w", name, tenantID, err)
	}
	return nil
}

// Prompts lists a tenant's prompts by name; ErrNotFound when the tenant
// does not exist.
func (s *Store) Prompts(ctx context.Context, tenantID string) ([]tenant.Prompt, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT name, definition, created_at, updated_at
		FROM prompts WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, dbErr("list prompts of tenant "+tenantID, err)
	}
	ps, err := pgx.CollectRows(rows, scanPrompt)
	if err != nil {
		return nil, dbErr("list prompts of tenant "+tenantID, err)
	}
	return ps, nil
}

// Prompt reads one prompt.
func (s *Store) Prompt(ctx context.Context, tenantID, name string) (tenant.Prompt, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT name, definition, created_at, updated_at
		FROM prompts WHERE tenant_id = $1 AND name = $2`, tenantID, name)
	if err != nil {
		return tenant.Prompt{}, dbErr("read prompt", err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPrompt)
	if err != nil {
		return tenant.Prompt{}, dbErr(fmt.Sprintf("prompt %s of tenant %s", name, tenantID), err)
	}
	return p, nil
}

func scanPrompt(r pgx.CollectableRow) (tenant.Prompt, error) {
	var p tenant.Prompt
	var def []byte
	if err := r.Scan(&p.Name, &def, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return p, err
	}
	var d promptDefinition
	if err := json.Unmarshal(def, &d); err != nil {
		return p, fmt.Errorf("prompt %s: stored definition: %w", p.Name, err)
	}
	p.Title, p.Description, p.Arguments, p.Messages, p.Toolsets = d.Title, d.Description, d.Arguments, d.Messages, d.Toolsets
	if p.Arguments == nil {
		p.Arguments = []tenant.PromptArgument{}
	}
	return p, nil
}

// promptAudit is what the audit log says of a prompt: its shape, not its text.
func promptAudit(p tenant.Prompt) map[string]any {
	args := make([]string, len(p.Arguments))
	for i, a := range p.Arguments {
		args[i] = a.Name
	}
	return map[string]any{"name": p.Name, "arguments": args, "messages": len(p.Messages)}
}
