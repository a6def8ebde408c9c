package bridge

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestCatchUpReleasesOnlyAppliedNotifications: a reconcile releases the
// waiters of the notifications received before it read the database, not
// of one that arrived while it ran; a wait is bounded.
func TestCatchUpReleasesOnlyAppliedNotifications(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c catchUp
		if c.wait(context.Background()) {
			t.Fatal("wait with nothing pending waited")
		}
		c.mark()
		upto := c.begin()
		c.mark() // arrives while the reconcile runs
		released := make(chan bool)
		go func() { released <- c.wait(context.Background()) }()
		synctest.Wait()
		c.finish(upto)
		synctest.Wait()
		select {
		case <-released:
			t.Fatal("a reconcile that read the database before the second notification released its waiters")
		default:
		}
		c.finish(c.begin())
		if !<-released {
			t.Fatal("wait reported it did not wait")
		}
		if c.ch.Load() != nil {
			t.Fatal("nothing is pending, yet the channel is set")
		}

		c.mark()
		start := time.Now()
		c.wait(context.Background())
		if got := time.Since(start); got != catchUpWait {
			t.Fatalf("an unapplied notification held a list for %s, want the bound %s", got, catchUpWait)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Second); cancel() }()
		start = time.Now()
		c.wait(ctx)
		if got := time.Since(start); got != time.Second {
			t.Fatalf("wait outlived its request by %s", got-time.Second)
		}
	})
}

// TestListWaitsForNotifiedChange: after a change notification, a tools/list
// (fast path) and a call of a tool this replica does not serve yet wait
// for the reconcile and are answered from the new tool set, so a client
// told list_changed by another replica never gets the previous list here.
func TestListWaitsForNotifiedChange(t *testing.T) {
	spec := &atomic.Value{}
	spec.Store(fastSpec)
	r := newFastRuntimeWith(t, "http://127.0.0.1:1", Config{}, spec)
	const added = `"/added":{"get":{"operationId":"added_tool","responses":{"200":{"description":"ok"}}}},`
	spec.Store(strings.Replace(fastSpec, `"paths":{`, `"paths":{`+added, 1))

	send := func(body string) string {
		hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
		hr.Header.Set("Authorization", "Bearer mcp_ok")
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json, text/event-stream")
		hr.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, hr)
		return w.Body.String()
	}
	const list = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	if strings.Contains(send(list), "added_tool") {
		t.Fatal("the new tool is listed before any change was applied")
	}

	r.TenantChanged(tenant.Change{TenantID: "t1", Kind: "tenant"})
	listed := make(chan string, 1)
	called := make(chan string, 1)
	go func() { listed <- send(list) }()
	go func() {
		called <- send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"added_tool","arguments":{}}}`)
	}()
	select {
	case got := <-listed:
		t.Fatalf("tools/list answered before the notified change was applied: %s", got)
	case got := <-called:
		t.Fatalf("tools/call answered before the notified change was applied: %s", got)
	case <-time.After(200 * time.Millisecond):
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	if got := <-listed; !strings.Contains(got, "added_tool") {
		t.Errorf("tools/list after the reconcile lacks the new tool: %s", got)
	}
	if got := <-called; strings.Contains(got, "unknown tool") || strings.Contains(got, `"code":-32602`) {
		t.Errorf("the call of the new tool was refused: %s", got)
	}
	if r.lookup("t1").catchUp.ch.Load() != nil {
		t.Error("a change is still marked pending after its reconcile")
	}
}
