package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestFailedCredentialsThrottled: guessing API keys, MCP tokens and OAuth
// refresh tokens is throttled per client address (429 with Retry-After once
// the failures are spent), while other addresses, and the right secret of a
// prefix someone else has been failing with, still get through.
func TestFailedCredentialsThrottled(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	// Three failures per source or prefix; refills far slower than the test.
	p := startPorticoWith(t, dbURL, map[string]string{
		"PORTICO_RATE_LIMIT_AUTH_FAILURES": "0.001:3",
		"PORTICO_TRUST_PROXY":              "true",
	})
	from := func(ip string, set func(*http.Request)) caller {
		return caller{ip, func(r *http.Request) {
			r.Header.Set("X-Forwarded-For", ip)
			if set != nil {
				set(r)
			}
		}}
	}
	auth := func(secret string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }
	}
	wantThrottled := func(t *testing.T, what string, st int, body []byte, h http.Header) {
		t.Helper()
		if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Fatalf("%s: %d Retry-After %q %s; want 429 with Retry-After", what, st, h.Get("Retry-After"), body)
		}
	}

	t.Run("api keys", func(t *testing.T) {
		bad := from("203.0.113.1", auth("pk_guessaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
		for i := 1; i <= 3; i++ {
			if st, b, _ := p.send(t, bad, "GET", "/api/v1/tenants", nil); st != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s; want 401", i, st, b)
			}
		}
		st, b, h := p.send(t, bad, "GET", "/api/v1/tenants", nil)
		wantThrottled(t, "4th failure", st, b, h)
		if !strings.Contains(string(b), "too_many_failures") {
			t.Errorf("4th failure body %s; want code too_many_failures", b)
		}
		// Even the right key is refused from that address: it is the source
		// that is throttled, before any lookup.
		st, b, h = p.send(t, from("203.0.113.1", auth(p.adminKey)), "GET", "/api/v1/tenants", nil)
		wantThrottled(t, "right key from the throttled address", st, b, h)
		// Other sources are not affected.
		if st, b, _ := p.send(t, from("203.0.113.9", auth(p.adminKey)), "GET", "/api/v1/tenants", nil); st != http.StatusOK {
			t.Fatalf("admin key from another address: %d %s", st, b)
		}
	})

	t.Run("api key prefix", func(t *testing.T) {
		// Guesses sharing the admin key's prefix from many addresses: the
		// prefix's failures run out, yet the right key still works.
		prefix := p.adminKey[:12]
		for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
			guess := prefix + strings.Repeat("z", len(p.adminKey)-12)
			if st, b, _ := p.send(t, from(ip, auth(guess)), "GET", "/api/v1/tenants", nil); st != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s; want 401", i+1, st, b)
			}
		}
		st, b, h := p.send(t, from("198.51.100.4", auth(prefix+strings.Repeat("y", len(p.adminKey)-12))), "GET", "/api/v1/tenants", nil)
		wantThrottled(t, "4th failure with the prefix", st, b, h)
		if st, b, _ := p.send(t, from("198.51.100.5", auth(p.adminKey)), "GET", "/api/v1/tenants", nil); st != http.StatusOK {
			t.Fatalf("right key after its prefix was failed with: %d %s; want 200", st, b)
		}
	})

	t.Run("mcp tokens", func(t *testing.T) {
		bad := from("203.0.113.2", auth("mcp_guessaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
		body := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
		for i := 1; i <= 3; i++ {
			if st, b, _ := p.send(t, bad, "POST", "/t/nope/mcp", body); st != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s; want 401", i, st, b)
			}
		}
		st, b, h := p.send(t, bad, "POST", "/t/nope/mcp", body)
		wantThrottled(t, "4th failure", st, b, h)
		var e struct{ Error struct{ Code string } }
		if json.Unmarshal(b, &e); e.Error.Code != "too_many_failures" {
			t.Errorf("body %s; want the handler's error shape with code too_many_failures", b)
		}
	})

	t.Run("oauth refresh tokens", func(t *testing.T) {
		reg := from("203.0.113.3", nil)
		st, b, _ := p.send(t, reg, "POST", "/oauth/register", map[string]any{
			"client_name": "guesser", "redirect_uris": []string{"http://127.0.0.1:9/cb"}})
		if st != http.StatusCreated {
			t.Fatalf("register: %d %s", st, b)
		}
		var client struct {
			ClientID string `json:"client_id"`
		}
		json.Unmarshal(b, &client)
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {client.ClientID}, "refresh_token": {"guessed"}}
		post := func() (int, []byte, http.Header) {
			req, _ := http.NewRequest("POST", p.url+"/oauth/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.3")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b, resp.Header
		}
		for i := 1; i <= 3; i++ {
			if st, b, _ := post(); st != http.StatusBadRequest || !strings.Contains(string(b), "invalid_grant") {
				t.Fatalf("failure %d: %d %s; want 400 invalid_grant", i, st, b)
			}
		}
		st, b, h := post()
		wantThrottled(t, "4th failure", st, b, h)
	})
}
