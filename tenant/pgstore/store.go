// Package pgstore keeps package tenant's model in PostgreSQL (pgx): tenants,
// credentials sealed by a [tenant.Sealer], tokens, users, OAuth grants, spec
// versions, call records and the audit log, plus the LISTEN/NOTIFY channel
// that tells every replica what changed. Every method that touches a
// tenant's rows takes the tenant id explicitly. Errors are tenant's domain
// errors; no caller needs to know pgx.
package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/portico-mcp/portico/tenant"
)

// Store keeps tenants and everything they own in Postgres. Every method that
// touches a tenant's rows takes the tenant id explicitly and puts it in the
// WHERE clause, so one tenant's id can never reach another tenant's data.
// Errors are domain errors (ErrNotFound, ErrConflict, ErrInvalid,
// ErrInvalidTransition, ErrUnavailable); no caller needs to know pgx.
type Store struct {
	pool   *pgxpool.Pool
	sealer *tenant.Sealer
}

// NewStore returns a Store over pool that encrypts credentials with sealer.
func NewStore(pool *pgxpool.Pool, sealer *tenant.Sealer) *Store {
	return &Store{pool: pool, sealer: sealer}
}

// querier is what both the pool and a transaction offer, so read helpers work
// inside and outside withTx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// withTx runs fn in a transaction, committing when it returns nil. It is the
// only place transactions begin, so every mutation and its audit row commit
// or roll back together.
func (s *Store) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return dbErr("", pgx.BeginFunc(ctx, s.pool, fn))
}

// conflictMessages turns unique constraint names into sentences a user can act on.
var conflictMessages = map[string]string{
	"tenants_name_key": "a tenant with this name already exists",
	"tenants_pkey":     "a tenant with this id already exists",
	"prompts_pkey":     "another prompt of this tenant has this name",
}

// dbErr is the one translation from Postgres errors to domain errors; op, when
// not empty, says what was being done. Errors that are already domain errors
// pass through unchanged, so it is safe to apply twice.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	wrap := func(e error) error {
		if op == "" {
			return e
		}
		return fmt.Errorf("%s: %w", op, e)
	}
	for _, domain := range []error{tenant.ErrNotFound, tenant.ErrConflict, tenant.ErrInvalid, tenant.ErrInvalidTransition, tenant.ErrUnavailable} {
		if errors.Is(err, domain) {
			return wrap(err)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return wrap(tenant.ErrNotFound)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// The ConnectError text names host and user only, never a password.
		return wrap(fmt.Errorf("%w: %v", tenant.ErrUnavailable, err))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			msg, ok := conflictMessages[pe.ConstraintName]
			if !ok {
				msg = "already exists"
			}
			return wrap(fmt.Errorf("%w: %s", tenant.ErrConflict, msg))
		case pe.Code == "23503":
			return wrap(fmt.Errorf("tenant: %w", tenant.ErrNotFound))
		case pe.Code == "22021", pe.Code == "22P05": // NUL or bytes invalid in UTF-8
			// The api refuses such text naming the field; this keeps any
			// path it misses a 400, not a 500.
			return wrap(fmt.Errorf("%w: a text value holds a NUL byte or invalid UTF-8, which cannot be stored", tenant.ErrInvalid))
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, crash, cannot connect now
			pe.Code == "53300": // too many connections
			return wrap(fmt.Errorf("%w: %s (%s)", tenant.ErrUnavailable, pe.Message, pe.Code))
		}
		// Never include pe.Detail: it can quote row values.
		return wrap(fmt.Errorf("postgres: %s (%s)", pe.Message, pe.Code))
	}
	if pgconn.Timeout(err) && pgconn.SafeToRetry(err) {
		// Timed out before anything was sent: we never got a connection.
		return wrap(fmt.Errorf("%w: %v", tenant.ErrUnavailable, err))
	}
	return wrap(err)
}

// audit records one change in the same transaction as the change itself.
// details must never hold a secret; callers pass names, ids and prefixes only.
func audit(ctx context.Context, tx pgx.Tx, tenantID, actor, action string, details map[string]any) error {
	if actor == "" {
		actor = "unknown"
	}
	if details == nil {
		details = map[string]any{}
	}
	_, err := tx.Exec(ctx,
		`INSERT INTO audit_log (tenant_id, actor, source, action, details) VALUES ($1, $2, $3, $4, $5)`,
		tenantID, actor, tenant.Source(ctx), action, details)
	return dbErr("write audit log", err)
}

// RecordEvent writes one audit row outside any change: security events such
// as a failed login, a revoked key presented again or an upstream address
// refused at registration. tenantID "" files it under the operator's log.
// details must never hold a secret.
func (s *Store) RecordEvent(ctx context.Context, tenantID, actor, action string, details map[string]any) error {
	return s.withTx(ctx, func(tx pgx.Tx) error { return audit(ctx, tx, tenantID, actor, action, details) })
}

// Audit returns a tenant's newest audit entries first; limit is capped at
// 1000 and defaults to 100. tenantID "" reads the entries about admin keys
// and key rotation, which belong to no tenant.
func (s *Store) Audit(ctx context.Context, tenantID string, limit int) ([]tenant.AuditEntry, error) {
	return s.AuditPage(ctx, tenant.AuditQuery{TenantID: tenantID, Limit: limit})
}

// AuditPage reads one page of tenant q.TenantID's audit log ("" is the
// operator log: users, admin keys, failed sign-ins), newest first, after
// the filters in q. The next page is q.Before = the last entry's ID.
func (s *Store) AuditPage(ctx context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	before := q.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	var since *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	// action: exact, or a prefix when it ends in "." (auth. matches auth.login).
	rows, err := s.pool.Query(ctx, `
		SELECT id, tenant_id, actor, source, action, details, created_at
		FROM audit_log
		WHERE tenant_id = $1 AND id < $2
		  AND ($3::timestamptz IS NULL OR created_at >= $3)
		  AND ($4 = '' OR action = $4 OR (right($4, 1) = '.' AND left(action, length($4)) = $4))
		  AND ($6 = '' OR actor = $6 OR starts_with(actor, $6 || '/') OR right(actor, length($6) + 1) = '/' || $6)
		ORDER BY id DESC
		LIMIT $5`, q.TenantID, before, since, q.Action, limit, q.Actor)
	if err != nil {
		return nil, dbErr("read audit log", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenant.AuditEntry, error) {
		var e tenant.AuditEntry
		err := r.Scan(&e.ID, &e.TenantID, &e.Actor, &e.Source, &e.Action, &e.Details, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, dbErr("read audit log", err)
	}
	return entries, nil
}

// ActorNames names the actors of entries for people: "user:ID" by the
// user's email, "apikey:ID" by the key's name, "user:ID/apikey:ID" by both,
// "system" as Portico itself. Actors it cannot name (a deleted key) are
// left out. The names are read in two queries, whatever the number of
// entries.
func (s *Store) ActorNames(ctx context.Context, entries []tenant.AuditEntry) (map[string]string, error) {
	users, keys := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		for part := range strings.SplitSeq(e.Actor, "/") {
			if id, ok := strings.CutPrefix(part, "user:"); ok {
				users[id] = true
			} else if id, ok := strings.CutPrefix(part, "apikey:"); ok {
				keys[id] = true
			}
		}
	}
	emails, err := s.namesOf(ctx, `SELECT id, email FROM users WHERE id = ANY ($1)`, users)
	if err != nil {
		return nil, err
	}
	keyNames, err := s.namesOf(ctx, `SELECT id, name FROM api_keys WHERE id = ANY ($1)`, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if _, done := out[e.Actor]; done {
			continue
		}
		var parts []string
		named := true
		for part := range strings.SplitSeq(e.Actor, "/") {
			switch {
			case part == "system":
				parts = append(parts, "Portico")
			case strings.HasPrefix(part, "user:") && emails[strings.TrimPrefix(part, "user:")] != "":
				parts = append(parts, emails[strings.TrimPrefix(part, "user:")])
			case strings.HasPrefix(part, "apikey:") && keyNames[strings.TrimPrefix(part, "apikey:")] != "":
				parts = append(parts, "API key “"+keyNames[strings.TrimPrefix(part, "apikey:")]+"”")
			default:
				named = false
			}
		}
		if named && len(parts) > 0 {
			out[e.Actor] = strings.Join(parts, " with ")
		}
	}
	return out, nil
}

func (s *Store) namesOf(ctx context.Context, query string, ids map[string]bool) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	rows, err := s.pool.Query(ctx, query, list)
	if err != nil {
		return nil, dbErr("name audit actors", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, dbErr("name audit actors", err)
		}
		out[id] = name
	}
	return out, dbErr("name audit actors", rows.Err())
}

// Ping reports whether Postgres answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	return dbErr("ping database", s.pool.Ping(ctx))
}

// newID returns 26 lowercase base32 characters (130 random bits): unguessable,
// URL-safe and readable in /t/<id>/mcp.
func newID() string { return strings.ToLower(rand.Text()) }

// auditURL drops the query string from a URL before it is audited, since some
// upstreams take API keys as query parameters.
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	u.RawQuery = "redacted"
	return u.String()
}

// jsonEqual reports whether a and b marshal to the same JSON.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
