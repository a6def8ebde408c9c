package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// The servers under test run as processes of their own, as they are
// deployed: the bench re-executes its own binary with childEnv naming what
// to serve and childConfigEnv holding a childConfig. A child prints one
// childReady line on stdout once it serves, writes its logs to stderr (a
// file the parent chose), and exits when its stdin closes; Pdeathsig kills
// it if the bench dies first. Keeping them out of the bench process keeps
// the load generator's CPU, heap and scheduler out of their figures, and
// theirs out of each other's.
const (
	childEnv       = "PORTICO_BENCH_CHILD"
	childConfigEnv = "PORTICO_BENCH_CHILD_CONFIG"
)

// childConfig says what a child serves.
type childConfig struct {
	Upstream  string        `json:"upstream,omitempty"`  // minimal: the upstream's URL
	Stateless bool          `json:"stateless,omitempty"` // minimal: the SDK's stateless handler
	DB        string        `json:"db,omitempty"`        // portico: a migrated database's URL
	Tenants   []childTenant `json:"tenants,omitempty"`   // portico: tenants to register and activate
}

type childTenant struct {
	Name    string `json:"name"`
	BaseURL string `json:"base_url"`
	SpecURL string `json:"spec_url"`
}

// childReady is what a child reports once it serves.
type childReady struct {
	URL     string        `json:"url"`     // the server (minimal: its MCP endpoint)
	Control string        `json:"control"` // /stats and /debug/pprof/ of the child
	Tenants []readyTenant `json:"tenants,omitempty"`
	Error   string        `json:"error,omitempty"`
}

type readyTenant struct {
	ID, Token, Tool, Endpoint string
	Tools                     int
}

// childStats is a child's allocation counters (runtime/metrics).
type childStats struct {
	Objects uint64 `json:"objects"`
	Bytes   uint64 `json:"bytes"`
	GCs     uint64 `json:"gcs"`
	Conns   int64  `json:"conns,omitempty"` // upstream: connections accepted
}

// upstreamConns counts the connections an upstream child accepted.
var upstreamConns func() int64

// runChild is the whole of a child process: serve, report ready, wait for
// stdin to close (or a signal), clean up.
func runChild(kind string) error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childConfigEnv)), &cfg); err != nil {
		return fmt.Errorf("%s: %w", childConfigEnv, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { // the parent closes stdin to stop us
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	ready, cleanup, err := serveChild(ctx, kind, cfg)
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(childReady{Error: err.Error()})
		return err
	}
	defer cleanup()
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		a := readAllocs()
		st := childStats{Objects: a.objects, Bytes: a.bytes, GCs: a.gcs}
		if upstreamConns != nil {
			st.Conns = upstreamConns()
		}
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /gc", func(w http.ResponseWriter, r *http.Request) { runtime.GC() })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go http.Serve(ctl, mux)
	ready.Control = "http://" + ctl.Addr().String()
	if err := json.NewEncoder(os.Stdout).Encode(ready); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func serveChild(ctx context.Context, kind string, cfg childConfig) (childReady, func(), error) {
	switch kind {
	case "upstream":
		up, err := startUpstream()
		if err != nil {
			return childReady{}, nil, err
		}
		upstreamConns = up.conns.Load
		return childReady{URL: up.url}, up.close, nil
	case "minimal":
		m, err := startMinimal(cfg.Upstream, cfg.Stateless)
		if err != nil {
			return childReady{}, nil, err
		}
		return childReady{URL: m.url}, m.close, nil
	case "portico":
		p, err := servePortico(ctx, &database{url: cfg.DB}, os.Stderr)
		if err != nil {
			return childReady{}, nil, err
		}
		ready := childReady{URL: p.url}
		for _, t := range cfg.Tenants {
			id, token, err := p.addTenantSpec(ctx, t.Name, t.BaseURL, t.SpecURL)
			if err != nil {
				p.stop()
				return childReady{}, nil, fmt.Errorf("tenant %s: %w", t.Name, err)
			}
			tools, err := p.runtime.Tools(ctx, id)
			if err != nil {
				p.stop()
				return childReady{}, nil, err
			}
			tool, err := p.toolName(ctx, id)
			if err != nil {
				p.stop()
				return childReady{}, nil, err
			}
			n := 0
			for _, t := range tools {
				if t.Kind == tenant.KindTool || t.Kind == "" {
					n++
				}
			}
			ready.Tenants = append(ready.Tenants, readyTenant{ID: id, Token: token, Tool: tool, Endpoint: p.endpoint(id), Tools: n})
		}
		return ready, p.stop, nil
	}
	return childReady{}, nil, fmt.Errorf("unknown child kind %q", kind)
}

// child is a server process the bench started.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *os.File
	childReady
	exited chan struct{}
}

// startChild runs this binary as a child serving kind with cfg, its stderr
// in logDir/<name>.log, and waits until it reports ready.
func startChild(ctx context.Context, o options, name, kind string, cfg childConfig) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(o.logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+kind, childConfigEnv+"="+string(b))
	cmd.Stderr = logf
	// Never outlive the bench, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{name: name, cmd: cmd, stdin: stdin, log: logf, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(c.exited) }()
	timeout := time.NewTimer(3 * time.Minute)
	defer timeout.Stop()
	select {
	case line, ok := <-lines:
		if !ok {
			<-c.exited
			c.close()
			return nil, fmt.Errorf("%s exited before it was ready (%s); its log: %s", name, cmd.ProcessState, logf.Name())
		}
		if err := json.Unmarshal([]byte(line), &c.childReady); err != nil || c.Error != "" {
			c.close()
			if err == nil {
				err = errors.New(c.Error)
			}
			return nil, fmt.Errorf("%s: %w (its log: %s)", name, err, logf.Name())
		}
	case <-timeout.C:
		c.close()
		return nil, fmt.Errorf("%s not ready after 3 minutes; its log: %s", name, logf.Name())
	case <-ctx.Done():
		c.close()
		return nil, ctx.Err()
	}
	return c, nil
}

// close asks the child to stop (stdin closed) and kills it if it has not
// within 15 s.
func (c *child) close() {
	if c == nil {
		return
	}
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	c.log.Close()
}

// cpu is the child's user + system CPU time so far, from /proc/<pid>/stat
// (all its threads; clock ticks of 10 ms).
func (c *child) cpu() time.Duration {
	if c == nil {
		return 0
	}
	d, _ := procCPU(c.cmd.Process.Pid)
	return d
}

// userHZ is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on Linux.
const userHZ = 100

func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	d, err := parseStatCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// parseStatCPU returns utime + stime of a /proc/<pid>/stat line.
func parseStatCPU(s string) (time.Duration, error) {
	// The command name (field 2) may hold spaces and parentheses: fields
	// count from after its last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' in %.100q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// stats reads the child's allocation counters.
func (c *child) stats(ctx context.Context) (childStats, error) {
	var s childStats
	req, _ := http.NewRequestWithContext(ctx, "GET", c.Control+"/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// gc runs a collection in the child, so runs start from the same heap.
func (c *child) gc(ctx context.Context) {
	if c == nil {
		return
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", c.Control+"/gc", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// profile writes a CPU profile of the child over d to path.
func (c *child) profile(ctx context.Context, d time.Duration, path string) error {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	req, _ := http.NewRequestWithContext(ctx, "GET", c.Control+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("profile of %s: HTTP %d", c.name, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
