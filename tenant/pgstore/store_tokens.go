package pgstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// prefixLen is how much of a secret is stored and shown to identify it.
const prefixLen = 12

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newSecret returns prefix + 32 lowercase base32 characters (160 random
// bits) and the SHA-256 stored in its place. A fast hash is enough: the
// secret is random, not a password, so there is nothing to brute-force.
func newSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 20)
	rand.Read(b)
	secret = prefix + strings.ToLower(secretEncoding.EncodeToString(b))
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateToken mints an unrestricted MCP bearer token for a tenant and
// returns it with its secret, which is shown once and never stored.
func (s *Store) CreateToken(ctx context.Context, tenantID, name string, expiresAt *time.Time, actor string) (tenant.Token, string, error) {
	return s.CreateTokenFor(ctx, tenantID, tenant.NewToken{Name: name, ExpiresAt: expiresAt}, actor)
}

// CreateTokenFor mints an MCP bearer token as nt says and returns it with
// its secret, which is shown once and never stored.
func (s *Store) CreateTokenFor(ctx context.Context, tenantID string, nt tenant.NewToken, actor string) (tenant.Token, string, error) {
	var inv tenant.InvalidError
	name := strings.TrimSpace(nt.Name)
	tenant.CheckName(&inv, "name", name)
	if nt.ExpiresAt != nil && !nt.ExpiresAt.After(time.Now()) {
		inv.Add("expires_at", "must be in the future")
	}
	for i, ts := range nt.Toolsets {
		if slices.Contains(nt.Toolsets[:i], ts) {
			inv.Add(fmt.Sprintf("toolsets[%d]", i), fmt.Sprintf("%q is already named earlier in toolsets", ts))
		}
	}
	if err := inv.Err(); err != nil {
		return tenant.Token{}, "", fmt.Errorf("create token: %w", err)
	}
	toolsets := nt.Toolsets
	if toolsets == nil {
		toolsets = []string{}
	}
	secret, hash := newSecret(tenant.TokenPrefix)
	var tok tenant.Token
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		if err := toolsetsExist(ctx, tx, tenantID, toolsets); err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `
			INSERT INTO mcp_tokens (id, tenant_id, name, prefix, hash, expires_at, toolsets)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+tokenCols,
			newID(), tenantID, name, secret[:prefixLen], hash, nt.ExpiresAt, toolsets)
		var err error
		if tok, err = scanToken(row); err != nil {
			return dbErr("", err)
		}
		details := map[string]any{"token_id": tok.ID, "name": name, "prefix": tok.Prefix}
		if nt.ExpiresAt != nil {
			details["expires_at"] = nt.ExpiresAt.UTC()
		}
		if len(toolsets) > 0 {
			details["toolsets"] = toolsets
		}
		return audit(ctx, tx, tenantID, actor, "token.create", details)
	})
	if err != nil {
		return tenant.Token{}, "", fmt.Errorf("create token for tenant %s: %w", tenantID, err)
	}
	return tok, secret, nil
}

const tokenCols = `id, tenant_id, name, prefix, created_at, expires_at, last_used_at, toolsets`

func scanToken(row pgx.Row) (tenant.Token, error) {
	var t tenant.Token
	err := row.Scan(&t.ID, &t.TenantID, &t.Name, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.Toolsets)
	if len(t.Toolsets) == 0 {
		t.Toolsets = nil
	}
	return t, err
}

// Tokens lists a tenant's unrevoked tokens, oldest first. Expired tokens are
// listed (with their expiry) so users can see why an agent was locked out.
func (s *Store) Tokens(ctx context.Context, tenantID string) ([]tenant.Token, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+tokenCols+` FROM mcp_tokens
		WHERE tenant_id = $1 AND revoked_at IS NULL
		ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, dbErr("list tokens of tenant "+tenantID, err)
	}
	toks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Token, error) { return scanToken(r) })
	if err != nil {
		return nil, dbErr("list tokens of tenant "+tenantID, err)
	}
	return toks, nil
}

// RevokeToken revokes a token at once. A token of another tenant, or one
// already revoked, is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, tenantID, tokenID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var name, prefix string
		err := tx.QueryRow(ctx, `
			UPDATE mcp_tokens SET revoked_at = now()
			WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
			RETURNING name, prefix`, tenantID, tokenID).Scan(&name, &prefix)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "token.revoke",
			map[string]any{"token_id": tokenID, "name": name, "prefix": prefix})
	})
	if err != nil {
		return fmt.Errorf("revoke token %s of tenant %s: %w", tokenID, tenantID, err)
	}
	return nil
}

// VerifyToken returns the token whose secret this is, or ErrNotFound when it
// is unknown, revoked or expired (callers should not tell these apart to an
// anonymous client). It also accepts OAuth access tokens Portico issued
// (AccessTokenPrefix), as the token "oauth:<grant id>" of the grant's tenant. The secret is looked up by hash, so this is the one
// query not keyed by tenant: the token is what names the tenant.
func (s *Store) VerifyToken(ctx context.Context, secret string) (tenant.Token, error) {
	if strings.HasPrefix(secret, tenant.AccessTokenPrefix) {
		return s.verifyAccessToken(ctx, secret)
	}
	if !strings.HasPrefix(secret, tenant.TokenPrefix) {
		return tenant.Token{}, fmt.Errorf("verify token: %w", tenant.ErrNotFound)
	}
	tok, err := scanToken(s.pool.QueryRow(ctx, `
		SELECT `+tokenCols+` FROM mcp_tokens
		WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		hashSecret(secret)))
	if err != nil {
		return tenant.Token{}, dbErr("verify token", err)
	}
	// Bump last_used_at at most once a minute, so a busy agent does not turn
	// every MCP call into a write. Best effort: a failed bump must not lock
	// out a valid token, so its error is dropped.
	var used time.Time
	err = s.pool.QueryRow(ctx, `
		UPDATE mcp_tokens SET last_used_at = now()
		WHERE tenant_id = $1 AND id = $2
		  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		RETURNING last_used_at`, tok.TenantID, tok.ID).Scan(&used)
	if err == nil {
		tok.LastUsedAt = &used
	}
	return tok, nil
}

// CreateAPIKey mints a REST API key and returns it with its secret, shown
// once. tenantID "" makes an admin key that sees every tenant. scopes must
// be a non-empty subset of read and write. by is recorded as the minter: a
// tenant key never acts with more than by's current role in its tenant
// (APIKey.TenantRole).
func (s *Store) CreateAPIKey(ctx context.Context, tenantID string, name string, scopes []string, by tenant.Minter, actor string) (tenant.APIKey, string, error) {
	return s.createAPIKey(ctx, tenantID, "", name, scopes, by, actor)
}

// CreateUserAPIKey mints a key that acts as user userID: it reaches the
// tenants the user is a member of, with the user's role there, further
// narrowed by its scopes. Removing the user removes the key.
func (s *Store) CreateUserAPIKey(ctx context.Context, userID, name string, scopes []string, actor string) (tenant.APIKey, string, error) {
	if userID == "" {
		return tenant.APIKey{}, "", fmt.Errorf("create user API key: %w", tenant.ErrNotFound)
	}
	return s.createAPIKey(ctx, "", userID, name, scopes, tenant.Minter{UserID: userID}, actor)
}

func (s *Store) createAPIKey(ctx context.Context, tenantID, userID, name string, scopes []string, by tenant.Minter, actor string) (tenant.APIKey, string, error) {
	var inv tenant.InvalidError
	name = strings.TrimSpace(name)
	tenant.CheckName(&inv, "name", name)
	scopes = slices.Clone(scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if len(scopes) == 0 {
		inv.Add("scopes", "must hold at least one of read, write")
	}
	if by.UserID != "" && by.KeyID != "" {
		inv.Add("minted_by", "is a user or an operator key, not both")
	}
	for _, sc := range scopes {
		if sc != tenant.ScopeRead && sc != tenant.ScopeWrite {
			inv.Add("scopes", fmt.Sprintf("%q is not one of read, write", sc))
		}
	}
	if err := inv.Err(); err != nil {
		return tenant.APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	secret, hash := newSecret(tenant.APIKeyPrefix)
	var key tenant.APIKey
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if tenantID != "" {
			if err := tenantExists(ctx, tx, tenantID); err != nil {
				return err
			}
		}
		row := tx.QueryRow(ctx, `
			INSERT INTO api_keys (id, tenant_id, user_id, name, prefix, hash, scopes, minted_by_user, minted_by_key)
			VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, $5, $6, $7, NULLIF($8, ''), NULLIF($9, ''))
			RETURNING `+apiKeyCols,
			newID(), tenantID, userID, name, secret[:prefixLen], hash, scopes, by.UserID, by.KeyID)
		var err error
		if key, err = scanAPIKey(row); err != nil {
			return dbErr("user", err)
		}
		details := map[string]any{"key_id": key.ID, "name": name, "prefix": key.Prefix, "scopes": scopes}
		if userID != "" {
			details["user_id"] = userID
		}
		return audit(ctx, tx, tenantID, actor, "api_key.create", details)
	})
	if err != nil {
		return tenant.APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	return key, secret, nil
}

const apiKeyCols = `id, COALESCE(tenant_id, ''), COALESCE(user_id, ''), name, prefix, scopes,
	COALESCE(minted_by_user, ''), COALESCE(minted_by_key, ''), created_at, last_used_at`

func scanAPIKey(row pgx.Row, extra ...any) (tenant.APIKey, error) {
	var k tenant.APIKey
	err := row.Scan(append([]any{&k.ID, &k.TenantID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes,
		&k.MintedBy.UserID, &k.MintedBy.KeyID, &k.CreatedAt, &k.LastUsedAt}, extra...)...)
	return k, err
}

// minterRoleCol is the role a tenant key's minter holds in the key's tenant
// now: owner for a live operator key or an enabled operator user, the
// membership role of an enabled user, ” when the minter is gone (revoked,
// disabled, removed from the tenant), and admin for a key with no minter
// recorded (minted before migration 5): such a key must not keep owner
// power it may have been given by an admin.
const minterRoleCol = `CASE
	WHEN k.tenant_id IS NULL THEN ''
	WHEN k.minted_by_key IS NOT NULL THEN COALESCE((
		SELECT 'owner' FROM api_keys m
		WHERE m.id = k.minted_by_key AND m.revoked_at IS NULL AND m.tenant_id IS NULL AND m.user_id IS NULL), '')
	WHEN k.minted_by_user IS NOT NULL THEN COALESCE((
		SELECT CASE WHEN u.operator THEN 'owner' ELSE ms.role END
		FROM users u LEFT JOIN memberships ms ON ms.user_id = u.id AND ms.tenant_id = k.tenant_id
		WHERE u.id = k.minted_by_user AND u.disabled_at IS NULL), '')
	ELSE 'admin' END`

// APIKeys lists unrevoked API keys of a tenant, or the admin keys when
// tenantID is "", oldest first. User keys are listed by UserAPIKeys.
func (s *Store) APIKeys(ctx context.Context, tenantID string) ([]tenant.APIKey, error) {
	if tenantID != "" {
		if err := tenantExists(ctx, s.pool, tenantID); err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+apiKeyCols+` FROM api_keys
		WHERE tenant_id IS NOT DISTINCT FROM NULLIF($1, '') AND user_id IS NULL AND revoked_at IS NULL
		ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, dbErr("list API keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, dbErr("list API keys", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key at once. tenantID "" addresses admin keys; a key
// of another tenant is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var name, prefix string
		err := tx.QueryRow(ctx, `
			UPDATE api_keys SET revoked_at = now()
			WHERE tenant_id IS NOT DISTINCT FROM NULLIF($1, '') AND user_id IS NULL AND id = $2 AND revoked_at IS NULL
			RETURNING name, prefix`, tenantID, keyID).Scan(&name, &prefix)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "api_key.revoke",
			map[string]any{"key_id": keyID, "name": name, "prefix": prefix})
	})
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", keyID, err)
	}
	return nil
}

// VerifyAPIKey returns the key whose secret this is, or ErrNotFound when it
// is unknown or revoked. Like VerifyToken, it is looked up by hash.
func (s *Store) VerifyAPIKey(ctx context.Context, secret string) (tenant.APIKey, error) {
	if !strings.HasPrefix(secret, tenant.APIKeyPrefix) {
		return tenant.APIKey{}, fmt.Errorf("verify API key: %w", tenant.ErrNotFound)
	}
	var minterRole string
	key, err := scanAPIKey(s.pool.QueryRow(ctx, `
		SELECT `+apiKeyCols+`, `+minterRoleCol+` FROM api_keys k WHERE hash = $1 AND revoked_at IS NULL`,
		hashSecret(secret)), &minterRole)
	if err != nil {
		return tenant.APIKey{}, dbErr("verify API key", err)
	}
	key.MinterRole = tenant.Role(minterRole)
	// Best-effort, rate-limited bump, as in VerifyToken.
	var used time.Time
	err = s.pool.QueryRow(ctx, `
		UPDATE api_keys SET last_used_at = now()
		WHERE id = $1
		  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		RETURNING last_used_at`, key.ID).Scan(&used)
	if err == nil {
		key.LastUsedAt = &used
	}
	return key, nil
}

// UserAPIKeys lists a user's unrevoked keys, oldest first.
func (s *Store) UserAPIKeys(ctx context.Context, userID string) ([]tenant.APIKey, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+apiKeyCols+` FROM api_keys
		WHERE user_id = $1 AND revoked_at IS NULL
		ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, dbErr("list user API keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, dbErr("list user API keys", err)
	}
	return keys, nil
}

// RevokeUserAPIKey revokes one of user userID's keys; another user's key is ErrNotFound.
func (s *Store) RevokeUserAPIKey(ctx context.Context, userID, keyID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var name, prefix string
		err := tx.QueryRow(ctx, `
			UPDATE api_keys SET revoked_at = now()
			WHERE user_id = $1 AND id = $2 AND revoked_at IS NULL
			RETURNING name, prefix`, userID, keyID).Scan(&name, &prefix)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, "", actor, "api_key.revoke",
			map[string]any{"key_id": keyID, "user_id": userID, "name": name, "prefix": prefix})
	})
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", keyID, err)
	}
	return nil
}

// IsRevokedAPIKey reports whether secret is a key that existed and was
// revoked, so the API can audit its use as a security event. The answer
// never reaches the client, which sees the same 401 either way.
func (s *Store) IsRevokedAPIKey(ctx context.Context, secret string) (tenant.APIKey, bool) {
	key, err := scanAPIKey(s.pool.QueryRow(ctx, `
		SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1 AND revoked_at IS NOT NULL`,
		hashSecret(secret)))
	return key, err == nil
}
