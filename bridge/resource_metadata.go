package bridge

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-mcp/portico/tenant"
)

// ProtectedResourcePrefix is where each tenant endpoint's OAuth 2.0
// protected resource metadata (RFC 9728) lives: the prefix followed by the
// endpoint's path, /t/<id>/mcp.
const ProtectedResourcePrefix = "/.well-known/oauth-protected-resource"

// SetPublicURL sets how clients reach Portico (PORTICO_PUBLIC_URL), from
// which resource identifiers and metadata URLs are built. Until it is set
// they are built from each request's Host.
func (r *Runtime) SetPublicURL(u string) {
	r.publicURL.Store(strings.TrimRight(u, "/"))
	r.publicOrigin.Store(originOf(u))
}

// originOf returns the origin of URL u, "" when it has none.
func originOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	o, _ := tenant.CanonicalOrigin(pu.Scheme + "://" + pu.Host)
	return o
}

// baseURL returns the public URL, or one built from req.
func (r *Runtime) baseURL(req *http.Request) string {
	if u, _ := r.publicURL.Load().(string); u != "" {
		return u
	}
	scheme := "http"
	if req.TLS != nil || strings.EqualFold(req.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

// resourceMetadataURL is the RFC 9728 metadata URL of tenant id's endpoint,
// as a 401's WWW-Authenticate names it.
func (r *Runtime) resourceMetadataURL(req *http.Request, id string) string {
	return r.baseURL(req) + ProtectedResourcePrefix + "/t/" + id + "/mcp"
}

// challenge sets the WWW-Authenticate header of a 401 from tenant id's
// endpoint: Bearer, with the metadata URL (RFC 9728 §5.1) so an MCP client
// can discover how to authorize, and an error code when a token was given.
func (r *Runtime) challenge(w http.ResponseWriter, req *http.Request, id, errCode string) {
	v := `Bearer realm="portico", resource_metadata="` + r.resourceMetadataURL(req, id) + `"`
	if errCode != "" {
		v += `, error="` + errCode + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
}

// ResourceMetadata serves the RFC 9728 metadata of every tenant endpoint,
// at ProtectedResourcePrefix + /t/<id>/mcp (and a toolset's URL).
func (r *Runtime) ResourceMetadata() http.Handler { return http.HandlerFunc(r.serveResourceMetadata) }

// serveResourceMetadata answers GET /.well-known/oauth-protected-resource/t/<id>/mcp.
// It answers alike for every well-formed id, active, inactive or unknown:
// it is read without a credential, so it must not tell which tenants exist
// (everything in it follows from the URL). It names the operator's external authorization
// server when one is configured, else Portico's own when it runs one;
// with neither, it names none and the tenant's MCP tokens are the credential.
func (r *Runtime) serveResourceMetadata(w http.ResponseWriter, req *http.Request) {
	// A toolset's endpoint is a path below the tenant's, whose resource
	// (and so whose OAuth grants) it shares: RFC 9728 clients accept a
	// resource that is a prefix of the URL they connect to.
	id, _, ok := tenantFromPath(strings.TrimPrefix(req.URL.Path, ProtectedResourcePrefix))
	if !ok || !wellFormedID(id) {
		writeError(w, http.StatusNotFound, "not_found", "no protected resource here: tenant endpoints are /t/<id>/mcp")
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "protected resource metadata is read with GET")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*") // browser-based clients discover it too
	doc := map[string]any{
		"resource":                 r.baseURL(req) + "/t/" + id + "/mcp",
		"resource_name":            "Portico MCP endpoint of tenant " + id,
		"bearer_methods_supported": []string{"header"},
	}
	switch a := r.opts.ExternalAuth; {
	case a != nil:
		doc["authorization_servers"] = []string{a.Issuer()}
	case r.opts.AuthorizationServer:
		// Portico's own: RFC 8414 metadata at /.well-known/oauth-authorization-server.
		doc["authorization_servers"] = []string{r.baseURL(req)}
		doc["scopes_supported"] = []string{"mcp"}
	}
	json.NewEncoder(w).Encode(doc)
}

// wellFormedID reports whether id could be a tenant id: 1-64 lowercase
// letters, digits and dashes (ids are made of crypto/rand.Text, lowercased).
func wellFormedID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
