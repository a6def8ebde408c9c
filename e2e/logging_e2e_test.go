//lint:file-ignore SA1019 this tests MCP logging, which 2026-07-28 deprecates but 2025-11-25 clients use

package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestLoggingAcrossReplicas: two `portico serve` processes on one database,
// a go-sdk client at 2025-11-25 whose logging/setLevel goes to the first and
// whose calls go to the second, as a balancer with no affinity may send
// them. With level warning, a call the upstream refuses (401) is reported
// and a successful one is not; with info both are; a second client that
// never set a level hears nothing.
func TestLoggingAcrossReplicas(t *testing.T) {
	harness.HeavySuite(t, "builds and runs two portico processes")
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	fastapi := startFastAPI(t, "E2E_SECRET=s3cret")
	adminKey := generateAdminKey()
	a := startReplica(t, bin, dbURL, adminKey)
	b := startReplica(t, bin, dbURL, adminKey)
	p := &portico{url: a.url, adminKey: adminKey, logs: a.logs, responses: &syncBuffer{}}
	id, _, token := p.register(t, "logging", fastapi.url)
	waitTools(t, "the second replica after activation on the first", b.url+"/t/"+id+"/mcp", token, toolsV1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	connect := func() (*mcp.ClientSession, *logged) {
		t.Helper()
		got := &logged{}
		client := mcp.NewClient(&mcp.Implementation{Name: "portico-logging-e2e", Version: "1"}, &mcp.ClientOptions{
			LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) { got.add(req.Params) },
		})
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint:   b.url + "/t/" + id + "/mcp",
			HTTPClient: &http.Client{Transport: setLevelTo{a.url, token}},
		}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cs.Close() })
		if cs.ID() == "" {
			t.Fatal("no session")
		}
		return cs, got
	}
	cs, got := connect()
	quiet, heardQuiet := connect()
	call := func(cs *mcp.ClientSession, name string, args map[string]any) {
		t.Helper()
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	user := map[string]any{"user_id": 7}

	call(cs, "get_user_users", user)
	if n := got.count(); n != 0 {
		t.Errorf("before setLevel: %d log messages, want none", n)
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "warning"}); err != nil {
		t.Fatal(err)
	}
	// The level holds on the other replica once setLevel has answered (it
	// waits for the announcement); calls are repeated only so that a
	// notification delayed on its way between replicas does not fail the test.
	call(cs, "get_user_users", user)
	waitFor(t, 10*time.Second, "a warning for the refused call", func() bool {
		call(cs, "whoami_whoami_get", nil)
		return got.count() > 0
	})
	for _, m := range got.take() {
		if m.Level != "warning" || m.Logger != "upstream" || !strings.HasPrefix(m.Data.(string), "GET /whoami → 401 in ") {
			t.Errorf("at level warning, set on the other replica: %+v, want only warnings for GET /whoami → 401", m)
		}
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	// The client runs notification handlers on their own goroutine, so a
	// warning of the calls above can still arrive now; it is the only other
	// message allowed.
	var heard []*mcp.LoggingMessageParams
	info := func(m *mcp.LoggingMessageParams) bool {
		return m.Level == "info" && strings.HasPrefix(m.Data.(string), "GET /users/7 → 200 in ")
	}
	waitFor(t, 10*time.Second, "an info line for the successful call", func() bool {
		call(cs, "get_user_users", user)
		heard = append(heard, got.take()...)
		return slices.ContainsFunc(heard, info)
	})
	for _, m := range heard {
		if !info(m) && !(m.Level == "warning" && strings.HasPrefix(m.Data.(string), "GET /whoami → 401 in ")) {
			t.Errorf("at level info: %+v, want GET /users/7 → 200", m)
		}
	}
	call(quiet, "whoami_whoami_get", nil)
	if n := heardQuiet.count(); n != 0 {
		t.Errorf("a session that set no level heard %d log messages", n)
	}
}

// logged collects log messages a client received.
type logged struct {
	mu   sync.Mutex
	msgs []*mcp.LoggingMessageParams
}

func (l *logged) add(p *mcp.LoggingMessageParams) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, p)
}

func (l *logged) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.msgs)
}

func (l *logged) take() []*mcp.LoggingMessageParams {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

// setLevelTo sends logging/setLevel requests to another replica than the
// rest, with the MCP token.
type setLevelTo struct{ url, token string }

func (s setLevelTo) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+s.token)
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		out.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"logging/setLevel"`)) {
			out.URL.Host, out.Host = strings.TrimPrefix(s.url, "http://"), ""
		}
	}
	return http.DefaultTransport.RoundTrip(out)
}
