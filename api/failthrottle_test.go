package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestLoginFailuresCannotLockOutOthers: failed sign-ins are counted per
// source and per (email, source), so an attacker who fails for alice's email
// is throttled while alice, from her own address, still signs in; successes
// never count; the throttle refills with time.
func TestLoginFailuresCannotLockOutOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &fakeStore{}
		st.LoginFn = func(_ context.Context, email, password, _, _ string, _ time.Duration) (tenant.User, tenant.Session, string, error) {
			if password != "right" {
				return tenant.User{}, tenant.Session{}, "", tenant.ErrBadCredentials
			}
			return tenant.User{ID: "u1", Email: email}, tenant.Session{ID: "s1", ExpiresAt: time.Now().Add(time.Hour)}, tenant.SessionPrefix + "x", nil
		}
		h := New(Options{Store: st, Runtime: &fakeRuntime{}, Logger: slog.New(slog.DiscardHandler),
			LoginRate: tenant.RateLimit{PerSecond: 0.1, Burst: 3}}).Handler()
		login := func(ip, password string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"alice@example.com","password":"`+password+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = ip + ":4321"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w
		}
		for i := 1; i <= 3; i++ {
			if w := login("203.0.113.66", "guess"); w.Code != http.StatusUnauthorized {
				t.Fatalf("attacker failure %d: %d %s; want 401", i, w.Code, w.Body)
			}
		}
		if w := login("203.0.113.66", "guess"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" {
			t.Fatalf("attacker 4th failure: %d Retry-After %q %s; want 429, Retry-After 10", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		for i := 1; i <= 5; i++ { // successes are never counted
			if w := login("198.51.100.7", "right"); w.Code != http.StatusOK {
				t.Fatalf("alice's sign-in %d from her own address: %d %s; want 200", i, w.Code, w.Body)
			}
		}
		time.Sleep(10 * time.Second) // one failure refills
		if w := login("203.0.113.66", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attacker after the refill: %d %s; want 401", w.Code, w.Body)
		}
	})
}
