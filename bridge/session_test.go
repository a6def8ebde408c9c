package bridge

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

func masterKey(id string, b byte) tenant.MasterKey {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	return tenant.MasterKey{ID: id, Key: k}
}

func TestSessionIDs(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old := newSessionSigner([]tenant.MasterKey{masterKey("k1", 1)})
	info := sessionInfo{tenant: "t1", token: "jwt:alice@example.com", version: "2025-11-25", expires: now.Add(time.Hour)}
	sid := old.issue(info)
	for _, c := range sid {
		if c < 0x21 || c > 0x7e {
			t.Fatalf("session id %q has %q: ids must be visible ASCII", sid, c)
		}
	}
	if !strings.HasPrefix(sid, "t1.") {
		t.Errorf("session id %q does not start with its tenant", sid)
	}
	if again := old.issue(info); again == sid {
		t.Errorf("two sessions of one token in one second got the same id %q: ending one would end both", sid)
	}
	got, err := old.verify(sid, now)
	if err != nil || got != info {
		t.Fatalf("verify = %+v, %v; want %+v", got, err, info)
	}
	// Rotation: a ring whose newest key is new still verifies old ids; a
	// ring without the old key does not, nor does an unrelated master key.
	rotated := newSessionSigner([]tenant.MasterKey{masterKey("k2", 2), masterKey("k1", 1)})
	if _, err := rotated.verify(sid, now); err != nil {
		t.Errorf("after rotation: %v", err)
	}
	if _, err := newSessionSigner([]tenant.MasterKey{masterKey("k2", 2)}).verify(sid, now); err != errSessionUnknown {
		t.Errorf("without the signing key: %v, want unknown", err)
	}
	if _, err := newSessionSigner(nil).verify(sid, now); err != errSessionUnknown {
		t.Errorf("random process key: %v, want unknown", err)
	}
	if _, err := old.verify(sid, now.Add(time.Hour)); err != errSessionExpired {
		t.Errorf("at expiry: %v, want expired", err)
	}
	// The client's declared URL elicitation travels in the id.
	withURL := info
	withURL.elicitURL = true
	if got, err := old.verify(old.issue(withURL), now); err != nil || got != withURL {
		t.Errorf("verify with URL elicitation = %+v, %v; want %+v", got, err, withURL)
	}
	// An id of format 1 (no flags byte), signed before the flags existed,
	// stays valid and declares nothing.
	v1 := []byte{sessionFormatV1}
	v1 = binary.BigEndian.AppendUint64(v1, uint64(info.expires.Unix()))
	v1 = append(v1, make([]byte, sessionNonceLen)...)
	v1 = append(v1, info.version+"\x00"+info.token...)
	v1payload := base64.RawURLEncoding.EncodeToString(v1)
	v1sid := "t1." + v1payload + "." + base64.RawURLEncoding.EncodeToString(old.mac(old.keys[0], "t1", v1payload))
	if got, err := old.verify(v1sid, now); err != nil || got != info {
		t.Errorf("verify of a format 1 id = %+v, %v; want %+v", got, err, info)
	}
	// Tampering with any part is refused.
	parts := strings.Split(sid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload[len(payload)-1] ^= 1 // another token id
	for name, forged := range map[string]string{
		"other tenant":   "t2." + parts[1] + "." + parts[2],
		"other payload":  parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2],
		"cut signature":  parts[0] + "." + parts[1] + "." + parts[2][:10],
		"no signature":   parts[0] + "." + parts[1],
		"garbage":        "t1.%%%.###",
		"empty tenant":   "." + parts[1] + "." + parts[2],
		"old random ids": "t1.abcdefghijklmnop",
	} {
		if _, err := old.verify(forged, now); err != errSessionUnknown {
			t.Errorf("%s: %v, want unknown", name, err)
		}
	}
}

// mcpPost sends one JSON-RPC body to r's endpoint for t1 with token and
// headers (name, value pairs).
func mcpPost(t *testing.T, r *Runtime, token, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		hr.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, hr)
	return w
}

const initBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"ts","version":"1.32"}}}`

// TestSessionOnAnyReplica: a session begun on replica A is served by
// replica B (same master keys, no shared memory), on the fast paths; it stays
// bound to its tenant and token; a replica with other keys does not know it;
// DELETE on A ends it on B too.
func TestSessionOnAnyReplica(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	keys := []tenant.MasterKey{masterKey("k1", 7)}
	a := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	b := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	stranger := newFastRuntimeWith(t, up.URL, Config{MasterKeys: []tenant.MasterKey{masterKey("k9", 9)}}, nil)
	// What a DELETE announces through the database reaches b.
	a.store = announcer{a.store, b}

	w := mcpPost(t, a, "mcp_ok", initBody)
	sid := w.Header().Get("Mcp-Session-Id")
	if w.Code != 200 || sid == "" || !strings.Contains(w.Body.String(), `"protocolVersion":"2025-11-25"`) {
		t.Fatalf("initialize: %d, session %q: %s", w.Code, sid, w.Body)
	}
	session := []string{"Mcp-Session-Id", sid, "Mcp-Protocol-Version", "2025-11-25"}
	if w := mcpPost(t, b, "mcp_ok", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, session...); w.Code != 202 {
		t.Errorf("initialized on B: %d %s", w.Code, w.Body)
	}
	calls, lists := b.fastCalls.Load(), b.fastLists.Load()
	w = mcpPost(t, b, "mcp_ok", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`, session...)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"structuredContent":{"id":42`) || w.Header().Get("Mcp-Session-Id") != sid {
		t.Fatalf("call on B: %d, session header %q: %s", w.Code, w.Header().Get("Mcp-Session-Id"), w.Body)
	}
	if w := mcpPost(t, b, "mcp_ok", `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, session...); w.Code != 200 || !strings.Contains(w.Body.String(), `"get_r"`) {
		t.Fatalf("list on B: %d %s", w.Code, w.Body)
	}
	if b.fastCalls.Load() != calls+1 || b.fastLists.Load() != lists+1 {
		t.Errorf("session requests did not take the fast paths (calls %d→%d, lists %d→%d)", calls, b.fastCalls.Load(), lists, b.fastLists.Load())
	}
	// A 2025-03-26 session sends no version header: the session's is used.
	w = mcpPost(t, a, "mcp_ok", strings.Replace(initBody, "2025-11-25", "2025-03-26", 1))
	sid0326 := w.Header().Get("Mcp-Session-Id")
	if w := mcpPost(t, b, "mcp_ok", `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, "Mcp-Session-Id", sid0326); w.Code != 200 {
		t.Errorf("2025-03-26 session on B: %d %s", w.Code, w.Body)
	}

	for _, c := range []struct {
		name   string
		r      *Runtime
		token  string
		sid    string
		status int
	}{
		{"another token of the tenant", b, "mcp_other", sid, 403},
		{"a replica with other master keys", stranger, "mcp_ok", sid, 404},
		{"a forged id", b, "mcp_ok", "t1.AQAAAABpAAAAMjAyNS0xMS0yNQB0b2s.AAAAAAAAAAAAAAAAAAAAAA", 404},
		{"an unknown token", b, "mcp_nope", sid, 401},
	} {
		if w := mcpPost(t, c.r, c.token, `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, "Mcp-Session-Id", c.sid); w.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, w.Code, c.status, w.Body)
		}
	}

	// A second session of the same token, begun in the same second (as the
	// conformance suite's scenarios do), must outlive the first's DELETE.
	sibling := mcpPost(t, a, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	del := httptest.NewRequest("DELETE", "/t/t1/mcp", nil)
	del.Header.Set("Authorization", "Bearer mcp_ok")
	del.Header.Set("Mcp-Session-Id", sid)
	dw := httptest.NewRecorder()
	a.Handler().ServeHTTP(dw, del)
	if dw.Code != 204 {
		t.Fatalf("DELETE: %d %s", dw.Code, dw.Body)
	}
	for name, r := range map[string]*Runtime{"A": a, "B": b} {
		if w := mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, session...); w.Code != 404 || !strings.Contains(w.Body.String(), "initialize") {
			t.Errorf("ended session on %s: %d %s, want 404 saying to initialize", name, w.Code, w.Body)
		}
		if w := mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, "Mcp-Session-Id", sibling, "Mcp-Protocol-Version", "2025-11-25"); w.Code != 200 {
			t.Errorf("a sibling session on %s after the DELETE: %d %s, want 200", name, w.Code, w.Body)
		}
	}
	// Expired: a short TTL and a clock moved past it.
	short := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys, SessionTTL: time.Nanosecond}, nil)
	esid := mcpPost(t, short, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	if w := mcpPost(t, b, "mcp_ok", `{"jsonrpc":"2.0","id":6,"method":"tools/list"}`, "Mcp-Session-Id", esid); w.Code != 404 || !strings.Contains(w.Body.String(), "session_expired") {
		t.Errorf("expired session: %d %s", w.Code, w.Body)
	}
	// 2026-07-28 removed initialize (SEP-2575): 404 / -32601 with the
	// request's id, and no session id.
	w = mcpPost(t, a, "mcp_ok", strings.Replace(initBody, "2025-11-25", "2026-07-28", 1), "Mcp-Protocol-Version", "2026-07-28")
	if w.Code != 404 || w.Header().Get("Mcp-Session-Id") != "" || !strings.Contains(w.Body.String(), `"id":0,"error":{"code":-32601`) || !strings.Contains(w.Body.String(), "server/discover") {
		t.Errorf("2026-07-28 initialize: %d, session %q: %s; want 404 / -32601 naming server/discover and no session", w.Code, w.Header().Get("Mcp-Session-Id"), w.Body)
	}
}

// announcer is a store that hands DELETE's announcement straight to another
// replica, as Postgres' notification would.
type announcer struct {
	tenantStore
	to *Runtime
}

func (a announcer) NotifySessionEnded(_ context.Context, id, ref string) error {
	a.to.TenantChanged(tenant.Change{TenantID: id, Kind: "session_ended", Ref: ref})
	return nil
}

// TestSessionRequestsMatchStatefulSDK: what a session client gets from any
// replica now is byte for byte what the SDK's own stateful handler answered
// it (session id aside), for the requests session clients send.
func TestSessionRequestsMatchStatefulSDK(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntimeWith(t, up.URL, Config{}, nil)
	l := r.lookup("t1")
	stateful := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return l.server },
		&mcp.StreamableHTTPOptions{DisableLocalhostProtection: true})
	sdk := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := context.WithValue(req.Context(), mcpRequestKey{}, &mcpRequest{start: time.Now(), live: l, tok: tenant.Token{ID: "tok", TenantID: "t1"}})
		auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(stateful).ServeHTTP(w, req.WithContext(ctx))
	})
	send := func(h http.Handler, body, sid string) *httptest.ResponseRecorder {
		hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(body))
		hr.Header.Set("Authorization", "Bearer mcp_ok")
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			hr.Header.Set("Mcp-Session-Id", sid)
			hr.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, hr)
		return w
	}
	sdkInit, ourInit := send(sdk, initBody, ""), send(r.Handler(), initBody, "")
	sdkSID, ourSID := sdkInit.Header().Get("Mcp-Session-Id"), ourInit.Header().Get("Mcp-Session-Id")
	if sdkSID == "" || ourSID == "" {
		t.Fatalf("initialize: SDK session %q, ours %q", sdkSID, ourSID)
	}
	send(sdk, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, sdkSID)
	normal := func(w *httptest.ResponseRecorder, sid string) (int, http.Header, string) {
		h := w.Header().Clone()
		h.Del("Mcp-Session-Id")
		return w.Code, h, upstreamMS.ReplaceAllString(strings.ReplaceAll(w.Body.String(), sid, "SID"), "$1")
	}
	// Portico's answers to requests start with a priming event (SEP-1699),
	// which the SDK's stateful handler sends only with an event store:
	// checked, then left out of the comparison.
	priming := regexp.MustCompile(`^event: prime\nretry: 1000\nid: c\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]+\ndata: \n\n`)
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`,
		`{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj","q":"x"}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_r","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_item","arguments":{"name":"lamp","price":2}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":7,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":8,"method":"resources/list"}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`,
	} {
		sc, sh, sb := normal(send(sdk, body, sdkSID), sdkSID)
		oc, oh, ob := normal(send(r.Handler(), body, ourSID), ourSID)
		if isRequest := strings.Contains(body, `"id":`); isRequest != priming.MatchString(ob) {
			t.Errorf("%s: a priming event first is %v, want %v: %s", body, !isRequest, isRequest, ob)
		}
		ob = priming.ReplaceAllString(ob, "")
		if strings.Contains(body, `"id":"c"`) && !strings.Contains(sb, `"structuredContent"`) {
			t.Fatalf("the SDK did not serve the session call: %d %s", sc, sb)
		}
		if sc != oc {
			t.Errorf("%s: status SDK %d, Portico %d", body, sc, oc)
		}
		if diff := cmp.Diff(sh, oh); diff != "" {
			t.Errorf("%s: headers (-SDK +Portico):\n%s", body, diff)
		}
		if diff := cmp.Diff(sb, ob); diff != "" {
			t.Errorf("%s: body (-SDK +Portico):\n%s", body, diff)
		}
	}
}

// TestSessionStreamHearsListChanged: a GET stream on a replica hears
// list_changed when that replica applies a change (made anywhere: every
// replica applies every change), and a client resuming with Last-Event-ID,
// on any replica, hears of what changed while it was away.
func TestSessionStreamHearsListChanged(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	var spec atomic.Value
	spec.Store(fastSpec)
	keys := []tenant.MasterKey{masterKey("k1", 3)}
	a := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, &spec)
	b := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, &spec)
	sid := mcpPost(t, a, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()

	open := func(lastEventID string) (*http.Response, *bufio.Reader) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/t/t1/mcp", nil)
		req.Header.Set("Authorization", "Bearer mcp_ok")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		if lastEventID != "" {
			req.Header.Set("Last-Event-ID", lastEventID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET stream: %d %s", resp.StatusCode, b)
		}
		return resp, bufio.NewReader(resp.Body)
	}
	// event reads one SSE event: its name, id and data.
	event := func(br *bufio.Reader) (name, id, data string) {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && (name != "" || id != ""):
				return name, id, data
			case strings.HasPrefix(line, "event: "):
				name = line[7:]
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			}
		}
	}
	resp, br := open("")
	name, primed, _ := event(br)
	if name != "prime" || primed == "" {
		t.Fatalf("first event %q id %q, want a prime event with an id", name, primed)
	}
	// The change: a path gone from the document, applied by b as its
	// reconcile would after the database's notification.
	spec.Store(strings.Replace(fastSpec, `"/items":{"post"`, `"/things":{"post"`, 1))
	if err := b.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	name, changedID, data := event(br)
	if name != "message" || !strings.Contains(data, "notifications/tools/list_changed") || changedID == primed {
		t.Fatalf("after the change: event %q id %q data %s", name, changedID, data)
	}
	resp.Body.Close()

	// Resuming from before the change (on a's stream, with a also
	// caught up) hears of it at once; resuming from after it hears nothing
	// but keep-alives.
	if err := a.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	srvA := httptest.NewServer(a.Handler())
	defer srvA.Close()
	srv = srvA
	resp, br = open(primed)
	if _, id, data := event(br); !strings.Contains(data, "tools/list_changed") || id != changedID {
		t.Errorf("resumed from %s: id %q data %s, want list_changed with id %s", primed, id, data, changedID)
	}
	resp.Body.Close()
}

// TestPOSTNeedsBothAcceptTypes: a POST whose Accept lacks one of the two
// types the transport requires gets Portico's JSON error shape saying what
// to send (the SDK answered in plain text), on the fast paths' methods too.
func TestPOSTNeedsBothAcceptTypes(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntimeWith(t, up.URL, Config{}, nil)
	for _, accept := range []string{"application/json", "text/event-stream", ""} {
		for _, body := range []string{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, `{"jsonrpc":"2.0","id":1,"method":"ping"}`} {
			w := mcpPost(t, r, "mcp_ok", body, "Accept", accept, "Mcp-Protocol-Version", "2025-06-18")
			if w.Code != http.StatusNotAcceptable || w.Header().Get("Content-Type") != "application/json" ||
				!strings.Contains(w.Body.String(), `"code":"not_acceptable"`) || !strings.Contains(w.Body.String(), "application/json, text/event-stream") {
				t.Errorf("Accept %q, %s: %d %s %s", accept, body, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
		}
	}
	for _, accept := range []string{"application/json, text/event-stream", "*/*", "application/*, text/*"} {
		if w := mcpPost(t, r, "mcp_ok", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "Accept", accept, "Mcp-Protocol-Version", "2025-06-18"); w.Code != 200 {
			t.Errorf("Accept %q: %d %s", accept, w.Code, w.Body)
		}
	}
}
