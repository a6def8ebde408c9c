package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/portico-mcp/portico/tenant"
)

// tokenFetchTimeout bounds one request to a token endpoint. It is not the
// calling tool's timeout: the fetch is shared, and one impatient caller
// must not fail it for the others.
const tokenFetchTimeout = 15 * time.Second

// clientCred fetches and caches the access token of one
// oauth2_client_credentials credential of one tenant (RFC 6749 §4.4).
// Concurrent calls that find no valid token share one fetch; the token is
// kept until shortly before it expires (fresh).
type clientCred struct {
	name   string
	key    string // what the credential was built from, hashed (sameAs)
	header string // where the token goes; "" is Authorization
	secret string // only to redact it from a token endpoint's answer
	conf   clientcredentials.Config
	client *http.Client // through the outbound guard
	now    func() time.Time

	mu      sync.Mutex
	tok     *oauth2.Token
	expires time.Time     // when tok expires by c.now's clock; zero: no expires_in
	life    time.Duration // how long tok was issued for
	flight  *tokenFetch   // the fetch in progress, if any
}

type tokenFetch struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// newClientCred builds the token source of credential c. Token requests go
// through client, which must dial through the outbound guard.
func newClientCred(c tenant.LiveCredential, client *http.Client) *clientCred {
	secret := c.Value.Reveal()
	conf := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: secret,
		TokenURL:     c.TokenURL,
		Scopes:       c.Scopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	if c.AuthMethod == tenant.AuthMethodPost {
		conf.AuthStyle = oauth2.AuthStyleInParams
	}
	if c.Audience != "" {
		conf.EndpointParams = url.Values{"audience": {c.Audience}}
	}
	return &clientCred{name: c.Name, key: clientCredKey(c), header: c.Header, secret: secret, conf: conf, client: client, now: time.Now}
}

// fresh reports whether the cached token may still be sent at now: until a
// quarter of its lifetime, at most 30 s, before it expires, so a call does
// not reach the upstream with a token that expires on the way. A token
// without expires_in is kept until the upstream refuses it.
func (c *clientCred) fresh(now time.Time) bool {
	if c.tok == nil {
		return false
	}
	if c.expires.IsZero() {
		return true
	}
	margin := max(0, min(30*time.Second, c.life/4))
	return now.Before(c.expires.Add(-margin))
}

// clientCredKey identifies everything a token depends on, so a rebuilt
// state keeps a cached token exactly when the credential did not change.
func clientCredKey(c tenant.LiveCredential) string {
	h := sha256.New()
	for _, s := range append([]string{c.Name, c.Header, c.TokenURL, c.ClientID, c.Audience, c.AuthMethod, c.Value.Reveal()}, c.Scopes...) {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// token returns a valid access token, fetching one when none is cached.
// Callers that arrive while a fetch runs wait for that fetch.
func (c *clientCred) token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	if c.fresh(c.now()) {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	f := c.flight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		c.flight = f
		go c.fetch(f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *clientCred) fetch(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenFetchTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	// clientcredentials turns expires_in into an Expiry by the wall clock;
	// the lifetime it implies is kept on c.now's.
	start, wall := c.now(), time.Now()
	tok, err := c.conf.Token(ctx)
	if err == nil && tok.AccessToken == "" {
		tok, err = nil, errors.New("the token endpoint answered without an access_token")
	}
	c.mu.Lock()
	if err == nil {
		c.tok, c.expires, c.life = tok, time.Time{}, 0
		if !tok.Expiry.IsZero() {
			c.life = tok.Expiry.Sub(wall)
			c.expires = start.Add(c.life)
		}
	}
	c.flight = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// invalidate forgets tok if it is still the cached token: the upstream
// refused it. Many calls refused with the same token cause one new fetch.
func (c *clientCred) invalidate(tok *oauth2.Token) {
	c.mu.Lock()
	if c.tok == tok {
		c.tok = nil
	}
	c.mu.Unlock()
}

// apply sets tok on req.
func (c *clientCred) apply(req *http.Request, tok *oauth2.Token) {
	h := c.header
	if h == "" {
		h = "Authorization"
	}
	req.Header.Set(h, tok.Type()+" "+tok.AccessToken)
}

// describe turns a failed fetch into a sentence for the agent and the
// tenant admin: the credential, the token endpoint (without its query) and
// the endpoint's error code, never the secret.
func (c *clientCred) describe(err error) error {
	endpoint := c.conf.TokenURL
	if u, perr := url.Parse(endpoint); perr == nil {
		u.RawQuery, u.Fragment = "", ""
		endpoint = u.String()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = fmt.Sprintf("HTTP %d %s", re.Response.StatusCode, http.StatusText(re.Response.StatusCode))
		}
		msg := fmt.Sprintf("credential %q: the token endpoint %s refused to issue an access token: %s", c.name, endpoint, code)
		if d := c.redact(re.ErrorDescription); d != "" {
			msg += " (" + quote([]byte(d), 300) + ")"
		}
		return errors.New(msg + ". Nothing was sent to the service; a tenant admin must correct the credential's client_id, secret or scopes.")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("credential %q: could not get an access token from the token endpoint %s: %s. Nothing was sent to the service; retry later", c.name, endpoint, c.redact(err.Error()))
}

// redact removes the client secret from text a token endpoint wrote.
func (c *clientCred) redact(s string) string {
	if c.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, c.secret, "[REDACTED]")
}

// usedToken is a token one upstream request carried.
type usedToken struct {
	src *clientCred
	tok *oauth2.Token
}

// clientCreds builds the token sources of a tenant's credentials, reusing
// the ones of prev whose credential did not change, so a settings change
// keeps the cached tokens.
func (r *Runtime) clientCreds(creds []tenant.LiveCredential, prev *state) []*clientCred {
	var out []*clientCred
	for _, c := range creds {
		if c.Type != tenant.CredOAuth2ClientCredentials {
			continue
		}
		key := clientCredKey(c)
		var reuse *clientCred
		if prev != nil {
			for _, p := range prev.clientCreds {
				if p.key == key {
					reuse = p
				}
			}
		}
		if reuse == nil {
			reuse = newClientCred(c, r.GuardedClient(tokenFetchTimeout))
		}
		out = append(out, reuse)
	}
	return out
}

// applyTokens sets the access token of every client-credentials credential
// on req and returns which tokens it used.
func applyTokens(ctx context.Context, req *http.Request, srcs []*clientCred) ([]usedToken, error) {
	if len(srcs) == 0 {
		return nil, nil
	}
	used := make([]usedToken, 0, len(srcs))
	for _, s := range srcs {
		tok, err := s.token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("credential %q: gave up waiting for an access token: %w", s.name, ctx.Err())
			}
			return nil, s.describe(err)
		}
		s.apply(req, tok)
		used = append(used, usedToken{s, tok})
	}
	return used, nil
}

// TestCredential asks the token endpoint of tenant tenantID's credential
// name for a token, as a call would, and reports what it answered. The
// token is neither kept nor shown; the live tenant's cache is untouched.
// An oauth2_authorization_code credential is checked without a token
// (testAuthorizationCode): for user userID ("" for none), with
// redirectURI as the link flow's.
func (r *Runtime) TestCredential(ctx context.Context, tenantID, name, userID, redirectURI string) (tenant.CredentialTest, error) {
	creds, err := r.store.LiveCredentials(ctx, tenantID)
	if err != nil {
		return tenant.CredentialTest{}, fmt.Errorf("test credential %s: %w", name, err)
	}
	for _, c := range creds {
		if c.Name != name {
			continue
		}
		if c.Type == tenant.CredOAuth2AuthorizationCode {
			return r.testAuthorizationCode(ctx, tenantID, c, userID, redirectURI)
		}
		if c.Type != tenant.CredOAuth2ClientCredentials {
			var inv tenant.InvalidError
			inv.Add("type", fmt.Sprintf("credential %s is of type %s: only OAuth2 credentials talk to an endpoint that can be tested; a static value is checked by a tool call", name, c.Type))
			return tenant.CredentialTest{}, &inv
		}
		cc := newClientCred(c, r.GuardedClient(tokenFetchTimeout))
		tok, err := cc.token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return tenant.CredentialTest{}, ctx.Err()
			}
			return tenant.CredentialTest{Error: cc.describe(err).Error()}, nil
		}
		res := tenant.CredentialTest{OK: true, TokenType: tok.Type()}
		if !tok.Expiry.IsZero() {
			res.ExpiresIn = int(time.Until(tok.Expiry).Round(time.Second).Seconds())
		}
		return res, nil
	}
	return tenant.CredentialTest{}, fmt.Errorf("credential %s of tenant %s: %w", name, tenantID, tenant.ErrNotFound)
}
