package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/portico-mcp/portico/client"
	"github.com/portico-mcp/portico/tenant"
)

// progressWatch prints the phases of a tenant's activation or refresh while
// the request that runs it is in flight, from GET /tenants/{id}/progress
// (any replica answers it: phases travel between replicas through Postgres).
type progressWatch struct {
	c      *client.Client
	id, op string
	w      io.Writer
	old    time.Time // StartedAt of the work already on the board before ours
	seen   map[string]bool
	mu     sync.Mutex
	stop   chan struct{}
	done   sync.WaitGroup
}

// watchProgress starts printing the phases of work op on tenant id to w;
// call the returned function once the request has answered: it prints the
// phases not yet printed and stops.
func watchProgress(ctx context.Context, c *client.Client, id, op string, w io.Writer) func() {
	pw := &progressWatch{c: c, id: id, op: op, w: w, seen: map[string]bool{}, stop: make(chan struct{})}
	if p, ok := pw.get(ctx); ok {
		pw.old = p.StartedAt
	}
	pw.done.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-pw.stop:
				return
			case <-t.C:
				pw.poll(ctx)
			}
		}
	})
	return func() {
		close(pw.stop)
		pw.done.Wait()
		pw.poll(ctx)
	}
}

func (pw *progressWatch) get(ctx context.Context) (tenant.Progress, bool) {
	var out struct {
		Progress *tenant.Progress `json:"progress"`
	}
	if err := pw.c.Do(ctx, "GET", "/api/v1/tenants/"+pw.id+"/progress", nil, &out); err != nil || out.Progress == nil {
		return tenant.Progress{}, false // an older server has no progress: print nothing
	}
	return *out.Progress, true
}

// poll prints each phase the board shows that is not printed yet, with
// the time since the work began, then the end of the work.
func (pw *progressWatch) poll(ctx context.Context) {
	p, ok := pw.get(ctx)
	if !ok || p.Op != pw.op || p.StartedAt.Equal(pw.old) {
		return
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	since := func(t time.Time) time.Duration { return t.Sub(p.StartedAt).Round(10 * time.Millisecond) }
	for _, st := range p.Steps {
		if !pw.seen[st.Phase] {
			pw.seen[st.Phase] = true
			fmt.Fprintf(pw.w, "%s: %-8s %s (at %s)\n", pw.op, st.Phase, st.Detail, since(st.At))
		}
	}
	if p.Done && !pw.seen["done"] {
		pw.seen["done"] = true
		if p.Error != "" {
			fmt.Fprintf(pw.w, "%s: failed after %s: %s\n", pw.op, since(p.At), p.Error)
		} else {
			fmt.Fprintf(pw.w, "%s: done in %s: %s\n", pw.op, since(p.At), p.Detail)
		}
	}
}
