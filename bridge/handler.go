package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant"
)

// maxMCPBody caps one MCP request body, as the SDK's own default does.
const maxMCPBody = 4 << 20

// mcpRequest is what serveMCP learned about a request before handing it on:
// when it arrived, the tenant serving it and the verified token. One context
// value carries all three (a value each cost an allocation each per call).
type mcpRequest struct {
	start   time.Time
	live    *live
	tok     tenant.Token
	toolset string // the endpoint's toolset, "" for the tenant's own
	// logLevel is the level the request's session set with
	// logging/setLevel, "" when none (sessionlog.go).
	logLevel string
	// What a call needs only to ask for a link URL (elicit.go): the
	// session's flags, and the POST's params, whose _meta carries a
	// 2026-07-28 client's capabilities (read only when a link is needed).
	sess   sessionInfo
	params json.RawMessage
}

type mcpRequestKey struct{}

func requestInfo(ctx context.Context) *mcpRequest {
	info, _ := ctx.Value(mcpRequestKey{}).(*mcpRequest)
	return info
}

// Handler serves every tenant's MCP endpoint, /t/<id>/mcp (Streamable HTTP).
// It authenticates the tenant's bearer MCP token, answers 404 for a tenant
// that is not active, and counts each request in flight so deactivation can
// drain it.
func (r *Runtime) Handler() http.Handler {
	return http.HandlerFunc(r.serveMCP)
}

func (r *Runtime) serveMCP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	id, toolset, ok := tenantFromPath(req.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no MCP endpoint here: tenant endpoints are /t/<id>/mcp, and a toolset's /t/<id>/mcp/<toolset>")
		return
	}
	if !r.checkOrigin(w, req, id) {
		return // refused Origin, or a preflight: answered without a credential (cors.go)
	}
	secret, ok := bearerToken(req)
	if !ok {
		r.challenge(w, req, id, "")
		writeError(w, http.StatusUnauthorized, "unauthorized", "this MCP endpoint needs Authorization: Bearer <mcp token>; create one with POST /api/v1/tenants/{id}/tokens")
		return
	}
	// Guessing is throttled per client address (before the lookup) and per
	// token prefix (after it: a third party's failures never refuse the
	// right token).
	ft := r.opts.FailureThrottle
	var ip string
	if ft != nil {
		ip = "ip:" + ft.Source(req)
		if tooManyFailures(w, ft, ip) {
			return
		}
	}
	tok, source, err := r.verifyToken(req, id, secret, start)
	r.opts.Metrics.tokenCheck(source)
	switch {
	case errors.Is(err, tenant.ErrNotFound) || err == nil && tok.TenantID != id:
		if ft != nil {
			prefix := "prefix:" + secret[:min(len(secret), 12)]
			throttled := tooManyFailures(w, ft, prefix)
			ft.Fail(ip, prefix)
			if throttled {
				return
			}
		}
		r.challenge(w, req, id, "invalid_token")
		writeError(w, http.StatusUnauthorized, "invalid_token", "the MCP token is unknown, revoked, expired or belongs to another tenant")
		return
	case err != nil:
		r.log.ErrorContext(req.Context(), "verify MCP token", "tenant", id, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not check the MCP token right now; retry shortly")
		return
	}
	if !tok.Allows(toolset) {
		forbiddenToolset(w, id, toolset, tok)
		return
	}
	r.serveToolset(w, req, id, toolset, tok, start, r.stateless)
}

// TenantHandler serves tenant id's MCP endpoint at whatever path it is
// mounted, without an MCP token: for a process that serves one service to
// whoever may reach it (`portico run`, or Portico's own /mcp once it has
// checked the caller itself). Everything past authentication — sessions,
// 2026-07-28 requests, the fast paths — is the tenant endpoint's own code.
func (r *Runtime) TenantHandler(id string) http.Handler {
	tok := tenant.Token{ID: "local", TenantID: id, Name: "local"}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serveTenant(w, req, id, tok, time.Now(), r.open)
	})
}

// serveTenant serves one MCP request of tenant id once tok has been
// verified for it; sdk answers what the fast paths do not.
func (r *Runtime) serveTenant(w http.ResponseWriter, req *http.Request, id string, tok tenant.Token, start time.Time, sdk http.Handler) {
	r.serveToolset(w, req, id, "", tok, start, sdk)
}

// serveToolset serves one MCP request of toolset toolset of tenant id
// ("" is the tenant's own endpoint) once tok has been verified for it.
func (r *Runtime) serveToolset(w http.ResponseWriter, req *http.Request, id, toolset string, tok tenant.Token, start time.Time, sdk http.Handler) {
	var err error
	var ok bool
	// A session id is checked here, on whichever replica the request
	// reached (session.go); past this point a session request is served as
	// a session-less one of its negotiated version.
	sid := req.Header.Get("Mcp-Session-Id")
	var sess sessionInfo
	if sid != "" {
		if sess, ok = r.checkSession(w, sid, id, tok, start); !ok {
			return
		}
	}
	// A 2026-07-28 subscriptions/listen stream stays open as long as the
	// client likes; it must not hold up a drain, so it is not counted, and it
	// ends when the tenant stops.
	longLived := req.Method == http.MethodGet
	var msg rpcMessage
	var body []byte
	if req.Method == http.MethodPost {
		body, err = io.ReadAll(io.LimitReader(req.Body, maxMCPBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
			return
		}
		if len(body) > maxMCPBody {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the MCP request body is larger than the 4 MiB limit")
			return
		}
		msg = parseMessage(body) // decoded once, for routing and the fast paths
		longLived = msg.method == "subscriptions/listen"
	}
	l := r.acquire(id, !longLived)
	if l == nil {
		writeError(w, http.StatusNotFound, "tenant_not_active", "tenant "+id+" is not active; activate it with POST /api/v1/tenants/"+id+"/activate")
		return
	}
	if !longLived {
		defer l.inflight.Done()
		r.opts.Metrics.inflightAdd(1)
		defer r.opts.Metrics.inflightAdd(-1)
	}
	if toolset != "" && l.serverOf(toolset) == nil {
		writeError(w, http.StatusNotFound, "toolset_not_found", "tenant "+id+" has no toolset "+toolset+"; GET /api/v1/tenants/"+id+"/toolsets lists them")
		return
	}
	var logLevel string
	if sid != "" {
		logLevel = r.logLevels.get(id, sid, start)
	}
	// The SDK's bearer middleware (tokenInfo) reads the verified token from
	// the request info: it pins stateful sessions to it and keys the
	// per-token limit.
	ctx, cancel := context.WithCancel(context.WithValue(req.Context(), mcpRequestKey{}, &mcpRequest{start: start, live: l, tok: tok, toolset: toolset, logLevel: logLevel, sess: sess, params: msg.params}))
	defer cancel()
	stopOnClose := context.AfterFunc(l.ctx, cancel)
	defer stopOnClose()
	if longLived {
		defer l.streams.add(tok.ID, cancel)()
		defer context.AfterFunc(r.streams, cancel)() // process shutdown ends them too
	}
	req = req.WithContext(ctx)
	switch req.Method {
	case http.MethodGet:
		if sid == "" {
			writeError(w, http.StatusBadRequest, "bad_request", "a GET stream belongs to a session: send the Mcp-Session-Id that initialize returned (2026-07-28 clients use subscriptions/listen instead)")
			return
		}
		if _, streamOK := accepts(req.Header.Values("Accept")); !streamOK {
			writeError(w, http.StatusNotAcceptable, "not_acceptable", "a GET stream is text/event-stream: send Accept: text/event-stream")
			return
		}
		w.Header().Set("Mcp-Session-Id", sid)
		r.serveSessionStream(ctx, w, req, l, sess.version)
		return
	case http.MethodDelete:
		if sid == "" {
			writeError(w, http.StatusBadRequest, "bad_request", "DELETE ends a session: send its Mcp-Session-Id")
			return
		}
		r.endSession(ctx, id, sid, sess.expires, start)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if sid != "" {
		// Served as a session-less request of the session's version; the
		// response names the session, as the SDK's stateful handler did.
		req.Header.Del("Mcp-Session-Id")
		if req.Header.Get("Mcp-Protocol-Version") == "" {
			req.Header.Set("Mcp-Protocol-Version", sess.version)
		}
		w.Header().Set("Mcp-Session-Id", sid)
	} else if msg.method == "initialize" {
		if req.Header.Get("Mcp-Protocol-Version") >= version20260728 {
			removedInitialize(w, msg.id)
			return
		}
		// A session-based client starts here; 2026-07-28 has no sessions.
		w.Header().Set("Mcp-Session-Id", r.sessions.issue(sessionInfo{tenant: id, token: tok.ID,
			version: negotiatedVersion(msg.params), expires: r.sessionExpiry(tok, start),
			elicitURL: initializeDeclaresURLElicitation(msg.params)}))
	}
	if req.Method == http.MethodPost {
		// The SDK refuses these in plain text; say it in the error shape.
		if jsonOK, streamOK := accepts(req.Header.Values("Accept")); !jsonOK || !streamOK {
			writeError(w, http.StatusNotAcceptable, "not_acceptable",
				fmt.Sprintf("send Accept: application/json, text/event-stream (a Streamable HTTP POST is answered with either; got %q)", req.Header.Get("Accept")))
			return
		}
	}
	if r.primes(req, sid, sess, &msg) {
		w = r.prime(w, msg.id)
	}
	if sid != "" && msg.method == "logging/setLevel" && !r.setSessionLogLevel(w, req, id, sid, sess, &msg) {
		return
	}
	if body != nil && (r.fastCall(w, req, l, &msg) || r.fastList(w, req, l, &msg)) {
		return
	}
	sdk.ServeHTTP(w, withBody(req, body))
}

// removedInitialize answers an initialize sent as a 2026-07-28 request
// (Mcp-Protocol-Version: 2026-07-28), a method that version removed: 404
// with JSON-RPC -32601, as it requires (SEP-2575). Older clients send
// initialize without that header and start a session.
func removedInitialize(w http.ResponseWriter, id json.RawMessage) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, rpcError(id, jsonrpcMethodNotFound, "initialize is not a 2026-07-28 method: call server/discover, or send initialize without Mcp-Protocol-Version: 2026-07-28 to start a 2025-11-25 session")+"\n")
}

// FailureThrottle counts failed token checks (api.FailureThrottle): Wait
// says how long keys must wait before another attempt is judged.
type FailureThrottle interface {
	Source(req *http.Request) string
	Wait(keys ...string) time.Duration
	Fail(keys ...string)
}

// tooManyFailures answers 429 with Retry-After, in the handler's error
// shape, when keys must wait.
func tooManyFailures(w http.ResponseWriter, ft FailureThrottle, keys ...string) bool {
	wait := ft.Wait(keys...)
	if wait <= 0 {
		return false
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "too_many_failures",
		fmt.Sprintf("too many failed MCP token checks from here; retry in %d s", secs))
	return true
}

// withBody gives the SDK the POST body serveMCP read (the fast paths work
// from the decoded message and need no reader).
func withBody(req *http.Request, body []byte) *http.Request {
	if req.Method == http.MethodPost {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return req
}

// verifyToken checks secret as a tenant MCP token or, when an external
// authorization server is configured and secret is a JWT, as its access
// token for this tenant's endpoint. Token ids of the latter are "jwt:<sub>".
// The source ("external" for those) labels the token-check metric.
func (r *Runtime) verifyToken(req *http.Request, id, secret string, now time.Time) (tenant.Token, string, error) {
	if a := r.opts.ExternalAuth; a != nil && looksLikeJWT(secret) {
		sub, exp, err := a.verify(req.Context(), secret, r.baseURL(req)+"/t/"+id+"/mcp")
		if err != nil {
			r.log.Debug("external access token refused", "tenant", id, "err", err)
			return tenant.Token{}, "denied", tenant.ErrNotFound
		}
		return tenant.Token{ID: "jwt:" + sub, TenantID: id, ExpiresAt: &exp}, "external", nil
	}
	return r.tokens.verify(req.Context(), r.store, secret, now)
}

// tokenInfo hands the SDK the token serveMCP already verified (no second
// lookup). Its UserID, "<tenant>/<token id>", is what the SDK pins a
// stateful session to: a session created with one tenant's token answers
// 403 to any other token, this tenant's or another's. It also keys the
// per-token rate limit.
func tokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	info := requestInfo(ctx)
	if info == nil {
		return nil, auth.ErrInvalidToken
	}
	tok := info.tok
	ti := &auth.TokenInfo{UserID: tok.TenantID + "/" + tok.ID, Scopes: tok.Scopes}
	if tok.UserID != "" {
		ti.Extra = map[string]any{tokenUserKey: tok.UserID}
	}
	if tok.ExpiresAt != nil {
		ti.Expiration = *tok.ExpiresAt
	}
	return ti, nil
}

// serverFor hands the SDK the server of the tenant serveMCP already found.
func (r *Runtime) serverFor(req *http.Request) *mcp.Server {
	if info := requestInfo(req.Context()); info != nil {
		return info.live.serverOf(info.toolset)
	}
	return nil
}

// tenantFromPath extracts <id> from /t/<id>/mcp, and <id> and <toolset>
// from /t/<id>/mcp/<toolset>.
func tenantFromPath(p string) (id, toolset string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/t/")
	if !ok {
		return "", "", false
	}
	id, tail, _ := strings.Cut(rest, "/")
	tail = strings.TrimRight(tail, "/")
	if id == "" {
		return "", "", false
	}
	if tail == "mcp" {
		return id, "", true
	}
	toolset, ok = strings.CutPrefix(tail, "mcp/")
	if !ok || toolset == "" || strings.Contains(toolset, "/") {
		return "", "", false
	}
	return id, toolset, true
}

// forbiddenToolset answers 403 to a token restricted to toolsets that do
// not include the endpoint's.
func forbiddenToolset(w http.ResponseWriter, id, toolset string, tok tenant.Token) {
	where := "the tenant's endpoint /t/" + id + "/mcp serves every tool"
	if toolset != "" {
		where = "toolset " + toolset + " is not among them"
	}
	urls := make([]string, len(tok.Toolsets))
	for i, ts := range tok.Toolsets {
		urls[i] = "/t/" + id + "/mcp/" + ts
	}
	writeError(w, http.StatusForbidden, "forbidden_toolset",
		fmt.Sprintf("this MCP token is restricted to the toolset(s) %s (%s); use their URLs (%s) or a token that may use this one",
			strings.Join(tok.Toolsets, ", "), where, strings.Join(urls, ", ")))
}

func bearerToken(req *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// jsonrpcMethod returns the method of a single JSON-RPC message, or "".
func jsonrpcMethod(body []byte) string {
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	return m.Method
}

// writeError writes Portico's JSON error shape, the same as the REST API's.
// WriteError writes Portico's error shape, {"error":{"code","message",
// "details"}}, for handlers outside bridge that answer MCP clients.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeError(w, status, code, msg)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	errorbody.Write(w, status, code, msg, nil)
}
