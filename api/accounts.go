package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type loginer interface {
	Login(ctx context.Context, email, password, ip, userAgent string, ttl time.Duration) (tenant.User, tenant.Session, string, error)
	Logout(ctx context.Context, secret string) error
}

type membershipLister interface {
	Memberships(ctx context.Context, userID string) ([]tenant.Member, error)
}

type userManager interface {
	CreateUser(ctx context.Context, email, password string, operator bool, actor string) (tenant.User, error)
	Users(ctx context.Context) ([]tenant.User, error)
}

type memberManager interface {
	userFinder
	Members(ctx context.Context, tenantID string) ([]tenant.Member, error)
	PutMember(ctx context.Context, tenantID, userID string, role tenant.Role, actor string) (tenant.Member, error)
	DeleteMember(ctx context.Context, tenantID, userID, actor string) error
}

type userKeyManager interface {
	CreateUserAPIKey(ctx context.Context, userID, name string, scopes []string, actor string) (tenant.APIKey, string, error)
	UserAPIKeys(ctx context.Context, userID string) ([]tenant.APIKey, error)
	RevokeUserAPIKey(ctx context.Context, userID, keyID, actor string) error
}

// sessionOptions say how long a login lasts and how its cookie is set.
type sessionOptions struct {
	ttl    time.Duration
	secure bool // Secure + __Host- prefix; off only for plain-http local runs
}

func (o sessionOptions) cookie(value string, expires time.Time) *http.Cookie {
	name := sessionCookie
	if o.secure {
		name = secureSessionCookie
	}
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: o.secure,
		SameSite: http.SameSiteStrictMode, Expires: expires}
	if value == "" {
		ck.MaxAge = -1
	}
	return ck
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// sessionView is what login and /auth/me tell the dashboard.
type sessionView struct {
	User        tenant.User     `json:"user"`
	Auth        string          `json:"auth"` // session | api_key
	CSRFToken   string          `json:"csrf_token,omitempty"`
	ExpiresAt   *time.Time      `json:"expires_at,omitempty"`
	Memberships []tenant.Member `json:"memberships"`
}

var errBadLogin = &apiError{Status: http.StatusUnauthorized, Code: "invalid_credentials",
	Message: "wrong email or password"}

// handleLogin checks email and password and sets the session cookie. Every
// failure is the same 401 (no hint whether the account exists), is audited,
// and attempts are rate-limited per client address and per email.
func handleLogin(st interface {
	loginer
	membershipLister
	eventRecorder
}, rl *rateLimits, so sessionOptions, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req loginRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		// Failed sign-ins are throttled per source and per (email, source),
		// never per email alone: someone else's failures cannot lock a user
		// out, and successes do not count.
		email := strings.ToLower(strings.TrimSpace(req.Email))
		src, pair := "ip:"+c.RealIP(), "email:"+email+"|ip:"+c.RealIP()
		if err := rl.loginFail.check("failed sign-ins from your address", src, pair); err != nil {
			return err
		}
		ctx := c.Request().Context()
		u, sess, secret, err := st.Login(ctx, email, req.Password, c.RealIP(), c.Request().UserAgent(), so.ttl)
		if errors.Is(err, tenant.ErrBadCredentials) {
			rl.loginFail.Fail(src, pair)
			if !strings.Contains(email, "@") || len(email) > 254 {
				email = "(not an email address)" // people type passwords into the wrong box
			}
			securityEvent(ctx, st, log, "", "anonymous", "auth.login_failed", map[string]any{"email": email})
			return errBadLogin
		}
		if err != nil {
			return fmt.Errorf("log in: %w", err)
		}
		c.SetCookie(so.cookie(secret, sess.ExpiresAt))
		ms, err := st.Memberships(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("list memberships: %w", err)
		}
		return c.JSON(http.StatusOK, sessionView{User: u, Auth: "session", CSRFToken: sess.CSRFToken,
			ExpiresAt: &sess.ExpiresAt, Memberships: nonNil(ms)})
	}
}

// handleLogout ends the session and clears the cookie. It is authenticated
// (and CSRF-checked) like any change, so another site cannot sign users out.
func handleLogout(st loginer, so sessionOptions) echo.HandlerFunc {
	return func(c echo.Context) error {
		if secret := sessionSecret(c.Request(), so.secure); secret != "" && caller(c).session.ID != "" {
			if err := st.Logout(c.Request().Context(), secret); err != nil {
				return err
			}
		}
		c.SetCookie(so.cookie("", time.Unix(0, 0)))
		return c.NoContent(http.StatusNoContent)
	}
}

func handleMe(st membershipLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := caller(c)
		if p.user.ID == "" {
			return forbidden("this API key belongs to no user; /auth/me describes signed-in users and user keys")
		}
		ms, err := st.Memberships(c.Request().Context(), p.user.ID)
		if err != nil {
			return fmt.Errorf("list memberships: %w", err)
		}
		v := sessionView{User: p.user, Auth: "api_key", Memberships: nonNil(ms)}
		if p.session.ID != "" {
			v.Auth, v.CSRFToken, v.ExpiresAt = "session", p.session.CSRFToken, &p.session.ExpiresAt
		}
		return c.JSON(http.StatusOK, v)
	}
}

type userCreateRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Operator bool   `json:"operator"`
}

func handleUserCreate(st userManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req userCreateRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		u, err := st.CreateUser(c.Request().Context(), req.Email, req.Password, req.Operator, actor(c))
		if err != nil {
			return explain(err, tenant.ErrConflict, "a user with email %s already exists", strings.TrimSpace(req.Email))
		}
		return c.JSON(http.StatusCreated, u)
	}
}

func handleUserList(st userManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		us, err := st.Users(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"users": nonNil(us)})
	}
}

func handleMemberList(st memberManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		ms, err := st.Members(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list members of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"members": nonNil(ms)})
	}
}

type memberPutRequest struct {
	Role tenant.Role `json:"role"`
}

// findMember resolves the {user} path segment, a user id or an email.
func findMember(c echo.Context, st userFinder) (tenant.User, error) {
	ref := c.Param("user")
	u, err := st.FindUser(c.Request().Context(), ref)
	if err != nil {
		return u, explain(fmt.Errorf("find user %s: %w", ref, err), tenant.ErrNotFound, "no user %s", ref)
	}
	return u, nil
}

func handleMemberPut(st memberManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req memberPutRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if !req.Role.Valid() {
			return &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "role", Problem: "must be one of owner, admin, viewer"}}}
		}
		u, err := findMember(c, st)
		if err != nil {
			return err
		}
		m, err := st.PutMember(c.Request().Context(), id, u.ID, req.Role, actor(c))
		if err != nil {
			err = explain(err, tenant.ErrConflict, "tenant %s would have no owner left; make someone else owner first", id)
			return explain(err, tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, m)
	}
}

func handleMemberDelete(st memberManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		u, err := findMember(c, st)
		if err != nil {
			return err
		}
		if err := st.DeleteMember(c.Request().Context(), id, u.ID, actor(c)); err != nil {
			err = explain(err, tenant.ErrConflict, "tenant %s would have no owner left; make someone else owner first", id)
			return explain(err, tenant.ErrNotFound, "user %s is not a member of tenant %s", c.Param("user"), id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func handleMyKeyCreate(st userKeyManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req apiKeyCreateRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		key, secret, err := st.CreateUserAPIKey(c.Request().Context(), caller(c).user.ID, req.Name, req.Scopes, actor(c))
		if err != nil {
			return fmt.Errorf("create user API key: %w", err)
		}
		return c.JSON(http.StatusCreated, apiKeyCreated{APIKey: key, Secret: secret})
	}
}

func handleMyKeyList(st userKeyManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		keys, err := st.UserAPIKeys(c.Request().Context(), caller(c).user.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"api_keys": nonNil(keys)})
	}
}

func handleMyKeyRevoke(st userKeyManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		keyID := c.Param("key_id")
		if err := st.RevokeUserAPIKey(c.Request().Context(), caller(c).user.ID, keyID, actor(c)); err != nil {
			return explain(err, tenant.ErrNotFound, "API key %s was not found", keyID)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
