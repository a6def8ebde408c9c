package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestCLI runs every everyday command against a real `portico serve`, as a
// user at a shell would, and checks the errors a user meets first: a wrong
// key, a tenant that does not exist, a Portico that does not answer.
func TestCLI(t *testing.T) {
	up := startCredUpstream(t, "b", "k")
	p := startPortico(t, pgtest.NewDB(t))
	id, _, _ := p.register(t, "Shop", up.url)
	c := cliRunner{p: p}

	t.Run("tenants", func(t *testing.T) {
		out := c.must(t, "tenants", "list")
		if !strings.Contains(out, "ID") || !strings.Contains(out, id) || !strings.Contains(out, "Shop") || !strings.Contains(out, "active") {
			t.Errorf("tenants list:\n%s", out)
		}
		var list struct {
			Tenants []struct{ ID, Name, Status string }
		}
		if err := json.Unmarshal([]byte(c.must(t, "tenants", "list", "-o", "json")), &list); err != nil || len(list.Tenants) != 1 || list.Tenants[0].ID != id {
			t.Errorf("tenants list -o json: %v %+v", err, list)
		}
		// By name in any case, or by id; flags may follow the arguments.
		var got struct {
			ID     string
			MCPURL string `json:"mcp_url"`
		}
		if err := json.Unmarshal([]byte(c.must(t, "tenants", "get", "shop", "-o", "json")), &got); err != nil || got.ID != id || !strings.HasSuffix(got.MCPURL, "/t/"+id+"/mcp") {
			t.Errorf("tenants get shop -o json: %v %+v", err, got)
		}
		if out := c.must(t, "tenants", "get", id); !strings.Contains(out, "mcp_url") || !strings.Contains(out, up.url) {
			t.Errorf("tenants get %s:\n%s", id, out)
		}
		if out := c.must(t, "tenants", "deactivate", "Shop"); !strings.Contains(out, "inactive") {
			t.Errorf("deactivate:\n%s", out)
		}
		if _, _, err := c.run(t, "tools", "list", "Shop"); err == nil || !strings.Contains(err.Error(), "is not active") {
			t.Errorf("tools list of an inactive tenant: %v", err)
		}
		if out := c.must(t, "tenants", "activate", "Shop", "-o", "json"); !strings.Contains(out, `"status": "active"`) {
			t.Errorf("activate:\n%s", out)
		}
	})

	t.Run("toolsets", func(t *testing.T) {
		p.do(t, "POST", "/api/v1/tenants/"+id+"/toolsets", map[string]any{"name": "catalogue", "tools": []string{"get_item"}, "read_only": true}, 201, nil)
		out := c.must(t, "toolsets", "list", "shop")
		for _, want := range []string{"catalogue", "1 tools, read-only", "/t/" + id + "/mcp/catalogue"} {
			if !strings.Contains(out, want) {
				t.Errorf("toolsets list lacks %q:\n%s", want, out)
			}
		}
		secret, errOut, err := c.run(t, "tokens", "create", "shop", "--name", "catalogue agent", "--toolset", "catalogue")
		if err != nil || !strings.HasPrefix(secret, "mcp_") || !strings.Contains(errOut, "restricted to toolset(s) catalogue") {
			t.Fatalf("tokens create --toolset: %v %q %q", err, secret, errOut)
		}
		if out := c.must(t, "tokens", "list", "shop"); !strings.Contains(out, "TOOLSETS") || !strings.Contains(out, "catalogue") {
			t.Errorf("tokens list does not show the restriction:\n%s", out)
		}
		if _, _, err := c.run(t, "tokens", "create", "shop", "--name", "x", "--toolset", "nope"); err == nil || !strings.Contains(err.Error(), "toolsets[0]") {
			t.Errorf("tokens create with a missing toolset: %v", err)
		}
	})

	t.Run("tokens", func(t *testing.T) {
		secret := strings.TrimSpace(c.must(t, "tokens", "create", "shop", "--name", "ci", "--expires", "24h"))
		if !strings.HasPrefix(secret, "mcp_") || strings.Contains(secret, "\n") {
			t.Fatalf("tokens create printed %q; want the secret alone", secret)
		}
		var list struct {
			Tokens []struct {
				ID, Name, Prefix string
				ExpiresAt        *time.Time `json:"expires_at"`
			}
		}
		json.Unmarshal([]byte(c.must(t, "tokens", "list", "shop", "-o", "json")), &list)
		var tokID string
		for _, k := range list.Tokens {
			if k.Name == "ci" && k.ExpiresAt != nil && strings.HasPrefix(secret, k.Prefix) {
				tokID = k.ID
			}
		}
		if tokID == "" {
			t.Fatalf("tokens list lacks the new token: %+v", list)
		}
		if out := c.must(t, "tokens", "list", "shop"); !strings.Contains(out, "ci") || strings.Contains(out, secret) {
			t.Errorf("tokens list (table) must name the token and never show its secret:\n%s", out)
		}
		// The new token works at the MCP endpoint, until it is revoked.
		if out := c.must(t, "call", "shop", "get_item", "--arg", "id:=3", "--token", secret); !strings.Contains(out, `"id":"3"`) {
			t.Errorf("call with the new token: %s", out)
		}
		c.must(t, "tokens", "revoke", "shop", tokID)
		if _, _, err := c.run(t, "call", "shop", "get_item", "--arg", "id:=3", "--token", secret); err == nil {
			t.Errorf("a revoked token still calls")
		}
		if _, _, err := c.run(t, "tokens", "create", "shop"); err == nil || !strings.Contains(err.Error(), "--name is required") {
			t.Errorf("tokens create without --name: %v", err)
		}
		if _, _, err := c.run(t, "tokens", "create", "shop", "--name", "x", "--expires", "soon"); err == nil || !strings.Contains(err.Error(), "--expires") {
			t.Errorf("tokens create --expires soon: %v", err)
		}
	})

	t.Run("tools and call", func(t *testing.T) {
		out, errOut, err := c.run(t, "tools", "list", "shop", "--search", "catalogue item")
		if err != nil || !strings.Contains(out, "get_item") || strings.Contains(out, "whoami") || !strings.Contains(errOut, "1 of 2 tools match") {
			t.Errorf("tools list --search: %v\n%s%s", err, out, errOut)
		}
		var tools struct{ Tools []struct{ Name string } }
		json.Unmarshal([]byte(c.must(t, "tools", "list", "shop", "-o", "json")), &tools)
		if len(tools.Tools) != 2 {
			t.Errorf("tools list -o json: %+v", tools)
		}
		// Without --token, call mints a short-lived token and revokes it.
		if out := c.must(t, "call", "shop", "get_item", "--arg", "id=7"); !strings.Contains(out, `"id":"7"`) {
			t.Errorf("call get_item id=7: %s", out)
		}
		var res struct {
			StructuredContent map[string]any `json:"structuredContent"`
		}
		if err := json.Unmarshal([]byte(c.must(t, "call", "shop", "get_item", "--arg", "id:=8", "-o", "json")), &res); err != nil || res.StructuredContent["id"] != "8" {
			t.Errorf("call -o json: %v %+v", err, res)
		}
		var toks struct{ Tokens []struct{ Name string } }
		json.Unmarshal([]byte(c.must(t, "tokens", "list", "shop", "-o", "json")), &toks)
		for _, k := range toks.Tokens {
			if k.Name == "portico call" {
				t.Errorf("call left its token behind: %+v", toks)
			}
		}
		if _, _, err := c.run(t, "call", "shop", "get_item", "--arg", "id:=seven"); err == nil || !strings.Contains(err.Error(), "must be JSON") {
			t.Errorf("--arg id:=seven: %v", err)
		}
		if _, _, err := c.run(t, "call", "shop", "get_item", "--arg", "7"); err == nil || !strings.Contains(err.Error(), "NAME=VALUE") {
			t.Errorf("--arg 7: %v", err)
		}
		if out, _, err := c.run(t, "call", "shop", "get_item", "--arg", "id=seven"); err == nil || !strings.Contains(out, "id") {
			t.Errorf("a tool error must print what the tool said and fail: %v %s", err, out)
		}
		if _, _, err := c.run(t, "call", "shop", "no_such_tool"); err == nil || !strings.Contains(err.Error(), "tenant Shop serves no tool no_such_tool") {
			t.Errorf("call of an unknown tool: %v", err)
		}
	})

	t.Run("logs", func(t *testing.T) {
		if out := c.must(t, "logs", "shop"); !strings.Contains(out, "get_item") || !strings.Contains(out, "TOOL") {
			t.Errorf("logs:\n%s", out)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		env := map[string]string{"PORTICO_API_URL": p.url, "PORTICO_API_KEY": p.adminKey}
		out, errOut, done := &syncBuffer{}, &syncBuffer{}, make(chan error, 1)
		go func() {
			done <- cli.Run(ctx, []string{"logs", "shop", "--follow", "--interval", "100ms", "-o", "json"}, func(k string) string { return env[k] }, out, errOut)
		}()
		// Once the recent calls are printed and it follows, a new call shows up.
		waitFor(t, 30*time.Second, "logs --follow to print the recent calls", func() bool {
			return strings.Contains(errOut.String(), "following calls of tenant Shop")
		})
		if strings.Contains(out.String(), "whoami") {
			t.Fatalf("whoami was called before the test called it:\n%s", out.String())
		}
		c.must(t, "call", "shop", "whoami")
		waitFor(t, 30*time.Second, "logs --follow to print the new call", func() bool { return strings.Contains(out.String(), `"tool":"whoami"`) })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("logs --follow: %v", err)
		}
		seen := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var rec struct {
				At   time.Time
				Tool string
			}
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Tool == "" {
				t.Fatalf("logs -o json line %q: %v", l, err)
			}
			seen[rec.At.Format(time.RFC3339Nano)+rec.Tool]++
		}
		for k, n := range seen {
			if n > 1 {
				t.Errorf("logs --follow printed the call %s %d times", k, n)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		wrong := cliRunner{p: p, env: map[string]string{"PORTICO_API_KEY": "pk_thisisnotakeyofthisportico000000000"}}
		_, _, err := wrong.run(t, "tenants", "list")
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check PORTICO_API_KEY") {
			t.Errorf("wrong key: %v", err)
		}
		none := cliRunner{p: p, env: map[string]string{"PORTICO_API_KEY": ""}}
		if _, _, err := none.run(t, "tenants", "list"); err == nil || !strings.Contains(err.Error(), "set PORTICO_API_KEY") {
			t.Errorf("no key: %v", err)
		}
		for _, args := range [][]string{{"tenants", "get", "nope"}, {"tenants", "delete", "nope"}, {"tokens", "list", "nope"}, {"tools", "list", "nope"}, {"call", "nope", "x"}, {"logs", "nope"}} {
			if _, _, err := c.run(t, args...); err == nil || !strings.Contains(err.Error(), `no tenant has the id or name "nope"`) {
				t.Errorf("portico %s: %v; want it to say no tenant has that name", strings.Join(args, " "), err)
			}
		}
		if _, _, err := c.run(t, "tokens", "revoke", "shop", "tok_nope"); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "tok_nope") {
			t.Errorf("revoke of a missing token: %v", err)
		}
		for _, args := range [][]string{{"tenants", "list"}, {"export"}, {"tools", "list", "shop"}} {
			_, _, err := c.run(t, append(args, "--api", "http://127.0.0.1:1")...)
			if err == nil || !strings.Contains(err.Error(), "cannot reach Portico at http://127.0.0.1:1/api/v1/tenants") || !strings.Contains(err.Error(), "PORTICO_API_URL") {
				t.Errorf("portico %s against nothing: %v", strings.Join(args, " "), err)
			}
		}
		_, errOut, err := c.run(t, "tenant", "register", "--api", "http://127.0.0.1:1", "--wait", "1s", "--name", "x", "--base-url", up.url)
		if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:1/readyz did not answer ready within 1s") ||
			!strings.Contains(errOut, "waiting for Portico at http://127.0.0.1:1/readyz to answer ready") {
			t.Errorf("tenant register against nothing: %v\n%s", err, errOut)
		}
		if _, _, err := c.run(t, "tenants", "list", "-o", "yaml"); err == nil || !strings.Contains(err.Error(), "must be table or json") {
			t.Errorf("-o yaml: %v", err)
		}
		if _, _, err := c.run(t, "tenants", "frobnicate", "shop"); err == nil || !strings.Contains(err.Error(), "usage: portico tenants") {
			t.Errorf("unknown subcommand: %v", err)
		}
	})

	t.Run("register and delete", func(t *testing.T) {
		out, errOut, err := c.run(t, "tenant", "register", "--name", "second", "--base-url", up.url, "--activate")
		if err != nil || !strings.Contains(out, "TENANT_STATUS=active") || !strings.Contains(errOut, "registered tenant second") {
			t.Fatalf("tenant register: %v\n%s%s", err, out, errOut)
		}
		if out := c.must(t, "tenants", "delete", "second"); !strings.Contains(out, "deleted tenant second") {
			t.Errorf("delete: %s", out)
		}
		if _, _, err := c.run(t, "tenants", "get", "second"); err == nil {
			t.Errorf("a deleted tenant is still found")
		}
	})

	t.Run("help lists the commands", func(t *testing.T) {
		out := c.must(t, "help")
		for _, cmd := range []string{"portico apply -f", "portico export", "portico tenants list", "portico tokens create", "portico tools list", "portico call", "portico logs", "--api URL", "PORTICO_API_KEY"} {
			if !strings.Contains(out, cmd) {
				t.Errorf("help lacks %q", cmd)
			}
		}
	})
}

// TestCLIRetriesRateLimited: walking every tenant (export reads each one's
// credentials) outruns the per-key REST limit; the client waits as the
// 429's Retry-After says instead of failing.
func TestCLIRetriesRateLimited(t *testing.T) {
	p := startPorticoWith(t, pgtest.NewDB(t), map[string]string{"PORTICO_RATE_LIMIT_CALLER": "10:5"})
	c := cliRunner{p: p}
	f := filepath.Join(t.TempDir(), "portico.yaml")
	doc := "version: 1\ntenants:\n"
	for _, n := range []string{"a", "b", "c"} {
		doc += "  - name: " + n + "\n    base_url: http://127.0.0.1:9/" + n + "\n"
	}
	os.WriteFile(f, []byte(doc), 0o644)
	c.must(t, "apply", "-f", f)
	out := c.must(t, "export")
	for _, n := range []string{"a", "b", "c"} {
		if !strings.Contains(out, "name: "+n+"\n") {
			t.Errorf("export lacks tenant %s:\n%s", n, out)
		}
	}
	if out := c.must(t, "apply", "-f", f); out != "no changes\n" {
		t.Errorf("second apply:\n%s", out)
	}
	// A name in another case is the same tenant, renamed.
	os.WriteFile(f, []byte(strings.Replace(doc, "name: a\n", "name: A\n", 1)), 0o644)
	if out := c.must(t, "apply", "-f", f); !strings.Contains(out, `~ name: "a" → "A"`) {
		t.Errorf("rename in case:\n%s", out)
	}
	if out := c.must(t, "export"); !strings.Contains(out, "name: A\n") || strings.Contains(out, "name: a\n") {
		t.Errorf("export after the rename:\n%s", out)
	}
}
