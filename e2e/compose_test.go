package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	yaml "github.com/pb33f/go-yaml"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// composeFile is the part of docker-compose.yml this test reads.
type composeFile struct {
	Services map[string]struct {
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// TestComposeCommands runs the commands docker-compose.yml gives each
// service, outside containers: migrate, serve with the bootstrap admin key,
// the portico health check, the demo FastAPI app, and the one-shot
// registration, then calls a demo tool as an agent would.
func TestComposeCommands(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	svc := cf.Services
	if got := strings.Join(svc["migrate"].Command, " "); got != "migrate up" {
		t.Fatalf("migrate command %q", got)
	}
	if hc := svc["portico"].Healthcheck.Test; len(hc) < 3 || hc[1] != "/usr/local/bin/portico" || hc[2] != "health" {
		t.Fatalf("portico healthcheck %v: want the binary's health command", hc)
	}
	// ${VAR:-default} → default, as compose does with VAR unset.
	expand := func(s string) string {
		if strings.HasPrefix(s, "${") && strings.Contains(s, ":-") {
			return strings.TrimSuffix(s[strings.Index(s, ":-")+2:], "}")
		}
		return s
	}
	adminKey := expand(svc["portico"].Environment["PORTICO_BOOTSTRAP_ADMIN_KEY"])
	if adminKey == "" || adminKey != expand(svc["register-demo"].Environment["PORTICO_API_KEY"]) {
		t.Fatalf("the bootstrap key %q and the registration's key differ", adminKey)
	}

	dbURL := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	getenv := func(k string) string { return env[k] }
	if err := cli.Run(context.Background(), svc["migrate"].Command, getenv, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	// The demo service: the same app.py under uvicorn.
	if err := exec.Command("/usr/bin/python3", "-c", "import fastapi, uvicorn").Run(); err != nil {
		harness.SkipOrFail(t, "FastAPI is not installed for /usr/bin/python3 (bash .ci/run installs it)")
	}
	port, _ := freePort()
	demo := exec.Command("/usr/bin/python3", "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--log-level", "warning")
	demo.Dir = "../deploy/demo"
	var demoOut bytes.Buffer
	demo.Stdout, demo.Stderr = &demoOut, &demoOut
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Process.Kill(); demo.Wait() })
	demoURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(t, 20*time.Second, "the demo app", func() bool { c, _ := getStatus(t, demoURL+"/healthz"); return c == 200 })

	p := startPorticoWith(t, dbURL, map[string]string{"PORTICO_BOOTSTRAP_ADMIN_KEY": adminKey})
	healthEnv := func(string) string { return "" }
	hc := svc["portico"].Healthcheck.Test[2:]
	// Compose runs the check on an interval until it passes: a replica is
	// ready once its tenants are restored and its change listener is up.
	waitFor(t, 20*time.Second, "portico health to pass", func() bool {
		return cli.Run(context.Background(), append(hc, "--url", p.url+"/readyz"), healthEnv, &bytes.Buffer{}, &bytes.Buffer{}) == nil
	})

	// The one-shot registration, with the compose hostnames pointed at loopback.
	cmd := svc["register-demo"].Command
	for i, a := range cmd {
		cmd[i] = strings.ReplaceAll(a, "http://demo:8000", demoURL)
	}
	renv := map[string]string{"PORTICO_API_URL": p.url, "PORTICO_API_KEY": adminKey}
	var out, errOut bytes.Buffer
	if err := cli.Run(context.Background(), cmd, func(k string) string { return renv[k] }, &out, &errOut); err != nil {
		t.Fatalf("tenant register: %v\n%s", err, errOut.String())
	}
	vals := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vals[k] = v
	}
	if vals["TENANT_STATUS"] != "active" || !strings.HasPrefix(vals["MCP_TOKEN"], "mcp_") {
		t.Fatalf("register printed %q", out.String())
	}
	// Running it again (docker compose up twice) reuses the tenant.
	out.Reset()
	if err := cli.Run(context.Background(), cmd, func(k string) string { return renv[k] }, &out, &errOut); err != nil || !strings.Contains(out.String(), "TENANT_ID="+vals["TENANT_ID"]) {
		t.Fatalf("second registration: %v %q", err, out.String())
	}
	cs := connect(context.Background(), t, vals["MCP_URL"], vals["MCP_TOKEN"])
	res, err := cs.CallTool(context.Background(), mcpCall("get_book", map[string]any{"book_id": 1}))
	if err != nil || res.IsError || !strings.Contains(textOf(res), "The Go Programming Language") {
		t.Fatalf("demo tool: %v %q", err, textOf(res))
	}
}
