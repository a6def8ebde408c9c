package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/e2e/harness"
)

// upstreamSpec is the OpenAPI document of the loopback test upstream: one
// tool, "work", whose latency and failure the test controls.
const upstreamSpec = `{"openapi":"3.0.3","info":{"title":"test upstream","version":"1"},
"paths":{"/work":{"get":{"operationId":"work","summary":"Do some work.",
 "parameters":[{"name":"tag","in":"query","schema":{"type":"string"}}],
 "responses":{"200":{"description":"done","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`

// testUpstream is a tenant's service on loopback: GET /work sleeps delay,
// then answers 200 (or status when failing), echoing the tag and the
// traceparent it received.
type testUpstream struct {
	url     string
	delay   atomic.Int64 // nanoseconds
	failing atomic.Int32 // HTTP status to fail with; 0 = succeed
	calls   atomic.Int64
	mu      sync.Mutex
	seen    map[string]bool // tags received
	trace   []string        // traceparent headers received
}

func startUpstream(t *testing.T, delay time.Duration) *testUpstream {
	t.Helper()
	u := &testUpstream{seen: map[string]bool{}}
	u.delay.Store(int64(delay))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, upstreamSpec)
	})
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		tag := r.URL.Query().Get("tag")
		u.mu.Lock()
		u.seen[tag] = true
		if tp := r.Header.Get("traceparent"); tp != "" {
			u.trace = append(u.trace, tp)
		}
		u.mu.Unlock()
		select {
		case <-time.After(time.Duration(u.delay.Load())):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if s := u.failing.Load(); s != 0 {
			w.WriteHeader(int(s))
			io.WriteString(w, `{"detail":"upstream is failing on purpose"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "tag": tag, "traceparent": r.Header.Get("traceparent")})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	u.url = "http://" + ln.Addr().String()
	return u
}

func (u *testUpstream) saw(tag string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[tag]
}

// register creates, activates and mints a token for a tenant over REST.
func (p *portico) register(t *testing.T, name, baseURL string) (id, mcpURL, token string) {
	t.Helper()
	var created struct {
		ID     string `json:"id"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": name, "base_url": baseURL}, 201, &created)
	token = p.token(t, created.ID)
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
	return created.ID, created.MCPURL, token
}

// callWork calls the "work" tool once; a protocol error or a tool error is
// returned as an error.
func callWork(ctx context.Context, cs *mcp.ClientSession, tag string) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "work", Arguments: map[string]any{"tag": tag}})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("tool error: %s", textOf(res))
	}
	return nil
}

// getStatus GETs url and returns the status and body.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape returns the /metrics samples as "name{labels}" → value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, body := resp.StatusCode, string(b)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// latencies summarises a sample of durations.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p)
	return s[i]
}

// throwawayPostgres is a PostgreSQL server of the test's own, started from
// the machine's binaries as the postgres user, so the test can stop and
// start it without touching the shared server.
type throwawayPostgres struct {
	dir, bin string
	port     int
	url      string
}

func startThrowawayPostgres(t *testing.T) *throwawayPostgres {
	t.Helper()
	bin, err := findPostgresBin()
	if err != nil {
		harness.SkipOrFail(t, "no PostgreSQL binaries for a throwaway cluster: "+err.Error())
	}
	if _, err := exec.LookPath("runuser"); os.Geteuid() == 0 && err != nil {
		harness.SkipOrFail(t, "running as root needs runuser to start PostgreSQL as the postgres user")
	}
	dir, err := os.MkdirTemp("", "portico-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	pg := &throwawayPostgres{dir: dir, bin: bin, port: port,
		url: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)}
	data := filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "postgres:postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	if out, err := pg.cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start(t)
	t.Cleanup(func() { pg.cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run() })
	return pg
}

func (pg *throwawayPostgres) cmd(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, name)}, args...)...)
	}
	return exec.Command(filepath.Join(pg.bin, name), args...)
}

func (pg *throwawayPostgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", pg.port, pg.dir)
	if out, err := pg.cmd("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-l", filepath.Join(pg.dir, "server.log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

func (pg *throwawayPostgres) stop(t *testing.T) {
	t.Helper()
	if out, err := pg.cmd("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectPool is connect with a transport of its own that keeps enough idle
// connections for many concurrent callers (http.DefaultTransport keeps 2 per
// host, so a load test through it measures TCP connection churn instead).
func connectPool(ctx context.Context, t *testing.T, url, token string, tr *http.Transport) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-load", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   url,
		HTTPClient: &http.Client{Transport: poolBearer{token: token, tr: tr}},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func newLoadTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
	return tr
}

type poolBearer struct {
	token string
	tr    *http.Transport
}

func (b poolBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.tr.RoundTrip(r)
}

func mcpCall(name string, args map[string]any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}
