package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/portico-mcp/portico/tenant"
)

// ChangeChannel is the Postgres notification channel the schema's triggers
// send tenant changes on.
const ChangeChannel = "portico_tenant"

// Listener receives tenant changes from Store.Listen.
type Listener interface {
	// TenantChanged is called for each notification; it must not block long.
	TenantChanged(c tenant.Change)
	// Resync is called after every (re)connect and every resync interval:
	// notifications sent while disconnected are lost, so the listener must
	// compare what it holds with the database.
	Resync(ctx context.Context)
}

// Listen delivers tenant changes to l until ctx ends, on a connection of its
// own taken out of the pool. It reconnects with backoff (1 s to 30 s) when
// the connection drops and resyncs after each connect and every resync.
func (s *Store) Listen(ctx context.Context, l Listener, resync time.Duration, onError func(error)) {
	if resync <= 0 {
		resync = time.Minute
	}
	// The periodic safety resync runs beside the connection, so it also
	// happens while Postgres is unreachable and the loop below backs off.
	go func() {
		t := time.NewTicker(resync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.Resync(ctx)
			}
		}
	}()
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, l, func() { backoff = time.Second })
		if ctx.Err() != nil {
			return
		}
		if onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, l Listener, connected func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return dbErr("listen for tenant changes", err)
	}
	// A LISTENing session must never go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ChangeChannel}.Sanitize()); err != nil {
		return dbErr("listen for tenant changes", err)
	}
	connected()
	l.Resync(ctx)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return dbErr("wait for tenant changes", err)
		}
		if c, ok := tenant.ParseChange(n.Payload); ok {
			l.TenantChanged(c)
		}
	}
}

// NotifySessionEnded tells every replica listening for changes that a
// client ended one of tenant id's MCP sessions (kind session_ended, ref
// chosen by the caller). Nothing is stored: a replica that is not listening
// right now does not hear of it.
func (s *Store) NotifySessionEnded(ctx context.Context, id, ref string) error {
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ChangeChannel, id+":session_ended:"+ref); err != nil {
		return dbErr("announce an ended MCP session", err)
	}
	return nil
}
