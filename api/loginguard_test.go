package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// TestLoginRefusesCrossSiteAndNonJSON checks the login CSRF defence: a
// hostile page cannot sign its visitor into an attacker's account with a
// form or text/plain post, or with any cross-site request, while Portico's
// own pages and non-browser clients sign in as before.
func TestLoginRefusesCrossSiteAndNonJSON(t *testing.T) {
	st := &fakeStore{}
	st.LoginFn = func(_ context.Context, email, _, _, _ string, _ time.Duration) (tenant.User, tenant.Session, string, error) {
		return tenant.User{ID: "u1", Email: email}, tenant.Session{ID: "s1", ExpiresAt: time.Now().Add(time.Hour)}, tenant.SessionPrefix + "x", nil
	}
	h := New(Options{Store: st, Runtime: &fakeRuntime{}, Logger: slog.New(slog.DiscardHandler)}).Handler()
	body := `{"email":"attacker@example.com","password":"pw"}`
	for _, tc := range []struct {
		name    string
		ctype   string
		headers map[string]string
		want    int
	}{
		{"text/plain from another site", "text/plain", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 415},
		{"form from another site", "application/x-www-form-urlencoded", map[string]string{"Origin": "https://evil.example"}, 415},
		{"no content type", "", nil, 415},
		{"JSON, cross-site fetch", "application/json", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"JSON, same-site but other origin", "application/json", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"JSON, foreign Origin only", "application/json", map[string]string{"Origin": "https://evil.example"}, 403},
		{"dashboard (same-origin fetch)", "application/json", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://portico.test"}, 200},
		{"curl / SDK (no browser headers)", "application/json; charset=utf-8", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://portico.test/api/v1/auth/login", strings.NewReader(body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tc.want)
			}
			if got := w.Header().Get("Set-Cookie"); (tc.want == 200) != (got != "") {
				t.Errorf("Set-Cookie = %q with status %d", got, w.Code)
			}
		})
	}
}

// TestSecureSessionOnlyHostCookie checks that under https only the
// __Host- session cookie is read: a plain-named cookie, which a sibling
// subdomain or an http page could plant, is ignored.
func TestSecureSessionOnlyHostCookie(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tenant.SessionPrefix + "planted"})
	if got := sessionSecret(req, true); got != "" {
		t.Errorf("secure: read the plain cookie %q", got)
	}
	if got := sessionSecret(req, false); got == "" {
		t.Errorf("plain http (portico dev): the plain cookie was not read")
	}
	req.AddCookie(&http.Cookie{Name: secureSessionCookie, Value: tenant.SessionPrefix + "real"})
	if got := sessionSecret(req, true); got != tenant.SessionPrefix+"real" {
		t.Errorf("secure: read %q, want the __Host- cookie", got)
	}
}
