package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

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
	start := time.Now()
	id, ok := tenantFromPath(req.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no MCP endpoint here: tenant endpoints are /t/<id>/mcp")
		return
	}
	secret, ok := bearerToken(req)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "this MCP endpoint needs Authorization: Bearer <mcp token>; create one with POST /api/v1/tenants/{id}/tokens")
		return
	}
	tok, source, err := r.tokens.verify(req.Context(), r.store, secret, start)
	r.opts.Metrics.tokenCheck(source)
	switch {
	case errors.Is(err, tenant.ErrNotFound) || err == nil && tok.TenantID != id:
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "the MCP token is unknown, revoked, expired or belongs to another tenant")
		return
	case err != nil:
		r.log.ErrorContext(req.Context(), "verify MCP token", "tenant", id, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "could not check the MCP token right now; retry shortly")
		return
	}

	// A 2026-07-28 subscriptions/listen stream stays open as long as the
	// client likes; it must not hold up a drain, so it is not counted, and it
	// ends when the tenant stops.
	longLived := req.Method == http.MethodGet
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
		longLived = jsonrpcMethod(body) == "subscriptions/listen"
		req.Body = io.NopCloser(bytes.NewReader(body))
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
	ctx, cancel := context.WithCancel(context.WithValue(withStart(req.Context(), start), liveKey{}, l))
	defer cancel()
	stopOnClose := context.AfterFunc(l.ctx, cancel)
	defer stopOnClose()
	if longLived {
		defer context.AfterFunc(r.streams, cancel)()
	}
	r.mcp.ServeHTTP(w, req.WithContext(ctx))
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
