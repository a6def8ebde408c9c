package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
)

// freePort returns a loopback port nothing listens on (yet).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// generateAdminKey returns what `portico admin key generate` prints: an
// admin key for PORTICO_BOOTSTRAP_ADMIN_KEY.
func generateAdminKey() string {
	var out strings.Builder
	if err := cli.Run(context.Background(), []string{"admin", "key", "generate"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		panic(err)
	}
	return strings.TrimSpace(out.String())
}

// findPostgresBin finds the directory holding initdb and pg_ctl, where
// `portico dev` looks for them.
func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- { // newest version first
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin (Debian/Ubuntu: apt-get install -y postgresql)")
}

// startRunHTTP runs `portico run --transport http` in-process for the demo
// bookstore with extra flags and returns its /mcp URL; it stops with the test.
func startRunHTTP(t *testing.T, extra ...string) string {
	t.Helper()
	upstream := httptest.NewServer(cli.DemoAPI())
	t.Cleanup(upstream.Close)
	specFile := filepath.Join(t.TempDir(), "openapi.json")
	os.WriteFile(specFile, []byte(cli.DemoSpec), 0o600)
	return startRunHTTPFor(t, upstream.URL, specFile, append([]string{"--header", "Authorization: Bearer " + cli.DemoSecret}, extra...)...)
}

// startRunHTTPFor runs `portico run --transport http` in-process for the
// service at baseURL described by spec, and returns its /mcp URL.
func startRunHTTPFor(t *testing.T, baseURL, spec string, extra ...string) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	args := append([]string{"run", "--openapi", spec, "--base-url", baseURL, "--transport", "http",
		"--addr", fmt.Sprintf("127.0.0.1:%d", port)}, extra...)
	go func() { errc <- cli.Run(ctx, args, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("portico run: %v", err)
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	for i := 0; ; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return url
		}
		if i == 200 {
			t.Fatal("portico run did not start listening")
		}
		time.Sleep(25 * time.Millisecond)
	}
}
