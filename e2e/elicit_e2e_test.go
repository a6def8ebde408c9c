package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// replicaSwitch sends a client's requests, with its bearer token, to the
// replica whose URL target holds (a balancer without affinity).
type replicaSwitch struct {
	token  string
	target atomic.Pointer[url.URL]
}

func (s *replicaSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	t := s.target.Load()
	r.URL.Scheme, r.URL.Host, r.Host = t.Scheme, t.Host, t.Host
	r.Header.Set("Authorization", "Bearer "+s.token)
	return http.DefaultTransport.RoundTrip(r)
}

func (s *replicaSwitch) to(t *testing.T, base string) {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	s.target.Store(u)
}

// TestDelegatedAccessElicitation: a user who has not linked their upstream
// account, calling through two `portico serve` replicas with no affinity.
// A go-sdk client that declared URL-mode elicitation at 2025-11-25
// initializes on replica a and calls on b: b answers the -32042
// URLElicitationRequiredError with its link URL (the capability came with
// the session id). A 2026-07-28 client that declares it in each request's
// _meta gets an input-required elicitation; its handler links the account
// in the "browser" and accepts, and the client's retry returns the user's
// own data. Clients that declared nothing get today's tool error. The
// TypeScript SDK's client sees the -32042 as its UrlElicitationRequiredError.
func TestDelegatedAccessElicitation(t *testing.T) {
	harness.HeavySuite(t, "builds and runs two portico processes and a FastAPI provider")
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	adminKey := generateAdminKey()
	ra := startReplica(t, bin, dbURL, adminKey)
	rb := startReplica(t, bin, dbURL, adminKey)
	seen := &syncBuffer{}
	pa := &portico{url: ra.url, adminKey: adminKey, logs: ra.logs, responses: seen}
	up := startProvider(t, ra.url)

	var created struct {
		ID string `json:"id"`
	}
	pa.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "elicit", "base_url": up.url + "/"}, 201, &created)
	id := created.ID
	pa.do(t, "PUT", "/api/v1/tenants/"+id+"/credentials/notes", map[string]any{"type": "oauth2_authorization_code",
		"authorize_url": up.url + "/oauth/authorize", "token_url": up.url + "/oauth/token", "client_id": "portico",
		"value": delegatedSecret, "scopes": []string{"notes:read"}}, 204, nil)
	pa.do(t, "POST", "/api/v1/tenants/"+id+"/activate", nil, 200, nil)
	waitTools(t, "replica b after activation on a", rb.url+"/t/"+id+"/mcp", pa.token(t, id), []string{"m2m_report", "my_notes", "who_am_i"})

	const email, password = "erin@example.test", "correct horse battery staple"
	env := map[string]string{"DATABASE_URL": dbURL, "PORTICO_MASTER_KEYS": testMasterKeys, "PORTICO_ADMIN_PASSWORD": password}
	if err := cli.Run(context.Background(), []string{"admin", "user", "create", "--email", email, "--operator=false"},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	pa.do(t, "PUT", "/api/v1/tenants/"+id+"/members/"+email, map[string]string{"role": "admin"}, 200, nil)
	erin := signIn(t, ra.url, email, password, seen)
	tok, _ := erin.oauthToken(t, ra.url, id)
	linkPath := "/tenants/" + id + "/accounts?link=notes"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	urlElicitation := &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}}
	// open connects a client speaking version, first to replica a; opts
	// are the client's.
	open := func(version string, opts *mcp.ClientOptions) (*mcp.ClientSession, *replicaSwitch) {
		t.Helper()
		sw := &replicaSwitch{token: tok}
		sw.to(t, ra.url)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "elicit-e2e", Version: "1"}, opts).Connect(ctx,
			&mcp.StreamableClientTransport{Endpoint: ra.url + "/t/" + id + "/mcp", HTTPClient: &http.Client{Transport: sw}, MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		if got := cs.InitializeResult().ProtocolVersion; got != version {
			t.Fatalf("negotiated %s, want %s", got, version)
		}
		return cs, sw
	}
	callNotes := func(cs *mcp.ClientSession) (*mcp.CallToolResult, error) {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "my_notes", Arguments: map[string]any{}})
		if res != nil {
			b, _ := json.Marshal(res)
			toolResults.Write(b)
		}
		return res, err
	}

	// 2025-11-25, URL elicitation declared at initialize on a, called on b.
	cs, sw := open("2025-11-25", &mcp.ClientOptions{Capabilities: urlElicitation})
	sw.to(t, rb.url)
	_, err := callNotes(cs)
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeURLElicitationRequired {
		t.Fatalf("2025-11-25 with URL elicitation, called on b: %v, want the -32042 URLElicitationRequiredError", err)
	}
	var data struct {
		Elicitations []struct {
			Mode, ElicitationID, URL, Message string
		} `json:"elicitations"`
	}
	if err := json.Unmarshal(rpcErr.Data, &data); err != nil || len(data.Elicitations) != 1 {
		t.Fatalf("-32042 data = %s, want one elicitation", rpcErr.Data)
	}
	if e := data.Elicitations[0]; e.Mode != "url" || e.URL != rb.url+linkPath || e.ElicitationID == "" || !strings.Contains(e.Message, "Link your 127.0.0.1 account") {
		t.Errorf("elicitation = %+v, want mode url, b's link URL %s, an id and a message", e, rb.url+linkPath)
	}
	if !strings.Contains(rpcErr.Message, "have not linked") || !strings.Contains(rpcErr.Message, rb.url+linkPath) {
		t.Errorf("-32042 message %q does not say what to do", rpcErr.Message)
	}

	// 2025-11-25 without it: the tool error, on either replica.
	plain, sw := open("2025-11-25", nil)
	sw.to(t, rb.url)
	res, err := callNotes(plain)
	if err != nil {
		t.Fatal(err)
	}
	wantToolError(t, "2025-11-25 without URL elicitation", res, "have not linked", rb.url+linkPath)
	// 2026-07-28 without it: the tool error.
	plain26, _ := open("2026-07-28", nil)
	res, err = callNotes(plain26)
	if err != nil {
		t.Fatal(err)
	}
	wantToolError(t, "2026-07-28 without URL elicitation", res, "have not linked", linkPath)

	// The TypeScript SDK's client (2025-11-25 sessions): its
	// UrlElicitationRequiredError with the link URL, or the tool error.
	tools := nodeTools(t)
	next := tsClient(ctx, t, tools, "ts_elicit.mjs", "MCP_URL="+rb.url+"/t/"+id+"/mcp", "MCP_TOKEN="+tok, "CALL_TOOL=my_notes")
	ts := next("url")
	els, _ := ts["elicitations"].([]any)
	first, _ := func() (map[string]any, bool) {
		if len(els) == 1 {
			m, ok := els[0].(map[string]any)
			return m, ok
		}
		return nil, false
	}()
	if ts["urlElicitationRequired"] != true || ts["code"] != float64(mcp.CodeURLElicitationRequired) || first["mode"] != "url" || first["url"] != rb.url+linkPath || first["elicitationId"] == "" {
		t.Errorf("TypeScript client with URL elicitation got %v, want a UrlElicitationRequiredError for %s", ts, rb.url+linkPath)
	}
	if ts = next("plain"); ts["isError"] != true || !strings.Contains(fmt.Sprint(ts["text"]), rb.url+linkPath) {
		t.Errorf("TypeScript client without URL elicitation got %v, want the tool error with the link URL", ts)
	}

	// 2026-07-28 with it: the input-required elicitation reaches the
	// handler (through b), which links in the browser and accepts; the
	// client's retry (through a) finds the link.
	var mu sync.Mutex
	var asked []*mcp.ElicitParams
	var sw26 *replicaSwitch
	cs26, sw26 := open("2026-07-28", &mcp.ClientOptions{
		Capabilities: urlElicitation,
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			asked = append(asked, req.Params)
			mu.Unlock()
			erin.link(t, ra.url, id, "notes", "alice")
			sw26.to(t, ra.url)
			return &mcp.ElicitResult{Action: "accept"}, nil
		},
	})
	sw26.to(t, rb.url)
	res, err = callNotes(cs26)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, "2026-07-28 with URL elicitation, after linking in the handler", res, "alice")
	if len(asked) != 1 || asked[0].Mode != "url" || asked[0].URL != rb.url+linkPath || !strings.Contains(asked[0].Message, "Link your 127.0.0.1 account") {
		t.Errorf("elicitations the handler got = %+v, want one of mode url for %s", asked, rb.url+linkPath)
	}
	// Linked now: the 2025-11-25 session that was asked gets the data.
	res, err = callNotes(cs)
	if err != nil {
		t.Fatal(err)
	}
	wantUser(t, "2025-11-25 with URL elicitation, after linking", res, "alice")

	for name, text := range map[string]string{"replica a's log": ra.logs.String(), "replica b's log": rb.logs.String(), "responses": seen.String(), "tool results": toolResults.String()} {
		for _, canary := range []string{delegatedSecret, delegatedTokenPrefix} {
			if strings.Contains(text, canary) {
				t.Errorf("%s holds %q", name, canary)
			}
		}
	}
}
