package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/e2e/harness"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestDevWithDatabaseURL runs `portico dev` as a newcomer would, against the
// database DATABASE_URL names, and uses what it prints.
func TestDevWithDatabaseURL(t *testing.T) {
	t.Chdir(t.TempDir())
	db := pgtest.NewDB(t)
	checkDev(t, map[string]string{"DATABASE_URL": db})
	// A second start on the same database: the dev user exists and gets
	// the newly printed password.
	checkDev(t, map[string]string{"DATABASE_URL": db})
}

// TestDevPrivatePostgres runs `portico dev` on a machine where nothing
// answers on the usual port: it must start (and stop) its own PostgreSQL.
func TestDevPrivatePostgres(t *testing.T) {
	if _, err := findPostgresBin(); err != nil {
		harness.SkipOrFail(t, err.Error())
	}
	dir := t.TempDir()
	// The private server runs as the postgres user when we are root: it must
	// be able to reach the directory.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	t.Chdir(dir)
	port, err := freePort() // nothing listens here: dev must not find a server
	if err != nil {
		t.Fatal(err)
	}
	saved := devLocalPostgres
	devLocalPostgres.port = port
	t.Cleanup(func() { devLocalPostgres = saved })

	out := checkDev(t, map[string]string{})
	if !strings.Contains(out, "Started a private PostgreSQL") {
		t.Errorf("dev did not say it started a private PostgreSQL:\n%s", out)
	}
	// After dev returned, its server must be gone.
	bin, _ := findPostgresBin()
	cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, ".portico", "pg"), "status")
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, ".portico", "pg"), "status")
	}
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("the private PostgreSQL still runs after dev stopped: %s", b)
	}
}

// checkDev starts `portico dev`, reads what it prints, lists and calls the
// demo tenant's tools with the go-sdk client, then stops it with the
// equivalent of Ctrl-C. It returns what dev printed.
func checkDev(t *testing.T, env map[string]string) string {
	t.Helper()
	env["PORTICO_ADDR"] = "127.0.0.1:0"
	env["PORTICO_LOG_LEVEL"] = "warn"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		errc <- Run(ctx, []string{"dev"}, func(k string) string { return env[k] }, pw, logs)
		pw.Close()
	}()
	printed := map[string]string{}
	var all strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "  MCP URL"):
			printed["mcp"] = f[2]
		case strings.HasPrefix(line, "  MCP token"):
			printed["token"] = f[2]
		case strings.HasPrefix(line, "  Admin API key"):
			printed["key"] = f[3]
		case strings.HasPrefix(line, "  Dashboard"):
			printed["dashboard"] = f[1]
		case strings.HasPrefix(line, "  Email"):
			printed["email"] = f[1]
		case strings.HasPrefix(line, "  Password"):
			printed["password"] = f[1]
		}
		if printed["mcp"] != "" && printed["token"] != "" && printed["key"] != "" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if printed["token"] == "" {
		cancel()
		t.Fatalf("dev printed no MCP token: %v\n%s\nlogs:\n%s", <-errc, all.String(), logs.String())
	}
	if !strings.HasPrefix(printed["key"], "pk_") || !strings.HasPrefix(printed["token"], "mcp_") {
		t.Errorf("printed admin key %q / token %q lack their prefixes", printed["key"], printed["token"])
	}

	// The printed email and password sign in to the dashboard.
	login, _ := json.Marshal(map[string]string{"email": printed["email"], "password": printed["password"]})
	resp, err := http.Post(strings.TrimSuffix(printed["dashboard"], "/")+"/api/v1/auth/login", "application/json", bytes.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	var session struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if resp.StatusCode != 200 || session.CSRF == "" || len(resp.Cookies()) == 0 {
		t.Errorf("sign in with the printed email %q and password: %d, csrf %q, %d cookies", printed["email"], resp.StatusCode, session.CSRF, len(resp.Cookies()))
	}

	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	cs := connect(cctx, t, printed["mcp"], printed["token"])
	n := 0
	for _, err := range cs.Tools(cctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("demo tenant lists %d tools, want 3", n)
	}
	res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "create_book_books_post", Arguments: map[string]any{"title": "Dune", "author": "Frank Herbert"}})
	if err != nil || res.IsError {
		t.Fatalf("create a book through the demo tenant (needs its stored credential): %v %s", err, textOf(res))
	}
	if !strings.Contains(textOf(res), `"Dune"`) {
		t.Errorf("create_book result = %s", textOf(res))
	}
	cs.Close()

	cancel()
	if err := <-errc; err != nil {
		t.Errorf("dev returned %v after Ctrl-C, want nil", err)
	}
	return all.String()
}

// TestDevCreatesMissingDatabase: DATABASE_URL may name a database the
// server does not have yet; `portico dev` creates it instead of failing.
func TestDevCreatesMissingDatabase(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.NewDB(t)
	u, err := neturl.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("portico_missing_%d", time.Now().UnixNano())
	u.Path = "/" + name
	url := u.String()
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
			c.Close(ctx)
		}
	})
	var out bytes.Buffer
	if err := ensureDatabase(ctx, url, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Created database "+name) {
		t.Errorf("output %q does not say the database was created", out.String())
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("the database was not created: %v", err)
	}
	c.Close(ctx)
	out.Reset()
	if err := ensureDatabase(ctx, url, &out); err != nil || out.Len() != 0 {
		t.Errorf("second run: %v %q, want nothing to do", err, out.String())
	}
}
