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

func init() {
	conflictMessages["users_email_key"] = "a user with this email already exists"
}

const userCols = `id, email, operator, created_at`

func scanUser(row pgx.Row) (tenant.User, error) {
	var u tenant.User
	err := row.Scan(&u.ID, &u.Email, &u.Operator, &u.CreatedAt)
	return u, err
}

// CreateUser adds an account. operator users see and manage every tenant;
// others only the tenants they are made members of.
func (s *Store) CreateUser(ctx context.Context, email, password string, operator bool, actor string) (tenant.User, error) {
	email = strings.TrimSpace(email)
	if err := tenant.ValidateCredentials(email, password); err != nil {
		return tenant.User{}, fmt.Errorf("create user: %w", err)
	}
	hash := tenant.HashPassword(password)
	var u tenant.User
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			INSERT INTO users (id, email, password_hash, operator) VALUES ($1, $2, $3, $4)
			RETURNING `+userCols, newID(), email, hash, operator))
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, "", actor, "user.create",
			map[string]any{"user_id": u.ID, "email": u.Email, "operator": operator})
	})
	if err != nil {
		return tenant.User{}, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// SetUserPassword replaces the password of the account with this email
// (ErrNotFound when there is none). Existing sessions stay valid.
func (s *Store) SetUserPassword(ctx context.Context, email, password, actor string) (tenant.User, error) {
	email = strings.TrimSpace(email)
	if err := tenant.ValidateCredentials(email, password); err != nil {
		return tenant.User{}, fmt.Errorf("set password: %w", err)
	}
	var u tenant.User
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET password_hash = $2 WHERE lower(email) = lower($1) AND disabled_at IS NULL
			RETURNING `+userCols, email, tenant.HashPassword(password)))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no user %s", tenant.ErrNotFound, email)
		}
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, "", actor, "user.password", map[string]any{"user_id": u.ID})
	})
	if err != nil {
		return tenant.User{}, fmt.Errorf("set the password of %s: %w", email, err)
	}
	return u, nil
}

// Users lists every account, oldest first.
func (s *Store) Users(ctx context.Context) ([]tenant.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE disabled_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, dbErr("list users", err)
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.User, error) { return scanUser(r) })
	return us, dbErr("list users", err)
}

// FindUser returns the active user with this id or, when ref holds an @,
// this email (case-insensitive).
func (s *Store) FindUser(ctx context.Context, ref string) (tenant.User, error) {
	col := "id"
	if strings.Contains(ref, "@") {
		col = "lower(email)"
		ref = strings.ToLower(strings.TrimSpace(ref))
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+col+` = $1 AND disabled_at IS NULL`, ref))
	if err != nil {
		return tenant.User{}, dbErr("find user", err)
	}
	return u, nil
}

// Login checks email and password and opens a session lasting ttl. Every
// failure is ErrBadCredentials and costs one argon2 hash, whether or not the
// account exists. The session secret (for the cookie) is returned once.
func (s *Store) Login(ctx context.Context, email, password, ip, userAgent string, ttl time.Duration) (tenant.User, tenant.Session, string, error) {
	var (
		u    tenant.User
		hash string
	)
	err := s.pool.QueryRow(ctx, `
		SELECT `+userCols+`, password_hash FROM users
		WHERE lower(email) = lower($1) AND disabled_at IS NULL`, strings.TrimSpace(email)).
		Scan(&u.ID, &u.Email, &u.Operator, &u.CreatedAt, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return tenant.User{}, tenant.Session{}, "", dbErr("login", err)
	}
	if len(password) > tenant.MaxPasswordLen {
		password = password[:tenant.MaxPasswordLen]
	}
	if hash == "" {
		tenant.CheckPassword(tenant.DummyHash, password)
		return tenant.User{}, tenant.Session{}, "", tenant.ErrBadCredentials
	}
	if !tenant.CheckPassword(hash, password) {
		return tenant.User{}, tenant.Session{}, "", tenant.ErrBadCredentials
	}
	secret, secretHash := newSecret(tenant.SessionPrefix)
	csrf, _ := newSecret("")
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	var sess tenant.Session
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO sessions (id, user_id, hash, csrf_token, ip, user_agent, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 millisecond')
			RETURNING id, user_id, csrf_token, ip, created_at, expires_at`,
			newID(), u.ID, secretHash, csrf, ip, userAgent, ttl.Milliseconds()).
			Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.IP, &sess.CreatedAt, &sess.ExpiresAt)
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, "", "user:"+u.ID, "auth.login", map[string]any{"session_id": sess.ID, "email": u.Email})
	})
	if err != nil {
		return tenant.User{}, tenant.Session{}, "", fmt.Errorf("open session: %w", err)
	}
	return u, sess, secret, nil
}

// VerifySession returns the session whose cookie secret this is and its
// user, or ErrNotFound when it is unknown, expired, logged out or its user
// is disabled.
func (s *Store) VerifySession(ctx context.Context, secret string) (tenant.User, tenant.Session, error) {
	if !strings.HasPrefix(secret, tenant.SessionPrefix) {
		return tenant.User{}, tenant.Session{}, fmt.Errorf("verify session: %w", tenant.ErrNotFound)
	}
	var (
		u    tenant.User
		sess tenant.Session
	)
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.email, u.operator, u.created_at,
		       s.id, s.user_id, s.csrf_token, s.ip, s.created_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`,
		hashSecret(secret)).Scan(&u.ID, &u.Email, &u.Operator, &u.CreatedAt,
		&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.IP, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return tenant.User{}, tenant.Session{}, dbErr("verify session", err)
	}
	// Best effort, at most once a minute, as for tokens.
	_, _ = s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now()
		WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`, sess.ID)
	return u, sess, nil
}

// Logout ends the session whose cookie secret this is. An unknown or
// already ended session is not an error: logging out twice is harmless.
func (s *Store) Logout(ctx context.Context, secret string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var id, userID string
		err := tx.QueryRow(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE hash = $1 AND revoked_at IS NULL RETURNING id, user_id`, hashSecret(secret)).Scan(&id, &userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, "", "user:"+userID, "auth.logout", map[string]any{"session_id": id})
	})
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

const memberCols = `m.tenant_id, m.user_id, u.email, m.role, m.created_at, m.updated_at`

func scanMember(row pgx.Row) (tenant.Member, error) {
	var m tenant.Member
	err := row.Scan(&m.TenantID, &m.UserID, &m.Email, &m.Role, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// Role returns user userID's role in tenant tenantID, or ErrNotFound when
// the user is not a member (or the tenant does not exist: callers must not
// be able to tell the two apart).
func (s *Store) Role(ctx context.Context, tenantID, userID string) (tenant.Role, error) {
	var r tenant.Role
	err := s.pool.QueryRow(ctx, `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID).Scan(&r)
	if err != nil {
		return "", dbErr("role of user "+userID+" in tenant "+tenantID, err)
	}
	return r, nil
}

// Memberships lists the tenants user userID belongs to, with the role in each.
func (s *Store) Memberships(ctx context.Context, userID string) ([]tenant.Member, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+memberCols+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.user_id = $1 ORDER BY m.tenant_id`, userID)
	if err != nil {
		return nil, dbErr("list tenants of user "+userID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Member, error) { return scanMember(r) })
	return ms, dbErr("list tenants of user "+userID, err)
}

// Members lists a tenant's members, oldest first.
func (s *Store) Members(ctx context.Context, tenantID string) ([]tenant.Member, error) {
	if err := tenantExists(ctx, s.pool, tenantID); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+memberCols+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = $1 ORDER BY m.created_at, m.user_id`, tenantID)
	if err != nil {
		return nil, dbErr("list members of tenant "+tenantID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.Member, error) { return scanMember(r) })
	return ms, dbErr("list members of tenant "+tenantID, err)
}

// PutMember gives user userID role in tenant tenantID, adding or changing
// the membership. Demoting the last owner is ErrConflict: a tenant must
// keep someone who can manage its members.
func (s *Store) PutMember(ctx context.Context, tenantID, userID string, role tenant.Role, actor string) (tenant.Member, error) {
	if !role.Valid() {
		inv := &tenant.InvalidError{}
		inv.Add("role", fmt.Sprintf("%q is not one of owner, admin, viewer", role))
		return tenant.Member{}, fmt.Errorf("put member: %w", inv)
	}
	var m tenant.Member
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tenantExists(ctx, tx, tenantID); err != nil {
			return err
		}
		var prev tenant.Role
		err := tx.QueryRow(ctx, `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE`, tenantID, userID).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return dbErr("", err)
		}
		if prev == tenant.RoleOwner && role != tenant.RoleOwner {
			if err := keepAnOwner(ctx, tx, tenantID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
			tenantID, userID, role); err != nil {
			return dbErr("user "+userID, err)
		}
		m, err = scanMember(tx.QueryRow(ctx, `SELECT `+memberCols+` FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.tenant_id = $1 AND m.user_id = $2`, tenantID, userID))
		if err != nil {
			return dbErr("", err)
		}
		details := map[string]any{"user_id": userID, "email": m.Email, "role": role}
		if prev != "" {
			details["previous_role"] = prev
		}
		return audit(ctx, tx, tenantID, actor, "member.put", details)
	})
	if err != nil {
		return tenant.Member{}, fmt.Errorf("set role of user %s in tenant %s: %w", userID, tenantID, err)
	}
	return m, nil
}

// DeleteMember removes user userID from tenant tenantID. Removing the last
// owner is ErrConflict.
func (s *Store) DeleteMember(ctx context.Context, tenantID, userID, actor string) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var role tenant.Role
		err := tx.QueryRow(ctx, `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE`, tenantID, userID).Scan(&role)
		if err != nil {
			return dbErr("", err)
		}
		if role == tenant.RoleOwner {
			if err := keepAnOwner(ctx, tx, tenantID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID); err != nil {
			return dbErr("", err)
		}
		return audit(ctx, tx, tenantID, actor, "member.delete", map[string]any{"user_id": userID, "role": role})
	})
	if err != nil {
		return fmt.Errorf("remove user %s from tenant %s: %w", userID, tenantID, err)
	}
	return nil
}

// keepAnOwner fails with ErrConflict unless the tenant has an owner other than userID.
func keepAnOwner(ctx context.Context, tx pgx.Tx, tenantID, userID string) error {
	var others int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM memberships
		WHERE tenant_id = $1 AND role = 'owner' AND user_id <> $2`, tenantID, userID).Scan(&others); err != nil {
		return dbErr("", err)
	}
	if others == 0 {
		return fmt.Errorf("%w: this is the tenant's last owner; make someone else owner first", tenant.ErrConflict)
	}
	return nil
}
