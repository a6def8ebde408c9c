package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// Logging from inside a tool call: when the client has asked for log
// messages, each upstream exchange of a call is reported as one
// notifications/message on the call's stream, "GET /items/7 → 200 in 12 ms"
// (info; warning for a 4xx, error for a 5xx). The path is the one sent,
// without its query (which may carry a credential).
//
// Where the level comes from:
//   - A 2025-xx session sets it with logging/setLevel. The session lives in
//     its signed id on no replica in particular, so the level is stored in
//     the database (session_log_levels, keyed by a hash of the session id)
//     and announced to every replica (change kind log_level); each replica
//     holds the levels in memory, reloads them on every resync and reads
//     them, never the database, on a call. A session that never set a level
//     gets no log messages.
//   - A 2026-07-28 request carries it in _meta
//     (io.modelcontextprotocol/logLevel, SEP-2575); absent, no messages.
//   - A session-less 2025-xx client cannot set one: logging/setLevel is
//     answered, but nothing outlives that request.
//
// The fast paths send no log messages, so they leave every call with a
// level to the SDK's path (fastcall.go), which sends them.

// logLevelRank orders the levels of the MCP logging utility (RFC 5424).
var logLevelRank = map[string]int{"debug": 0, "info": 1, "notice": 2, "warning": 3, "error": 4, "critical": 5, "alert": 6, "emergency": 7}

const logLevelNames = "debug, info, notice, warning, error, critical, alert, emergency"

// logLevels are the session log levels this replica knows, by tenant and
// session key.
type logLevels struct {
	mu sync.RWMutex
	m  map[string]map[string]levelUntil
	n  atomic.Int64 // entries; zero lets a request skip the lookup
	// heard are setLevel requests of this replica waiting to hear their
	// own announcement, by "<tenant>/<key>@<level>".
	heard map[string][]chan struct{}
}

// await returns a channel closed when this replica hears the announcement
// of level for tenantID's session key, and a func to stop waiting.
func (ls *logLevels) await(tenantID, key, level string) (<-chan struct{}, func()) {
	k := tenantID + "/" + key + "@" + level
	ch := make(chan struct{})
	ls.mu.Lock()
	if ls.heard == nil {
		ls.heard = make(map[string][]chan struct{})
	}
	ls.heard[k] = append(ls.heard[k], ch)
	ls.mu.Unlock()
	return ch, func() {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		for i, c := range ls.heard[k] {
			if c == ch {
				ls.heard[k] = append(ls.heard[k][:i], ls.heard[k][i+1:]...)
				break
			}
		}
		if len(ls.heard[k]) == 0 {
			delete(ls.heard, k)
		}
	}
}

// announced wakes the requests waiting for this announcement.
func (ls *logLevels) announced(tenantID, key, level string) {
	k := tenantID + "/" + key + "@" + level
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, c := range ls.heard[k] {
		close(c)
	}
	delete(ls.heard, k)
}

type levelUntil struct {
	level   string
	expires time.Time
}

func (ls *logLevels) set(tenantID, key, level string, expires, now time.Time) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = make(map[string]map[string]levelUntil)
	}
	byKey := ls.m[tenantID]
	if byKey == nil {
		byKey = make(map[string]levelUntil)
		ls.m[tenantID] = byKey
	}
	for k, v := range byKey { // bounded by live sessions; pruned as they expire
		if !now.Before(v.expires) {
			delete(byKey, k)
			ls.n.Add(-1)
		}
	}
	if _, ok := byKey[key]; !ok {
		ls.n.Add(1)
	}
	byKey[key] = levelUntil{level: level, expires: expires}
}

// get is session sid's level at tenant id's endpoint, "" when none.
func (ls *logLevels) get(tenantID, sid string, now time.Time) string {
	if ls.n.Load() == 0 {
		return ""
	}
	ls.mu.RLock()
	byKey := ls.m[tenantID]
	ls.mu.RUnlock()
	if byKey == nil {
		return ""
	}
	key := sessionKey(sid)
	ls.mu.RLock()
	v, ok := byKey[key]
	ls.mu.RUnlock()
	if !ok || !now.Before(v.expires) {
		return ""
	}
	return v.level
}

// logLevelStore is the store's keeping of session log levels
// (pgstore.Store); without it (portico run) levels live in this process.
type logLevelStore interface {
	SetSessionLogLevel(ctx context.Context, id, key, level string, expires time.Time) error
	SessionLogLevels(ctx context.Context) ([]tenant.SessionLogLevel, error)
}

var _ logLevelStore = (*pgstore.Store)(nil)

// loadLogLevels adds what the database holds to what this replica knows:
// levels announced while it was not listening.
func (r *Runtime) loadLogLevels(ctx context.Context) {
	s, ok := r.store.(logLevelStore)
	if !ok {
		return
	}
	all, err := s.SessionLogLevels(ctx)
	if err != nil {
		r.log.Warn("could not load MCP sessions' log levels; using those already known", "err", err)
		return
	}
	now := time.Now()
	for _, l := range all {
		r.logLevels.set(l.TenantID, l.SessionKey, l.Level, l.ExpiresAt, now)
	}
}

// logLevelChanged records a level another replica stored
// ("<key>@<level>@<unix expiry>").
func (r *Runtime) logLevelChanged(tenantID, ref string) {
	key, rest, ok := strings.Cut(ref, "@")
	level, unix, ok2 := strings.Cut(rest, "@")
	n, err := strconv.ParseInt(unix, 10, 64)
	if _, known := logLevelRank[level]; !ok || !ok2 || err != nil || !known {
		return
	}
	r.logLevels.set(tenantID, key, level, time.Unix(n, 0), time.Now())
	r.logLevels.announced(tenantID, key, level)
}

// announceWait bounds how long logging/setLevel waits to hear its own
// announcement come back from the database.
const announceWait = time.Second

// setSessionLogLevel handles logging/setLevel in session sid: it checks the
// level, stores it and waits until the other replicas have heard of it
// before the SDK answers the request ({}). It reports false, having answered with a JSON-RPC error, when the
// level is not one of the eight or could not be stored.
func (r *Runtime) setSessionLogLevel(w http.ResponseWriter, req *http.Request, id, sid string, sess sessionInfo, msg *rpcMessage) bool {
	rid, ok := msg.strict()
	if !ok {
		return true // not a plain request: the SDK answers it as it is
	}
	var p struct {
		Level *string `json:"level"`
	}
	if err := json.Unmarshal(msg.params, &p); err != nil || p.Level == nil {
		r.writeRPCError(w, rid, jsonrpcInvalidParams, "params.level is missing: send logging/setLevel with params {\"level\": one of "+logLevelNames+"}")
		return false
	}
	level := *p.Level
	if _, known := logLevelRank[level]; !known {
		r.writeRPCError(w, rid, jsonrpcInvalidParams, fmt.Sprintf("params.level %q is not a log level: use one of %s", cut(level, 40), logLevelNames))
		return false
	}
	key, now := sessionKey(sid), time.Now()
	if s, ok := r.store.(logLevelStore); ok {
		heard, stop := r.logLevels.await(id, key, level)
		defer stop()
		if err := s.SetSessionLogLevel(req.Context(), id, key, level, sess.expires); err != nil {
			r.log.ErrorContext(req.Context(), "store an MCP session's log level", "tenant", id, "err", err)
			r.writeRPCError(w, rid, jsonrpcInternalError, "could not store the log level right now, so other servers of this endpoint would not know it; retry shortly")
			return false
		}
		// Postgres hands a notification to every listening replica at
		// once: once this one has heard it back, the others have too, and
		// the session's next call, wherever it lands, sees the level. A
		// replica not listening right now loads it at its next resync.
		t := time.NewTimer(announceWait)
		select {
		case <-heard:
		case <-t.C:
			r.log.WarnContext(req.Context(), "a session's log level was stored but its announcement did not come back in time; other replicas learn it at their next resync", "tenant", id)
		case <-req.Context().Done():
		}
		t.Stop()
	}
	r.logLevels.set(id, key, level, sess.expires, now)
	return true
}

const (
	jsonrpcMethodNotFound = -32601
	jsonrpcInvalidParams  = -32602
	jsonrpcInternalError  = -32603
)

// rpcError is the JSON-RPC error answer to the request with id (canonical
// JSON), unframed.
func rpcError(id []byte, code int, message string) string {
	msg, _ := json.Marshal(message)
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s}}`, id, code, msg)
}

// writeRPCError answers the request with id (canonical JSON) with a
// JSON-RPC error, framed as the handler frames its answers.
func (r *Runtime) writeRPCError(w http.ResponseWriter, id []byte, code int, message string) {
	body := rpcError(id, code, message)
	if r.writeFastHeaders(w) {
		body = "event: message\ndata: " + body + "\n\n"
	}
	w.Write([]byte(body))
}

// callLogLevel is the level the client of a call asked for, "" for none:
// its session's, or a 2026-07-28 request's own.
func callLogLevel(ctx context.Context, req *mcp.CallToolRequest) string {
	if info := requestInfo(ctx); info != nil && info.logLevel != "" {
		return info.logLevel
	}
	if req == nil || req.Params == nil || requestHeader(req.Extra).Get("Mcp-Protocol-Version") < version20260728 {
		return ""
	}
	//lint:ignore SA1019 the logging utility is deprecated in 2026-07-28 but still served
	level, _ := req.Params.GetMeta()[mcp.MetaKeyLogLevel].(string)
	return level
}

// logUpstream sends the status line of a call's upstream exchange when the
// client's level admits it.
func logUpstream(ctx context.Context, req *mcp.CallToolRequest, op *openapi.Operation, res *upstreamResult) {
	if res == nil || req == nil || req.Session == nil {
		return
	}
	want, ok := logLevelRank[callLogLevel(ctx, req)]
	if !ok {
		return
	}
	level := "info"
	switch {
	case res.status >= 500:
		level = "error"
	case res.status >= 400:
		level = "warning"
	}
	if logLevelRank[level] < want {
		return
	}
	line := fmt.Sprintf("%s %s → %d in %s", op.Method, res.path, res.status, millis(res.elapsed))
	//lint:ignore SA1019 the logging utility is deprecated in 2026-07-28 but still served
	req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: mcp.LoggingLevel(level), Logger: "upstream", Data: line})
}

// millis formats d as a log line shows it: "12 ms", "0.4 ms".
func millis(d time.Duration) string {
	ms := float64(d.Microseconds()) / 1000
	if ms >= 10 {
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
}
