package bridge

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant"
)

// Browser access to tenant endpoints: CORS for the origins a tenant lists
// (settings.cors_origins) and Origin validation for every MCP request, the
// DNS-rebinding protection the MCP Streamable HTTP transport requires.
//
// A small handler rather than a CORS library: the allowed origins and the
// allowed request headers (settings.forward_headers) are per tenant and
// change live, a refused Origin must be answered 403 (CORS libraries only
// leave their headers off), and the answer for an origin a tenant does not
// list must be byte for byte the answer for a tenant that does not exist.

// corsPolicy is a tenant's browser access, resolved once per state.
type corsPolicy struct {
	origins      map[string]bool // canonical origins (tenant.CanonicalOrigin)
	allowHeaders string          // Access-Control-Allow-Headers of a preflight
}

// corsRequestHeaders are the request headers an MCP client sends that are
// not CORS-safelisted: the TypeScript SDK sends Authorization,
// Content-Type, Accept, mcp-session-id, mcp-protocol-version and
// last-event-id; 2026-07-28 clients also send Mcp-Method and Mcp-Name (and
// Mcp-Param-* headers, allowed by prefix in preflight).
const corsRequestHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name"

const (
	corsMethods       = "GET, POST, DELETE, OPTIONS"
	corsExposeHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"
	// corsMaxAge is how long a browser may cache a preflight: two hours,
	// Chromium's cap. An origin removed from the list is refused on its
	// next request all the same; only the preflight is cached.
	corsMaxAge = "7200"
)

// newCORSPolicy resolves s's origins; nil when it lists none.
func newCORSPolicy(s tenant.Settings) *corsPolicy {
	if len(s.CORSOrigins) == 0 {
		return nil
	}
	p := &corsPolicy{origins: make(map[string]bool, len(s.CORSOrigins)), allowHeaders: corsRequestHeaders}
	for _, o := range s.CORSOrigins {
		if c, err := tenant.CanonicalOrigin(o); err == nil {
			p.origins[c] = true
		}
	}
	for _, h := range s.ForwardHeaders {
		if !strings.Contains(", "+strings.ToLower(corsRequestHeaders)+",", ", "+strings.ToLower(h)+",") {
			p.allowHeaders += ", " + h
		}
	}
	return p
}

func (p *corsPolicy) allows(origin string) bool { return p != nil && p.origins[origin] }

// corsPolicyOf returns the policy of tenant id when it is active; an
// inactive or unknown tenant lists no origin.
func (r *Runtime) corsPolicyOf(id string) *corsPolicy {
	l := r.lookup(id)
	if l == nil {
		return nil
	}
	if st := l.state.Load(); st != nil {
		return st.cors
	}
	return nil
}

// sameOrigin reports whether origin is Portico's own public URL (the
// dashboard calling a tenant endpoint from its playground). Without a
// public URL it is the origin the request itself names with Host, as in
// local tests; `portico serve` always has one.
func (r *Runtime) sameOrigin(req *http.Request, origin string) bool {
	if o, _ := r.publicOrigin.Load().(string); o != "" {
		return origin == o
	}
	own := originOf(r.baseURL(req))
	return own != "" && origin == own
}

// checkOrigin judges the Origin of a request to tenant id's endpoint before
// anything else (no credential is needed to be told no). It returns false
// when it has answered: a refused Origin (403), or a preflight (OPTIONS),
// which is answered here without authentication. An allowed cross-origin
// request gets its CORS headers here, so even a 401 is readable by the
// page (WWW-Authenticate starts the OAuth flow). A request without Origin
// (not from a browser) passes unchanged.
func (r *Runtime) checkOrigin(w http.ResponseWriter, req *http.Request, id string) bool {
	origin := req.Header.Get("Origin")
	if origin == "" && req.Method != http.MethodOptions {
		return true
	}
	h := w.Header()
	var listed bool
	if origin != "" {
		h.Add("Vary", "Origin")
		pol := r.corsPolicyOf(id)
		listed = pol.allows(origin)
		if !listed && !r.sameOrigin(req, origin) {
			refuseOrigin(w, id, origin)
			return false
		}
		if listed {
			AllowCORS(w, req, origin, pol.allowHeaders+paramHeaders(req))
		}
	}
	if req.Method != http.MethodOptions {
		return true
	}
	h.Set("Allow", corsMethods)
	w.WriteHeader(http.StatusNoContent)
	return false
}

// AllowCORS writes the CORS headers that let a page of origin, already
// judged allowed, call an MCP endpoint: on a preflight the methods,
// allowHeaders (when not empty) and the cache time; on any other request
// the response headers the page may read. The caller adds Vary: Origin and
// answers the preflight's status.
func AllowCORS(w http.ResponseWriter, req *http.Request, origin, allowHeaders string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	if req.Method != http.MethodOptions {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return
	}
	h.Set("Access-Control-Allow-Methods", corsMethods)
	if allowHeaders != "" {
		h.Set("Access-Control-Allow-Headers", allowHeaders)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.Add("Vary", "Access-Control-Request-Headers")
}

// requestedHeaders calls fn with each well-formed header name (at most 128
// bytes) a preflight's Access-Control-Request-Headers asks for.
func requestedHeaders(req *http.Request, fn func(name string)) {
	for _, v := range req.Header.Values("Access-Control-Request-Headers") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); len(f) <= 128 && validHeaderName(f) {
				fn(f)
			}
		}
	}
}

// RequestedHeaders is every well-formed header name a preflight asks for,
// comma-separated: what a server that allows any header echoes.
func RequestedHeaders(req *http.Request) string {
	var names []string
	requestedHeaders(req, func(f string) { names = append(names, f) })
	return strings.Join(names, ", ")
}

// paramHeaders lists the Mcp-Param-* headers a preflight asks for (the
// 2026-07-28 x-mcp-header mapping names them after tool arguments), which
// no fixed list can name.
func paramHeaders(req *http.Request) string {
	var b strings.Builder
	requestedHeaders(req, func(f string) {
		if len(f) > len("mcp-param-") && strings.EqualFold(f[:len("mcp-param-")], "mcp-param-") {
			b.WriteString(", ")
			b.WriteString(f)
		}
	})
	return b.String()
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// refuseOrigin answers 403 to a request whose Origin the tenant does not
// list. It reads the same for every tenant id, active or not, so it tells
// nothing about which tenants exist.
func refuseOrigin(w http.ResponseWriter, id, origin string) {
	msg := "Origin " + origin + " may not call this MCP endpoint: requests from browser pages must come from an origin listed in the tenant's settings.cors_origins " +
		"(PUT /api/v1/tenants/" + id + "/settings with \"cors_origins\": [\"" + origin + "\"]); clients that are not browsers send no Origin"
	errorbody.Write(w, http.StatusForbidden, "origin_not_allowed", msg, map[string]any{"origin": origin, "setting": "settings.cors_origins"})
}

// SameOriginOnly guards an MCP endpoint that no page of another origin may
// call (Portico's own /mcp, whose API keys act on every tenant): a request
// whose Origin is not publicURL's own is refused 403 before h runs, and an
// OPTIONS is answered 204 without CORS headers. Requests without Origin
// (clients that are not browsers) reach h unchanged.
func SameOriginOnly(publicURL string, h http.Handler) http.Handler {
	own := originOf(publicURL)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if o := req.Header.Get("Origin"); o != "" && o != own {
			msg := "Origin " + o + " may not call Portico's /mcp: it takes requests from browser pages of Portico's own origin (" + own +
				") only; call it from an MCP client that is not a browser (which sends no Origin), or give a browser app a tenant endpoint (/t/<id>/mcp) whose settings.cors_origins lists it"
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "origin_not_allowed", "message": msg,
				"details": map[string]any{"origin": o}}})
			return
		}
		if req.Method == http.MethodOptions {
			w.Header().Set("Allow", corsMethods)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, req)
	})
}
