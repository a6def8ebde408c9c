package bridge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// primingNonce matches the random part of a priming event's id, which
// differs between any two answers.
var primingNonce = regexp.MustCompile(`(id: c\.)[A-Za-z0-9_-]{12}`)

// splitReplicas sends POSTs to one replica and GETs to another, as a
// balancer with no affinity may, and cuts the first tools/call answer's
// connection right after its priming event, as a dropped network does.
type splitReplicas struct {
	post, get string
	cut       atomic.Bool // cut the next tools/call answer
	resumed   atomic.Value
}

func (s *splitReplicas) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer mcp_ok")
	target := s.post
	if req.Method == http.MethodGet {
		target = s.get
		if last := req.Header.Get("Last-Event-ID"); last != "" {
			s.resumed.Store(last)
		}
	}
	out.URL.Host, out.Host = strings.TrimPrefix(target, "http://"), ""
	var call bool
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		call = bytes.Contains(b, []byte(`"tools/call"`))
		out.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err == nil && call && s.cut.CompareAndSwap(true, false) {
		resp.Body = &cutAfterFirstEvent{rc: resp.Body}
	}
	return resp, err
}

// cutAfterFirstEvent passes on a stream's first event, then fails.
type cutAfterFirstEvent struct {
	rc   io.ReadCloser
	seen []byte
	done bool
}

func (c *cutAfterFirstEvent) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.ErrUnexpectedEOF
	}
	var one [1]byte
	n, err := c.rc.Read(one[:])
	if n == 1 {
		c.seen = append(c.seen, one[0])
		p[0] = one[0]
		c.done = bytes.HasSuffix(c.seen, []byte("\n\n"))
	}
	return n, err
}

func (c *cutAfterFirstEvent) Close() error { return c.rc.Close() }

// TestCallStreamResumesOnAnyReplica: a 2025-11-25 session's call stream
// starts with a priming event; when its connection drops before the
// answer, the go-sdk client resumes with GET and Last-Event-ID on another
// replica and its call ends at once with an error saying the answer was lost
// (never a hang); the session goes on working.
func TestCallStreamResumesOnAnyReplica(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	keys := []tenant.MasterKey{masterKey("k1", 11)}
	a := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	b := newFastRuntimeWith(t, up.URL, Config{MasterKeys: keys}, nil)
	srvA, srvB := httptest.NewServer(a.Handler()), httptest.NewServer(b.Handler())
	defer srvA.Close()
	defer srvB.Close()
	lb := &splitReplicas{post: srvA.URL, get: srvB.URL}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "resume-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: srvA.URL + "/t/t1/mcp", HTTPClient: &http.Client{Transport: lb},
	}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if cs.ID() == "" {
		t.Fatal("no session")
	}
	lb.cut.Store(true)
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_r", Arguments: map[string]any{"kind": "obj"}})
	if err == nil || !strings.Contains(err.Error(), "may or may not have been carried out") {
		t.Fatalf("cut call: %v, want the lost-answer error", err)
	}
	if last, _ := lb.resumed.Load().(string); !strings.HasPrefix(last, callEventPrefix) {
		t.Errorf("the client resumed with Last-Event-ID %q, want the priming event's id", last)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_r", Arguments: map[string]any{"kind": "obj"}})
	if err != nil || res.IsError {
		t.Fatalf("next call: %v %+v", err, res)
	}
}

// TestResumeCallAttacker: a Last-Event-ID that claims to be a call stream's
// is answered only with an id this endpoint could have sent: anything else
// is a 400 that quotes it safely; the request id written back is always
// valid JSON, whatever the header held.
func TestResumeCallAttacker(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntimeWith(t, up.URL, Config{}, nil)
	sid := mcpPost(t, r, "mcp_ok", initBody).Header().Get("Mcp-Session-Id")
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	get := func(last string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/t/t1/mcp", nil)
		req.Header.Set("Authorization", "Bearer mcp_ok")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Last-Event-ID", last)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	enc := func(s string) string { return b64.EncodeToString([]byte(s)) }
	for _, c := range []struct{ last, want string }{
		{"c.nonce." + enc("7"), `"id":7,"error":{"code":-32603`},
		{"c.nonce." + enc(`"req-1"`), `"id":"req-1","error":{"code":-32603`},
	} {
		if code, body := get(c.last); code != 200 || !strings.Contains(body, c.want) || !strings.HasPrefix(body, "event: message\ndata: ") {
			t.Errorf("%q: %d %s, want 200 with %s", c.last, code, body, c.want)
		}
	}
	for _, last := range []string{
		"c.", "c.x", "c.x.y.z", "c.nonce.!!!", "c.nonce." + enc(`"`), "c.nonce." + enc(`"a`),
		"c.nonce." + enc(`"a\nevent: x"`), "c.nonce." + enc(`"a\"b"`), "c.nonce." + enc(`1e400`),
		"c.nonce." + enc(`{"a":1}`), "c.nonce." + enc(`null`), "c.nonce." + enc(strings.Repeat("9", 40)),
		"c.nonce." + enc(`"`+strings.Repeat("x", 5000)+"\u00e9\""), "c." + strings.Repeat("A", 8000),
	} {
		code, body := get(last)
		if code != 400 || !strings.Contains(body, `"code":"bad_request"`) || !strings.Contains(body, "Last-Event-ID") || strings.Contains(body, "event:") {
			t.Errorf("%.60q: %d %.300s, want a 400 naming Last-Event-ID", last, code, body)
		}
	}
}

// BenchmarkSessionCall is one session tools/call over loopback HTTP, with
// the priming event (a 2025-11-25 session) and without (2025-06-18): the
// cost of the extra flushed event.
func BenchmarkSessionCall(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(fastUpstream))
	defer up.Close()
	r := newFastRuntime(b, up.URL)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	for _, version := range []string{"2025-11-25", "2025-06-18"} {
		b.Run(version, func(b *testing.B) {
			init := strings.Replace(initBody, "2025-11-25", version, 1)
			post := func(body, sid string) *http.Response {
				req, _ := http.NewRequest("POST", srv.URL+"/t/t1/mcp", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer mcp_ok")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				if sid != "" {
					req.Header.Set("Mcp-Session-Id", sid)
					req.Header.Set("Mcp-Protocol-Version", version)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}
			sid := post(init, "").Header.Get("Mcp-Session-Id")
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_r","arguments":{"kind":"obj"}}}`
			b.ResetTimer()
			for b.Loop() {
				post(body, sid)
			}
		})
	}
}
