package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/tenant"
)

// stringList is a repeatable string flag (--header, --toolset).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdRun is `portico run`: one OpenAPI service as an MCP server, with no
// database, over stdio (for desktop clients) or HTTP — the local
// equivalent of FastMCP.from_fastapi. Over HTTP it is served by the tenant
// endpoint's own handler (sessions for 2025 clients, 2026-07-28 requests,
// the fast paths), so a local run answers exactly as a hosted tenant does.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("openapi", "", "URL or file of the OpenAPI document (required)")
	baseURL := fs.String("base-url", "", "base URL of the service the tools call (required)")
	transport := fs.String("transport", "stdio", "stdio, or http to serve Streamable HTTP at /mcp")
	addr := fs.String("addr", defaultRunAddr, "listen address with --transport http")
	routeMaps := fs.String("route-maps", "", "a JSON file with a list of route maps (as `portico convert` takes), e.g. resources and templates")
	settingsFile := fs.String("settings", "", "a JSON file of tenant settings, as PUT /api/v1/tenants/{id}/settings takes them (route_maps, names, uris, timeouts_ms…)")
	promptsFile := fs.String("prompts", "", "a JSON file with a list of prompts, each as POST /api/v1/tenants/{id}/prompts takes it ({\"name\",\"description\",\"arguments\",\"messages\"})")
	var headers stringList
	fs.Var(&headers, "header", "'Name: value' sent with every upstream call (repeatable), e.g. 'Authorization: Bearer s3cret'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var inv tenant.InvalidError
	if *spec == "" {
		inv.Add("--openapi", "is required: the URL or file of the OpenAPI document")
	}
	if err := tenant.ValidateHTTPURL("--base-url", *baseURL); err != nil {
		var ie *tenant.InvalidError
		errors.As(err, &ie)
		inv.Problems = append(inv.Problems, ie.Problems...)
	}
	if *transport != "stdio" && *transport != "http" {
		inv.Add("--transport", "must be stdio or http")
	}
	var creds []tenant.LiveCredential
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		c := tenant.Credential{Name: fmt.Sprintf("header%d", len(creds)+1), Type: tenant.CredHeader, Header: strings.TrimSpace(name)}
		if !ok || c.Validate(strings.TrimSpace(value)) != nil {
			inv.Add("--header", fmt.Sprintf("%q must look like 'Name: value'", name))
			continue
		}
		creds = append(creds, tenant.LiveCredential{Credential: c, Value: tenant.Secret(strings.TrimSpace(value))})
	}
	settings, bad := runSettings(*settingsFile, *routeMaps)
	if bad != nil {
		inv.Problems = append(inv.Problems, bad.Problems...)
	}
	prompts, bad := runPrompts(*promptsFile)
	if bad != nil {
		inv.Problems = append(inv.Problems, bad.Problems...)
	}
	if err := inv.Err(); err != nil {
		return err
	}

	t := &tenant.Tenant{ID: "local", Name: "local", BaseURL: *baseURL, SpecURL: *spec, Status: tenant.StatusPending, Settings: settings}
	var raw []byte // nil: the runtime downloads --openapi
	if !strings.HasPrefix(*spec, "http://") && !strings.HasPrefix(*spec, "https://") {
		b, err := os.ReadFile(*spec)
		if err != nil {
			return fmt.Errorf("--openapi: %w", err)
		}
		raw = b
	}
	// Logs go to stderr: with stdio, stdout carries the protocol.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt := bridge.New(nil, bridge.Config{
		Logger: log,
		// A local run acts for the person running it, on their own network.
		AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
		Version:    version,
	})
	if err := rt.Serve(ctx, t, raw, creds, prompts); err != nil {
		return err
	}
	defer rt.Shutdown(context.Background())

	if *transport == "stdio" {
		return serveStdio(ctx, rt.Server(t.ID), stdin, stdout, runDrainTimeout)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w (choose another with --addr HOST:PORT)", *addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", localOnly(ln.Addr(), rt.TenantHandler(t.ID)))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "serving %s as MCP at http://%s/mcp\n", *spec, ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), runDrainTimeout)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// defaultRunAddr is where `portico run --transport http` listens unless
// told otherwise: loopback, and clear of the ports a FastAPI app (8000) and
// Portico itself (8080) take by default.
const defaultRunAddr = "127.0.0.1:8765"

// runDrainTimeout bounds how long a local run waits for calls in flight
// when its client goes away (stdin closed, or Ctrl-C over HTTP).
const runDrainTimeout = 30 * time.Second

// runSettings reads --settings and --route-maps into tenant settings,
// validated as the REST API validates them; --route-maps replaces the
// settings file's route maps.
func runSettings(settingsFile, routeMapsFile string) (tenant.Settings, *tenant.InvalidError) {
	var s tenant.Settings
	var inv tenant.InvalidError
	if settingsFile != "" {
		b, err := os.ReadFile(settingsFile)
		if err != nil {
			inv.Add("--settings", err.Error())
		} else if err := json.Unmarshal(b, &s); err != nil {
			inv.Add("--settings", fmt.Sprintf("%s is not a JSON object of tenant settings: %v", settingsFile, err))
		}
	}
	if routeMapsFile != "" {
		b, err := os.ReadFile(routeMapsFile)
		if err != nil {
			inv.Add("--route-maps", err.Error())
		} else if err := json.Unmarshal(b, &s.RouteMaps); err != nil {
			inv.Add("--route-maps", fmt.Sprintf("%s is not a JSON list of route maps (e.g. [{\"pattern\":\"^/files/\",\"mcp_type\":\"resource\"}]): %v", routeMapsFile, err))
		}
	}
	if len(inv.Problems) == 0 {
		if err := s.Validate(); err != nil {
			var ie *tenant.InvalidError
			if !errors.As(err, &ie) {
				inv.Add("--settings", err.Error())
				return s, &inv
			}
			flag := "--settings"
			if settingsFile == "" {
				flag = "--route-maps"
			}
			for _, p := range ie.Problems {
				p.Field = flag + ": " + p.Field
				inv.Problems = append(inv.Problems, p)
			}
		}
	}
	if len(inv.Problems) > 0 {
		return s, &inv
	}
	return s, nil
}

// runPrompts reads --prompts: a JSON list of prompts, each validated as the
// REST API validates one, names unique.
func runPrompts(file string) ([]tenant.Prompt, *tenant.InvalidError) {
	if file == "" {
		return nil, nil
	}
	var inv tenant.InvalidError
	var ps []tenant.Prompt
	b, err := os.ReadFile(file)
	if err != nil {
		inv.Add("--prompts", err.Error())
		return nil, &inv
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		inv.Add("--prompts", fmt.Sprintf("%s is not a JSON list of prompts (e.g. [{\"name\":\"greet\",\"arguments\":[{\"name\":\"who\",\"required\":true}],\"messages\":[{\"role\":\"user\",\"text\":\"Say hello to {{who}}\"}]}]): %v", file, err))
		return nil, &inv
	}
	seen := map[string]bool{}
	for i, p := range ps {
		var ie *tenant.InvalidError
		if err := p.Validate(); errors.As(err, &ie) {
			for _, pr := range ie.Problems {
				inv.Add(fmt.Sprintf("--prompts: [%d].%s", i, pr.Field), pr.Problem)
			}
		}
		if seen[p.Name] {
			inv.Add(fmt.Sprintf("--prompts: [%d].name", i), fmt.Sprintf("%q is the name of an earlier prompt; prompt names must be unique", p.Name))
		}
		seen[p.Name] = true
	}
	if len(inv.Problems) > 0 {
		return nil, &inv
	}
	slices.SortFunc(ps, func(a, b tenant.Prompt) int { return strings.Compare(a.Name, b.Name) })
	return ps, nil
}

// localOnly protects an unauthenticated local server from DNS rebinding
// (the MCP transport's security warning): when it listens on loopback,
// requests must name a loopback Host, and a browser's Origin, when sent,
// must be a loopback origin too. A server the user bound to another
// address keeps the Origin check only. Pages it admits may use it across
// origins (a web app on another local port): their preflights are
// answered and their requests get CORS headers, as a tenant endpoint
// gives the origins it lists.
func localOnly(listen net.Addr, next http.Handler) http.Handler {
	onLoopback := false
	if ta, ok := listen.(*net.TCPAddr); ok {
		onLoopback = ta.IP.IsLoopback()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if onLoopback && !loopbackHost(req.Host) {
			bridge.WriteError(w, http.StatusForbidden, "forbidden_host", fmt.Sprintf("Host %q is not this machine: `portico run` on loopback answers only requests to localhost, 127.0.0.1 or [::1] (DNS rebinding protection); bind another address with --addr to serve others", req.Host))
			return
		}
		if o := req.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || !loopbackHost(u.Host) && u.Host != req.Host {
				bridge.WriteError(w, http.StatusForbidden, "forbidden_origin", fmt.Sprintf("Origin %q may not use this local MCP server: only pages on this machine may (DNS rebinding protection)", o))
				return
			}
			w.Header().Add("Vary", "Origin")
			bridge.AllowCORS(w, req, o, bridge.RequestedHeaders(req))
			if req.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

// loopbackHost reports whether a Host header (with or without a port)
// names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// serveStdio runs srv over stdin/stdout. When stdin closes, answers to
// requests already read are still written (up to drain) before it returns:
// a client that sends its last request and closes its end gets its answer.
func serveStdio(ctx context.Context, srv *mcp.Server, stdin io.Reader, stdout io.Writer, drain time.Duration) error {
	p := &pendingRequests{wake: make(chan struct{}, 1)}
	in := &drainingReader{r: stdin, p: p, ctx: ctx, drain: drain}
	out := &answerWriter{w: stdout, p: p}
	err := srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// pendingRequests is the set of JSON-RPC request ids read from the client
// and not yet answered.
type pendingRequests struct {
	mu   sync.Mutex
	ids  map[string]bool
	wake chan struct{}
}

func (p *pendingRequests) add(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids == nil {
		p.ids = map[string]bool{}
	}
	p.ids[id] = true
}

func (p *pendingRequests) done(id string) {
	p.mu.Lock()
	delete(p.ids, id)
	n := len(p.ids)
	p.mu.Unlock()
	if n == 0 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

func (p *pendingRequests) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids) == 0
}

// rpcLine is what serveStdio reads of each newline-delimited message.
type rpcLine struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// eachLine calls fn with every complete line in buf after appending b,
// keeping a partial last line in buf.
func eachLine(buf *[]byte, b []byte, fn func(line []byte)) {
	*buf = append(*buf, b...)
	for {
		i := bytes.IndexByte(*buf, '\n')
		if i < 0 {
			return
		}
		fn((*buf)[:i])
		*buf = (*buf)[i+1:]
	}
}

// drainingReader passes stdin through, noting the requests it carries; at
// EOF it holds the EOF back until every one is answered, drain passes or
// ctx ends.
type drainingReader struct {
	r     io.Reader
	p     *pendingRequests
	ctx   context.Context
	drain time.Duration
	buf   []byte
}

func (d *drainingReader) Read(b []byte) (int, error) {
	n, err := d.r.Read(b)
	eachLine(&d.buf, b[:n], func(line []byte) {
		var m rpcLine
		if json.Unmarshal(line, &m) == nil && m.Method != "" && len(m.ID) > 0 && string(m.ID) != "null" {
			d.p.add(string(m.ID))
		}
	})
	if errors.Is(err, io.EOF) {
		timer := time.NewTimer(d.drain)
		defer timer.Stop()
		for !d.p.empty() {
			select {
			case <-d.p.wake:
			case <-timer.C:
				return n, err
			case <-d.ctx.Done():
				return n, err
			}
		}
	}
	return n, err
}

// answerWriter passes stdout through, marking each answered request done.
type answerWriter struct {
	w   io.Writer
	p   *pendingRequests
	mu  sync.Mutex
	buf []byte
}

func (a *answerWriter) Write(b []byte) (int, error) {
	n, err := a.w.Write(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	eachLine(&a.buf, b[:n], func(line []byte) {
		var m rpcLine
		if json.Unmarshal(line, &m) == nil && m.Method == "" && len(m.ID) > 0 && (m.Result != nil || m.Error != nil) {
			a.p.done(string(m.ID))
		}
	})
	return n, err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
