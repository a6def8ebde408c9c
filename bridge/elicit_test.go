package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// elicitationID matches the random id of a URL elicitation.
var elicitationID = regexp.MustCompile(`("elicitationId":)"[A-Z2-7]+"`)

// TestElicitLinkMatchesSDK: a call by a user who has not linked the
// account an oauth2_authorization_code credential needs, through the fast
// path and through the SDK, answers the same bytes: the -32042
// URLElicitationRequiredError for a 2025-11-25 session whose client
// declared URL elicitation (the capability read back from the signed
// session id), an input-required result for a 2026-07-28 client that
// declares it in _meta, and the tool error with the link URL for every
// other client and for a retry that answered the elicitation.
func TestElicitLinkMatchesSDK(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	la := newTestLinked(&fakeLinked{toks: map[string]tenant.LinkedTokens{}}, http.DefaultClient)
	r := newFastRuntimeWith(t, up.URL, Config{Linked: la}, nil)
	fs := r.store.(*fakeStore)
	fs.liveCredentialsFn = func(context.Context, string) ([]tenant.LiveCredential, error) {
		return []tenant.LiveCredential{delegatedCred("https://idp.example/token")}, nil
	}
	fs.verifyTokenFn = func(_ context.Context, secret string) (tenant.Token, error) {
		if secret == "mcp_user" {
			return tenant.Token{ID: "utok", TenantID: "t1", UserID: "u1"}, nil
		}
		return tenant.Token{}, tenant.ErrNotFound
	}
	if err := r.Reload(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	session := func(version string, elicitURL bool) string {
		return r.sessions.issue(sessionInfo{tenant: "t1", token: "utok", version: version, expires: time.Now().Add(time.Hour), elicitURL: elicitURL})
	}
	call := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`
	call26 := func(caps, extra string) string {
		return `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}` + extra +
			`,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}}}`
	}
	const linkURL = "https://portico.example/tenants/t1/accounts?link=notes"
	type req struct {
		name, body, version, session string
		fast                         bool
		want                         []string // in the body
	}
	toolErr := []string{`"isError":true`, "have not linked", linkURL}
	reqs := []req{
		{name: "2025-11-25 session with URL elicitation", body: call, version: "2025-11-25", session: session("2025-11-25", true), fast: true,
			want: []string{`"code":-32042`, `"elicitations":[{"mode":"url","message":"Link your idp.example account`, `"url":"` + strings.ReplaceAll(linkURL, "&", `\u0026`) + `"`, `"elicitationId":`, "have not linked"}},
		{name: "2025-11-25 session without", body: call, version: "2025-11-25", session: session("2025-11-25", false), fast: true, want: toolErr},
		{name: "2025-06-18 session with the flag", body: call, version: "2025-06-18", session: session("2025-06-18", true), fast: true, want: toolErr},
		{name: "no session", body: call, version: "2025-11-25", fast: true, want: toolErr},
		{name: "2026 with URL elicitation", body: call26(`{"elicitation":{"url":{}}}`, ""), version: version20260728, fast: true,
			want: []string{`"resultType":"input_required"`, `"inputRequests":{"portico.link/notes":{"method":"elicitation/create","params":{"mode":"url","message":"Link your idp.example account`}},
		{name: "2026 form elicitation only", body: call26(`{"elicitation":{}}`, ""), version: version20260728, fast: true, want: toolErr},
		{name: "2026 no elicitation", body: call26(`{}`, ""), version: version20260728, fast: true, want: toolErr},
		{name: "2026 retry that answered", body: call26(`{"elicitation":{"url":{}}}`, `,"inputResponses":{"portico.link/notes":{"action":"accept"}}`), version: version20260728, want: toolErr},
	}
	send := func(q req) *httptest.ResponseRecorder {
		hr := httptest.NewRequest("POST", "/t/t1/mcp", strings.NewReader(q.body))
		hr.Header.Set("Authorization", "Bearer mcp_user")
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json, text/event-stream")
		hr.Header.Set("Mcp-Protocol-Version", q.version)
		if q.session != "" {
			hr.Header.Set("Mcp-Session-Id", q.session)
		}
		if q.version == version20260728 {
			hr.Header.Set("Mcp-Method", "tools/call")
			hr.Header.Set("Mcp-Name", "get_r")
		}
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, hr)
		return w
	}
	for _, jsonResponse := range []bool{false, true} {
		r.mcpOpts.JSONResponse = jsonResponse
		// As New builds it: the SDK reads the caller's user from the token.
		r.stateless = auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(mcp.NewStreamableHTTPHandler(r.serverFor, r.mcpOpts))
		for _, q := range reqs {
			t.Run(fmt.Sprintf("json=%v/%s", jsonResponse, q.name), func(t *testing.T) {
				_, got := matchSDK(t, r, func() *httptest.ResponseRecorder { return send(q) }, q.fast, func(s string) string {
					return primingNonce.ReplaceAllString(elicitationID.ReplaceAllString(s, "$1"), "$1")
				})
				for _, part := range q.want {
					if !strings.Contains(got.Body.String(), part) {
						t.Errorf("answer lacks %s:\n%s", part, got.Body.String())
					}
				}
			})
		}
	}
}

// TestDeclaresURLElicitation: only elicitation.url as an object declares
// URL mode; form mode, the empty object (form only, for compatibility),
// null and other shapes do not.
func TestDeclaresURLElicitation(t *testing.T) {
	for _, c := range []struct {
		caps string
		want bool
	}{
		{`{"elicitation":{"url":{}}}`, true},
		{`{"elicitation":{"form":{},"url":{}}}`, true},
		{`{"elicitation":{}}`, false},
		{`{"elicitation":{"form":{}}}`, false},
		{`{"elicitation":{"url":null}}`, false},
		{`{"elicitation":{"url":true}}`, false},
		{`{"elicitation":"url"}`, false},
		{`{}`, false},
		{`null`, false},
		{``, false},
	} {
		if got := declaresURLElicitation(json.RawMessage(c.caps)); got != c.want {
			t.Errorf("declaresURLElicitation(%s) = %v, want %v", c.caps, got, c.want)
		}
	}
	if !initializeDeclaresURLElicitation(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"url":{}}}}`)) {
		t.Error("initialize with elicitation.url: not declared")
	}
	if !metaDeclaresURLElicitation(json.RawMessage(`{"name":"x","_meta":{"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"url":{}}}}}`)) {
		t.Error("2026-07-28 _meta with elicitation.url: not declared")
	}
}
