package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

func invalidGrant(why string) error { return fmt.Errorf("%w: %s", tenant.ErrInvalidGrant, why) }

// RegisterOAuthClient stores a dynamically registered client under a new
// random client_id. Clients belong to the authorization server, not to a
// tenant: which tenant a client may reach is decided per grant, by a member
// of that tenant. source says where the registration came from, for the log.
func (s *Store) RegisterOAuthClient(ctx context.Context, c tenant.OAuthClient, source string) (tenant.OAuthClient, error) {
	c.ID = "oc_" + newID()
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO oauth_clients (id, name, uri, redirect_uris, source) VALUES ($1, $2, $3, $4, $5)
			RETURNING created_at`, c.ID, c.Name, c.URI, c.RedirectURIs, source).Scan(&c.CreatedAt)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "", "anonymous", "oauth.client_register",
			map[string]any{"client_id": c.ID, "client_name": c.Name, "redirect_uris": c.RedirectURIs})
	})
	if err != nil {
		return tenant.OAuthClient{}, fmt.Errorf("register OAuth client: %w", err)
	}
	return c, nil
}

// OAuthClient returns a dynamically registered client, or ErrNotFound.
func (s *Store) OAuthClient(ctx context.Context, clientID string) (tenant.OAuthClient, error) {
	var c tenant.OAuthClient
	err := s.pool.QueryRow(ctx, `
		SELECT id, name, uri, redirect_uris, created_at FROM oauth_clients WHERE id = $1`, clientID).
		Scan(&c.ID, &c.Name, &c.URI, &c.RedirectURIs, &c.CreatedAt)
	if err != nil {
		return tenant.OAuthClient{}, dbErr("find OAuth client "+clientID, err)
	}
	return c, nil
}

// CreateAuthCode records a user's consent to r on tenant tenantID and
// returns the authorization code (shown once; valid AuthCodeTTL, single use).
func (s *Store) CreateAuthCode(ctx context.Context, tenantID string, r tenant.AuthRequest, actor string) (string, error) {
	code, hash := newSecret(tenant.AuthCodePrefix)
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		// Housekeeping: a code is useless an hour after it expired (reuse
		// detection only matters while it could have been redeemed).
		if _, err := tx.Exec(ctx, `DELETE FROM oauth_codes WHERE tenant_id = $1 AND expires_at < now() - interval '1 hour'`, tenantID); err != nil {
			return dbErr("", err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO oauth_codes (hash, tenant_id, client_id, client_name, user_id, redirect_uri,
				code_challenge, scopes, resource, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))`,
			hash, tenantID, r.ClientID, r.ClientName, r.UserID, r.RedirectURI, r.CodeChallenge,
			r.Scopes, r.Resource, tenant.AuthCodeTTL.Seconds())
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "oauth.consent", map[string]any{
			"client_id": r.ClientID, "client_name": r.ClientName, "user_id": r.UserID,
			"scopes": r.Scopes, "redirect_uri": r.RedirectURI})
	})
	if err != nil {
		return "", fmt.Errorf("create authorization code for tenant %s: %w", tenantID, err)
	}
	return code, nil
}

// ExchangeAuthCode redeems an authorization code of tenant tenantID for
// tokens. The code must be unused and unexpired and match the client, the
// redirect URI and the PKCE verifier. Presenting a used code again revokes
// every token issued from it (RFC 6749 §4.1.2). Refusals are ErrInvalidGrant.
func (s *Store) ExchangeAuthCode(ctx context.Context, tenantID, code, clientID, redirectURI, verifier string) (tenant.OAuthTokens, error) {
	var out tenant.OAuthTokens
	var refusal error
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var (
			r         tenant.AuthRequest
			expires   time.Time
			used      *time.Time
			prevGrant *string
		)
		err := tx.QueryRow(ctx, `
			SELECT client_id, client_name, user_id, redirect_uri, code_challenge, scopes, resource,
				expires_at, used_at, grant_id
			FROM oauth_codes WHERE hash = $1 AND tenant_id = $2 FOR UPDATE`, hashSecret(code), tenantID).
			Scan(&r.ClientID, &r.ClientName, &r.UserID, &r.RedirectURI, &r.CodeChallenge, &r.Scopes, &r.Resource,
				&expires, &used, &prevGrant)
		if errors.Is(err, pgx.ErrNoRows) {
			refusal = invalidGrant("code: unknown authorization code, or issued for another resource")
			return nil
		}
		if err != nil {
			return err
		}
		if used != nil {
			refusal = invalidGrant("code: this authorization code was already used; every token issued from it is now revoked")
			if prevGrant != nil {
				refusal = &tenant.GrantRevokedError{GrantID: *prevGrant, Reason: "code: this authorization code was already used; every token issued from it is now revoked"}
				return revokeGrant(ctx, tx, tenantID, *prevGrant, "code_reuse", "oauth:"+r.ClientID, "oauth.code_reuse")
			}
			return nil
		}
		// Single use whatever happens next: a wrong verifier burns the code.
		if _, err := tx.Exec(ctx, `UPDATE oauth_codes SET used_at = now() WHERE hash = $1`, hashSecret(code)); err != nil {
			return err
		}
		switch {
		case !time.Now().Before(expires):
			refusal = invalidGrant("code: the authorization code expired; authorize again")
		case r.ClientID != clientID:
			refusal = invalidGrant("client_id: the authorization code was issued to another client")
		case r.RedirectURI != redirectURI:
			refusal = invalidGrant("redirect_uri: does not match the redirect_uri of the authorization request")
		case !tenant.VerifyPKCE(verifier, r.CodeChallenge):
			refusal = invalidGrant("code_verifier: does not match the code_challenge (S256) of the authorization request")
		}
		if refusal != nil {
			return nil
		}
		grantID := newID()
		if _, err := tx.Exec(ctx, `
			INSERT INTO oauth_grants (id, tenant_id, client_id, client_name, user_id, scopes, resource)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			grantID, tenantID, r.ClientID, r.ClientName, r.UserID, r.Scopes, r.Resource); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oauth_codes SET grant_id = $2 WHERE hash = $1`, hashSecret(code), grantID); err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, tenantID, grantID, r.Scopes, r.Resource)
		if err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, "oauth:"+clientID, "oauth.token_issue", map[string]any{
			"grant_id": grantID, "grant_type": "authorization_code", "client_id": clientID, "user_id": r.UserID,
			"scopes": r.Scopes, "access_prefix": out.AccessToken[:prefixLen]})
	})
	if err != nil {
		return tenant.OAuthTokens{}, fmt.Errorf("exchange authorization code for tenant %s: %w", tenantID, err)
	}
	return out, refusal
}

// RefreshOAuthToken rotates a refresh token of tenant tenantID: it returns
// a new access and refresh token and marks the old refresh token used.
// Presenting a used refresh token again is taken as theft: the whole grant
// (every token of the family) is revoked and the reuse audited.
func (s *Store) RefreshOAuthToken(ctx context.Context, tenantID, refresh, clientID string) (tenant.OAuthTokens, error) {
	var out tenant.OAuthTokens
	var refusal error
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var (
			grantID, grantClient, userID, resource string
			scopes                                 []string
			expires                                time.Time
			used, revoked                          *time.Time
			mayGrant                               bool
		)
		err := tx.QueryRow(ctx, `
			SELECT g.id, g.client_id, g.user_id, g.resource, g.scopes, t.expires_at, t.used_at, g.revoked_at,
				`+grantorMayGrant+`
			FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
			WHERE t.hash = $1 AND t.kind = 'refresh' AND g.tenant_id = $2
			FOR UPDATE OF t, g`, hashSecret(refresh), tenantID).
			Scan(&grantID, &grantClient, &userID, &resource, &scopes, &expires, &used, &revoked, &mayGrant)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			refusal = invalidGrant("refresh_token: unknown refresh token, or issued for another resource")
			return nil
		case err != nil:
			return err
		case revoked != nil:
			refusal = invalidGrant("refresh_token: revoked; authorize again")
			return nil
		case grantClient != clientID:
			refusal = invalidGrant("client_id: the refresh token was issued to another client")
			return nil
		case used != nil:
			refusal = &tenant.GrantRevokedError{GrantID: grantID, Reason: "refresh_token: already used (refresh tokens rotate); every token of this grant is now revoked, authorize again"}
			return revokeGrant(ctx, tx, tenantID, grantID, "refresh_reuse", "oauth:"+clientID, "oauth.refresh_reuse")
		case !time.Now().Before(expires):
			refusal = invalidGrant("refresh_token: expired; authorize again")
			return nil
		case !mayGrant:
			refusal = invalidGrant("refresh_token: the user who approved this access is no longer an admin or owner of the tenant; authorize again")
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE oauth_tokens SET used_at = now() WHERE hash = $1`, hashSecret(refresh)); err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, tenantID, grantID, scopes, resource)
		if err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, "oauth:"+clientID, "oauth.token_issue", map[string]any{
			"grant_id": grantID, "grant_type": "refresh_token", "client_id": clientID, "user_id": userID,
			"access_prefix": out.AccessToken[:prefixLen]})
	})
	if err != nil {
		return tenant.OAuthTokens{}, fmt.Errorf("refresh OAuth token for tenant %s: %w", tenantID, err)
	}
	return out, refusal
}

// issueTokens mints an access and a refresh token of grant grantID, and
// deletes the grant's expired tokens (a refresh every hour would otherwise
// pile rows up; a used refresh token is kept until it expires, for reuse
// detection).
func issueTokens(ctx context.Context, tx pgx.Tx, tenantID, grantID string, scopes []string, resource string) (tenant.OAuthTokens, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM oauth_tokens WHERE grant_id = $1 AND expires_at < now()`, grantID); err != nil {
		return tenant.OAuthTokens{}, err
	}
	access, ah := newSecret(tenant.AccessTokenPrefix)
	refresh, rh := newSecret(tenant.RefreshTokenPrefix)
	var accessExp time.Time
	err := tx.QueryRow(ctx, `
		INSERT INTO oauth_tokens (hash, grant_id, tenant_id, kind, prefix, expires_at)
		VALUES ($1, $2, $3, 'access', $4, now() + make_interval(secs => $5))
		RETURNING expires_at`, ah, grantID, tenantID, access[:prefixLen], tenant.AccessTokenTTL.Seconds()).Scan(&accessExp)
	if err != nil {
		return tenant.OAuthTokens{}, err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO oauth_tokens (hash, grant_id, tenant_id, kind, prefix, expires_at)
		VALUES ($1, $2, $3, 'refresh', $4, now() + make_interval(secs => $5))`,
		rh, grantID, tenantID, refresh[:prefixLen], tenant.RefreshTokenTTL.Seconds()); err != nil {
		return tenant.OAuthTokens{}, err
	}
	return tenant.OAuthTokens{GrantID: grantID, TenantID: tenantID, AccessToken: access, RefreshToken: refresh,
		AccessExpiresAt: accessExp, Scopes: scopes, Resource: resource}, nil
}

// revokeGrant ends grant grantID of tenant tenantID and audits why. The
// table's trigger tells every replica's token cache.
func revokeGrant(ctx context.Context, tx pgx.Tx, tenantID, grantID, reason, actor, action string) error {
	tag, err := tx.Exec(ctx, `
		UPDATE oauth_grants SET revoked_at = now(), revoke_reason = $3
		WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`, tenantID, grantID, reason)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil // already revoked: nothing new to record
	}
	return audit(ctx, tx, tenantID, actor, action, map[string]any{"grant_id": grantID, "reason": reason})
}

// RevokeOAuthToken revokes, for client clientID, the grant an access or
// refresh token belongs to (RFC 7009): every token of the grant stops
// working. Like VerifyToken it is keyed by the secret, which names the
// tenant; it returns the tenant and the token id the bridge caches
// ("oauth:<grant id>"). An unknown token, or one of another client, is
// ErrNotFound (the endpoint answers 200 either way, as RFC 7009 says).
func (s *Store) RevokeOAuthToken(ctx context.Context, secret, clientID string) (tenantID, tokenID string, err error) {
	if !strings.HasPrefix(secret, tenant.AccessTokenPrefix) && !strings.HasPrefix(secret, tenant.RefreshTokenPrefix) {
		return "", "", fmt.Errorf("revoke OAuth token: %w", tenant.ErrNotFound)
	}
	var grantID string
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT g.tenant_id, g.id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
			WHERE t.hash = $1 AND g.client_id = $2`, hashSecret(secret), clientID).Scan(&tenantID, &grantID)
		if err != nil {
			return dbErr("", err)
		}
		return revokeGrant(ctx, tx, tenantID, grantID, "revoked", "oauth:"+clientID, "oauth.revoke")
	})
	if err != nil {
		return "", "", fmt.Errorf("revoke OAuth token: %w", err)
	}
	return tenantID, "oauth:" + grantID, nil
}

// grantorMayGrant is true while the user who approved grant g may still
// grant access to its tenant: an enabled operator, or an admin or owner of
// the tenant. Removing a member, demoting them to viewer or disabling them
// cuts off the applications they approved (at the next database check).
const grantorMayGrant = `EXISTS (
	SELECT 1 FROM users u WHERE u.id = g.user_id AND u.disabled_at IS NULL AND (u.operator OR EXISTS (
		SELECT 1 FROM memberships m WHERE m.tenant_id = g.tenant_id AND m.user_id = g.user_id AND m.role IN ('admin', 'owner'))))`

// RefreshTokenTenant returns the tenant a refresh token was issued for, or
// ErrNotFound. Like VerifyToken it is keyed by the secret, which names the
// tenant: a refresh request need not repeat the resource (RFC 8707 makes it
// optional there, and common OAuth libraries leave it out).
func (s *Store) RefreshTokenTenant(ctx context.Context, refresh string) (string, error) {
	if !strings.HasPrefix(refresh, tenant.RefreshTokenPrefix) {
		return "", fmt.Errorf("find refresh token: %w", tenant.ErrNotFound)
	}
	var tenantID string
	err := s.pool.QueryRow(ctx, `SELECT tenant_id FROM oauth_tokens WHERE hash = $1 AND kind = 'refresh'`,
		hashSecret(refresh)).Scan(&tenantID)
	if err != nil {
		return "", dbErr("find refresh token", err)
	}
	return tenantID, nil
}

// verifyAccessToken is VerifyToken for OAuth access tokens.
func (s *Store) verifyAccessToken(ctx context.Context, secret string) (tenant.Token, error) {
	var t tenant.Token
	var grantID, clientName string
	err := s.pool.QueryRow(ctx, `
		SELECT g.id, g.tenant_id, g.client_name, g.user_id, g.scopes, t.prefix, t.created_at, t.expires_at
		FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id
		WHERE t.hash = $1 AND t.kind = 'access' AND g.revoked_at IS NULL AND t.expires_at > now()
		  AND `+grantorMayGrant,
		hashSecret(secret)).Scan(&grantID, &t.TenantID, &clientName, &t.UserID, &t.Scopes, &t.Prefix, &t.CreatedAt, &t.ExpiresAt)
	if err != nil {
		return tenant.Token{}, dbErr("verify OAuth access token", err)
	}
	t.ID = "oauth:" + grantID
	t.Name = "OAuth: " + clientName
	return t, nil
}

// OAuthGrants lists a tenant's unrevoked OAuth grants, newest first.
func (s *Store) OAuthGrants(ctx context.Context, tenantID string) ([]tenant.OAuthGrant, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list OAuth grants: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT g.id, g.tenant_id, g.client_id, g.client_name, g.user_id, coalesce(u.email, ''), g.scopes, g.created_at,
			(SELECT max(t.created_at) FROM oauth_tokens t WHERE t.grant_id = g.id AND t.kind = 'access')
		FROM oauth_grants g LEFT JOIN users u ON u.id = g.user_id
		WHERE g.tenant_id = $1 AND g.revoked_at IS NULL
		ORDER BY g.created_at DESC, g.id`, tenantID)
	if err != nil {
		return nil, dbErr("list OAuth grants of tenant "+tenantID, err)
	}
	gs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.OAuthGrant, error) {
		var g tenant.OAuthGrant
		err := r.Scan(&g.ID, &g.TenantID, &g.ClientID, &g.ClientName, &g.UserID, &g.UserEmail, &g.Scopes, &g.CreatedAt, &g.LastIssuedAt)
		return g, err
	})
	return gs, dbErr("list OAuth grants of tenant "+tenantID, err)
}

// RevokeOAuthGrant revokes a tenant's grant (every token of it) at once. A
// grant of another tenant, or one already revoked, is ErrNotFound.
func (s *Store) RevokeOAuthGrant(ctx context.Context, tenantID, grantID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var clientID string
		err := tx.QueryRow(ctx, `SELECT client_id FROM oauth_grants WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
			tenantID, grantID).Scan(&clientID)
		if err != nil {
			return dbErr("", err)
		}
		return revokeGrant(ctx, tx, tenantID, grantID, "revoked by "+actor, actor, "oauth.revoke")
	})
	if err != nil {
		return fmt.Errorf("revoke OAuth grant %s of tenant %s: %w", grantID, tenantID, err)
	}
	return nil
}
