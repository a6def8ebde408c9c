package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// keyVerifier resolves an API key secret to the key it belongs to, and tells
// a revoked key apart (for the audit log only; the client sees one 401).
type keyVerifier interface {
	VerifyAPIKey(ctx context.Context, secret string) (tenant.APIKey, error)
	IsRevokedAPIKey(ctx context.Context, secret string) (tenant.APIKey, bool)
}

type sessionVerifier interface {
	VerifySession(ctx context.Context, secret string) (tenant.User, tenant.Session, error)
}

type userFinder interface {
	FindUser(ctx context.Context, ref string) (tenant.User, error)
}

type roleGetter interface {
	Role(ctx context.Context, tenantID, userID string) (tenant.Role, error)
}

type eventRecorder interface {
	RecordEvent(ctx context.Context, tenantID, actor, action string, details map[string]any) error
}

// authStore is what authentication reads.
type authStore interface {
	keyVerifier
	sessionVerifier
	userFinder
	eventRecorder
}

// Session cookie names. With Secure cookies the __Host- prefix also pins the
// cookie to our exact host and path /, so a sibling subdomain cannot set it.
const (
	sessionCookie       = "portico_session"
	secureSessionCookie = "__Host-portico_session"
	csrfHeader          = "X-CSRF-Token"
)

// principal is who is calling: an API key (tenant, user or operator key) or
// a signed-in user with a dashboard session.
type principal struct {
	key     tenant.APIKey  // ID set when an API key authenticated
	user    tenant.User    // ID set for sessions and user keys
	session tenant.Session // ID set for cookie sessions
}

// operator reports whether the caller runs Portico: an admin key or an operator user.
func (p principal) operator() bool {
	if p.key.ID != "" {
		return p.key.Admin() || p.key.UserID != "" && p.user.Operator
	}
	return p.user.Operator
}

// minter is who a key minted by p records as its minter: the user behind a
// session or user key, the operator key itself, or, for a tenant key, that
// key's own minter (so a chain of keys is capped by the first principal).
func (p principal) minter() tenant.Minter {
	switch {
	case p.user.ID != "":
		return tenant.Minter{UserID: p.user.ID}
	case p.key.Admin():
		return tenant.Minter{KeyID: p.key.ID}
	}
	return p.key.MintedBy
}

// actor names the caller in the audit log.
func (p principal) actor() string {
	switch {
	case p.session.ID != "":
		return "user:" + p.user.ID
	case p.key.UserID != "":
		return "user:" + p.user.ID + "/apikey:" + p.key.ID
	}
	return "apikey:" + p.key.ID
}

// bucket is the caller's rate-limit key.
func (p principal) bucket() string {
	if p.session.ID != "" {
		return "session:" + p.session.ID
	}
	return "apikey:" + p.key.ID
}

const callerKey = "portico.caller"

// caller is who authenticated the request.
func caller(c echo.Context) principal {
	p, _ := c.Get(callerKey).(principal)
	return p
}

// actor names the caller in the audit log.
func actor(c echo.Context) string { return caller(c).actor() }

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var errSessionExpired = &apiError{
	Status:  http.StatusUnauthorized,
	Code:    "session_expired",
	Message: "your session has expired or you signed out; log in again with POST /api/v1/auth/login",
}

var errCSRF = &apiError{
	Status:  http.StatusForbidden,
	Code:    "csrf_failed",
	Message: "changes made with a session cookie need the X-CSRF-Token header from POST /auth/login or GET /auth/me",
}

// authenticate requires an API key (Authorization: Bearer pk_…) or a
// session cookie, enforces key scopes (reads need read or write, changes
// need write) and the CSRF token on cookie-authenticated changes, and
// applies the per-caller rate limit. Which tenants the caller may touch is
// checked per route by member and operatorOnly.
func authenticate(st authStore, rl *rateLimits, secureCookies bool, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := req.Context()
			var p principal
			if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
				scheme, secret, _ := strings.Cut(h, " ")
				secret = strings.TrimSpace(secret)
				// Only pk_ secrets reach the store: an MCP token sent here by
				// mistake is refused without a lookup.
				if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, tenant.APIKeyPrefix) {
					return errUnauthenticated
				}
				// Guessing is throttled per client address (checked before the
				// lookup) and per key prefix (after it, so a third party's
				// failures never refuse the right secret).
				ip := "ip:" + c.RealIP()
				if err := rl.fail.check("failed API key attempts from your address", ip); err != nil {
					return err
				}
				key, err := st.VerifyAPIKey(ctx, secret)
				if errors.Is(err, tenant.ErrNotFound) {
					if k, revoked := st.IsRevokedAPIKey(ctx, secret); revoked {
						securityEvent(ctx, st, log, k.TenantID, "apikey:"+k.ID, "auth.revoked_key_used",
							map[string]any{"key_id": k.ID, "prefix": k.Prefix, "method": req.Method, "path": c.Path()})
					}
					throttled := rl.fail.check("failed attempts with this API key prefix", secretPrefix(secret))
					rl.fail.Fail(ip, secretPrefix(secret))
					if throttled != nil {
						return throttled
					}
					return errUnauthenticated
				}
				if err != nil {
					return fmt.Errorf("verify api key: %w", err)
				}
				p.key = key
				if key.UserID != "" {
					u, err := st.FindUser(ctx, key.UserID)
					if errors.Is(err, tenant.ErrNotFound) {
						return errUnauthenticated // the user was disabled
					}
					if err != nil {
						return fmt.Errorf("load owner of api key %s: %w", key.ID, err)
					}
					p.user = u
				}
				write := !safeMethod(req.Method)
				switch {
				case !write && !key.HasScope(tenant.ScopeRead) && !key.HasScope(tenant.ScopeWrite):
					securityEvent(ctx, st, log, key.TenantID, p.actor(), "auth.scope_denied", map[string]any{"need": "read", "method": req.Method, "path": c.Path()})
					return forbidden("this API key lacks the read scope")
				case write && !key.HasScope(tenant.ScopeWrite):
					securityEvent(ctx, st, log, key.TenantID, p.actor(), "auth.scope_denied", map[string]any{"need": "write", "method": req.Method, "path": c.Path()})
					return forbidden("this API key is read-only; changes need a key with the write scope")
				}
			} else if secret := sessionSecret(req, secureCookies); secret != "" {
				u, sess, err := st.VerifySession(ctx, secret)
				if errors.Is(err, tenant.ErrNotFound) {
					return errSessionExpired
				}
				if err != nil {
					return fmt.Errorf("verify session: %w", err)
				}
				p.user, p.session = u, sess
				if !safeMethod(req.Method) {
					got := req.Header.Get(csrfHeader)
					if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
						securityEvent(ctx, st, log, "", p.actor(), "auth.csrf_failed", map[string]any{"method": req.Method, "path": c.Path()})
						return errCSRF
					}
				}
			} else {
				return errUnauthenticated
			}
			if err := rl.allowCaller(p.bucket()); err != nil {
				return err
			}
			c.Set(callerKey, p)
			return next(c)
		}
	}
}

// sessionSecret returns the session cookie's value, or "".
func sessionSecret(req *http.Request, secure bool) string {
	names := []string{secureSessionCookie, sessionCookie}
	if secure {
		// Under https only the __Host- cookie counts: a plain-named one can
		// be planted by a sibling subdomain or over http (cookie tossing).
		names = names[:1]
	}
	for _, name := range names {
		if ck, err := req.Cookie(name); err == nil && strings.HasPrefix(ck.Value, tenant.SessionPrefix) {
			return ck.Value
		}
	}
	return ""
}

// securityEvent audits a refused request. A failure to write it is logged,
// never turned into an error for a client that is already being refused.
func securityEvent(ctx context.Context, st eventRecorder, log *slog.Logger, tenantID, who, action string, details map[string]any) {
	if err := st.RecordEvent(ctx, tenantID, who, action, details); err != nil {
		log.Warn("could not audit security event", "action", action, "err", err)
	}
}

// member confines the caller to tenants it belongs to, with at least role
// min for changes (reads need viewer). Operators pass; a tenant key has the
// role of its scopes (write: owner, read: viewer) capped by its minter's
// current role (APIKey.TenantRole); users and user keys need a membership.
// A tenant the caller does not belong to gets the same 404 as an unknown
// one, so ids cannot be probed for existence. After the check the
// tenant's REST rate limits apply (its settings, else the operator's
// defaults); counting earlier would let another tenant's caller spend this
// tenant's budget.
func member(st roleGetter, rl *rateLimits, min tenant.Role) echo.MiddlewareFunc {
	return memberAt(st, rl, tenant.RoleViewer, min)
}

// memberAt is member with the role reads need as well as the one changes need.
func memberAt(st roleGetter, rl *rateLimits, read, write tenant.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, id := caller(c), c.Param("id")
			need := write
			if safeMethod(c.Request().Method) {
				need = read
			}
			var have tenant.Role
			switch {
			case p.operator():
				have = tenant.RoleOwner
			case p.key.TenantID != "":
				if p.key.TenantID != id {
					return tenantNotFound(id)
				}
				if have = p.key.TenantRole(); have == "" {
					return forbidden("API key %s was minted by a user or operator key that no longer has a role in tenant %s; mint a new key", p.key.ID, id)
				}
			case p.user.ID != "":
				r, err := st.Role(c.Request().Context(), id, p.user.ID)
				if errors.Is(err, tenant.ErrNotFound) {
					return tenantNotFound(id)
				}
				if err != nil {
					return fmt.Errorf("check membership: %w", err)
				}
				have = r
			default:
				return tenantNotFound(id)
			}
			if !have.AtLeast(need) {
				return forbidden("your role in tenant %s is %s; this needs %s", id, have, need)
			}
			if err := rl.allowTenant(c.Request().Context(), id, p.bucket()); err != nil {
				return err
			}
			err := next(c)
			if err == nil && !safeMethod(c.Request().Method) {
				// A change may have been to the settings: read the limits
				// afresh next time (other replicas hear of it by NOTIFY).
				rl.forget(id)
			}
			return err
		}
	}
}

// operatorOnly guards what only an operator may do: manage users and admin keys.
func operatorOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !caller(c).operator() {
			return forbidden("this needs an operator: an admin API key or an operator user")
		}
		return next(c)
	}
}

// userOnly guards what belongs to a person: their own user keys.
func userOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if caller(c).user.ID == "" {
			return forbidden("this needs a signed-in user or a user's API key; tenant and admin keys have no user")
		}
		return next(c)
	}
}

func tenantNotFound(id string) error {
	return explain(tenant.ErrNotFound, tenant.ErrNotFound, "tenant %s was not found", id)
}
