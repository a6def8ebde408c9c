package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// dataKey reads a tenant's wrapped data key. It doubles as the existence
// check for methods that must answer ErrNotFound for an unknown tenant.
func dataKey(ctx context.Context, q querier, tenantID string) (wrapped []byte, kid string, err error) {
	err = q.QueryRow(ctx, `SELECT dek_wrapped, dek_kid FROM tenants WHERE id = $1`, tenantID).Scan(&wrapped, &kid)
	if err != nil {
		return nil, "", dbErr("tenant "+tenantID, err)
	}
	return wrapped, kid, nil
}

// tenantExists returns ErrNotFound unless the tenant exists.
func tenantExists(ctx context.Context, q querier, tenantID string) error {
	var ok bool
	err := q.QueryRow(ctx, `SELECT true FROM tenants WHERE id = $1`, tenantID).Scan(&ok)
	return dbErr("tenant "+tenantID, err)
}

// PutCredential stores a credential's value encrypted, replacing one of the
// same name. The audit row says whether it was created or replaced, and
// never holds the value.
func (s *Store) PutCredential(ctx context.Context, tenantID string, c tenant.Credential, value string, actor string) error {
	if err := c.Validate(value); err != nil {
		return fmt.Errorf("put credential: %w", err)
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		wrapped, kid, err := dataKey(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		ct, err := s.sealer.Seal(tenantID, kid, wrapped, tenant.CredentialAAD(tenantID, c.Name), []byte(value))
		if err != nil {
			return err
		}
		var inserted bool
		// xmax is 0 only for a freshly inserted row: the cheap way to tell
		// an insert from an update in one statement.
		err = tx.QueryRow(ctx, `
			INSERT INTO credentials (tenant_id, name, type, header, config, ciphertext)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, name) DO UPDATE
			SET type = EXCLUDED.type, header = EXCLUDED.header, config = EXCLUDED.config,
			    ciphertext = EXCLUDED.ciphertext, updated_at = now()
			WHERE credentials.tenant_id = $1
			RETURNING xmax = 0`,
			tenantID, c.Name, string(c.Type), c.Header, c.OAuth2Config, ct).Scan(&inserted)
		if err != nil {
			return dbErr("", err)
		}
		action := "credential.replace"
		if inserted {
			action = "credential.create"
		}
		details := map[string]any{"name": c.Name, "type": c.Type}
		if c.Header != "" {
			details["header"] = c.Header
		}
		if c.AuthorizeURL != "" {
			details["authorize_url"] = auditURL(c.AuthorizeURL)
		}
		if c.TokenURL != "" {
			details["token_url"] = auditURL(c.TokenURL)
			details["client_id"] = c.ClientID
		}
		return audit(ctx, tx, tenantID, actor, action, details)
	})
	if err != nil {
		return fmt.Errorf("put credential %q of tenant %s: %w", c.Name, tenantID, err)
	}
	return nil
}

// Credentials lists a tenant's credentials by name, without their values.
func (s *Store) Credentials(ctx context.Context, tenantID string) ([]tenant.Credential, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT name, type, header, config, created_at, updated_at
		FROM credentials WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, dbErr("list credentials of tenant "+tenantID, err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Credential, error) {
		var c tenant.Credential
		err := r.Scan(&c.Name, &c.Type, &c.Header, &c.OAuth2Config, &c.CreatedAt, &c.UpdatedAt)
		return c, err
	})
	if err != nil {
		return nil, dbErr("list credentials of tenant "+tenantID, err)
	}
	return cs, nil
}

// DeleteCredential removes one credential.
func (s *Store) DeleteCredential(ctx context.Context, tenantID, name, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var typ tenant.CredentialType
		err := tx.QueryRow(ctx, `DELETE FROM credentials WHERE tenant_id = $1 AND name = $2 RETURNING type`,
			tenantID, name).Scan(&typ)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "credential.delete", map[string]any{"name": name, "type": typ})
	})
	if err != nil {
		return fmt.Errorf("delete credential %q of tenant %s: %w", name, tenantID, err)
	}
	return nil
}

// LiveCredentials decrypts every credential of a tenant. Only activation
// calls it, to hand the values to the tenant's upstream client; nothing else
// should ever hold plaintext.
func (s *Store) LiveCredentials(ctx context.Context, tenantID string) ([]tenant.LiveCredential, error) {
	wrapped, kid, err := dataKey(ctx, s.pool, tenantID)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT name, type, header, config, created_at, updated_at, ciphertext
		FROM credentials WHERE tenant_id = $1 ORDER BY name`, tenantID)
	if err != nil {
		return nil, dbErr("read credentials of tenant "+tenantID, err)
	}
	type sealed struct {
		c  tenant.Credential
		ct []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealed, error) {
		var x sealed
		err := r.Scan(&x.c.Name, &x.c.Type, &x.c.Header, &x.c.OAuth2Config, &x.c.CreatedAt, &x.c.UpdatedAt, &x.ct)
		return x, err
	})
	if err != nil {
		return nil, dbErr("read credentials of tenant "+tenantID, err)
	}
	live := make([]tenant.LiveCredential, 0, len(all))
	for _, x := range all {
		pt, err := s.sealer.Open(tenantID, kid, wrapped, tenant.CredentialAAD(tenantID, x.c.Name), x.ct)
		if err != nil {
			return nil, fmt.Errorf("decrypt credential %q of tenant %s: %w", x.c.Name, tenantID, err)
		}
		live = append(live, tenant.LiveCredential{Credential: x.c, Value: tenant.Secret(pt)})
	}
	return live, nil
}
