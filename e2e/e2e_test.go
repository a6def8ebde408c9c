package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// canary is the upstream secret the end-to-end test stores as a credential;
// it must never come back out of Portico except to the upstream itself.
const canary = "canary-7f3b9c1e-secret-value"

// TestEndToEnd registers a real FastAPI app through the REST API, activates
// it and uses it from the go-sdk MCP client, as a tenant admin and an agent would.
func TestEndToEnd(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	fastapi := startFastAPI(t)
	p := startPortico(t, dbURL)

	// Register the service, store its secret, mint a token, activate.
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		MCPURL string `json:"mcp_url"`
	}
	p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "users", "base_url": fastapi.url}, 201, &created)
	if created.Status != "pending" || created.MCPURL != p.url+"/t/"+created.ID+"/mcp" {
		t.Fatalf("created tenant = %+v, want pending with mcp_url under %s", created, p.url)
	}
	p.do(t, "PUT", "/api/v1/tenants/"+created.ID+"/credentials/upstream", map[string]any{"type": "bearer", "value": canary}, 204, nil)
	token := p.token(t, created.ID)
	var activated struct {
		Status        string
		ReportSummary string `json:"report_summary"`
		Report        struct {
			SpecVersion int `json:"spec_version"`
			Seen        int `json:"operations_seen"`
			Tools       int `json:"tools"`
		}
	}
	p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, &activated)
	if activated.Status != "active" {
		t.Fatalf("status after activate = %q, want active", activated.Status)
	}
	// Registration shows the conformance report; GET /spec/report serves it.
	if !strings.HasPrefix(activated.ReportSummary, "OpenAPI 3.") || activated.Report.SpecVersion != 1 || activated.Report.Tools == 0 || activated.Report.Tools != activated.Report.Seen {
		t.Errorf("activation report = %q %+v, want the summary and the report of spec version 1", activated.ReportSummary, activated.Report)
	}
	var report struct {
		Seen  int `json:"operations_seen"`
		Tools int `json:"tools"`
	}
	p.do(t, "GET", "/api/v1/tenants/"+created.ID+"/spec/report", nil, 200, &report)
	if report.Tools != activated.Report.Tools || report.Seen != activated.Report.Seen {
		t.Errorf("GET /spec/report = %+v, want the report activation returned (%+v)", report, activated.Report)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs := connect(ctx, t, created.MCPURL, token)
	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	wantNames := []string{"get_user_users", "whoami_whoami_get", "create_item_items_post", "slow_slow_get", "delete_user_users"}
	if diff := cmp.Diff(sortedCopy(wantNames), sortedCopy(names)); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}

	// Every call equals calling FastAPI directly.
	calls := []struct {
		name   string
		tool   string
		args   map[string]any
		method string
		path   string
		body   string
		auth   bool
	}{
		{"path parameter", "get_user_users", map[string]any{"user_id": 42}, "GET", "/users/42", "", false},
		{"credential injected", "whoami_whoami_get", map[string]any{}, "GET", "/whoami", "", true},
		{"json body", "create_item_items_post", map[string]any{"name": "lamp", "price": 12.5, "tags": []string{"home"}}, "POST", "/items", `{"name":"lamp","price":12.5,"tags":["home"]}`, false},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
			if err != nil {
				t.Fatal(err)
			}
			if res.IsError {
				t.Fatalf("tool error: %s", textOf(res))
			}
			want := fastapi.call(t, c.method, c.path, c.body, c.auth)
			var got any
			b, _ := json.Marshal(res.StructuredContent)
			json.Unmarshal(b, &got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("structured content differs from calling FastAPI directly (-want +got):\n%s", diff)
			}
			var text any
			if err := json.Unmarshal([]byte(textOf(res)), &text); err != nil || !cmp.Equal(want, text) {
				t.Errorf("text content = %s, want the same JSON", textOf(res))
			}
		})
	}

	t.Run("upstream error is a tool error", func(t *testing.T) {
		// 1e30 is an integer to JSON Schema, so it passes argument
		// validation, but not to FastAPI, which answers 422.
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: json.RawMessage(`{"user_id": 1e30}`)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError || !strings.Contains(textOf(res), "422") {
			t.Errorf("result = %v %q, want isError naming HTTP 422", res.IsError, textOf(res))
		}
	})

	t.Run("invalid arguments are a tool error before any upstream call", func(t *testing.T) {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": "not-a-number"}})
		if err != nil {
			t.Fatal(err)
		}
		want := `argument "user_id": expected integer, got string "not-a-number" (type)`
		if !res.IsError || !strings.Contains(textOf(res), want) || strings.Contains(textOf(res), "422") {
			t.Errorf("result = %v %q, want isError containing %s", res.IsError, textOf(res), want)
		}
	})

	t.Run("no token gets 401 with WWW-Authenticate", func(t *testing.T) {
		resp := mcpPost(t, created.MCPURL, "")
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("status %d, WWW-Authenticate %q; want 401 Bearer", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("token of another tenant is refused", func(t *testing.T) {
		var other struct {
			ID     string `json:"id"`
			MCPURL string `json:"mcp_url"`
		}
		p.do(t, "POST", "/api/v1/tenants", map[string]any{"name": "other", "base_url": fastapi.url}, 201, &other)
		otherToken := p.token(t, other.ID)
		p.do(t, "POST", "/api/v1/tenants/"+other.ID+"/activate", nil, 200, nil)
		if resp := mcpPost(t, other.MCPURL, token); resp.StatusCode != 401 {
			t.Errorf("tenant A's token on tenant B: status %d, want 401", resp.StatusCode)
		}
		if resp := mcpPost(t, created.MCPURL, otherToken); resp.StatusCode != 401 {
			t.Errorf("tenant B's token on tenant A: status %d, want 401", resp.StatusCode)
		}
		if resp := mcpPost(t, other.MCPURL, otherToken); resp.StatusCode != 200 {
			t.Errorf("tenant B's own token: status %d, want 200", resp.StatusCode)
		}
	})

	t.Run("slow call completes across a deactivate", func(t *testing.T) {
		type result struct {
			res *mcp.CallToolResult
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slow_slow_get", Arguments: map[string]any{"seconds": 1.5, "tag": "drain"}})
			done <- result{res, err}
		}()
		fastapi.waitMarker(t, "drain")
		p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/deactivate", nil, 200, nil)
		r := <-done
		if r.err != nil || r.res.IsError {
			t.Fatalf("in-flight call across deactivate: err %v, result %q", r.err, textOf(r.res))
		}
		if resp := mcpPost(t, created.MCPURL, token); resp.StatusCode != 404 {
			t.Errorf("call after deactivate: status %d, want 404", resp.StatusCode)
		}
		p.do(t, "POST", "/api/v1/tenants/"+created.ID+"/activate", nil, 200, nil)
		cs2 := connect(ctx, t, created.MCPURL, token)
		res, err := cs2.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 7}})
		if err != nil || res.IsError {
			t.Fatalf("call after re-activation: %v %q", err, textOf(res))
		}
	})

	t.Run("canary secret appears nowhere", func(t *testing.T) {
		p.do(t, "GET", "/api/v1/tenants/"+created.ID+"/credentials", nil, 200, nil)
		p.do(t, "GET", "/api/v1/tenants/"+created.ID+"/audit", nil, 200, nil)
		p.do(t, "GET", "/api/v1/tenants/"+created.ID, nil, 200, nil)
		p.do(t, "GET", "/api/v1/tenants/"+created.ID+"/tools", nil, 200, nil)
		if strings.Contains(p.responses.String(), canary) {
			t.Error("the canary appears in an API response")
		}
		if strings.Contains(p.logs.String(), canary) {
			t.Error("the canary appears in Portico's log")
		}
		if p.logs.Len() == 0 {
			t.Error("Portico logged nothing: the log scan proves nothing")
		}
		scanDatabase(t, dbURL)
	})
}

// scanDatabase fails if any column of any table holds the canary in plaintext.
func scanDatabase(t *testing.T, dbURL string) {
	t.Helper()
	scanDatabaseFor(t, dbURL, canary)
}

// scanDatabaseFor fails t if any row of any table holds secret, as text
// or hex.
func scanDatabaseFor(t *testing.T, dbURL, secret string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	hexCanary := hex.EncodeToString([]byte(secret))
	scanned := 0
	for _, table := range tables {
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT t::text FROM %s t", pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range texts {
			scanned++
			if strings.Contains(row, secret) || strings.Contains(row, hexCanary) {
				t.Errorf("table %s holds the secret in plaintext", table)
			}
		}
	}
	if scanned == 0 {
		t.Error("scanned no rows: the database scan proves nothing")
	}
}

type fastAPI struct {
	url       string
	markerDir string
	port      int
	app       string // uvicorn module:attribute in testdata
	mu        sync.Mutex
	cmd       *exec.Cmd
	out       *bytes.Buffer
}

// startFastAPI runs testdata/fastapi_app.py under uvicorn on a free port.
// env adds KEY=VALUE settings (E2E_VARIANT=v2 is the app after a deploy).
func startFastAPI(t *testing.T, env ...string) *fastAPI {
	return startFastAPIApp(t, "fastapi_app:app", env...)
}

// startFastAPIApp runs the uvicorn app (module:attribute) from testdata.
func startFastAPIApp(t *testing.T, app string, env ...string) *fastAPI {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import fastapi, uvicorn").Run(); err != nil {
		msg := "FastAPI is not installed for /usr/bin/python3: apt-get install -y python3-fastapi python3-uvicorn (or run bash .ci/run)"
		harness.SkipOrFail(t, msg)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	f := &fastAPI{url: fmt.Sprintf("http://127.0.0.1:%d", port), markerDir: t.TempDir(), port: port, app: app}
	t.Cleanup(f.stop)
	f.start(t, env...)
	return f
}

// start launches uvicorn on f's port and waits until it answers.
func (f *fastAPI) start(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-m", "uvicorn", f.app, "--host", "127.0.0.1", "--port", fmt.Sprint(f.port), "--log-level", "warning")
	cmd.Dir = "testdata"
	cmd.Env = append(append(os.Environ(), "E2E_SECRET="+canary, "E2E_MARKER_DIR="+f.markerDir), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.cmd, f.out = cmd, &out
	f.mu.Unlock()
	for i := 0; ; i++ {
		resp, err := http.Get(f.url + "/openapi.json")
		if err == nil {
			resp.Body.Close()
			return
		}
		if i == 200 {
			t.Fatalf("uvicorn did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills uvicorn; the port stays f's, so start can bring it back.
func (f *fastAPI) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd != nil {
		f.cmd.Process.Kill()
		f.cmd.Wait()
		f.cmd = nil
	}
}

// restart stops the app and starts it again, as a deploy would.
func (f *fastAPI) restart(t *testing.T, env ...string) {
	t.Helper()
	f.stop()
	f.start(t, env...)
}

// call sends the request an agent's tool call stands for, directly.
func (f *fastAPI) call(t *testing.T, method, path, body string, auth bool) any {
	t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+canary)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fastAPI) waitMarker(t *testing.T, tag string) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if _, err := os.Stat(filepath.Join(f.markerDir, tag+".started")); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("the upstream never saw the %q call", tag)
}

// portico is a Portico serving in the test's process (harness.Serve), as
// the binary would serve.
type portico struct {
	url       string
	adminKey  string
	logs      *syncBuffer
	responses *syncBuffer // every REST response body, for the canary scan
}

// startPortico runs `portico serve` on dbURL; extra adds KEY=VALUE settings.
func startPortico(t *testing.T, dbURL string, extra ...string) *portico {
	t.Helper()
	env := map[string]string{}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return startPorticoWith(t, dbURL, env)
}

// testMasterKeys are the master keys of the test Portico.
const testMasterKeys = "k2:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLXR3by0zMmJ5dGU=,k1:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLW9uZS0zMmJ5dGU="

// testMetricsToken lets scrape read the test Portico's /metrics.
const testMetricsToken = "test-metrics-token"

// startPorticoWith starts Portico with extra environment on top of the defaults.
func startPorticoWith(t *testing.T, dbURL string, extra map[string]string) *portico {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":                 dbURL,
		"PORTICO_MASTER_KEYS":          testMasterKeys,
		"PORTICO_ALLOW_UPSTREAM_CIDRS": "127.0.0.0/8",
		"PORTICO_DRAIN_TIMEOUT":        "20s",
		"PORTICO_LOG_LEVEL":            "debug",
		// Load and fault tests call far faster than an agent would; the
		// tests of the limits themselves set them.
		"PORTICO_MCP_RATE_LIMIT_TENANT": "0",
		"PORTICO_MCP_RATE_LIMIT_TOKEN":  "0",
		"PORTICO_RATE_LIMIT_CALLER":     "0",
		"PORTICO_RATE_LIMIT_TENANT":     "0",
		"PORTICO_METRICS_TOKEN":         testMetricsToken,
		// Tests send bad credentials on purpose; TestFailedCredentialsThrottled sets this.
		"PORTICO_RATE_LIMIT_AUTH_FAILURES": "0",
	}
	for k, v := range extra {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	var keyOut bytes.Buffer
	if err := cli.Run(context.Background(), []string{"admin", "key", "create", "--name", "e2e"}, getenv, &keyOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	p := &portico{adminKey: strings.TrimSpace(keyOut.String()), logs: &syncBuffer{}, responses: &syncBuffer{}}
	// PORTICO_ADDR picks the port, for a test whose PORTICO_PUBLIC_URL is a
	// proxy in front.
	addr := "127.0.0.1:0"
	if a := env["PORTICO_ADDR"]; a != "" {
		addr = a
	}
	env["PORTICO_ADDR"] = addr
	// Portico serves in this process as `portico serve` would, wired by
	// package server (the benchmark's Portico is the same).
	srv, err := harness.Serve(context.Background(), getenv, p.logs)
	if err != nil {
		t.Fatalf("portico did not start: %v\n%s", err, p.logs.String())
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("portico serve returned %v after SIGTERM-equivalent, want nil", err)
		}
	})
	p.url = srv.URL
	if env["PORTICO_PUBLIC_URL"] != "" {
		p.url = "http://" + addr
	}
	return p
}

// do sends a REST request with the admin key and decodes the response into out.
func (p *portico) do(t *testing.T, method, path string, body any, wantStatus int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+p.adminKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p.responses.Write(b)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// token mints an MCP token for tenant id.
func (p *portico) token(t *testing.T, id string) string {
	t.Helper()
	var tok struct {
		Secret string `json:"secret"`
	}
	p.do(t, "POST", "/api/v1/tenants/"+id+"/tokens", map[string]any{"name": "agent"}, 201, &tok)
	if !strings.HasPrefix(tok.Secret, "mcp_") {
		t.Fatalf("token secret %q lacks the mcp_ prefix", tok.Secret)
	}
	return tok.Secret
}

func connect(ctx context.Context, t *testing.T, url, token string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "portico-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   url,
		HTTPClient: &http.Client{Transport: bearerTransport{token: token}},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// mcpPost sends a bare tools/list, as a client that skips initialize would.
func mcpPost(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func textOf(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String()
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// TestServeRefusesSchemaMismatch: serve must not start on a database that
// is behind or ahead of the binary, and must say what to run.
func TestServeRefusesSchemaMismatch(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	env := map[string]string{
		"DATABASE_URL":        dbURL,
		"PORTICO_MASTER_KEYS": "k1:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLW9uZS0zMmJ5dGU=",
		"PORTICO_ADDR":        "127.0.0.1:0",
	}
	getenv := func(k string) string { return env[k] }
	serve := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return cli.Run(ctx, []string{"serve"}, getenv, io.Discard, io.Discard)
	}
	if err := cli.Run(context.Background(), []string{"migrate", "down", "1"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := serve(); err == nil || !strings.Contains(err.Error(), "portico migrate up") {
		t.Errorf("serve on an unmigrated database: %v, want an error naming `portico migrate up`", err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (999, false)"); err != nil {
		t.Fatal(err)
	}
	if err := serve(); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("serve on a newer schema: %v, want an error saying the schema is newer", err)
	}
}

// TestSelfMCP manages Portico through its own MCP server at /mcp, as an
// agent with an admin API key would: create a tenant, mint a token,
// activate it, then call the new tenant's tool.
func TestSelfMCP(t *testing.T) {
	fastapi := startFastAPI(t)
	p := startPortico(t, pgtest.NewDB(t))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if resp := mcpPost(t, p.url+"/mcp", ""); resp.StatusCode != 401 {
		t.Errorf("/mcp without an API key: status %d, want 401", resp.StatusCode)
	}
	admin := connect(ctx, t, p.url+"/mcp", p.adminKey)
	call := func(tool string, args map[string]any) map[string]any {
		t.Helper()
		res, err := admin.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %s", tool, err, textOf(res))
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(textOf(res)), &out); err != nil {
			t.Fatalf("%s: %v: %s", tool, err, textOf(res))
		}
		return out
	}
	created := call("createTenant", map[string]any{"name": "via-mcp", "base_url": fastapi.url})
	id, _ := created["id"].(string)
	tok := call("createToken", map[string]any{"id": id, "name": "agent"})
	activated := call("activateTenant", map[string]any{"id": id})
	if activated["status"] != "active" {
		t.Fatalf("activateTenant returned %v", activated)
	}
	cs := connect(ctx, t, created["mcp_url"].(string), tok["secret"].(string))
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_user_users", Arguments: map[string]any{"user_id": 5}})
	if err != nil || res.IsError || !strings.Contains(textOf(res), `"id":5`) {
		t.Fatalf("call the tenant created through /mcp: %v %s", err, textOf(res))
	}

	// A bad call comes back as a tool error naming the REST API's complaint.
	bad, err := admin.CallTool(ctx, &mcp.CallToolParams{Name: "createTenant", Arguments: map[string]any{"name": "x", "base_url": "ftp://nope"}})
	if err != nil || !bad.IsError || !strings.Contains(textOf(bad), "base_url") {
		t.Errorf("createTenant with a bad base_url: %v %q, want a tool error naming base_url", err, textOf(bad))
	}
}
