package pgstore

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portico-mcp/portico/tenant"
)

// SetSessionLogLevel stores session key's log level at tenant id's endpoint
// until expires, and tells every listening replica (kind log_level) in the
// same transaction. Expired levels of the tenant go in passing.
func (s *Store) SetSessionLogLevel(ctx context.Context, id, key, level string, expires time.Time) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM session_log_levels WHERE tenant_id = $1 AND expires_at <= now()`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO session_log_levels (tenant_id, session_key, level, expires_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, session_key) DO UPDATE SET level = EXCLUDED.level, expires_at = EXCLUDED.expires_at, set_at = now()`,
			id, key, level, expires); err != nil {
			return err
		}
		ref := key + "@" + level + "@" + strconv.FormatInt(expires.Unix(), 10)
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChangeChannel, id+":"+tenant.LogLevelChange+":"+ref)
		return err
	})
	if err != nil {
		return dbErr("store an MCP session's log level", err)
	}
	return nil
}

// SessionLogLevels returns every log level whose session has not expired,
// for a replica to (re)load what it may have missed.
func (s *Store) SessionLogLevels(ctx context.Context) ([]tenant.SessionLogLevel, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, session_key, level, expires_at FROM session_log_levels WHERE expires_at > now()`)
	if err != nil {
		return nil, dbErr("list MCP sessions' log levels", err)
	}
	defer rows.Close()
	var out []tenant.SessionLogLevel
	for rows.Next() {
		var l tenant.SessionLogLevel
		if err := rows.Scan(&l.TenantID, &l.SessionKey, &l.Level, &l.ExpiresAt); err != nil {
			return nil, dbErr("list MCP sessions' log levels", err)
		}
		out = append(out, l)
	}
	return out, dbErr("list MCP sessions' log levels", rows.Err())
}
