package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// demoTenant registers the built-in demo API as an active tenant and returns
// its id.
func demoTenant(t *testing.T, p *portico) string {
	t.Helper()
	up := httptest.NewServer(cli.DemoAPI())
	t.Cleanup(up.Close)
	var created struct{ ID string }
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "exposure-" + strings.ToLower(t.Name()[4:]), "base_url": up.URL}, 201, &created)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	return created.ID
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsNotPublic checks that /metrics, whose series name every tenant
// and tool, is not readable by anyone who can reach the public port: not at
// all without configuration, only with the bearer PORTICO_METRICS_TOKEN, and
// openly only on the separate PORTICO_METRICS_ADDR listener.
func TestMetricsNotPublic(t *testing.T) {
	dbURL := pgtest.NewDB(t)

	t.Run("default", func(t *testing.T) {
		p := startPortico(t, dbURL, "PORTICO_METRICS_TOKEN=")
		id := demoTenant(t, p)
		code, body := get(t, p.url+"/metrics", "")
		if code != 404 || strings.Contains(body, id) || !strings.Contains(body, "PORTICO_METRICS_ADDR") {
			t.Errorf("GET /metrics without configuration = %d %.200q, want 404 naming PORTICO_METRICS_ADDR and no tenant id", code, body)
		}
	})

	t.Run("token", func(t *testing.T) {
		p := startPortico(t, dbURL, "PORTICO_METRICS_TOKEN=s3cret-scraper")
		id := demoTenant(t, p)
		for _, bearer := range []string{"", "wrong", "s3cret-scrape", "s3cret-scraperX"} {
			if code, body := get(t, p.url+"/metrics", bearer); code != 401 || strings.Contains(body, id) {
				t.Errorf("GET /metrics with bearer %q = %d %.200q, want 401 and no tenant id", bearer, code, body)
			}
		}
		if code, body := get(t, p.url+"/metrics", "s3cret-scraper"); code != 200 || !strings.Contains(body, "portico_") {
			t.Errorf("GET /metrics with the token = %d %.200q, want 200 with Portico's series", code, body)
		}
	})

	t.Run("separate listener", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		p := startPortico(t, dbURL, "PORTICO_METRICS_TOKEN=", "PORTICO_METRICS_ADDR="+addr)
		demoTenant(t, p)
		if code, body := get(t, p.url+"/metrics", ""); code != 404 || !strings.Contains(body, "metrics listener") {
			t.Errorf("GET /metrics on the public port = %d %.200q, want 404 pointing at the metrics listener", code, body)
		}
		if code, body := get(t, "http://"+addr+"/metrics", ""); code != 200 || !strings.Contains(body, "portico_") {
			t.Errorf("GET /metrics on PORTICO_METRICS_ADDR = %d %.200q, want 200", code, body)
		}
	})
}

// TestResourceMetadataRevealsNoTenant checks that nothing reachable without
// a credential tells an active tenant from an unknown one: the RFC 9728
// metadata and the MCP endpoint's 401 have the same status and the same body
// (the id in it aside) either way.
func TestResourceMetadataRevealsNoTenant(t *testing.T) {
	p := startPortico(t, pgtest.NewDB(t))
	id := demoTenant(t, p)
	const unknown = "zzzzzzzzzzzzzzzzzzzzzzzzzz"
	for _, path := range []string{"/.well-known/oauth-protected-resource/t/%s/mcp", "/t/%s/mcp"} {
		known, unk := strings.Replace(path, "%s", id, 1), strings.Replace(path, "%s", unknown, 1)
		kc, kb := get(t, p.url+known, "")
		uc, ub := get(t, p.url+unk, "")
		if kc != uc || strings.ReplaceAll(kb, id, "ID") != strings.ReplaceAll(ub, unknown, "ID") {
			t.Errorf("%s: active tenant %d %q, unknown tenant %d %q: want the same answer", path, kc, kb, uc, ub)
		}
	}
	if code, _ := get(t, p.url+"/.well-known/oauth-protected-resource/t/"+unknown+"/mcp", ""); code != 200 {
		t.Errorf("metadata of an unknown tenant: %d, want 200 (as for any tenant)", code)
	}
}

// TestNULIsABadRequest checks that a NUL byte in any text input — JSON
// members, form fields, query parameters — is a 400 naming the field, never
// a 500 (PostgreSQL cannot store it), on routes open to anyone and on
// signed-in ones, and that none of them logs an error.
func TestNULIsABadRequest(t *testing.T) {
	p := startPortico(t, pgtest.NewDB(t))
	id := demoTenant(t, p)
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, method, path, ctype, body, field string
		auth                                   bool
	}{
		{"login email", "POST", "/api/v1/auth/login", "application/json", `{"email":"a\u0000@b.c","password":"x"}`, "email", false},
		{"login password", "POST", "/api/v1/auth/login", "application/json", `{"email":"a@b.c","password":"x\u0000"}`, "password", false},
		{"oauth register", "POST", "/oauth/register", "application/json", `{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"x\u0000"}`, "client_name", false},
		{"oauth token", "POST", "/oauth/token", form, "grant_type=authorization_code&code=oac_%00&client_id=x", "code", false},
		{"oauth revoke", "POST", "/oauth/revoke", form, "token=ort_%00&client_id=x", "token", false},
		{"tenant name", "POST", "/api/v1/tenants", "application/json", `{"name":"x\u0000","base_url":"http://127.0.0.1:1"}`, "name", true},
		{"token name", "POST", "/api/v1/tenants/" + id + "/tokens", "application/json", `{"name":"t\u0000"}`, "name", true},
		{"settings", "PUT", "/api/v1/tenants/" + id + "/settings", "application/json", `{"names":{"a":"b\u0000"}}`, "names.a", true},
		{"audit query", "GET", "/api/v1/tenants/" + id + "/audit?action=x%00", "", "", "action", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, p.url+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth {
				req.Header.Set("Authorization", "Bearer "+p.adminKey)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), tc.field) {
				t.Errorf("%s %s = %d %s, want 400 naming %q", tc.method, tc.path, resp.StatusCode, b, tc.field)
			}
		})
	}
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged an error: %s", line)
		}
	}
}

// TestZonedUpstreamRefusedAtEveryEntry checks that an IPv6 address with a
// zone (which once matched no denied range) is refused with 422 naming the
// field wherever a tenant URL enters: create, update and preview.
func TestZonedUpstreamRefusedAtEveryEntry(t *testing.T) {
	p := startPortico(t, pgtest.NewDB(t))
	id := demoTenant(t, p)
	for _, u := range []string{"http://[::1%25lo]:8080", "http://[fe80::1%25eth0]/", "http://[fd00::1%25eth0]/", "http://[::ffff:169.254.169.254]/"} {
		for _, tc := range []struct{ method, path, body, field string }{
			{"POST", "/api/v1/tenants", `{"name":"zoned","base_url":"` + u + `"}`, "base_url"},
			{"POST", "/api/v1/tenants", `{"name":"zoned","base_url":"https://example.com","spec_url":"` + u + `/openapi.json"}`, "spec_url"},
			{"PATCH", "/api/v1/tenants/" + id, `{"base_url":"` + u + `"}`, "base_url"},
			{"POST", "/api/v1/preview", `{"base_url":"` + u + `"}`, "base_url"},
			{"POST", "/api/v1/preview", `{"spec_url":"` + u + `/openapi.json"}`, "spec_url"},
		} {
			req, _ := http.NewRequest(tc.method, p.url+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+p.adminKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 422 || !strings.Contains(string(b), tc.field) {
				t.Errorf("%s %s %s = %d %s, want 422 naming %s", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.field)
			}
		}
	}
}
