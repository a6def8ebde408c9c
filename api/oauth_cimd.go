package api

import (
	"context"
	"encoding/json"
	"errors"

	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// Client ID Metadata Documents: a client whose client_id is an https URL
// publishes its metadata at that URL, so it needs no registration. Portico
// fetches the document (through the guarded client cmd passes: internal
// addresses are refused unless the operator allows them), checks it and
// keeps the answer for a few minutes.
const (
	cimdTTL        = 5 * time.Minute  // a good document is reused this long
	cimdFailureTTL = 30 * time.Second // a bad one is not fetched again sooner
	cimdMaxBytes   = 16 << 10
	cimdMaxEntries = 1000
)

type cimdCache struct {
	client *http.Client
	mu     sync.Mutex
	m      map[string]cimdEntry
	now    func() time.Time
}

type cimdEntry struct {
	c     tenant.OAuthClient
	err   error
	until time.Time
}

func newCIMDCache(client *http.Client) *cimdCache {
	// Never follow a redirect: the document must live at the client_id URL.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.Timeout == 0 || c.Timeout > 10*time.Second {
		c.Timeout = 5 * time.Second
	}
	return &cimdCache{client: &c, m: map[string]cimdEntry{}, now: time.Now}
}

func (k *cimdCache) get(ctx context.Context, clientID string) (tenant.OAuthClient, error) {
	now := k.now()
	k.mu.Lock()
	e, ok := k.m[clientID]
	k.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.c, e.err
	}
	c, err := k.fetch(ctx, clientID)
	var oe *oauthError
	if err != nil && !errors.As(err, &oe) {
		return tenant.OAuthClient{}, err // our own failure (context ended): not the client's fault, not cached
	}
	ttl := cimdTTL
	if err != nil {
		ttl = cimdFailureTTL
	}
	k.mu.Lock()
	if len(k.m) >= cimdMaxEntries {
		clear(k.m)
	}
	k.m[clientID] = cimdEntry{c: c, err: err, until: now.Add(ttl)}
	k.mu.Unlock()
	return c, err
}

// checkCIMDURL says what is wrong with a client_id URL, or "".
func checkCIMDURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return "must be an https URL"
	case u.Path == "" || u.Path == "/":
		return "must have a path (the document's location)"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.User != nil:
		return "must not carry user information"
	case len(raw) > 2000:
		return "is too long"
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "must not have . or .. path segments"
		}
	}
	return ""
}

// cimdDocument is the part of a Client ID Metadata Document Portico reads.
type cimdDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ClientSecret            *string  `json:"client_secret"`
}

func (k *cimdCache) fetch(ctx context.Context, clientID string) (tenant.OAuthClient, error) {
	bad := func(format string, args ...any) (tenant.OAuthClient, error) {
		return tenant.OAuthClient{}, oauthErr("invalid_client", "client_id: the Client ID Metadata Document at %s "+format, append([]any{truncate(clientID, 200)}, args...)...)
	}
	if why := checkCIMDURL(clientID); why != "" {
		return tenant.OAuthClient{}, oauthErr("invalid_client", "client_id: a Client ID Metadata Document URL %s", why)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return bad("cannot be requested: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return tenant.OAuthClient{}, ctx.Err()
		}
		// The caller may be anyone (GET /oauth/authorize is unauthenticated):
		// socket and resolver details would make this a port scanner.
		return bad("could not be fetched (refused or unreachable)")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return bad("answered HTTP %d, want 200 (redirects are not followed)", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil {
		return bad("could not be read")
	}
	if len(b) > cimdMaxBytes {
		return bad("is larger than %d bytes", cimdMaxBytes)
	}
	var doc cimdDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		return bad("is not a JSON object: %v", err)
	}
	switch {
	case doc.ClientID != clientID:
		return bad("names client_id %q; it must equal the document's URL exactly", truncate(doc.ClientID, 200))
	case doc.ClientSecret != nil:
		return bad("holds a client_secret; a metadata document is public and must not")
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none":
		return bad("asks for token_endpoint_auth_method %q; this server supports only none (public clients with PKCE)", doc.TokenEndpointAuthMethod)
	}
	c, err := checkClientMetadata(doc.RedirectURIs, doc.ClientName, doc.ClientURI)
	if err != nil {
		var oe *oauthError
		errors.As(err, &oe)
		return bad("is invalid: %s", oe.Description)
	}
	c.ID = clientID
	if c.Name == "" {
		c.Name = req.URL.Host
	}
	return c, nil
}
