package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// LinkedAccountStore keeps users' linked upstream accounts and the link
// flows under way (*tenant.Store).
type LinkedAccountStore interface {
	Credentials(ctx context.Context, tenantID string) ([]tenant.Credential, error)
	CreateLinkRequest(ctx context.Context, r tenant.LinkRequest, ttl time.Duration) (state, browser string, err error)
	TakeLinkRequest(ctx context.Context, state, browser string) (tenant.LinkRequest, error)
	PutLinkedAccount(ctx context.Context, tenantID, credential, userID string, t tenant.LinkedTokens, actor string) error
	UnlinkAccount(ctx context.Context, tenantID, credential, userID, actor string) error
	LinkedAccounts(ctx context.Context, tenantID, userID string) ([]tenant.LinkedAccount, error)
}

var _ LinkedAccountStore = (*pgstore.Store)(nil)

// Linker runs the provider side of a link flow: the authorization URL and
// the code exchange, through the outbound guard (bridge.LinkedAccounts).
type Linker interface {
	AuthorizeURL(ctx context.Context, tenantID, name, state, verifier, redirectURI string) (string, error)
	Exchange(ctx context.Context, tenantID, name, code, verifier, redirectURI string) (tenant.LinkedTokens, error)
}

// LinkOptions turn on per-user delegated access: users link their own
// upstream accounts for credentials of type oauth2_authorization_code.
type LinkOptions struct {
	Store  LinkedAccountStore
	Linker Linker
}

// linkTTL is how long a started link flow may take: the user signs in at
// the provider and approves.
const linkTTL = 10 * time.Minute

// The link cookie binds a link flow to the browser that started it, so a
// provider's callback brought to another browser (an attacker sending a
// victim their own authorization link) completes nothing. It is Lax, not
// Strict like the session: it must come along on the provider's redirect.
const (
	linkCookie       = "portico_link"
	secureLinkCookie = "__Host-portico_link"
)

// linkCallbackPath is where providers send the browser back.
const linkCallbackPath = "/oauth/link/callback"

// connectedAccount is one oauth2_authorization_code credential of a tenant
// as the signed-in user sees it: the provider and whether they linked.
type connectedAccount struct {
	Credential string     `json:"credential"`
	Provider   string     `json:"provider"` // the authorization endpoint's host
	Scopes     []string   `json:"scopes"`   // requested by the credential
	Linked     bool       `json:"linked"`
	LinkedAt   *time.Time `json:"linked_at,omitempty"`
	Granted    []string   `json:"granted_scopes,omitempty"`
}

// connectedAccounts lists tenantID's delegated credentials with userID's links.
func connectedAccounts(ctx context.Context, st LinkedAccountStore, tenantID, userID string) ([]connectedAccount, error) {
	creds, err := st.Credentials(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	links, err := st.LinkedAccounts(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	out := []connectedAccount{}
	for _, c := range creds {
		if c.Type != tenant.CredOAuth2AuthorizationCode {
			continue
		}
		a := connectedAccount{Credential: c.Name, Provider: providerHost(c.AuthorizeURL), Scopes: nonNil(c.Scopes)}
		for _, l := range links {
			if l.Credential == c.Name {
				a.Linked, a.LinkedAt, a.Granted = true, &l.LinkedAt, l.Scopes
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func providerHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return raw
}

func handleConnectedAccounts(st LinkedAccountStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		out, err := connectedAccounts(c.Request().Context(), st, id, caller(c).user.ID)
		if err != nil {
			return explain(fmt.Errorf("list connected accounts of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"accounts": out})
	}
}

type linkStartRequest struct {
	// ReturnTo is the dashboard page to come back to: a path on Portico.
	ReturnTo string `json:"return_to"`
}

// safeReturn reports whether p is a path on this origin (not "//host",
// not a backslash trick, no scheme).
func safeReturn(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n\t") && len(p) <= 2048
}

// publicBase is Portico's public URL: the configured one, else the
// request's scheme and host.
func publicBase(c echo.Context, configured string) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	req := c.Request()
	scheme := "http"
	if req.TLS != nil || strings.EqualFold(req.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}

// handleLinkStart starts linking the signed-in user's account for a
// credential: it records the flow (state, PKCE verifier, browser nonce),
// sets the link cookie and answers the provider's authorization URL, where
// the dashboard sends the browser.
func handleLinkStart(lo *LinkOptions, baseURL string, so sessionOptions) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		p := caller(c)
		if p.session.ID == "" {
			return forbidden("linking an account needs you signed in to the dashboard in a browser: the provider sends that browser back to Portico")
		}
		var req linkStartRequest
		if c.Request().ContentLength != 0 {
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
		}
		if req.ReturnTo == "" {
			req.ReturnTo = "/tenants/" + url.PathEscape(id) + "/accounts"
		}
		if !safeReturn(req.ReturnTo) {
			var inv tenant.InvalidError
			inv.Add("return_to", "must be a path on Portico starting with a single /")
			return &inv
		}
		verifier := rand.Text() + rand.Text() // 52 characters of the PKCE alphabet (RFC 7636 §4.1)
		redirect := publicBase(c, baseURL) + linkCallbackPath
		ctx := c.Request().Context()
		state, browser, err := lo.Store.CreateLinkRequest(ctx, tenant.LinkRequest{TenantID: id, Credential: name, UserID: p.user.ID,
			Verifier: tenant.Secret(verifier), RedirectURI: redirect, ReturnTo: req.ReturnTo}, linkTTL)
		if err != nil {
			return explain(fmt.Errorf("start linking credential %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "credential %s of tenant %s was not found", name, id)
		}
		to, err := lo.Linker.AuthorizeURL(ctx, id, name, state, verifier, redirect)
		if err != nil {
			return explain(fmt.Errorf("start linking credential %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "credential %s of tenant %s was not found", name, id)
		}
		c.SetCookie(linkCookieFor(so, browser, int(linkTTL.Seconds())))
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, map[string]string{"authorize_url": to})
	}
}

func linkCookieFor(so sessionOptions, value string, maxAge int) *http.Cookie {
	name := linkCookie
	if so.secure {
		name = secureLinkCookie
	}
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: so.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

// handleLinkCallback is where the provider sends the browser back with a
// code (or an error) and the state. The state must be one this Portico
// issued, unused, unexpired, and come with the link cookie of the browser
// that started the flow; then the code is exchanged (with the PKCE
// verifier), the tokens stored sealed, and the browser sent back to the
// dashboard page that started it.
func handleLinkCallback(lo *LinkOptions, baseURL string, so sessionOptions, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.Request().URL.Query()
		c.Response().Header().Set("Cache-Control", "no-store")
		name := linkCookie
		if so.secure {
			name = secureLinkCookie
		}
		var browser string
		if ck, err := c.Cookie(name); err == nil {
			browser = ck.Value
		}
		c.SetCookie(linkCookieFor(so, "", -1))
		state := q.Get("state")
		if state == "" {
			return linkPage(c, http.StatusBadRequest, "This link has no state", "The provider sent the browser back without the state parameter Portico gave it. Start linking again from the dashboard.")
		}
		ctx := c.Request().Context()
		r, err := lo.Store.TakeLinkRequest(ctx, state, browser)
		if errors.Is(err, tenant.ErrNotFound) {
			return linkPage(c, http.StatusBadRequest, "This link cannot be completed",
				"It was already used, it expired (a link must be completed within 10 minutes), or it was started in another browser. Start linking again from the dashboard, in this browser.")
		}
		if err != nil {
			return fmt.Errorf("complete link: %w", err)
		}
		back := func(k, v string) error {
			sep := "?"
			if strings.Contains(r.ReturnTo, "?") {
				sep = "&"
			}
			return c.Redirect(http.StatusFound, publicBase(c, baseURL)+r.ReturnTo+sep+url.Values{k: {v}, "credential": {r.Credential}}.Encode())
		}
		if e := q.Get("error"); e != "" {
			msg := "the provider answered " + e
			if d := q.Get("error_description"); d != "" {
				msg += ": " + d
			}
			return back("link_error", truncate(msg, 300))
		}
		code := q.Get("code")
		if code == "" {
			return back("link_error", "the provider sent no authorization code")
		}
		toks, err := lo.Linker.Exchange(ctx, r.TenantID, r.Credential, code, r.Verifier.Reveal(), r.RedirectURI)
		if err != nil {
			log.Info("link exchange refused", "tenant", r.TenantID, "credential", r.Credential, "user", r.UserID, "err", err)
			return back("link_error", truncate(err.Error(), 300))
		}
		if err := lo.Store.PutLinkedAccount(ctx, r.TenantID, r.Credential, r.UserID, toks, "user:"+r.UserID); err != nil {
			return fmt.Errorf("store linked account: %w", err)
		}
		return back("linked", r.Credential)
	}
}

// linkPage answers a browser whose callback cannot be used with a page that
// says why and what to do.
func linkPage(c echo.Context, status int, title, body string) error {
	return c.HTML(status, "<!doctype html><html lang=en><meta charset=utf-8><title>"+html.EscapeString(title)+" · Portico</title>"+
		`<link rel=stylesheet href="/assets/app.css"><main class="login"><h1>`+html.EscapeString(title)+"</h1><p>"+html.EscapeString(body)+
		`</p><p><a href="/">Back to the dashboard</a></p></main></html>`)
}

// handleUnlink removes the signed-in user's own link.
func handleUnlink(st LinkedAccountStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		p := caller(c)
		if err := st.UnlinkAccount(c.Request().Context(), id, name, p.user.ID, p.actor()); err != nil {
			return explain(fmt.Errorf("unlink credential %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "you have no linked account for credential %s of tenant %s", name, id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// handleLinkedAccountList shows a tenant admin who linked which account,
// when and with which scopes; never a token.
func handleLinkedAccountList(st LinkedAccountStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		out, err := st.LinkedAccounts(c.Request().Context(), id, "")
		if err != nil {
			return explain(fmt.Errorf("list linked accounts of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"linked_accounts": nonNil(out)})
	}
}

// handleLinkedAccountRevoke lets a tenant admin remove any user's link.
func handleLinkedAccountRevoke(st LinkedAccountStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name, user := c.Param("id"), c.Param("name"), c.Param("user")
		if err := st.UnlinkAccount(c.Request().Context(), id, name, user, actor(c)); err != nil {
			return explain(fmt.Errorf("revoke linked account of user %s for credential %s of tenant %s: %w", user, name, id, err),
				tenant.ErrNotFound, "user %s has no linked account for credential %s of tenant %s", user, name, id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
