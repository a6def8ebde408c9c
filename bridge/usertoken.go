package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// LinkedStore is where users' linked upstream accounts live
// (tenant.Store).
type LinkedStore interface {
	LiveCredentials(ctx context.Context, tenantID string) ([]tenant.LiveCredential, error)
	LinkedAccountTokens(ctx context.Context, tenantID, credential, userID string) (tenant.LinkedTokens, error)
	RefreshLinkedAccount(ctx context.Context, tenantID, credential, userID string, refresh func(tenant.LinkedTokens) (tenant.LinkedTokens, bool, error)) (tenant.LinkedTokens, error)
}

var _ LinkedStore = (*pgstore.Store)(nil)

// linkedMaxAge bounds how long a replica trusts a cached user token
// without reading the database, should an unlink notification be lost
// (the listener's resync also drops every cached user token).
const linkedMaxAge = 5 * time.Minute

// LinkedAccounts sends each user's own upstream token on that user's calls
// (credentials of type oauth2_authorization_code) and runs the link flow's
// provider side: the authorize URL and the code exchange (authorization
// code + PKCE, RFC 6749 §4.1, RFC 7636).
//
// A replica caches the access tokens it read or refreshed, per tenant,
// credential and user; a link, unlink or revocation anywhere drops the
// entry on every replica (a linked_account change through LISTEN/NOTIFY).
// Concurrent calls of one user that find no fresh token share one read
// (and, when the token expired, one refresh); replicas refreshing the same
// user take turns on the database row, so a provider that rotates refresh
// tokens sees each one used once.
type LinkedAccounts struct {
	store     LinkedStore
	log       *slog.Logger
	now       func() time.Time
	client    atomic.Pointer[http.Client] // token requests, through the outbound guard (New sets it)
	publicURL atomic.Value                // string: where link URLs point

	mu      sync.Mutex
	m       map[userKey]userToken
	flights map[userKey]*userFlight
	// forgets counts invalidations: a read that started before one may
	// hold a token since unlinked, so its answer is not cached.
	forgets uint64
}

type userKey struct{ tenant, cred, user string }

type userToken struct {
	access string
	expiry time.Time // zero: the provider gave no expires_in
	loaded time.Time
}

type userFlight struct {
	refused string // the token this flight replaces, if any
	done    chan struct{}
	tok     userToken
	err     error
}

// NewLinkedAccounts returns the linked accounts kept in store. Link URLs
// point at publicURL (SetPublicURL once the listener knows it).
func NewLinkedAccounts(store LinkedStore, publicURL string, log *slog.Logger) *LinkedAccounts {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	la := &LinkedAccounts{store: store, log: log, now: time.Now, m: make(map[userKey]userToken), flights: make(map[userKey]*userFlight)}
	la.SetPublicURL(publicURL)
	return la
}

// SetPublicURL sets Portico's public URL, the prefix of link URLs.
func (la *LinkedAccounts) SetPublicURL(u string) { la.publicURL.Store(strings.TrimRight(u, "/")) }

// LinkURL is the dashboard page where a user links their account for
// credential cred of tenant tenantID.
func (la *LinkedAccounts) LinkURL(tenantID, cred string) string {
	base, _ := la.publicURL.Load().(string)
	return base + "/tenants/" + url.PathEscape(tenantID) + "/accounts?link=" + url.QueryEscape(cred)
}

func (la *LinkedAccounts) httpClient() *http.Client {
	if c := la.client.Load(); c != nil {
		return c
	}
	return http.DefaultClient // only before New wired the guard; never on a serving path
}

var (
	errNotLinked = errors.New("not linked")
	errRelink    = errors.New("the provider refused the stored refresh token")
)

// fresh reports whether t may be sent at now: not within 30 s of its
// expiry, and read from the database less than linkedMaxAge ago.
func (t userToken) fresh(now time.Time) bool {
	if now.Sub(t.loaded) >= linkedMaxAge {
		return false
	}
	return t.expiry.IsZero() || now.Before(t.expiry.Add(-30*time.Second))
}

// token returns user's access token for credential c of tenant tenantID.
// refused, when not empty, is a token the upstream just answered 401 to:
// it is refreshed unless another call already replaced it.
func (la *LinkedAccounts) token(ctx context.Context, tenantID string, c tenant.LiveCredential, user, refused string) (userToken, error) {
	key := userKey{tenantID, c.Name, user}
	la.mu.Lock()
	if e, ok := la.m[key]; ok && e.fresh(la.now()) && (refused == "" || e.access != refused) {
		la.mu.Unlock()
		return e, nil
	}
	// A call whose token was refused joins only a flight that replaces
	// that same token: one that merely reads might bring it back.
	f := la.flights[key]
	if f == nil || refused != "" && f.refused != refused {
		f = &userFlight{refused: refused, done: make(chan struct{})}
		la.flights[key] = f
		go la.fetch(key, c, refused, f, la.forgets)
	}
	la.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return userToken{}, ctx.Err()
	}
}

// fetch reads the user's tokens and refreshes them when they expired (or
// were refused), detached from the calling request: other calls wait for
// the same answer.
func (la *LinkedAccounts) fetch(key userKey, c tenant.LiveCredential, refused string, f *userFlight, forgets uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenFetchTimeout)
	defer cancel()
	f.tok, f.err = la.load(ctx, key, c, refused)
	la.mu.Lock()
	if la.flights[key] == f {
		delete(la.flights, key)
	}
	if f.err == nil && la.forgets == forgets {
		la.m[key] = f.tok
	}
	la.mu.Unlock()
	close(f.done)
}

func (la *LinkedAccounts) needsRefresh(t tenant.LinkedTokens, refused string) bool {
	if refused != "" && t.AccessToken.Reveal() == refused {
		return true
	}
	return !t.Expiry.IsZero() && !la.now().Before(t.Expiry.Add(-30*time.Second))
}

func (la *LinkedAccounts) load(ctx context.Context, key userKey, c tenant.LiveCredential, refused string) (userToken, error) {
	t, err := la.store.LinkedAccountTokens(ctx, key.tenant, key.cred, key.user)
	if errors.Is(err, tenant.ErrNotFound) {
		return userToken{}, errNotLinked
	}
	if err != nil {
		return userToken{}, err
	}
	if la.needsRefresh(t, refused) {
		if t.RefreshToken == "" {
			return userToken{}, fmt.Errorf("%w: the access token expired and the provider gave no refresh token", errRelink)
		}
		t, err = la.store.RefreshLinkedAccount(ctx, key.tenant, key.cred, key.user, func(cur tenant.LinkedTokens) (tenant.LinkedTokens, bool, error) {
			if !la.needsRefresh(cur, refused) {
				return cur, false, nil // another call or replica refreshed it meanwhile
			}
			return la.refresh(ctx, c, cur)
		})
		if errors.Is(err, tenant.ErrNotFound) {
			return userToken{}, errNotLinked
		}
		if err != nil {
			return userToken{}, err
		}
	}
	return userToken{access: t.AccessToken.Reveal(), expiry: t.Expiry, loaded: la.now()}, nil
}

// linkConfig is the oauth2 configuration of credential c.
func linkConfig(c tenant.LiveCredential, redirectURI string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if c.AuthMethod == tenant.AuthMethodPost {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.Value.Reveal(),
		Endpoint:     oauth2.Endpoint{AuthURL: c.AuthorizeURL, TokenURL: c.TokenURL, AuthStyle: style},
		RedirectURL:  redirectURI,
		Scopes:       c.Scopes,
	}
}

// linkedFrom turns a token response into what is stored. The scopes are
// the granted ones when the provider names them (RFC 6749 §5.1), else the
// requested ones.
func linkedFrom(tok *oauth2.Token, requested []string) tenant.LinkedTokens {
	out := tenant.LinkedTokens{AccessToken: tenant.Secret(tok.AccessToken), RefreshToken: tenant.Secret(tok.RefreshToken), TokenType: tok.Type(), Expiry: tok.Expiry}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		out.Scopes = strings.Fields(s)
	} else {
		out.Scopes = append([]string{}, requested...)
	}
	return out
}

func (la *LinkedAccounts) refresh(ctx context.Context, c tenant.LiveCredential, cur tenant.LinkedTokens) (tenant.LinkedTokens, bool, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, la.httpClient())
	src := linkConfig(c, "").TokenSource(ctx, &oauth2.Token{RefreshToken: cur.RefreshToken.Reveal(), Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return tenant.LinkedTokens{}, false, fmt.Errorf("%w (invalid_grant)", errRelink)
		}
		return tenant.LinkedTokens{}, false, err
	}
	if tok.AccessToken == "" {
		return tenant.LinkedTokens{}, false, errors.New("the token endpoint answered without an access_token")
	}
	next := linkedFrom(tok, cur.Scopes)
	if _, ok := tok.Extra("scope").(string); !ok {
		next.Scopes = cur.Scopes
	}
	return next, true, nil
}

// forget drops the cached token of a linked_account change (ref
// "<credential>/<user>", tenant.LinkedRef).
func (la *LinkedAccounts) forget(tenantID, ref string) {
	cred, user, _ := strings.Cut(ref, "/")
	la.mu.Lock()
	la.forgets++
	delete(la.m, userKey{tenantID, cred, user})
	la.mu.Unlock()
}

// forgetTenant drops every cached user token of tenant tenantID: its
// credentials may have changed.
func (la *LinkedAccounts) forgetTenant(tenantID string) {
	la.mu.Lock()
	la.forgets++
	for k := range la.m {
		if k.tenant == tenantID {
			delete(la.m, k)
		}
	}
	la.mu.Unlock()
}

// forgetAll drops every cached user token: notifications may have been
// lost while the listener was away.
func (la *LinkedAccounts) forgetAll() {
	la.mu.Lock()
	la.forgets++
	clear(la.m)
	la.mu.Unlock()
}

// delegated returns credential name of tenant tenantID, decrypted, when it
// is of type oauth2_authorization_code.
func (la *LinkedAccounts) delegated(ctx context.Context, tenantID, name string) (tenant.LiveCredential, error) {
	creds, err := la.store.LiveCredentials(ctx, tenantID)
	if err != nil {
		return tenant.LiveCredential{}, err
	}
	for _, c := range creds {
		if c.Name != name {
			continue
		}
		if c.Type != tenant.CredOAuth2AuthorizationCode {
			var inv tenant.InvalidError
			inv.Add("credential", fmt.Sprintf("credential %s is of type %s: only oauth2_authorization_code credentials are linked per user", name, c.Type))
			return tenant.LiveCredential{}, &inv
		}
		return c, nil
	}
	return tenant.LiveCredential{}, fmt.Errorf("credential %s of tenant %s: %w", name, tenantID, tenant.ErrNotFound)
}

// AuthorizeURL is the provider's authorization URL that starts linking
// credential name of tenant tenantID: state, the S256 challenge of
// verifier, and the redirect URI the provider sends the browser back to.
func (la *LinkedAccounts) AuthorizeURL(ctx context.Context, tenantID, name, state, verifier, redirectURI string) (string, error) {
	c, err := la.delegated(ctx, tenantID, name)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline}
	if c.Audience != "" {
		opts = append(opts, oauth2.SetAuthURLParam("audience", c.Audience))
	}
	return linkConfig(c, redirectURI).AuthCodeURL(state, opts...), nil
}

// Exchange trades the code the provider sent back for the user's tokens.
// Its errors are sentences for the user: the provider's error code,
// never the client secret.
func (la *LinkedAccounts) Exchange(ctx context.Context, tenantID, name, code, verifier, redirectURI string) (tenant.LinkedTokens, error) {
	c, err := la.delegated(ctx, tenantID, name)
	if err != nil {
		return tenant.LinkedTokens{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, la.httpClient())
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	tok, err := linkConfig(c, redirectURI).Exchange(ctx, code, opts...)
	if err != nil {
		return tenant.LinkedTokens{}, describeTokenError(c, "exchange the authorization code", err)
	}
	if tok.AccessToken == "" {
		return tenant.LinkedTokens{}, fmt.Errorf("credential %q: the token endpoint answered without an access_token", c.Name)
	}
	return linkedFrom(tok, c.Scopes), nil
}

// describeTokenError is a token endpoint failure as a sentence: the
// credential, the endpoint without its query, and the provider's error
// code, with the client secret redacted.
func describeTokenError(c tenant.LiveCredential, what string, err error) error {
	cc := &clientCred{name: c.Name, secret: c.Value.Reveal()}
	cc.conf.TokenURL = c.TokenURL
	endpoint := c.TokenURL
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
		msg := fmt.Sprintf("credential %q: the token endpoint %s refused to %s: %s", c.Name, endpoint, what, code)
		if d := cc.redact(re.ErrorDescription); d != "" {
			msg += " (" + quote([]byte(d), 300) + ")"
		}
		return errors.New(msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("credential %q: could not %s at the token endpoint %s: %s", c.Name, what, endpoint, cc.redact(err.Error()))
}

// usedUserToken is a user's token one upstream request carried.
type usedUserToken struct {
	cred   string
	access string
}

// applyUserTokens sets, for every oauth2_authorization_code credential of
// the tenant, the calling user's access token on req. refused are tokens
// the upstream just answered 401 to: they are refreshed first. A call
// without a user, or by a user who has not linked, fails with a sentence
// that says what to do; nothing is sent.
func (l *live) applyUserTokens(ctx context.Context, req *http.Request, st *state, who caller, refused []usedUserToken) ([]usedUserToken, error) {
	var used []usedUserToken
	for _, c := range st.creds {
		if c.Type != tenant.CredOAuth2AuthorizationCode {
			continue
		}
		if who.user == "" {
			return nil, fmt.Errorf("credential %q acts for each user with their own account at %s (type oauth2_authorization_code), and this call came with a static MCP token, which belongs to no user. "+
				"Connect with a user-bound token instead: sign in through Portico's OAuth authorization server (your MCP client's authenticate or connect flow), then call again. Nothing was sent to the service",
				c.Name, providerName(c))
		}
		if l.linked == nil {
			return nil, fmt.Errorf("credential %q needs each user's linked account, and this Portico keeps no linked accounts; an operator must check its configuration. Nothing was sent to the service", c.Name)
		}
		stale := ""
		for _, r := range refused {
			if r.cred == c.Name {
				stale = r.access
			}
		}
		tok, err := l.linked.token(ctx, st.tenant.ID, c, who.user, stale)
		if err != nil {
			return nil, l.linked.describe(ctx, st.tenant.ID, c, err)
		}
		h := c.Header
		if h == "" {
			h = "Authorization"
		}
		req.Header.Set(h, "Bearer "+tok.access)
		used = append(used, usedUserToken{c.Name, tok.access})
	}
	return used, nil
}

// describe turns a failure to get a user's token into a tool error.
func (la *LinkedAccounts) describe(ctx context.Context, tenantID string, c tenant.LiveCredential, err error) error {
	link := la.LinkURL(tenantID, c.Name)
	switch {
	case errors.Is(err, errNotLinked):
		return &linkRequired{cred: c.Name, url: link,
			msg:    fmt.Sprintf("credential %q sends each user's own %s account, and you have not linked yours. Open %s to link it, then call again. Nothing was sent to the service", c.Name, providerName(c), link),
			prompt: fmt.Sprintf("Link your %s account so the service's tools can act as you (credential %q), then call again.", providerName(c), c.Name)}
	case errors.Is(err, errRelink):
		return &linkRequired{cred: c.Name, url: link,
			msg:    fmt.Sprintf("credential %q: your linked %s account needs linking again (%v). Open %s to link it, then call again. Nothing was sent to the service", c.Name, providerName(c), err, link),
			prompt: fmt.Sprintf("Your %s account needs linking again so the service's tools can act as you (credential %q); link it, then call again.", providerName(c), c.Name)}
	case ctx.Err() != nil:
		return fmt.Errorf("credential %q: gave up waiting for your access token: %w", c.Name, ctx.Err())
	}
	var re *oauth2.RetrieveError
	var ue *url.Error
	if errors.As(err, &re) || errors.As(err, &ue) {
		return fmt.Errorf("%w. Nothing was sent to the service; retry later", describeTokenError(c, "refresh your access token", err))
	}
	la.log.Error("linked account unreadable", "tenant", tenantID, "credential", c.Name, "err", err)
	return fmt.Errorf("credential %q: could not read your linked account; nothing was sent to the service. Retry; if it persists, an operator should check the log", c.Name)
}

// linkRequired is a call that needs its user to link (or link again) an
// upstream account first. Its text is the tool error every client gets;
// a client that declared URL-mode elicitation is also handed url to open
// (elicit.go), with prompt as the elicitation's message.
type linkRequired struct {
	cred, url   string
	msg, prompt string
}

func (e *linkRequired) Error() string { return e.msg }

// providerName names the provider of credential c for people: the host of
// its authorization endpoint.
func providerName(c tenant.LiveCredential) string {
	if u, err := url.Parse(c.AuthorizeURL); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return c.Name
}
