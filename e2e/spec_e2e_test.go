package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

var (
	toolsV1 = []string{"create_item_items_post", "delete_user_users", "get_user_users", "slow_slow_get", "whoami_whoami_get"}
	toolsV2 = []string{"create_item_items_post", "get_user_users", "health_health_get", "slow_slow_get", "whoami_whoami_get"}
)

// TestSpecRefreshAcrossReplicas is the spec cache's user story: a deploy
// adds one route and removes one; a refresh on replica 1 stores the new
// version with its diff, connected clients (stateless 2026-07-28 and
// session-based 2025-11-25) get list_changed and list exactly the new set,
// replica 2 follows through Postgres; pinning rolls back everywhere; a
// revoked token stops working on both; an upstream outage keeps tools/list
// answering while calls fail as tool errors, and heals without action.
func TestSpecRefreshAcrossReplicas(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	// A long interval keeps the background refresher out of the way: every
	// refresh here is explicit.
	p1 := startPortico(t, dbURL, "PORTICO_SPEC_REFRESH_INTERVAL=1h")
	p2 := startPortico(t, dbURL, "PORTICO_SPEC_REFRESH_INTERVAL=1h")

	var tn struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p1.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "users", "base_url": fastapi.url,
		"settings": map[string]any{"upstream_timeout_ms": 5000}}, 201, &tn)
	token := p1.token(t, tn.ID)
	p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/activate", nil, 200, nil)
	url1 := p1.url + "/t/" + tn.ID + "/mcp"
	url2 := p2.url + "/t/" + tn.ID + "/mcp"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Replica 2 learns of the activation through NOTIFY.
	waitTools(t, "replica 2 after activation on replica 1", url2, token, toolsV1)

	stateless, changed2026 := connectWatching(ctx, t, url1, token, "")
	session, changed2025 := connectWatching(ctx, t, url1, token, "2025-11-25")
	for name, cs := range map[string]*mcp.ClientSession{"2026-07-28": stateless, "2025-11-25": session} {
		if got := toolNames(ctx, t, cs); !cmp.Equal(got, toolsV1) {
			t.Fatalf("%s client before the deploy lists %v", name, got)
		}
	}

	// Refreshing an unchanged spec stores nothing.
	var res tenant.RefreshResult
	p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/refresh", nil, 200, &res)
	if res.Changed || res.Version != 1 || !res.Diff.Empty() {
		t.Fatalf("refresh of an unchanged spec = %+v, want version 1 unchanged", res)
	}

	// Deploy: one route removed, one added.
	fastapi.restart(t, "E2E_VARIANT=v2")
	start := time.Now()
	p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/refresh", nil, 200, &res)
	wantDiff := tenant.SpecDiff{
		Added:   []tenant.ToolRef{{Name: "health_health_get", Kind: "tool", Method: "GET", Path: "/health"}},
		Removed: []tenant.ToolRef{{Name: "delete_user_users", Kind: "tool", Method: "DELETE", Path: "/users/{user_id}"}},
		Changed: []tenant.ToolChange{},
	}
	if !res.Changed || res.Version != 2 {
		t.Fatalf("refresh after the deploy = %+v, want version 2 changed", res)
	}
	if diff := cmp.Diff(wantDiff, res.Diff); diff != "" {
		t.Errorf("refresh diff (-want +got):\n%s", diff)
	}
	for name, ch := range map[string]chan struct{}{"2026-07-28": changed2026, "2025-11-25": changed2025} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s client got no tools/list_changed", name)
		}
	}
	for name, cs := range map[string]*mcp.ClientSession{"2026-07-28": stateless, "2025-11-25": session} {
		if diff := cmp.Diff(toolsV2, toolNames(ctx, t, cs)); diff != "" {
			t.Errorf("%s client after list_changed (-want +got):\n%s", name, diff)
		}
	}
	afterResponse := waitTools(t, "replica 2 after refresh on replica 1", url2, token, toolsV2)
	t.Logf("replica 2 served the new tool set %s after replica 1 answered the refresh (%s after the request started)",
		afterResponse.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	var v2 tenant.SpecVersion
	p2.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions/2", nil, 200, &v2)
	if diff := cmp.Diff(wantDiff, *v2.Diff); diff != "" {
		t.Errorf("versions API diff (-want +got):\n%s", diff)
	}
	var list struct {
		Versions []tenant.SpecVersion `json:"versions"`
		Status   tenant.SpecStatus    `json:"status"`
	}
	p1.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions", nil, 200, &list)
	if len(list.Versions) != 2 || list.Versions[0].DiffSummary != (tenant.DiffSummary{Added: 1, Removed: 1}) || list.Status.ServingVersion != 2 {
		t.Errorf("versions list = %+v", list)
	}

	t.Run("pin an older version, then unpin", func(t *testing.T) {
		p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/versions/1/pin", nil, 200, nil)
		if got := toolNames(ctx, t, stateless); !cmp.Equal(got, toolsV1) {
			t.Errorf("replica 1 after pin lists %v", got)
		}
		waitTools(t, "replica 2 after pin", url2, token, toolsV1)
		// A pinned tenant keeps its pin across refreshes.
		p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/refresh", nil, 200, nil)
		if got := toolNames(ctx, t, stateless); !cmp.Equal(got, toolsV1) {
			t.Errorf("pinned tenant after refresh lists %v", got)
		}
		p2.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/unpin", nil, 200, nil)
		waitTools(t, "replica 1 after unpin on replica 2", url1, token, toolsV2)
		waitTools(t, "replica 2 after unpin", url2, token, toolsV2)
	})

	t.Run("bad input", func(t *testing.T) {
		p1.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions/9", nil, 404, nil)
		p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/versions/9/pin", nil, 404, nil)
		p1.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions/x", nil, 422, nil)
		var other struct{ ID string }
		p1.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "idle", "base_url": fastapi.url}, 201, &other)
		p1.do(t, "POST", "/api/v1/tenants/"+other.ID+"/spec/refresh", nil, 409, nil)
	})

	t.Run("upstream stopped, then back", func(t *testing.T) {
		fastapi.stop()
		if got := toolNames(ctx, t, stateless); !cmp.Equal(got, toolsV2) {
			t.Errorf("tools/list with the upstream down = %v", got)
		}
		begin := time.Now()
		r, err := stateless.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 1}})
		if err != nil || !r.IsError || !strings.Contains(textOf(r), "connection refused") {
			t.Errorf("call with the upstream down: %v, %q; want a tool error naming the connection failure", err, textOf(r))
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("the failed call took %s, longer than the tenant's 5 s timeout", d)
		}
		var status tenant.SpecStatus
		p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/refresh", nil, 502, nil)
		p1.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec", nil, 200, &status)
		if status.ServingVersion != 2 || status.LastRefreshErrAt == nil || !strings.Contains(status.LastRefreshErr, "connection refused") {
			t.Errorf("spec status after a failed refresh = %+v", status)
		}
		fastapi.start(t, "E2E_VARIANT=v2")
		r, err = stateless.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 1}})
		if err != nil || r.IsError {
			t.Errorf("call after the upstream came back: %v %q", err, textOf(r))
		}
	})

	t.Run("session ids belong to their tenant and token", func(t *testing.T) {
		sid := initializeSession(t, url1, token)
		if !strings.HasPrefix(sid, tn.ID+".") {
			t.Errorf("session id %q does not name its tenant", sid)
		}
		var b struct{ ID string }
		p1.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "b", "base_url": fastapi.url}, 201, &b)
		tokenB := p1.token(t, b.ID)
		p1.do(t, "POST", "/api/v1/tenants/"+b.ID+"/activate", nil, 200, nil)
		if code := sessionCall(t, p1.url+"/t/"+b.ID+"/mcp", tokenB, sid); code != 404 {
			t.Errorf("tenant A's session at tenant B with B's token: status %d, want 404", code)
		}
		if code := sessionCall(t, url1, p1.token(t, tn.ID), sid); code != 403 {
			t.Errorf("session presented with another token of the same tenant: status %d, want 403", code)
		}
		if code := sessionCall(t, url1, token, sid); code != 200 {
			t.Errorf("session with its own token: status %d, want 200", code)
		}
	})

	t.Run("revoked on replica 1, refused on replica 2", func(t *testing.T) {
		victim := p1.token(t, tn.ID)
		var toks struct {
			Tokens []tenant.Token `json:"tokens"`
		}
		p1.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/tokens", nil, 200, &toks)
		if resp := mcpPost(t, url2, victim); resp.StatusCode != 200 {
			t.Fatalf("fresh token on replica 2: %d", resp.StatusCode)
		}
		id := toks.Tokens[len(toks.Tokens)-1].ID
		begin := time.Now()
		p1.do(t, "DELETE", "/api/v1/tenants/"+tn.ID+"/tokens/"+id, nil, 204, nil)
		for mcpPost(t, url2, victim).StatusCode != 401 {
			if time.Since(begin) > 10*time.Second {
				t.Fatal("replica 2 still accepts a revoked token after 10 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("replica 2 refused the revoked token %s after the revoke request started", time.Since(begin).Round(time.Millisecond))
	})

	t.Run("deactivate on replica 1 stops replica 2", func(t *testing.T) {
		p1.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/deactivate", nil, 200, nil)
		begin := time.Now()
		for mcpPost(t, url2, token).StatusCode != 404 {
			if time.Since(begin) > 10*time.Second {
				t.Fatal("replica 2 still serves a tenant deactivated on replica 1")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestSpecRefreshFailures: a spec endpoint that breaks in each way a real
// one does leaves no version stored and the serving version unchanged, and
// the cause is shown; the signed webhook refreshes and refuses bad or stale
// signatures.
func TestSpecRefreshFailures(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	good, err := http.Get(fastapi.url + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(good.Body)
	good.Body.Close()
	var mode atomic.Value
	mode.Store("good")
	spec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "good":
			w.Write(doc)
		case "down":
			http.Error(w, "deploy in progress", http.StatusServiceUnavailable)
		case "html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
		case "broken":
			io.WriteString(w, `{"openapi":"3.1.0","paths":{"/x":{"get":{"parameters":[{"$ref":"#/nope"}]}}}`)
		case "huge":
			w.Write(bytes.Repeat([]byte(" "), 2<<20))
			w.Write(doc)
		case "slow":
			time.Sleep(3 * time.Second)
			w.Write(doc)
		}
	}))
	defer spec.Close()
	p := startPortico(t, dbURL, "PORTICO_SPEC_REFRESH_INTERVAL=1h", "PORTICO_SPEC_FETCH_TIMEOUT=1s", "PORTICO_SPEC_MAX_BYTES=1048576")
	var tn struct{ ID string }
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "users", "base_url": fastapi.url, "spec_url": spec.URL + "/openapi.json"}, 201, &tn)
	token := p.token(t, tn.ID)
	p.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/activate", nil, 200, nil)
	url := p.url + "/t/" + tn.ID + "/mcp"

	cases := []struct {
		mode, code, cause string
		status            int
	}{
		{"down", "spec_unreachable", "503", 502},
		{"html", "spec_invalid", "not an OpenAPI document", 422},
		{"broken", "spec_invalid", "could not be converted", 422},
		{"huge", "spec_too_large", "larger than the 1 MiB limit", 422},
		{"slow", "spec_unreachable", "fetch timeout", 502},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			mode.Store(c.mode)
			var e struct {
				Error struct{ Code, Message string }
			}
			p.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/refresh", nil, c.status, &e)
			if e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.cause) || !strings.Contains(e.Error.Message, "keeps serving") {
				t.Errorf("error = %+v, want code %s naming %q", e.Error, c.code, c.cause)
			}
			var st tenant.SpecStatus
			p.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec", nil, 200, &st)
			if st.NewestVersion != 1 || st.ServingVersion != 1 || !strings.Contains(st.LastRefreshErr, c.cause) {
				t.Errorf("status = %+v, want version 1 serving and the cause recorded", st)
			}
			waitTools(t, "tools/list after a failed refresh", url, token, toolsV1)
		})
	}

	t.Run("signed webhook", func(t *testing.T) {
		mode.Store("good")
		var sec struct{ Secret string }
		p.do(t, "POST", "/api/v1/tenants/"+tn.ID+"/spec/hook-secret", nil, 201, &sec)
		hook := p.url + "/api/v1/tenants/" + tn.ID + "/spec/hook"
		body := `{"ref":"deploy-42"}`
		now := time.Now().Unix()
		if code, _ := postHook(t, hook, "sha256=00", now, body); code != 401 {
			t.Errorf("bad signature: %d, want 401", code)
		}
		if code, _ := postHook(t, hook, sign(sec.Secret, now-600, body), now-600, body); code != 401 {
			t.Errorf("stale signature: %d, want 401", code)
		}
		if code, out := postHook(t, hook, sign("whsec_wrong", now, body), now, body); code != 401 || !strings.Contains(out, "invalid_signature") {
			t.Errorf("signature with another secret: %d %s", code, out)
		}
		code, out := postHook(t, hook, sign(sec.Secret, now, body), now, body)
		if code != 200 || !strings.Contains(out, `"changed":false`) {
			t.Errorf("good signature: %d %s", code, out)
		}
		if code, _ := postHook(t, hook, sign(sec.Secret, now, body), now, body); code != 401 {
			t.Errorf("replayed delivery: %d, want 401", code)
		}
		if code, _ := postHook(t, p.url+"/api/v1/tenants/nosuchtenant/spec/hook", sign(sec.Secret, now, body), now, body); code != 401 {
			t.Errorf("unknown tenant: %d, want 401", code)
		}
	})
	var list struct{ Versions []tenant.SpecVersion }
	p.do(t, "GET", "/api/v1/tenants/"+tn.ID+"/spec/versions", nil, 200, &list)
	if len(list.Versions) != 1 {
		t.Errorf("%d versions stored, want 1: failures must store nothing", len(list.Versions))
	}
}

func sign(secret string, ts int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", ts, body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func postHook(t *testing.T, url, sig string, ts int64, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Portico-Signature", sig)
	req.Header.Set("X-Portico-Timestamp", fmt.Sprint(ts))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// connectWatching connects a go-sdk client that signals on list_changed.
// version "" is the SDK's default (2026-07-28, stateless with a listen
// stream); "2025-11-25" is a session-based client.
func connectWatching(ctx context.Context, t *testing.T, url, token, version string) (*mcp.ClientSession, chan struct{}) {
	t.Helper()
	changed := make(chan struct{}, 10)
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-e2e", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	var opts *mcp.ClientSessionOptions
	if version != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: version}
	}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: url, HTTPClient: &http.Client{Transport: bearerTransport{token: token}}, MaxRetries: -1,
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if version != "" {
		if got := cs.InitializeResult().ProtocolVersion; got != version {
			t.Fatalf("negotiated %s, want %s", got, version)
		}
		if cs.ID() == "" {
			t.Fatal("a 2025-11-25 client got no session id")
		}
	}
	return cs, changed
}

func toolNames(ctx context.Context, t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return sortedCopy(names)
}

// waitTools polls a bare tools/list until it returns want, and reports how
// long that took. The bound is generous; the figure goes to the log.
func waitTools(t *testing.T, what, url, token string, want []string) time.Duration {
	t.Helper()
	begin := time.Now()
	var got []string
	for time.Since(begin) < 15*time.Second {
		got = listTools(t, url, token)
		if cmp.Equal(got, want) {
			return time.Since(begin)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: tools %v, want %v", what, got, want)
	return 0
}

// listTools sends a stateless tools/list and returns the sorted names, or
// nil when the endpoint does not answer 200.
func listTools(t *testing.T, url, token string) []string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil
	}
	// The answer is one SSE event or plain JSON.
	if i := bytes.Index(b, []byte("data: ")); i >= 0 {
		b = b[i+6:]
	}
	var msg struct {
		Result struct {
			Tools []struct{ Name string } `json:"tools"`
		} `json:"result"`
	}
	json.NewDecoder(bytes.NewReader(b)).Decode(&msg)
	var names []string
	for _, tool := range msg.Result.Tools {
		names = append(names, tool.Name)
	}
	return sortedCopy(names)
}

// initializeSession starts a 2025-11-25 session by hand and returns its id.
func initializeSession(t *testing.T, url, token string) string {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: status %d, session %q", resp.StatusCode, sid)
	}
	return sid
}

// sessionCall sends tools/list inside session sid and returns the status.
func sessionCall(t *testing.T, url, token, sid string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
