package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestAuditTrail makes one change of every kind the audit log must record
// (tenants, settings, credentials, tokens, API keys, memberships, users)
// and the security events that belong to no tenant, through the REST API as
// a user would, then reads both logs back: each change is there with who
// (actor), what (action + details), when (created_at) and from where
// (source), and no secret that went in (credential value, token and key
// secrets, password) appears anywhere in either log.
func TestAuditTrail(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPorticoWith(t, dbURL, nil)
	admin := bearer("admin", p.adminKey)
	start := time.Now().Add(-time.Minute)
	var secrets []string
	must := func(want int, method, path string, body any, out any) {
		t.Helper()
		st, b, _ := p.send(t, admin, method, path, body)
		if st != want {
			t.Fatalf("%s %s: %d %s; want %d", method, path, st, b, want)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatal(err)
			}
		}
	}

	var tn struct{ ID string }
	must(201, "POST", "/api/v1/tenants", map[string]any{"name": "audited", "base_url": startThingsUpstream(t)}, &tn)
	tp := "/api/v1/tenants/" + tn.ID
	must(200, "PATCH", tp, map[string]any{"name": "audited-2"}, nil)
	must(200, "PUT", tp+"/settings", map[string]any{"rest_rate_limit_per_second": 50, "upstream_timeout_ms": 5000}, nil)
	credValue := "canary-credential-value-7f3a"
	secrets = append(secrets, credValue)
	must(204, "PUT", tp+"/credentials/up", map[string]any{"type": "bearer", "value": credValue}, nil)
	must(204, "DELETE", tp+"/credentials/up", nil, nil)
	var tok struct {
		Token  struct{ ID string }
		Secret string
	}
	must(201, "POST", tp+"/tokens", map[string]any{"name": "agent"}, &tok)
	secrets = append(secrets, tok.Secret)
	must(204, "DELETE", tp+"/tokens/"+tok.Token.ID, nil, nil)
	var key struct {
		Key    struct{ ID string } `json:"api_key"`
		Secret string
	}
	must(201, "POST", tp+"/api-keys", map[string]any{"name": "ci", "scopes": []string{"read"}}, &key)
	secrets = append(secrets, key.Secret)
	must(204, "DELETE", tp+"/api-keys/"+key.Key.ID, nil, nil)
	must(200, "POST", tp+"/activate", nil, nil)
	must(200, "POST", tp+"/deactivate", nil, nil)
	password := "a long enough password" // createUser's
	secrets = append(secrets, password)
	uid := p.createUser(t, "dora@d.example", false)
	must(200, "PUT", tp+"/members/"+uid, map[string]any{"role": "viewer"}, nil)
	must(204, "DELETE", tp+"/members/"+uid, nil, nil)
	var adminKey struct {
		Key    struct{ ID string } `json:"api_key"`
		Secret string
	}
	must(201, "POST", "/api/v1/api-keys", map[string]any{"name": "ops", "scopes": []string{"read"}}, &adminKey)
	secrets = append(secrets, adminKey.Secret)
	must(204, "DELETE", "/api/v1/api-keys/"+adminKey.Key.ID, nil, nil)
	// Security events: a failed sign-in, a revoked key presented again.
	wrong := "wrong password, canary 9c1e"
	secrets = append(secrets, wrong)
	if st, b, _ := p.send(t, caller{"anon", func(*http.Request) {}}, "POST", "/api/v1/auth/login", map[string]string{"email": "dora@d.example", "password": wrong}); st != 401 {
		t.Fatalf("wrong password: %d %s", st, b)
	}
	if st, _, _ := p.send(t, bearer("revoked", adminKey.Secret), "GET", "/api/v1/tenants", nil); st != 401 {
		t.Fatalf("revoked key: %d", st)
	}
	// The tenant's own log outlives the tenant for the operator.
	var tn2 struct{ ID string }
	must(201, "POST", "/api/v1/tenants", map[string]any{"name": "short-lived", "base_url": "http://127.0.0.1:9"}, &tn2)
	must(204, "DELETE", "/api/v1/tenants/"+tn2.ID, nil, nil)

	type entry struct {
		ID        int64          `json:"id"`
		TenantID  string         `json:"tenant_id"`
		Actor     string         `json:"actor"`
		Source    string         `json:"source"`
		Action    string         `json:"action"`
		Details   map[string]any `json:"details"`
		CreatedAt time.Time      `json:"created_at"`
	}
	read := func(path string) ([]entry, string) {
		t.Helper()
		st, b, _ := p.send(t, admin, "GET", path, nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", path, st, b)
		}
		var page struct {
			Audit      []entry `json:"audit"`
			NextCursor string  `json:"next_cursor"`
		}
		json.Unmarshal(b, &page)
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("GET %s shows a secret (%.12s…): %s", path, s, b)
			}
		}
		return page.Audit, page.NextCursor
	}
	tenantLog, _ := read(tp + "/audit?limit=1000")
	opLog, _ := read("/api/v1/audit?limit=1000")
	delLog, _ := read("/api/v1/tenants/" + tn2.ID + "/audit")

	type want struct {
		log     []entry
		action  string
		details string // a key the details must carry
		human   bool   // actor is the caller, not anonymous
	}
	wants := []want{
		{tenantLog, "tenant.create", "", true},
		{tenantLog, "tenant.update", "name", true},
		{tenantLog, "tenant.update", "settings", true},
		{tenantLog, "credential.create", "name", true},
		{tenantLog, "credential.delete", "name", true},
		{tenantLog, "token.create", "token_id", true},
		{tenantLog, "token.revoke", "token_id", true},
		{tenantLog, "api_key.create", "", true},
		{tenantLog, "api_key.revoke", "", true},
		{tenantLog, "tenant.status", "", true},
		{tenantLog, "member.put", "", true},
		{tenantLog, "member.delete", "", true},
		{opLog, "user.create", "", true},
		{opLog, "api_key.create", "", true},
		{opLog, "api_key.revoke", "", true},
		{opLog, "auth.login_failed", "", false},
		{opLog, "auth.revoked_key_used", "key_id", false},
		{delLog, "tenant.delete", "name", true},
	}
	for _, w := range wants {
		found := false
		for _, e := range w.log {
			if e.Action != w.action {
				continue
			}
			if _, ok := e.Details[w.details]; w.details != "" && !ok {
				continue
			}
			found = true
			if w.human && !strings.HasPrefix(e.Actor, "apikey:") && !strings.HasPrefix(e.Actor, "user:") {
				t.Errorf("%s: actor %q does not say who", w.action, e.Actor)
			}
			if e.Actor == "" {
				t.Errorf("%s: no actor", w.action)
			}
			if !strings.HasPrefix(e.Source, "127.0.0.1") {
				t.Errorf("%s: source %q, want the client address", w.action, e.Source)
			}
			if e.CreatedAt.Before(start) || e.CreatedAt.After(time.Now().Add(time.Minute)) {
				t.Errorf("%s: created_at %v is not now", w.action, e.CreatedAt)
			}
			break
		}
		if !found {
			t.Errorf("no %s entry with details.%s in the log; have %v", w.action, w.details, actions(w.log))
		}
	}

	// Filters and pagination of the operator log, as the dashboard or a
	// script would walk it.
	auth, _ := read("/api/v1/audit?action=auth.")
	if len(auth) < 2 {
		t.Errorf("action=auth. matched %v", actions(auth))
	}
	for _, e := range auth {
		if !strings.HasPrefix(e.Action, "auth.") {
			t.Errorf("action=auth. returned %s", e.Action)
		}
	}
	var walked []entry
	path := "/api/v1/audit?limit=2"
	for range 100 {
		page, next := read(path)
		walked = append(walked, page...)
		if next == "" {
			break
		}
		path = "/api/v1/audit?limit=2&cursor=" + next
	}
	if len(walked) != len(opLog) {
		t.Errorf("walking pages of 2 gave %d entries, one page of 1000 gave %d", len(walked), len(opLog))
	}
	for i := 1; i < len(walked); i++ {
		if walked[i].ID >= walked[i-1].ID {
			t.Errorf("pages are not newest first without repeats: %d after %d", walked[i].ID, walked[i-1].ID)
		}
	}
	if future, _ := read("/api/v1/audit?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(future) != 0 {
		t.Errorf("since=in an hour returned %v", actions(future))
	}
}

// actions lists the action of each audit entry in es, for failure messages.
func actions(es any) []string {
	var out []string
	b, _ := json.Marshal(es)
	var xs []struct{ Action string }
	json.Unmarshal(b, &xs)
	for _, x := range xs {
		out = append(out, x.Action)
	}
	return out
}
