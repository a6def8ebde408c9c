package pgstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// sealedTokens is what the sealed column holds.
type sealedTokens struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
	Type    string `json:"t,omitempty"`
}

func linkRequestAAD(tenantID, credential, userID string, stateHash []byte) string {
	return "link-request|" + tenantID + "|" + credential + "|" + userID + "|" + base64.RawURLEncoding.EncodeToString(stateHash)
}

// linkedKind is the change kind of a link or unlink: every replica drops
// what it cached of that user's tokens; nothing else is rebuilt.
const linkedKind = "linked_account"

func notifyLinked(ctx context.Context, tx pgx.Tx, tenantID, credential, userID string) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChangeChannel, tenantID+":"+linkedKind+":"+tenant.LinkedRef(credential, userID))
	return dbErr("announce a linked account change", err)
}

// delegatedCredential checks that tenant tenantID has credential name of
// type oauth2_authorization_code.
func delegatedCredential(ctx context.Context, q querier, tenantID, name string) error {
	var typ tenant.CredentialType
	err := q.QueryRow(ctx, `SELECT type FROM credentials WHERE tenant_id = $1 AND name = $2`, tenantID, name).Scan(&typ)
	if err != nil {
		return dbErr("credential "+name, err)
	}
	if typ != tenant.CredOAuth2AuthorizationCode {
		var inv tenant.InvalidError
		inv.Add("credential", fmt.Sprintf("credential %s is of type %s: only oauth2_authorization_code credentials are linked per user", name, typ))
		return &inv
	}
	return nil
}

// CreateLinkRequest records a link flow and returns the state to send to
// the provider and the browser nonce the callback must bring back (in a
// cookie), both random; only their hashes are stored. The flow can be
// completed once, within ttl.
func (s *Store) CreateLinkRequest(ctx context.Context, r tenant.LinkRequest, ttl time.Duration) (state, browser string, err error) {
	state, browser = rand.Text()+rand.Text(), rand.Text()
	sh, bh := sha256.Sum256([]byte(state)), sha256.Sum256([]byte(browser))
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		wrapped, kid, err := dataKey(ctx, tx, r.TenantID)
		if err != nil {
			return err
		}
		if err := delegatedCredential(ctx, tx, r.TenantID, r.Credential); err != nil {
			return err
		}
		ct, err := s.sealer.Seal(r.TenantID, kid, wrapped, linkRequestAAD(r.TenantID, r.Credential, r.UserID, sh[:]), []byte(r.Verifier.Reveal()))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM link_requests WHERE expires_at < now()`); err != nil {
			return dbErr("", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO link_requests (state_hash, tenant_id, credential, user_id, verifier, browser_hash, return_to, redirect_uri, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9::interval)`,
			sh[:], r.TenantID, r.Credential, r.UserID, ct, bh[:], r.ReturnTo, r.RedirectURI, fmt.Sprintf("%d milliseconds", ttl.Milliseconds()))
		return dbErr("", err)
	})
	if err != nil {
		return "", "", fmt.Errorf("start linking credential %q of tenant %s: %w", r.Credential, r.TenantID, err)
	}
	return state, browser, nil
}

// TakeLinkRequest returns the link flow of state and deletes it, so a
// state is good for one callback. It answers ErrNotFound for an unknown,
// used or expired state, and for a browser nonce that is not the one the
// flow was started with (the callback came to another browser).
func (s *Store) TakeLinkRequest(ctx context.Context, state, browser string) (tenant.LinkRequest, error) {
	sh, bh := sha256.Sum256([]byte(state)), sha256.Sum256([]byte(browser))
	var r tenant.LinkRequest
	var ct, stored []byte
	var expired bool
	err := s.pool.QueryRow(ctx, `
		DELETE FROM link_requests WHERE state_hash = $1
		RETURNING tenant_id, credential, user_id, verifier, browser_hash, return_to, redirect_uri, expires_at < now()`,
		sh[:]).Scan(&r.TenantID, &r.Credential, &r.UserID, &ct, &stored, &r.ReturnTo, &r.RedirectURI, &expired)
	if err != nil {
		return tenant.LinkRequest{}, fmt.Errorf("take link request: %w", dbErr("", err))
	}
	if expired || subtle.ConstantTimeCompare(stored, bh[:]) != 1 {
		return tenant.LinkRequest{}, fmt.Errorf("take link request: %w", tenant.ErrNotFound)
	}
	wrapped, kid, err := dataKey(ctx, s.pool, r.TenantID)
	if err != nil {
		return tenant.LinkRequest{}, fmt.Errorf("take link request: %w", err)
	}
	pt, err := s.sealer.Open(r.TenantID, kid, wrapped, linkRequestAAD(r.TenantID, r.Credential, r.UserID, sh[:]), ct)
	if err != nil {
		return tenant.LinkRequest{}, fmt.Errorf("open link request: %w", err)
	}
	r.Verifier = tenant.Secret(pt)
	return r, nil
}

func (s *Store) sealLinked(tenantID, kid string, wrapped []byte, credential, userID string, t tenant.LinkedTokens) ([]byte, error) {
	b, err := json.Marshal(sealedTokens{Access: t.AccessToken.Reveal(), Refresh: t.RefreshToken.Reveal(), Type: t.TokenType})
	if err != nil {
		return nil, err
	}
	return s.sealer.Seal(tenantID, kid, wrapped, tenant.LinkedAccountAAD(tenantID, credential, userID), b)
}

func (s *Store) openLinked(tenantID, kid string, wrapped []byte, credential, userID string, ct []byte) (tenant.LinkedTokens, error) {
	pt, err := s.sealer.Open(tenantID, kid, wrapped, tenant.LinkedAccountAAD(tenantID, credential, userID), ct)
	if err != nil {
		return tenant.LinkedTokens{}, fmt.Errorf("decrypt the linked account of user %s for credential %q: %w", userID, credential, err)
	}
	var st sealedTokens
	if err := json.Unmarshal(pt, &st); err != nil {
		return tenant.LinkedTokens{}, fmt.Errorf("decode the linked account of user %s for credential %q: %w", userID, credential, err)
	}
	return tenant.LinkedTokens{AccessToken: tenant.Secret(st.Access), RefreshToken: tenant.Secret(st.Refresh), TokenType: st.Type}, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// PutLinkedAccount stores user userID's upstream tokens for credential
// credential of tenant tenantID, sealed, replacing an earlier link, and
// tells every replica to drop what it cached of that user's tokens.
func (s *Store) PutLinkedAccount(ctx context.Context, tenantID, credential, userID string, t tenant.LinkedTokens, actor string) error {
	if t.AccessToken == "" {
		var inv tenant.InvalidError
		inv.Add("access_token", "the provider issued no access token")
		return fmt.Errorf("link account: %w", &inv)
	}
	if t.Scopes == nil {
		t.Scopes = []string{}
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		wrapped, kid, err := dataKey(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := delegatedCredential(ctx, tx, tenantID, credential); err != nil {
			return err
		}
		ct, err := s.sealLinked(tenantID, kid, wrapped, credential, userID, t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO linked_accounts (tenant_id, credential, user_id, sealed, expires_at, scopes)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, credential, user_id) DO UPDATE
			SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at, scopes = EXCLUDED.scopes,
			    linked_at = now(), refreshed_at = NULL`,
			tenantID, credential, userID, ct, nullTime(t.Expiry), t.Scopes)
		if err != nil {
			return dbErr("", err)
		}
		if err := notifyLinked(ctx, tx, tenantID, credential, userID); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, actor, "linked_account.link", map[string]any{"credential": credential, "user_id": userID, "scopes": t.Scopes})
	})
	if err != nil {
		return fmt.Errorf("link account of user %s for credential %q of tenant %s: %w", userID, credential, tenantID, err)
	}
	return nil
}

// LinkedAccountTokens returns user userID's upstream tokens for
// credential credential of tenant tenantID: ErrNotFound when the user has
// not linked an account.
func (s *Store) LinkedAccountTokens(ctx context.Context, tenantID, credential, userID string) (tenant.LinkedTokens, error) {
	wrapped, kid, err := dataKey(ctx, s.pool, tenantID)
	if err != nil {
		return tenant.LinkedTokens{}, fmt.Errorf("read linked account: %w", err)
	}
	var ct []byte
	var exp *time.Time
	var scopes []string
	err = s.pool.QueryRow(ctx, `
		SELECT sealed, expires_at, scopes FROM linked_accounts
		WHERE tenant_id = $1 AND credential = $2 AND user_id = $3`, tenantID, credential, userID).Scan(&ct, &exp, &scopes)
	if err != nil {
		return tenant.LinkedTokens{}, fmt.Errorf("read linked account of user %s for credential %q: %w", userID, credential, dbErr("", err))
	}
	t, err := s.openLinked(tenantID, kid, wrapped, credential, userID, ct)
	if err != nil {
		return tenant.LinkedTokens{}, err
	}
	if exp != nil {
		t.Expiry = *exp
	}
	t.Scopes = scopes
	return t, nil
}

// RefreshLinkedAccount runs refresh on user userID's current tokens while
// holding their row, so replicas refreshing the same user take turns (a
// provider that rotates refresh tokens honours only the newest) and each
// sees what the previous one stored. When refresh returns changed, its
// tokens replace the stored ones. ErrNotFound: the user has not linked.
func (s *Store) RefreshLinkedAccount(ctx context.Context, tenantID, credential, userID string, refresh func(cur tenant.LinkedTokens) (next tenant.LinkedTokens, changed bool, err error)) (tenant.LinkedTokens, error) {
	var out tenant.LinkedTokens
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		wrapped, kid, err := dataKey(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		var ct []byte
		var exp *time.Time
		var scopes []string
		err = tx.QueryRow(ctx, `
			SELECT sealed, expires_at, scopes FROM linked_accounts
			WHERE tenant_id = $1 AND credential = $2 AND user_id = $3 FOR UPDATE`, tenantID, credential, userID).Scan(&ct, &exp, &scopes)
		if err != nil {
			return dbErr("", err)
		}
		cur, err := s.openLinked(tenantID, kid, wrapped, credential, userID, ct)
		if err != nil {
			return err
		}
		if exp != nil {
			cur.Expiry = *exp
		}
		cur.Scopes = scopes
		next, changed, err := refresh(cur)
		if err != nil {
			return err
		}
		if !changed {
			out = cur
			return nil
		}
		if next.RefreshToken == "" {
			next.RefreshToken = cur.RefreshToken // RFC 6749 §6: the provider may keep the old one
		}
		if next.Scopes == nil {
			next.Scopes = cur.Scopes
		}
		ct, err = s.sealLinked(tenantID, kid, wrapped, credential, userID, next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE linked_accounts SET sealed = $4, expires_at = $5, scopes = $6, refreshed_at = now()
			WHERE tenant_id = $1 AND credential = $2 AND user_id = $3`,
			tenantID, credential, userID, ct, nullTime(next.Expiry), next.Scopes)
		out = next
		return dbErr("", err)
	})
	if err != nil {
		return tenant.LinkedTokens{}, fmt.Errorf("refresh linked account of user %s for credential %q of tenant %s: %w", userID, credential, tenantID, err)
	}
	return out, nil
}

// UnlinkAccount removes user userID's link for credential credential of
// tenant tenantID (the user unlinking, or a tenant admin revoking) and
// tells every replica, so the user's next call on any of them finds no
// token.
func (s *Store) UnlinkAccount(ctx context.Context, tenantID, credential, userID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var ok bool
		err := tx.QueryRow(ctx, `
			DELETE FROM linked_accounts WHERE tenant_id = $1 AND credential = $2 AND user_id = $3 RETURNING true`,
			tenantID, credential, userID).Scan(&ok)
		if err != nil {
			return dbErr("", err)
		}
		if err := notifyLinked(ctx, tx, tenantID, credential, userID); err != nil {
			return err
		}
		return audit(ctx, tx, tenantID, actor, "linked_account.unlink", map[string]any{"credential": credential, "user_id": userID})
	})
	if err != nil {
		return fmt.Errorf("unlink account of user %s for credential %q of tenant %s: %w", userID, credential, tenantID, err)
	}
	return nil
}

// LinkedAccounts lists who linked an account for the tenant's credentials,
// with when and which scopes, never a token. userID, when not empty,
// restricts the list to that user.
func (s *Store) LinkedAccounts(ctx context.Context, tenantID, userID string) ([]tenant.LinkedAccount, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list linked accounts: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT l.credential, l.user_id, u.email, l.scopes, l.linked_at, l.refreshed_at
		FROM linked_accounts l JOIN users u ON u.id = l.user_id
		WHERE l.tenant_id = $1 AND ($2 = '' OR l.user_id = $2)
		ORDER BY l.credential, lower(u.email)`, tenantID, userID)
	if err != nil {
		return nil, dbErr("list linked accounts of tenant "+tenantID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.LinkedAccount, error) {
		var a tenant.LinkedAccount
		err := r.Scan(&a.Credential, &a.UserID, &a.Email, &a.Scopes, &a.LinkedAt, &a.RefreshedAt)
		return a, err
	})
	if err != nil {
		return nil, dbErr("list linked accounts of tenant "+tenantID, err)
	}
	return out, nil
}
