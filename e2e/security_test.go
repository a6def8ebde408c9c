package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// thingsSpec is a one-operation service; getThing echoes whether a
// credential arrived.
const thingsSpec = `{"openapi":"3.0.3","info":{"title":"things","version":"1"},
"paths":{"/thing":{"get":{"operationId":"getThing","summary":"Get the thing.",
"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`

func startThingsUpstream(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/openapi.json":
			io.WriteString(w, thingsSpec)
		case "/thing":
			fmt.Fprintf(w, `{"ok":true,"authorized":%v}`, r.Header.Get("Authorization") == "Bearer "+canary)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// caller is one way of authenticating a REST request.
type caller struct {
	name string
	set  func(*http.Request)
}

func bearer(name, secret string) caller {
	return caller{name, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }}
}

// send makes one REST request as c and returns status and body.
func (p *portico) send(t *testing.T, c caller, method, path string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.set(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p.responses.Write(b)
	return resp.StatusCode, b, resp.Header
}

// login signs in and returns a caller carrying the session cookie and CSRF token.
func (p *portico) login(t *testing.T, email, password string) caller {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(p.url+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", email, resp.StatusCode, body)
	}
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.Unmarshal(body, &out)
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || out.CSRFToken == "" {
		t.Fatalf("login cookie %+v csrf %q: want one HttpOnly SameSite=Strict cookie and a CSRF token", cookies, out.CSRFToken)
	}
	ck := cookies[0]
	return caller{"session of " + email, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		r.Header.Set("X-CSRF-Token", out.CSRFToken)
	}}
}

func (p *portico) createUser(t *testing.T, email string, operator bool) string {
	t.Helper()
	var u struct{ ID string }
	p.do(t, "POST", "/api/v1/users", map[string]any{"email": email, "password": "a long enough password", "operator": operator}, 201, &u)
	return u.ID
}

// world is two tenants with everything a tenant can own, and callers of A.
type world struct {
	a, b             string // tenant ids
	bToken, bTokenID string
	bKeyID, bCred    string
	bob, bobKeyID    string
	bTool            string
	callersOfA       []caller
	aToken           string
}

func buildWorld(t *testing.T, p *portico, upstream string) world {
	t.Helper()
	var w world
	var ta, tb struct{ ID string }
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "tenant-a", "base_url": upstream}, 201, &ta)
	w.bTool = "b_private_tool"
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "tenant-b", "base_url": upstream,
		"settings": map[string]any{"names": map[string]string{"getThing": w.bTool}}}, 201, &tb)
	w.a, w.b = ta.ID, tb.ID

	w.bCred = "b-upstream-cred"
	p.do(t, "PUT", "/api/v1/tenants/"+w.b+"/credentials/"+w.bCred, map[string]any{"type": "bearer", "value": canary}, 204, nil)
	var tok struct {
		Token  struct{ ID string }
		Secret string
	}
	p.do(t, "POST", "/api/v1/tenants/"+w.b+"/tokens", map[string]any{"name": "b-agent"}, 201, &tok)
	w.bToken, w.bTokenID = tok.Secret, tok.Token.ID
	var key struct {
		APIKey struct{ ID string } `json:"api_key"`
		Secret string
	}
	p.do(t, "POST", "/api/v1/tenants/"+w.b+"/api-keys", map[string]any{"name": "b-key", "scopes": []string{"read", "write"}}, 201, &key)
	w.bKeyID = key.APIKey.ID
	w.bob = p.createUser(t, "bob@b.example", false)
	p.do(t, "PUT", "/api/v1/tenants/"+w.b+"/members/"+w.bob, map[string]any{"role": "owner"}, 200, nil)
	bob := p.login(t, "bob@b.example", "a long enough password")
	if st, b, _ := p.send(t, bob, "POST", "/api/v1/me/api-keys", map[string]any{"name": "bob-laptop", "scopes": []string{"read"}}); st != 201 {
		t.Fatalf("bob's key: %d %s", st, b)
	} else {
		var k struct {
			APIKey struct{ ID string } `json:"api_key"`
		}
		json.Unmarshal(b, &k)
		w.bobKeyID = k.APIKey.ID
	}
	p.do(t, "POST", "/api/v1/tenants/"+w.b+"/activate", nil, 200, nil)
	p.do(t, "POST", "/api/v1/tenants/"+w.a+"/activate", nil, 200, nil)

	// Callers of A: a tenant key, an owner's session and that owner's user key.
	p.do(t, "POST", "/api/v1/tenants/"+w.a+"/api-keys", map[string]any{"name": "a-key", "scopes": []string{"read", "write"}}, 201, &key)
	aKey := key.Secret
	alice := p.createUser(t, "alice@a.example", false)
	p.do(t, "PUT", "/api/v1/tenants/"+w.a+"/members/"+alice, map[string]any{"role": "owner"}, 200, nil)
	aliceSession := p.login(t, "alice@a.example", "a long enough password")
	st, b, _ := p.send(t, aliceSession, "POST", "/api/v1/me/api-keys", map[string]any{"name": "alice-cli", "scopes": []string{"read", "write"}})
	if st != 201 {
		t.Fatalf("alice's key: %d %s", st, b)
	}
	json.Unmarshal(b, &key)
	w.callersOfA = []caller{bearer("tenant key of A", aKey), aliceSession, bearer("user key of A's owner", key.Secret)}
	w.aToken = p.token(t, w.a)
	return w
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestCrossTenantIsolation walks every route in Portico's own OpenAPI
// document (kept equal to the router by api's TestOpenAPIMatchesRoutes, so
// new routes are covered without touching this test) and calls each with
// three kinds of caller of tenant A, aimed at tenant B's ids. Every call on
// a tenant route must be refused with 403/404; no response may hold B's data.
func TestCrossTenantIsolation(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	w := buildWorld(t, p, startThingsUpstream(t))

	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	p.do(t, "GET", "/api/v1/openapi.json", nil, 200, &doc)
	// B has a recorded tool call, so GET /tenants/{B}/calls has B's tool
	// name to leak.
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + w.bTool + `","arguments":{}}}`
	if resp, body := rawMCP(t, p.url+"/t/"+w.b+"/mcp", w.bToken, "", call); resp.StatusCode != 200 {
		t.Fatalf("B's tool call: %d %s", resp.StatusCode, body)
	}
	var bCalls struct {
		Calls   []struct{ Tool string }
		Summary struct{ Calls int }
	}
	p.do(t, "GET", "/api/v1/tenants/"+w.b+"/calls", nil, 200, &bCalls)
	if len(bCalls.Calls) != 1 || bCalls.Calls[0].Tool != w.bTool || bCalls.Summary.Calls != 1 {
		t.Fatalf("B's calls as the operator = %+v, want the one call of %s", bCalls, w.bTool)
	}
	values := map[string]string{"id": w.b, "token_id": w.bTokenID, "key_id": w.bKeyID, "name": w.bCred, "user": w.bob}
	secretsOfB := []string{w.b, w.bTokenID, w.bKeyID, w.bCred, w.bob, "bob@b.example", w.bTool, w.bobKeyID, canary, w.bToken[:12]}
	// Bodies valid enough to get past decoding, so only authorization stops them.
	bodies := map[string]any{
		"PATCH /tenants/{id}":                  map[string]any{"name": "pwned"},
		"PUT /tenants/{id}/settings":           map[string]any{},
		"PUT /tenants/{id}/credentials/{name}": map[string]any{"type": "bearer", "value": "x"},
		"POST /tenants/{id}/tokens":            map[string]any{"name": "x"},
		"POST /tenants/{id}/api-keys":          map[string]any{"name": "x", "scopes": []string{"read"}},
		"PUT /tenants/{id}/members/{user}":     map[string]any{"role": "viewer"},
		"POST /tenants":                        map[string]any{"name": "new-from-a", "base_url": "http://127.0.0.1:1"},
		"POST /api-keys":                       map[string]any{"name": "x", "scopes": []string{"read"}},
		"POST /users":                          map[string]any{"email": "x@x.example", "password": "another long password"},
		"POST /me/api-keys":                    map[string]any{"name": "x", "scopes": []string{"read"}},
	}
	// Routes for operators only: every caller of A is refused with 403.
	operatorRoutes := map[string]bool{"GET /audit": true, "GET /users": true, "POST /users": true,
		"GET /api-keys": true, "POST /api-keys": true, "DELETE /api-keys/{key_id}": true}
	// The tenant key of A's own keys listing etc. legitimately see A's data;
	// a route without B's ids passes when it refuses or shows nothing of B.
	var routes []string
	for path, item := range doc.Paths {
		for m := range item {
			routes = append(routes, strings.ToUpper(m)+" "+path)
		}
	}
	sort.Strings(routes)
	probes, leaks := 0, 0
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if r == "POST /auth/login" || r == "POST /auth/logout" || r == "GET /openapi.json" || r == "GET /schemas/{name}" {
			continue // public, or ends the session the other probes use (checked below)
		}
		concrete := pathParam.ReplaceAllStringFunc(path, func(m string) string {
			return url.PathEscape(values[m[1:len(m)-1]])
		})
		tenantRoute := strings.Contains(path, "{")
		for _, c := range w.callersOfA {
			probes++
			st, body, _ := p.send(t, c, method, "/api/v1"+concrete, bodies[r])
			refused := st == 403 || st == 404
			if r == "POST /tenants/{id}/spec/hook" {
				// Authorized by the tenant's webhook signature, not the
				// caller: every unsigned delivery gets the same 401, for an
				// existing tenant or not, so it tells A nothing of B.
				refused = st == 401 && bytes.Contains(body, []byte(`"invalid_signature"`))
			}
			if operatorRoutes[r] && st != 403 {
				leaks++
				t.Errorf("%s %s as %s: status %d, want 403 (operator only): %.200s", method, concrete, c.name, st, body)
			}
			if tenantRoute && !refused {
				leaks++
				t.Errorf("%s %s as %s: status %d, want 403 or 404: %.200s", method, concrete, c.name, st, body)
			}
			for _, s := range secretsOfB {
				// A refusal may quote the ids the caller itself sent in the path.
				echoed := refused && strings.Contains(concrete, url.PathEscape(s))
				if s != "" && bytes.Contains(body, []byte(s)) && !echoed {
					leaks++
					t.Errorf("%s %s as %s: response holds B's %q: %.300s", method, concrete, c.name, s, body)
				}
			}
		}
	}
	t.Logf("cross-tenant probe: %d routes, %d calls (3 callers of tenant A each, on tenant B's ids), %d leaks", len(routes), probes, leaks)
	fmt.Printf("cross-tenant isolation: probed %d routes with %d calls, %d leaks\n", len(routes), probes, leaks)
	if len(routes) < 30 {
		t.Errorf("only %d routes in the OpenAPI document; is the walk broken?", len(routes))
	}

	// B is untouched: still active, its token still serves, bob still owns it.
	var tb struct{ Name, Status string }
	p.do(t, "GET", "/api/v1/tenants/"+w.b, nil, 200, &tb)
	if tb.Name != "tenant-b" || tb.Status != "active" {
		t.Errorf("tenant B after the probe = %+v, want tenant-b active", tb)
	}
	var members struct {
		Members []struct{ UserID, Role string } `json:"members"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+w.b+"/members", nil, 200, &members)
	if len(members.Members) != 1 || members.Members[0].Role != "owner" {
		t.Errorf("B's members after the probe = %+v", members.Members)
	}
	var creds struct{ Credentials []struct{ Name string } }
	p.do(t, "GET", "/api/v1/tenants/"+w.b+"/credentials", nil, 200, &creds)
	if len(creds.Credentials) != 1 {
		t.Errorf("B's credentials after the probe = %+v", creds.Credentials)
	}
	if resp := mcpPost(t, p.url+"/t/"+w.b+"/mcp", w.bToken); resp.StatusCode != 200 {
		t.Errorf("B's own token after the probe: %d", resp.StatusCode)
	}
	if resp := mcpPost(t, p.url+"/t/"+w.b+"/mcp", w.aToken); resp.StatusCode != 401 {
		t.Errorf("A's MCP token on B's endpoint: %d, want 401", resp.StatusCode)
	}
}

// TestMCPSessionBoundToTenantAndToken: a session made on A's endpoint,
// presented at B's endpoint with B's valid token, is refused.
func TestMCPSessionBoundToTenantAndToken(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	w := buildWorld(t, p, startThingsUpstream(t))

	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}`
	resp, _ := rawMCP(t, p.url+"/t/"+w.a+"/mcp", w.aToken, "", init)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		// Stateless serving issues no session ids; present the shape a
		// tenant-prefixed stateful id of A would have, which is what a
		// stateful Portico hands out.
		sid = w.a + ".forged-or-replayed"
		t.Logf("A issued no Mcp-Session-Id (stateless); presenting %q", sid)
	}
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`
	resp, body := rawMCP(t, p.url+"/t/"+w.b+"/mcp", w.bToken, sid, list)
	if resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Errorf("A's session on B's endpoint with B's token: status %d, want 403/404: %.300s", resp.StatusCode, body)
	}
	if strings.Contains(body, "getThing") {
		t.Errorf("B's caller was served A's tools: %.300s", body)
	}
	// And A's session with A's own endpoint but B's token is refused too (401: wrong tenant's token).
	resp, _ = rawMCP(t, p.url+"/t/"+w.a+"/mcp", w.bToken, sid, list)
	if resp.StatusCode != 401 {
		t.Errorf("B's token on A's endpoint: %d, want 401", resp.StatusCode)
	}
}

func rawMCP(t *testing.T, endpoint, token, sid, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestRateLimits: REST answers 429 with Retry-After at the configured rate
// and recovers after the window; MCP tool calls past a tenant's per-token
// limit get a tool error saying when to retry, and pass again afterwards.
func TestRateLimits(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPorticoWith(t, dbURL, map[string]string{"PORTICO_RATE_LIMIT_CALLER": "2:3"})
	admin := bearer("admin", p.adminKey)

	for i := 1; i <= 3; i++ {
		if st, b, _ := p.send(t, admin, "GET", "/api/v1/tenants", nil); st != 200 {
			t.Fatalf("request %d of a burst of 3: %d %s", i, st, b)
		}
	}
	st, body, h := p.send(t, admin, "GET", "/api/v1/tenants", nil)
	if st != 429 || h.Get("Retry-After") != "1" || !strings.Contains(string(body), "rate_limited") {
		t.Fatalf("4th request: %d Retry-After %q %s; want 429, Retry-After 1", st, h.Get("Retry-After"), body)
	}
	time.Sleep(time.Second)

	// MCP: the tenant allows each token 2 calls per second, bursts of 2.
	upstream := startThingsUpstream(t)
	var tn struct{ ID, MCPURL string }
	create := map[string]any{"name": "limited", "base_url": upstream,
		"settings": map[string]any{"token_rate_limit_per_second": 2, "token_rate_limit_burst": 2}}
	if st, b, _ := p.send(t, admin, "POST", "/api/v1/tenants", create); st != 201 {
		t.Fatalf("create: %d %s", st, b)
	} else {
		json.Unmarshal(b, &tn)
	}
	tn.MCPURL = p.url + "/t/" + tn.ID + "/mcp"
	time.Sleep(time.Second) // REST budget again
	var tok struct{ Secret string }
	if st, b, _ := p.send(t, admin, "POST", "/api/v1/tenants/"+tn.ID+"/tokens", map[string]any{"name": "a"}); st != 201 {
		t.Fatalf("token: %d %s", st, b)
	} else {
		json.Unmarshal(b, &tok)
	}
	if st, b, _ := p.send(t, admin, "POST", "/api/v1/tenants/"+tn.ID+"/activate", nil); st != 200 {
		t.Fatalf("activate: %d %s", st, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := connect(ctx, t, tn.MCPURL, tok.Secret)
	call := func() *mcp.CallToolResult {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "getThing", Arguments: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := 1; i <= 2; i++ {
		if res := call(); res.IsError {
			t.Fatalf("call %d within the limit: %s", i, textOf(res))
		}
	}
	res := call()
	if !res.IsError || !strings.Contains(textOf(res), "rate limit reached for this MCP token") || !strings.Contains(textOf(res), "retry in 1 s") {
		t.Fatalf("3rd call: isError=%v %q; want a tool error saying when to retry", res.IsError, textOf(res))
	}
	time.Sleep(600 * time.Millisecond) // one token refills every 500 ms
	if res := call(); res.IsError {
		t.Errorf("call after the window: %s", textOf(res))
	}
}

// TestBadInputAtTheEdge: specific, non-leaking errors for the abuse cases
// that only a running server shows.
func TestBadInputAtTheEdge(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPorticoWith(t, dbURL, map[string]string{"PORTICO_ALLOW_UPSTREAM_CIDRS": "", "PORTICO_MAX_HEADER_BYTES": "8192"})
	admin := bearer("admin", p.adminKey)

	t.Run("oversized headers", func(t *testing.T) {
		req, _ := http.NewRequest("GET", p.url+"/api/v1/tenants", nil)
		req.Header.Set("Authorization", "Bearer "+p.adminKey)
		req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 431 {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("base url resolving to a private address", func(t *testing.T) {
		for _, u := range []string{"http://127.0.0.1:8000", "http://169.254.169.254/", "http://[::ffff:10.0.0.5]/", "http://localhost:9/"} {
			st, b, _ := p.send(t, admin, "POST", "/api/v1/tenants", map[string]any{"name": "ssrf " + u, "base_url": u})
			if st != 422 || !strings.Contains(string(b), `"base_url"`) || !strings.Contains(string(b), "PORTICO_ALLOW_UPSTREAM_CIDRS") {
				t.Errorf("%s: %d %s; want 422 naming base_url and the allow-list", u, st, b)
			}
		}
		var audit struct{ Audit []struct{ Action string } }
		_ = audit // security events go to the operator log (tenant ""), not readable per tenant
	})
	t.Run("wrong password, expired session, revoked key", func(t *testing.T) {
		p.createUser(t, "carol@c.example", false)
		b, _ := json.Marshal(map[string]string{"email": "carol@c.example", "password": "wrong password!!"})
		resp, _ := http.Post(p.url+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b, _ = json.Marshal(map[string]string{"email": "nobody@c.example", "password": "wrong password!!"})
		resp2, _ := http.Post(p.url+"/api/v1/auth/login", "application/json", bytes.NewReader(b))
		body2, _ := io.ReadAll(resp2.Body)
		resp2.Body.Close()
		if resp.StatusCode != 401 || !bytes.Equal(body, body2) {
			t.Errorf("wrong password %d %s vs unknown user %s: want the same 401", resp.StatusCode, body, body2)
		}
		s := p.login(t, "carol@c.example", "a long enough password")
		if st, b, _ := p.send(t, s, "POST", "/api/v1/auth/logout", nil); st != 204 {
			t.Fatalf("logout: %d %s", st, b)
		}
		if st, b, _ := p.send(t, s, "GET", "/api/v1/auth/me", nil); st != 401 || !strings.Contains(string(b), "session_expired") {
			t.Errorf("after logout: %d %s, want 401 session_expired", st, b)
		}
		s = p.login(t, "carol@c.example", "a long enough password")
		noCSRF := caller{"no csrf", func(r *http.Request) { s.set(r); r.Header.Del("X-CSRF-Token") }}
		if st, b, _ := p.send(t, noCSRF, "POST", "/api/v1/me/api-keys", map[string]any{"name": "x", "scopes": []string{"read"}}); st != 403 || !strings.Contains(string(b), "csrf_failed") {
			t.Errorf("cookie write without CSRF token: %d %s", st, b)
		}
		var key struct {
			APIKey struct{ ID string } `json:"api_key"`
			Secret string
		}
		p.do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "short-lived", "scopes": []string{"read"}}, 201, &key)
		if st, b, _ := p.send(t, bearer("ro", key.Secret), "POST", "/api/v1/users", map[string]any{}); st != 403 || !strings.Contains(string(b), "write scope") {
			t.Errorf("read key writing: %d %s", st, b)
		}
		p.do(t, "DELETE", "/api/v1/api-keys/"+key.APIKey.ID, nil, 204, nil)
		if st, _, _ := p.send(t, bearer("revoked", key.Secret), "GET", "/api/v1/tenants", nil); st != 401 {
			t.Errorf("revoked key: %d, want 401", st)
		}
	})
}

// TestRESTRateLimitTenantSetting: a tenant's own REST limit
// (settings.rest_rate_limit_*) replaces the operator's default on its
// routes, answers 429 with Retry-After at the configured rate, clears after
// the window, and a settings change applies at once, on this replica and on
// another one (through the tenant change listener), without a restart.
func TestRESTRateLimitTenantSetting(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPorticoWith(t, dbURL, nil) // operator REST limits off
	p2 := startPorticoWith(t, dbURL, nil)
	admin, admin2 := bearer("admin", p.adminKey), bearer("admin", p2.adminKey)

	ids := make([]string, 2)
	for i := range ids {
		st, b, _ := p.send(t, admin, "POST", "/api/v1/tenants", map[string]any{"name": fmt.Sprintf("rl%d", i), "base_url": "http://127.0.0.1:9"})
		if st != 201 {
			t.Fatalf("create: %d %s", st, b)
		}
		var tn struct{ ID string }
		json.Unmarshal(b, &tn)
		ids[i] = tn.ID
	}
	id := ids[0]
	get := func(p *portico, h caller, id string) (int, string, string) {
		st, b, hd := p.send(t, h, "GET", "/api/v1/tenants/"+id, nil)
		return st, hd.Get("Retry-After"), string(b)
	}
	// Replica 2 reads (and caches) the limits before the change.
	for range 5 {
		if st, _, b := get(p2, admin2, id); st != 200 {
			t.Fatalf("before the setting, on replica 2: %d %s", st, b)
		}
	}
	put := func(s map[string]any) {
		t.Helper()
		if st, b, _ := p.send(t, admin, "PUT", "/api/v1/tenants/"+id+"/settings", s); st != 200 {
			t.Fatalf("settings %v: %d %s", s, st, b)
		}
	}
	put(map[string]any{"rest_rate_limit_per_second": 2, "rest_rate_limit_burst": 3})

	for i := 1; i <= 3; i++ {
		if st, _, b := get(p, admin, id); st != 200 {
			t.Fatalf("request %d of a burst of 3: %d %s", i, st, b)
		}
	}
	st, retry, body := get(p, admin, id)
	if st != 429 || retry != "1" || !strings.Contains(body, "rate_limited") || !strings.Contains(body, "tenant "+id) {
		t.Fatalf("4th request: %d Retry-After %q %s; want 429 naming the tenant, Retry-After 1", st, retry, body)
	}
	if st, _, b := get(p, admin, ids[1]); st != 200 {
		t.Errorf("another tenant is not limited by this one's setting: %d %s", st, b)
	}
	time.Sleep(time.Second) // 2 per second: the window has passed
	if st, _, b := get(p, admin, id); st != 200 {
		t.Fatalf("after the window: %d %s", st, b)
	}

	// Replica 2 heard of the change by NOTIFY: its own bucket runs out at
	// the tenant's burst too (its cache held "no limit" before).
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, retry, b := get(p2, admin2, id)
		if st == 429 {
			if retry == "" || !strings.Contains(b, "tenant "+id) {
				t.Fatalf("replica 2: 429 without Retry-After or tenant: %q %s", retry, b)
			}
			break
		}
		if st != 200 || time.Now().After(deadline) {
			t.Fatalf("replica 2 never applied the tenant's limit: %d %s", st, b)
		}
	}

	// A slower rate applies from the next request: Retry-After grows to 5 s.
	time.Sleep(1500 * time.Millisecond)
	put(map[string]any{"rest_rate_limit_per_second": 0.2, "rest_rate_limit_burst": 1})
	for i := 0; ; i++ {
		st, retry, b := get(p, admin, id)
		if st == 429 {
			if retry != "5" && retry != "4" {
				t.Fatalf("after slowing to 0.2/s: Retry-After %q, want about 5 s: %s", retry, b)
			}
			break
		}
		if st != 200 || i > 3 {
			t.Fatalf("after slowing to 0.2/s, request %d: %d %s; want 429 within the burst of 1", i, st, b)
		}
	}

	// Bad values are refused naming the field.
	st, b, _ := p.send(t, admin, "PUT", "/api/v1/tenants/"+ids[1]+"/settings", map[string]any{"rest_rate_limit_per_second": -1, "rest_caller_rate_limit_burst": 1e6})
	if st != 422 || !strings.Contains(string(b), "settings.rest_rate_limit_per_second") || !strings.Contains(string(b), "settings.rest_caller_rate_limit_burst") {
		t.Errorf("bad limits: %d %s; want 422 naming both fields", st, b)
	}

	// Per caller within the tenant: each key gets its own bucket.
	put2 := map[string]any{"rest_caller_rate_limit_per_second": 1, "rest_caller_rate_limit_burst": 2}
	if st, b, _ := p.send(t, admin, "PUT", "/api/v1/tenants/"+ids[1]+"/settings", put2); st != 200 {
		t.Fatalf("caller limit: %d %s", st, b)
	}
	for i := 1; i <= 2; i++ {
		if st, _, b := get(p, admin, ids[1]); st != 200 {
			t.Fatalf("caller request %d: %d %s", i, st, b)
		}
	}
	if st, retry, b := get(p, admin, ids[1]); st != 429 || retry != "1" || !strings.Contains(b, "this API key or session in tenant "+ids[1]) {
		t.Fatalf("3rd request of one caller: %d %q %s; want 429 for this key in the tenant", st, retry, b)
	}
	if st, _, b := get(p, admin2, ids[1]); st != 200 {
		t.Errorf("another key on the same tenant: %d %s; want 200", st, b)
	}
}
