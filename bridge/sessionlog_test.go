package bridge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// levelStore is a store that keeps session log levels and hands each
// announcement straight to other replicas, as Postgres' notification would.
type levelStore struct {
	tenantStore
	to     []*Runtime
	levels []tenant.SessionLogLevel
	fail   error
}

func (s *levelStore) SetSessionLogLevel(_ context.Context, id, key, level string, expires time.Time) error {
	if s.fail != nil {
		return s.fail
	}
	s.levels = append(s.levels, tenant.SessionLogLevel{TenantID: id, SessionKey: key, Level: level, ExpiresAt: expires})
	for _, r := range s.to {
		r.TenantChanged(tenant.Change{TenantID: id, Kind: tenant.LogLevelChange, Ref: key + "@" + level + "@" + strconv.FormatInt(expires.Unix(), 10)})
	}
	return nil
}

func (s *levelStore) SessionLogLevels(context.Context) ([]tenant.SessionLogLevel, error) {
	return s.levels, nil
}

// TestSessionLogLevelOnAnyReplica: a session that sets its log level on
// replica A hears the status line of its calls on replica B (and on a
// replica started later, from the database), at the level's threshold and
// above; a session that set none hears nothing and keeps the fast path;
// a 2026-07-28 request carries its own level; bad levels and a store that
// cannot keep one are refused with errors saying what to do.
func TestSessionLogLevelOnAnyReplica(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	keys := []tenant.MasterKey{masterKey("k1", 5)}
	a := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	b := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	store := &levelStore{tenantStore: a.store, to: []*Runtime{a, b}}
	a.store = store

	quiet := mcpPost(t, a, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	sid := mcpPost(t, a, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	in := func(sid string) []string {
		return []string{"Mcp-Session-Id", sid, "Mcp-Protocol-Version", "2025-11-25"}
	}
	call := func(r *Runtime, sid, kind string) string {
		t.Helper()
		w := mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"`+kind+`"}}}`, in(sid)...)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"id":9,"result"`) {
			t.Fatalf("call %s: %d %s", kind, w.Code, w.Body)
		}
		return w.Body.String()
	}
	setLevel := func(sid, level string) string {
		t.Helper()
		return mcpPost(t, a, "mcp_ok", `{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"`+level+`"}}`, in(sid)...).Body.String()
	}

	fast := b.fastCalls.Load()
	if body := call(b, sid, "obj"); strings.Contains(body, "notifications/message") {
		t.Errorf("no level set, yet a log message: %s", body)
	}
	if b.fastCalls.Load() != fast+1 {
		t.Error("a session without a level left the fast path")
	}
	if body := setLevel(sid, "warning"); !strings.Contains(body, `"id":3,"result":{}`) {
		t.Fatalf("setLevel warning: %s", body)
	}
	if body := call(b, sid, "obj"); strings.Contains(body, "notifications/message") {
		t.Errorf("an info line reached a warning-level session: %s", body)
	}
	if body := call(b, sid, "missing"); !strings.Contains(body, `"method":"notifications/message","params":{"data":"GET /r/missing → 404 in `) || !strings.Contains(body, `"level":"warning","logger":"upstream"`) {
		t.Errorf("a 404 at level warning: %s", body)
	}
	setLevel(sid, "info")
	if body := call(b, sid, "obj"); !strings.Contains(body, `"data":"GET /r/obj → 200 in `) || !strings.Contains(body, `"level":"info"`) {
		t.Errorf("a 200 at level info: %s", body)
	}
	if body := call(b, quiet, "missing"); strings.Contains(body, "notifications/message") {
		t.Errorf("another session of the token got log messages: %s", body)
	}
	// A replica started after the setLevel learns it from the database.
	c := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	c.store = store
	c.Resync(context.Background())
	if body := call(c, sid, "obj"); !strings.Contains(body, `"data":"GET /r/obj → 200 in `) {
		t.Errorf("a replica that resynced: %s", body)
	}

	// 2026-07-28: the level is the request's own.
	meta := func(level string) string {
		m := `"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}`
		if level != "" {
			m += `,"io.modelcontextprotocol/logLevel":"` + level + `"`
		}
		return `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"},"_meta":{` + m + `}}}`
	}
	v26 := []string{"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", "get_r"}
	if w := mcpPost(t, b, "mcp_ok", meta("debug"), v26...); !strings.Contains(w.Body.String(), `"data":"GET /r/obj → 200 in `) {
		t.Errorf("2026-07-28 with logLevel debug: %d %s", w.Code, w.Body)
	}
	for _, level := range []string{"", "error"} {
		if w := mcpPost(t, b, "mcp_ok", meta(level), v26...); w.Code != 200 || strings.Contains(w.Body.String(), "notifications/message") {
			t.Errorf("2026-07-28 with logLevel %q: %d %s", level, w.Code, w.Body)
		}
	}

	for _, c := range []struct{ params, want string }{
		{`{"level":"loud"}`, `params.level \"loud\" is not a log level: use one of debug, info`},
		{`{}`, `params.level is missing`},
		{`{"level":7}`, `params.level is missing`},
	} {
		w := mcpPost(t, a, "mcp_ok", `{"jsonrpc":"2.0","id":5,"method":"logging/setLevel","params":`+c.params+`}`, in(sid)...)
		if !strings.Contains(w.Body.String(), `"id":5,"error":{"code":-32602`) || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("setLevel %s: %d %s, want -32602 saying %q", c.params, w.Code, w.Body, c.want)
		}
	}
	if got := b.logLevels.get("t1", sid, time.Now()); got != "info" {
		t.Errorf("after refused levels the session's level is %q, want info kept", got)
	}
	store.fail = errors.New("database down")
	if body := setLevel(sid, "debug"); !strings.Contains(body, `"id":3,"error":{"code":-32603`) || !strings.Contains(body, "retry") {
		t.Errorf("setLevel with the store down: %s", body)
	}
	if got := a.logLevels.get("t1", sid, time.Now()); got != "info" {
		t.Errorf("a level the store refused was kept: %q", got)
	}
}
