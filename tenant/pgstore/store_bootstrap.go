package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// EnsureAdminKey makes sure an admin API key with this exact secret exists,
// storing only its hash like every other key. It is how an operator seeds the
// first credential of a new deployment from a secret they already hold
// (PORTICO_BOOTSTRAP_ADMIN_KEY), so automation such as `docker compose up`
// can use the REST API without a manual step. A key with this secret that was
// revoked stays revoked: created reports false and the key is not usable.
func (s *Store) EnsureAdminKey(ctx context.Context, secret, name, actor string) (key tenant.APIKey, created bool, err error) {
	if !strings.HasPrefix(secret, tenant.APIKeyPrefix) || len(secret) < len(tenant.APIKeyPrefix)+20 {
		return tenant.APIKey{}, false, fmt.Errorf("ensure admin key: %w", tenant.ErrInvalid)
	}
	hash := hashSecret(secret)
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `
			INSERT INTO api_keys (id, tenant_id, name, prefix, hash, scopes)
			VALUES ($1, NULL, $2, $3, $4, $5)
			ON CONFLICT (hash) DO NOTHING
			RETURNING `+apiKeyCols,
			newID(), name, secret[:prefixLen], hash, []string{tenant.ScopeRead, tenant.ScopeWrite})
		key, err = scanAPIKey(row)
		if err == pgx.ErrNoRows {
			key, err = scanAPIKey(tx.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
			return dbErr("", err)
		}
		if err != nil {
			return dbErr("", err)
		}
		created = true
		return audit(ctx, tx, "", actor, "api_key.create",
			map[string]any{"key_id": key.ID, "name": name, "prefix": key.Prefix, "scopes": key.Scopes, "bootstrap": true})
	})
	if err != nil {
		return tenant.APIKey{}, false, fmt.Errorf("ensure admin key: %w", err)
	}
	return key, created, nil
}
