package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// maxMCPBody caps one MCP request body, as the SDK's own default does.
const maxMCPBody = 4 << 20

type liveKey struct{}

// Handler serves every tenant's MCP endpoint, /t/<id>/mcp (Streamable HTTP).
// It authenticates the tenant's bearer MCP token, answers 404 for a tenant
// that is not active, and counts each request in flight so deactivation can
// drain it.
func (r *Runtime) Handler() http.Handler {
	return http.HandlerFunc(r.serveMCP)
}

func (r *Runtime) serveMCP(w http.ResponseWriter, req *http.Request) {
	if strings.HasPrefix(req.URL.Path, ProtectedResourcePrefix+"/") {
		r.serveResourceMetadata(w, req)
		return
	}
	id, ok := tenantFromPath(req.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no MCP endpoint here: tenant endpoints are /t/<id>/mcp")
		return
	}
	secret, ok := bearerToken(req)
	if !ok {
		r.challenge(w, req, id, "")
		writeError(w, http.StatusUnauthorized, "unauthorized", "this MCP endpoint needs Authorization: Bearer <mcp token>; create one with POST /api/v1/tenants/{id}/tokens")
		return
	}
	tok, err := r.verifyToken(req, id, secret)
	switch {
	case errors.Is(err, tenant.ErrNotFound) || err == nil && tok.TenantID != id:
		r.challenge(w, req, id, "invalid_token")
		writeError(w, http.StatusUnauthorized, "invalid_token", "the MCP token is unknown, revoked, expired or belongs to another tenant")
		return
	case err != nil:
		r.log.Error("verify MCP token", "tenant", id, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not check the MCP token right now; retry shortly")
		return
	}

	// A session belongs to the tenant whose server created it (its id
	// starts with the tenant id): presented at another tenant's endpoint, it
	// does not exist.
	sid := req.Header.Get("Mcp-Session-Id")
	if sid != "" && !strings.HasPrefix(sid, id+".") {
		writeError(w, http.StatusNotFound, "session_not_found", "no such MCP session on this endpoint; start a new one with initialize")
		return
	}

	// A 2026-07-28 subscriptions/listen stream stays open as long as the
	// client likes; it must not hold up a drain, so it is not counted, and it
	// ends when the tenant stops.
	longLived := req.Method == http.MethodGet
	method := ""
	if req.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxMCPBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "could not read the request body")
			return
		}
		if len(body) > maxMCPBody {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the MCP request body is larger than the 4 MiB limit")
			return
		}
		method = jsonrpcMethod(body)
		longLived = method == "subscriptions/listen"
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	l := r.acquire(id, !longLived)
	if l == nil {
		writeError(w, http.StatusNotFound, "tenant_not_active", "tenant "+id+" is not active; activate it with POST /api/v1/tenants/"+id+"/activate")
		return
	}
	if !longLived {
		defer l.inflight.Done()
	}
	ctx, cancel := context.WithCancel(context.WithValue(req.Context(), liveKey{}, l))
	defer cancel()
	stopOnClose := context.AfterFunc(l.ctx, cancel)
	defer stopOnClose()
	if longLived {
		defer l.streams.add(tok.ID, cancel)()
	}
	// Session-based (2025-xx) clients go to the stateful handler: they
	// initialize, then send Mcp-Session-Id and open a GET stream on which
	// list_changed arrives. Everything else, including every 2026-07-28
	// request, is served statelessly.
	if sid != "" || req.Method == http.MethodGet || req.Method == http.MethodDelete || method == "initialize" {
		ctx = context.WithValue(ctx, tokenKey{}, &auth.TokenInfo{UserID: tok.ID})
		r.stateful.ServeHTTP(w, req.WithContext(ctx))
		return
	}
	r.stateless.ServeHTTP(w, req.WithContext(ctx))
}

// verifyToken checks secret as a tenant MCP token or, when an external
// authorization server is configured and secret is a JWT, as its access
// token for this tenant's endpoint. Token ids of the latter are "jwt:<sub>".
func (r *Runtime) verifyToken(req *http.Request, id, secret string) (tenant.Token, error) {
	if a := r.opts.ExternalAuth; a != nil && looksLikeJWT(secret) {
		sub, exp, err := a.verify(req.Context(), secret, r.baseURL(req)+"/t/"+id+"/mcp")
		if err != nil {
			r.log.Debug("external access token refused", "tenant", id, "err", err)
			return tenant.Token{}, tenant.ErrNotFound
		}
		return tenant.Token{ID: "jwt:" + sub, TenantID: id, ExpiresAt: &exp}, nil
	}
	return r.store.VerifyToken(req.Context(), secret)
}

type tokenKey struct{}

// sessionAuth hands the SDK the token serveMCP verified, so the stateful
// handler binds each session to the token that created it and answers 403
// when another token presents the session.
func sessionAuth(h http.Handler) http.Handler {
	verify := func(_ context.Context, _ string, req *http.Request) (*auth.TokenInfo, error) {
		if ti, ok := req.Context().Value(tokenKey{}).(*auth.TokenInfo); ok {
			return ti, nil
		}
		return nil, auth.ErrInvalidToken
	}
	return auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
}

// serverFor hands the SDK the server of the tenant serveMCP already found.
func (r *Runtime) serverFor(req *http.Request) *mcp.Server {
	if l, ok := req.Context().Value(liveKey{}).(*live); ok {
		return l.server
	}
	return nil
}

// tenantFromPath extracts <id> from /t/<id>/mcp.
func tenantFromPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/t/")
	if !ok {
		return "", false
	}
	id, tail, _ := strings.Cut(rest, "/")
	if id == "" || strings.TrimRight(tail, "/") != "mcp" {
		return "", false
	}
	return id, true
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
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "details": map[string]any{}}})
}
