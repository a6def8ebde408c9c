package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// buildBinary compiles the real portico binary into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portico")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/portico-mcp/portico/cmd/portico").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestDrainOnSIGTERM sends SIGTERM to the real binary while calls are in
// flight: every call the upstream had received finishes successfully, new
// connections are refused meanwhile, and the process exits 0.
func TestDrainOnSIGTERM(t *testing.T) {
	harness.HeavySuite(t, "builds and runs the binary")
	dbURL := pgtest.NewDB(t)
	bin := buildBinary(t)
	up := startUpstream(t, 1500*time.Millisecond)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	adminKey := generateAdminKey()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"PORTICO_ADDR="+addr,
		"PORTICO_MASTER_KEYS=k1:ZTJlLW1hc3Rlci1rZXktbnVtYmVyLW9uZS0zMmJ5dGU=",
		"PORTICO_ALLOW_UPSTREAM_CIDRS=127.0.0.0/8",
		"PORTICO_DRAIN_TIMEOUT=15s",
		"PORTICO_BOOTSTRAP_ADMIN_KEY="+adminKey,
		"PORTICO_MCP_RATE_LIMIT_TENANT=0", "PORTICO_MCP_RATE_LIMIT_TOKEN=0",
	)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	p := &portico{url: "http://" + addr, adminKey: adminKey, logs: &logs, responses: &syncBuffer{}}
	waitFor(t, 30*time.Second, "portico health to pass", func() bool {
		return cli.Run(context.Background(), []string{"health", "--url", p.url + "/readyz"}, func(string) string { return "" }, io.Discard, io.Discard) == nil
	})
	_, mcpURL, token := p.register(t, "drained", up.url)

	// Bounded load: 24 agents, each calling until SIGTERM is sent.
	const agents = 24
	var (
		stop                      atomic.Bool
		wg                        sync.WaitGroup
		mu                        sync.Mutex
		okCalls, inflightFailures int
		refused                   int
		firstFailure              string
	)
	for a := range agents {
		cs := connect(context.Background(), t, mcpURL, token)
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				tag := fmt.Sprintf("a%d-%d", a, i)
				cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := callWork(cctx, cs, tag)
				ccancel()
				mu.Lock()
				switch {
				case err == nil:
					okCalls++
				case up.saw(tag): // the call was in flight: it had reached the upstream
					inflightFailures++
					if firstFailure == "" {
						firstFailure = err.Error()
					}
				default: // sent after the listener closed: refused, as it should be
					refused++
				}
				mu.Unlock()
			}
		})
	}
	// SIGTERM when most agents are mid-call.
	waitFor(t, 20*time.Second, "calls in flight", func() bool { return up.calls.Load() >= agents+agents/2 })
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	stop.Store(true)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while the calls in flight finish.
	waitFor(t, 2*time.Second, "new connections to be refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return false
		}
		return true
	})
	refusedAfter := time.Since(sent)
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("portico did not exit within 30 s of SIGTERM\n%s", logs.String())
	}
	exitAfter := time.Since(sent)
	wg.Wait()
	t.Logf("SIGTERM with calls in flight: %d calls ok, %d in-flight failures, %d refused after SIGTERM; listener closed after %s, exit after %s",
		okCalls, inflightFailures, refused, refusedAfter.Round(time.Millisecond), exitAfter.Round(time.Millisecond))
	var ee *exec.ExitError
	if errors.As(exitErr, &ee) || exitErr != nil {
		t.Errorf("exit: %v, want code 0\n%s", exitErr, tail(logs.String(), 2000))
	}
	if inflightFailures != 0 {
		t.Errorf("%d in-flight calls failed across SIGTERM, want 0; first: %s", inflightFailures, firstFailure)
	}
	if refusedAfter >= exitAfter || exitAfter < time.Second {
		t.Errorf("listener closed after %s, exit after %s: want new connections refused while calls still drained", refusedAfter, exitAfter)
	}
	t.Logf("log after SIGTERM:\n%s", tail(logs.String(), 1500))
	if !strings.Contains(logs.String(), "shut down cleanly") {
		t.Errorf("log lacks 'shut down cleanly':\n%s", tail(logs.String(), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
