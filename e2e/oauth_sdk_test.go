package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestOAuthWithGoSDKClient connects the go-sdk's own OAuth client
// (auth.AuthorizationCodeHandler: RFC 9728 and 8414 discovery, dynamic
// registration, PKCE, RFC 9207 iss check, golang.org/x/oauth2 for the
// token requests) to a tenant endpoint with nothing but its URL. The user's
// approval is given over HTTP the way the consent page gives it (the page
// itself is driven in Chromium by TestOAuthAuthorizationCodeFlow). The
// first token is handed back already expired, so the client's first call
// refreshes it the way x/oauth2 does, without a resource parameter.
func TestOAuthWithGoSDKClient(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	a, _ := conformanceTenant(t, p, fx.url)
	email, password := tenantOwner(t, p, dbURL, a)

	approvals := 0
	approve := consentOverHTTP(t, p.url, email, password, func() { approvals++ })
	refreshed := false
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{"http://127.0.0.1:9/callback"}, ClientName: "go-sdk client",
			GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: "none",
		}},
		AuthorizationCodeFetcher: approve,
		NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
			expired := *tok
			expired.Expiry = time.Now().Add(-time.Minute)
			src := cfg.TokenSource(ctx, &expired)
			return tokenSourceFunc(func() (*oauth2.Token, error) {
				nt, err := src.Token()
				if err == nil && nt.AccessToken != tok.AccessToken {
					refreshed = true
				}
				return nt, err
			}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-oauth-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: p.url + "/t/" + a + "/mcp", OAuthHandler: h, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect with the go-sdk OAuth client: %v", err)
	}
	defer cs.Close()
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"}); err != nil || res.IsError {
		t.Fatalf("tool call: %+v, %v", res, err)
	}
	if approvals != 1 || !refreshed {
		t.Errorf("approvals %d, refreshed %v; want one approval and a refresh", approvals, refreshed)
	}

	// The tenant's admins see the connected application and cut it off;
	// the client's next call is refused although its token was cached.
	var grants struct {
		OAuthGrants []struct {
			ID         string `json:"id"`
			ClientName string `json:"client_name"`
			UserEmail  string `json:"user_email"`
		} `json:"oauth_grants"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+a+"/oauth-grants", nil, 200, &grants)
	if len(grants.OAuthGrants) != 1 || grants.OAuthGrants[0].ClientName != "go-sdk client" || grants.OAuthGrants[0].UserEmail != email {
		t.Fatalf("oauth grants = %+v, want the go-sdk client approved by %s", grants.OAuthGrants, email)
	}
	p.do(t, "DELETE", "/api/v1/tenants/"+a+"/oauth-grants/"+grants.OAuthGrants[0].ID, nil, 204, nil)
	p.do(t, "DELETE", "/api/v1/tenants/"+a+"/oauth-grants/"+grants.OAuthGrants[0].ID, nil, 404, nil)
	ts, err := h.TokenSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if st := mcpPost(t, p.url+"/t/"+a+"/mcp", tok.AccessToken).StatusCode; st != 401 {
		t.Errorf("access token after the grant was revoked in the API: status %d, want 401", st)
	}
}

// TestOAuthWithTypeScriptSDKClient runs the TypeScript SDK's OAuth client
// (testdata/ts_oauth_client.mjs: StreamableHTTPClientTransport with an
// OAuthClientProvider) against a tenant endpoint with nothing but its URL,
// headless, as a command-line client runs it: the 401's resource metadata,
// discovery, dynamic registration (which once failed on an empty
// client_uri), PKCE. The user approves over HTTP as in the go-sdk test; the
// browser's last step, following the redirect to the client's loopback
// redirect URI, is a GET from here. The script then exchanges the code,
// lists tools and calls one.
func TestOAuthWithTypeScriptSDKClient(t *testing.T) {
	tools := nodeTools(t)
	dbURL := pgtest.NewDB(t)
	fx := startFastAPIApp(t, "conformance_app:app")
	p := startPortico(t, dbURL)
	a, _ := conformanceTenant(t, p, fx.url)
	email, password := tenantOwner(t, p, dbURL, a)
	approve := approveOverHTTP(t, p.url, email, password)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	// The tenant's endpoint, then a toolset's URL: the toolset's 401 names
	// the tenant's resource, a prefix of its URL, which the SDK accepts.
	p.do(t, "POST", "/api/v1/tenants/"+a+"/toolsets", map[string]any{"name": "simple", "tools": []string{"test_simple_text"}}, 201, nil)
	for i, tc := range []struct{ name, path string }{{"tenant endpoint", ""}, {"toolset", "/simple"}} {
		t.Run(tc.name, func(t *testing.T) {
			script, _ := filepath.Abs(filepath.Join("testdata", "ts_oauth_client.mjs"))
			cmd := exec.CommandContext(ctx, tools.node, script)
			cmd.Env = append(os.Environ(), "MCP_URL="+p.url+"/t/"+a+"/mcp"+tc.path, "NODE_MODULES="+filepath.Join(tools.dir, "node_modules"))
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			steps := map[string]map[string]any{}
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				t.Logf("ts oauth client: %s", sc.Text())
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) != nil {
					continue
				}
				step, _ := m["step"].(string)
				steps[step] = m
				if step != "authorize" {
					continue
				}
				authURL, _ := m["url"].(string)
				redirect, err := approve(ctx, authURL)
				if err != nil {
					t.Errorf("consent to %s: %v", authURL, err)
					cmd.Process.Kill()
					break
				}
				// The browser follows the redirect to the client's loopback server.
				req, _ := http.NewRequestWithContext(ctx, "GET", redirect.String(), nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("redirect to the client %s: %v", redirect, err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("the client's redirect URI answered %d", resp.StatusCode)
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("ts oauth client: %v\n%s", err, stderr.String())
			}

			reg := steps["registered"]
			if reg["client_id"] == nil || reg["client_name"] != "TypeScript SDK client" {
				t.Errorf("registration = %v", reg)
			}
			var meta struct{ Issuer string }
			resp, err := http.Get(p.url + "/.well-known/oauth-authorization-server")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&meta)
			resp.Body.Close()
			if iss := steps["callback"]["iss"]; meta.Issuer == "" || iss != meta.Issuer {
				t.Errorf("redirect carried iss %v, want the issuer %q (RFC 9207)", iss, meta.Issuer)
			}
			if tok := steps["tokens"]; tok["token_type"] != "Bearer" && tok["token_type"] != "bearer" || tok["refresh_token"] != true {
				t.Errorf("tokens = %v, want a bearer token with a refresh token", tok)
			}
			if names, _ := steps["tools"]["names"].([]any); !slices.Contains(names, any("test_simple_text")) || tc.path != "" && len(names) != 1 {
				t.Errorf("tools = %v (a toolset's URL lists only its tool)", steps["tools"])
			}
			if got := steps["call"]; got["text"] != "This is a simple text response for testing." || got["isError"] != false {
				t.Errorf("call = %v", got)
			}
			var grants struct {
				OAuthGrants []struct {
					ClientName string `json:"client_name"`
					UserEmail  string `json:"user_email"`
				} `json:"oauth_grants"`
			}
			p.do(t, "GET", "/api/v1/tenants/"+a+"/oauth-grants", nil, 200, &grants)
			if len(grants.OAuthGrants) != i+1 || grants.OAuthGrants[i].ClientName != "TypeScript SDK client" || grants.OAuthGrants[i].UserEmail != email {
				t.Errorf("oauth grants = %+v, want the TypeScript SDK client approved by %s", grants.OAuthGrants, email)
			}
			t.Logf("TypeScript SDK %v negotiated %v through OAuth", steps["connected"]["sdk"], steps["connected"]["protocol"])
		})
	}
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// tenantOwner creates a dashboard user (not an operator) who owns tenant
// id, and returns the email and password to sign in with.
func tenantOwner(t *testing.T, p *portico, dbURL, id string) (email, password string) {
	t.Helper()
	email, password = "linus@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+id+"/members/"+email, map[string]string{"role": "owner"}, 200, nil)
	return email, password
}

// consentOverHTTP is approveOverHTTP as a go-sdk AuthorizationCodeFetcher:
// it reads code, state and iss from where the page would send the browser.
func consentOverHTTP(t *testing.T, base, email, password string, approved func()) auth.AuthorizationCodeFetcher {
	t.Helper()
	approve := approveOverHTTP(t, base, email, password)
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		redirect, err := approve(ctx, args.URL)
		if err != nil {
			return nil, err
		}
		approved()
		q := redirect.Query()
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

// approveOverHTTP signs in as the user and answers authorization requests
// the way the dashboard's consent page does: follow /oauth/authorize to the
// page, read the details, post the approval with the CSRF token, and return
// the redirect URI (with code, state and iss) the page would send the
// browser to.
func approveOverHTTP(t *testing.T, base, email, password string) func(ctx context.Context, authURL string) (*url.URL, error) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := hc.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.CSRFToken == "" {
		t.Fatalf("login: status %d", resp.StatusCode)
	}
	return func(ctx context.Context, authURL string) (*url.URL, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", authURL, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/oauth/consent" {
			return nil, fmt.Errorf("authorize: status %d to %q, want 302 to /oauth/consent", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err = hc.Get(base + "/oauth/authorize/details?" + loc.RawQuery)
		if err != nil {
			return nil, err
		}
		var details struct {
			CanApprove bool `json:"can_approve"`
		}
		json.NewDecoder(resp.Body).Decode(&details)
		resp.Body.Close()
		if resp.StatusCode != 200 || !details.CanApprove {
			return nil, fmt.Errorf("consent details: status %d, can_approve %v", resp.StatusCode, details.CanApprove)
		}
		b, _ := json.Marshal(map[string]any{"request": loc.RawQuery, "approve": true})
		req, _ = http.NewRequestWithContext(ctx, "POST", base+"/oauth/authorize", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", login.CSRFToken)
		resp, err = hc.Do(req)
		if err != nil {
			return nil, err
		}
		var decision struct {
			RedirectTo string `json:"redirect_to"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		json.Unmarshal(raw, &decision)
		if resp.StatusCode != 200 || !strings.Contains(decision.RedirectTo, "code=") {
			return nil, fmt.Errorf("approve: status %d: %s", resp.StatusCode, raw)
		}
		return url.Parse(decision.RedirectTo)
	}
}

// TestOAuthClientMetadataDocumentGuard: a Client ID Metadata Document is
// fetched through the outbound guard. A client_id on a loopback address is
// refused without a connection unless PORTICO_ALLOW_UPSTREAM_CIDRS allows
// it; allowed, Portico connects (and here refuses the test server's
// self-signed certificate, as it would any untrusted one).
func TestOAuthClientMetadataDocumentGuard(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the document was fetched: %s", r.URL)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	clientID := srv.URL + "/client.json"
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}

	dbURL := pgtest.NewDB(t)
	for _, tc := range []struct {
		name, allow, want string
		conns             int32
	}{
		// An unauthenticated caller learns only that the document could not be
		// fetched, not why (no socket details, no allow-list hint): the
		// connection count tells the two cases apart here.
		{"loopback not allowed", "", "could not be fetched (refused or unreachable)", 0},
		{"loopback allowed", "127.0.0.0/8", "could not be fetched", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns.Store(0)
			p := startPortico(t, dbURL, "PORTICO_ALLOW_UPSTREAM_CIDRS="+tc.allow)
			resp, err := http.Get(p.url + "/oauth/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if resp.StatusCode != 401 || e.Error != "invalid_client" || !strings.Contains(e.Description, tc.want) {
				t.Errorf("status %d %s %q, want 401 invalid_client naming %q", resp.StatusCode, e.Error, e.Description, tc.want)
			}
			if got := conns.Load(); got != tc.conns {
				t.Errorf("%d connections to the document's server, want %d", got, tc.conns)
			}
		})
	}
}
