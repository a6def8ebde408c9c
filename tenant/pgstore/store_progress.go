package pgstore

import (
	"context"
	"encoding/json"

	"github.com/portico-mcp/portico/tenant"
)

// NotifyProgress tells every listening replica, this one included, where
// p's work stands. Nothing is written; a replica that is not listening at
// that moment misses it, which only delays what a poll shows.
func (s *Store) NotifyProgress(ctx context.Context, p tenant.Progress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ChangeChannel, p.TenantID+":"+tenant.ProgressKind+":"+string(b)); err != nil {
		return dbErr("announce progress", err)
	}
	return nil
}
