package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// credUpstream is a tenant's service that checks the credentials Portico
// sends: GET /whoami says whether the bearer token and the X-Key header are
// the ones it expects (never echoing them); GET /items/{id} returns the id.
type credUpstream struct {
	url         string
	mu          sync.Mutex
	bearer, key string
}

const credUpstreamSpec = `{"openapi":"3.0.3","info":{"title":"shop","version":"1"},"paths":{
"/whoami":{"get":{"operationId":"whoami","summary":"Which credentials arrived.","responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}},
"/items/{id}":{"get":{"operationId":"get_item","summary":"One item of the catalogue.","tags":["items"],
 "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],
 "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`

func startCredUpstream(t *testing.T, bearer, key string) *credUpstream {
	t.Helper()
	u := &credUpstream{bearer: bearer, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, credUpstreamSpec)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		defer u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]bool{
			"bearer_ok": r.Header.Get("Authorization") == "Bearer "+u.bearer,
			"key_ok":    r.Header.Get("X-Key") == u.key,
		})
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"name":"item"}`, r.PathValue("id"))
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

func (u *credUpstream) expect(bearer string) {
	u.mu.Lock()
	u.bearer = bearer
	u.mu.Unlock()
}

// cliRun runs one portico command as a user would, against p (PORTICO_API_URL
// and PORTICO_API_KEY set), with env on top; every output is kept in seen
// for the canary scan.
type cliRunner struct {
	p    *portico
	env  map[string]string
	seen *bytes.Buffer
}

func (c cliRunner) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return c.runCtx(context.Background(), t, args...)
}

func (c cliRunner) runCtx(ctx context.Context, t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	env := map[string]string{"PORTICO_API_URL": c.p.url, "PORTICO_API_KEY": c.p.adminKey}
	for k, v := range c.env {
		env[k] = v
	}
	var out, errOut bytes.Buffer
	err := cli.Run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	if c.seen != nil {
		c.seen.WriteString(out.String() + errOut.String())
		if err != nil {
			c.seen.WriteString(err.Error())
		}
	}
	return out.String(), errOut.String(), err
}

func (c cliRunner) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.run(t, args...)
	if err != nil {
		t.Fatalf("portico %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func randomSecret(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// TestApplyRoundTrip is configuration as code end to end, against two real
// `portico serve` processes: apply a file to one, export it, apply the
// export to an empty one, and export that again: the same bytes. A second
// apply prints "no changes", --dry-run changes nothing, --prune deletes what
// the file no longer names, and the credential values (canaries) reach the
// upstream but never any output, export or log.
func TestApplyRoundTrip(t *testing.T) {
	bearerSecret, keySecret := randomSecret("canary-bearer-"), randomSecret("canary-key-")
	up := startCredUpstream(t, bearerSecret, keySecret)
	a := startPortico(t, pgtest.NewDB(t))
	b := startPortico(t, pgtest.NewDB(t))
	seen := &bytes.Buffer{}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "key.txt"), []byte(keySecret+"\n"), 0o600)
	src := filepath.Join(dir, "portico.yaml")
	os.WriteFile(src, []byte(`version: 1
tenants:
  - name: shop
    base_url: `+up.url+`
    active: true
    settings:
      names: {whoami: who_am_i}
      route_maps:
        - {pattern: "^/items", mcp_type: tool, mcp_tags: [catalogue]}
      upstream_timeout_ms: 5000
      rate_limit_per_second: 1000.5
    credentials:
      - {name: api, type: bearer, value_from: env:SHOP_TOKEN}
      - {name: key, type: header, header: X-Key, value_from: file:key.txt}
    toolsets:
      - {name: catalogue, description: Look items up, tools: [get_item], read_only: true}
    prompts:
      - name: find
        description: Find an item
        arguments: [{name: id, required: true}]
        messages: [{role: user, text: "Find item {{id}} in the catalogue."}]
        toolsets: [catalogue]
  - name: archive
    base_url: `+up.url+`/
    spec_url: `+up.url+`/openapi.json?copy=archive
    active: false
    credentials:
      - {name: idp, type: oauth2_client_credentials, token_url: `+up.url+`/oauth/token, client_id: portico, scopes: [reports, read], value_from: env:ARCHIVE_SECRET}
`), 0o644)

	ca := cliRunner{p: a, env: map[string]string{"SHOP_TOKEN": bearerSecret, "ARCHIVE_SECRET": bearerSecret}, seen: seen}
	plan := ca.must(t, "apply", "-f", src)
	for _, want := range []string{"+ tenant shop: create", `    + settings.names["whoami"]: (unset) → "who_am_i"`,
		"    + credential api: bearer, value from env:SHOP_TOKEN", "    + credential key: header X-Key, value from file:key.txt",
		"    + status: active (activate)", `    + toolset catalogue: create {"name":"catalogue","description":"Look items up","tools":["get_item"],"read_only":true}`,
		`    + prompt find: create {"name":"find","description":"Find an item"`,
		"+ tenant archive: create", "plan: 2 to create, 0 to change, 0 to delete", "applied"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if out := ca.must(t, "call", "shop", "who_am_i"); !strings.Contains(out, `"bearer_ok":true`) || !strings.Contains(out, `"key_ok":true`) {
		t.Fatalf("the upstream did not get the credentials apply set: %s", out)
	}

	exported := ca.must(t, "export")
	for _, want := range []string{"toolsets:", "- name: catalogue", "token_url: " + up.url + "/oauth/token", "client_id: portico", "prompts:", "text: Find item {{id}} in the catalogue.", "value_from: env:PORTICO_CREDENTIAL_SHOP_API", "value_from: env:PORTICO_CREDENTIAL_SHOP_KEY", "who_am_i", "spec_url: " + up.url + "/openapi.json?copy=archive"} {
		if !strings.Contains(exported, want) {
			t.Errorf("export lacks %q:\n%s", want, exported)
		}
	}
	if again := ca.must(t, "apply", "-f", src); again != "no changes\n" {
		t.Errorf("second apply of the source file printed:\n%s", again)
	}

	// The export, applied to an empty Portico, exports as the same file.
	exp := filepath.Join(dir, "exported.yaml")
	os.WriteFile(exp, []byte(exported), 0o644)
	cb := cliRunner{p: b, env: map[string]string{"PORTICO_CREDENTIAL_SHOP_API": bearerSecret, "PORTICO_CREDENTIAL_SHOP_KEY": keySecret, "PORTICO_CREDENTIAL_ARCHIVE_IDP": bearerSecret}, seen: seen}
	cb.must(t, "apply", "-f", exp)
	if got := cb.must(t, "export"); got != exported {
		t.Fatalf("export after apply to an empty Portico differs:\n%s\nfirst export:\n%s", got, exported)
	}
	if out := cb.must(t, "call", "shop", "who_am_i", "-o", "json"); !strings.Contains(out, `"bearer_ok": true`) || !strings.Contains(out, `"key_ok": true`) {
		t.Fatalf("credentials of the applied export: %s", out)
	}
	if out, errOut, err := cb.run(t, "apply", "-f", exp); err != nil || out != "no changes\n" {
		t.Fatalf("second apply: %v\n%s%s; want exactly \"no changes\" and exit 0", err, out, errOut)
	}

	// --dry-run prints the plan and changes nothing.
	edited := strings.Replace(exported, "who_am_i", "whoami_now", 1)
	edited = strings.Replace(edited, "description: Look items up", "description: Look items up by id", 1)
	edited = edited[:strings.Index(edited, "  - name: shop")] + edited[strings.Index(edited, "  - name: shop"):]
	archive := edited[strings.Index(edited, "  - name: archive"):strings.Index(edited, "  - name: shop")]
	edited = strings.Replace(edited, archive, "", 1)
	os.WriteFile(exp, []byte(edited), 0o644)
	dry := cb.must(t, "apply", "-f", exp, "--dry-run", "--prune")
	for _, want := range []string{`    ~ settings.names["whoami"]: "who_am_i" → "whoami_now"`, "- tenant archive (", "delete (not in the file; --prune)",
		`    ~ toolset catalogue: description: "Look items up" → "Look items up by id"`,
		"plan: 0 to create, 1 to change, 1 to delete", "dry run: nothing changed"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run lacks %q:\n%s", want, dry)
		}
	}
	if got := cb.must(t, "export"); got != exported {
		t.Fatalf("--dry-run changed something:\n%s", got)
	}
	// Without --prune the tenant the file no longer names stays.
	cb.must(t, "apply", "-f", exp)
	if got := cb.must(t, "export"); !strings.Contains(got, "name: archive") || !strings.Contains(got, "whoami_now") {
		t.Fatalf("apply without --prune:\n%s", got)
	}
	cb.must(t, "apply", "-f", exp, "--prune")
	if got := cb.must(t, "export"); strings.Contains(got, "name: archive") {
		t.Fatalf("--prune left the archive tenant:\n%s", got)
	}
	if out := cb.must(t, "apply", "-f", exp, "--prune"); out != "no changes\n" {
		t.Errorf("apply after prune printed:\n%s", out)
	}

	// Values are write-only: a rotated secret reaches Portico with
	// --put-credentials, and a missing one stops apply before any change.
	rotated := randomSecret("canary-rotated-")
	up.expect(rotated)
	cb.env["PORTICO_CREDENTIAL_SHOP_API"] = rotated
	if out := cb.must(t, "apply", "-f", exp); out != "no changes\n" {
		t.Errorf("apply with a changed value but no --put-credentials printed:\n%s", out)
	}
	delete(cb.env, "PORTICO_CREDENTIAL_SHOP_KEY")
	_, _, err := cb.run(t, "apply", "-f", exp, "--put-credentials")
	if err == nil || !strings.Contains(err.Error(), "PORTICO_CREDENTIAL_SHOP_KEY is not set") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("apply with a variable missing: %v", err)
	}
	if out := cb.must(t, "call", "shop", "whoami_now"); !strings.Contains(out, `"bearer_ok":false`) {
		t.Fatalf("a failed apply changed the credential: %s", out)
	}
	cb.env["PORTICO_CREDENTIAL_SHOP_KEY"] = keySecret
	put := cb.must(t, "apply", "-f", exp, "--put-credentials")
	if !strings.Contains(put, "    ~ credential api: set again, value from env:PORTICO_CREDENTIAL_SHOP_API (--put-credentials)") {
		t.Errorf("--put-credentials plan:\n%s", put)
	}
	if out := cb.must(t, "call", "shop", "whoami_now"); !strings.Contains(out, `"bearer_ok":true`) {
		t.Fatalf("the rotated secret did not reach the upstream: %s", out)
	}

	// --prune also deletes a credential the file no longer lists.
	i := strings.Index(edited, "      - name: key")
	noKey := edited[:i] + edited[i+strings.Index(edited[i:], "value_from: env:PORTICO_CREDENTIAL_SHOP_KEY\n")+len("value_from: env:PORTICO_CREDENTIAL_SHOP_KEY\n"):]
	os.WriteFile(exp, []byte(noKey), 0o644)
	if out := cb.must(t, "apply", "-f", exp); out != "no changes\n" {
		t.Errorf("without --prune a credential the file does not list is left alone; apply printed:\n%s", out)
	}
	if out := cb.must(t, "apply", "-f", exp, "--prune"); !strings.Contains(out, "    - credential key: delete (not in the file; --prune)") {
		t.Errorf("--prune of a credential:\n%s", out)
	}
	if out := cb.must(t, "call", "shop", "whoami_now"); !strings.Contains(out, `"key_ok":false`) || !strings.Contains(out, `"bearer_ok":true`) {
		t.Errorf("after the key credential was pruned: %s", out)
	}
	if got := cb.must(t, "export"); got != noKey {
		t.Errorf("export after pruning a credential:\n%s\nwant:\n%s", got, noKey)
	}

	// The schema is public and accepts the export; an editor can use it.
	resp, err := http.Get(b.url + "/api/v1/schemas/portico.yaml.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(exported), &doc); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(doc)
	var inst any
	json.Unmarshal(j, &inst)
	if err := rs.Validate(inst); err != nil {
		t.Errorf("the published schema refuses an export: %v", err)
	}
	if st, _ := getStatus(t, b.url+"/api/v1/schemas/nope.json"); st != 404 {
		t.Errorf("unknown schema: %d, want 404", st)
	}

	all := seen.String() + exported + edited + a.logs.String() + b.logs.String()
	for _, secret := range []string{bearerSecret, keySecret, rotated} {
		if strings.Contains(all, secret) {
			t.Errorf("a credential value appears in the output, an export or a log")
		}
	}
}

// TestApplyRefusesBadFiles: a bad file changes nothing and the error names
// the field; a secret in the file is refused.
func TestApplyRefusesBadFiles(t *testing.T) {
	p := startPortico(t, pgtest.NewDB(t))
	c := cliRunner{p: p}
	dir := t.TempDir()
	for _, tc := range []struct{ name, doc, want string }{
		{"secret in the file", "version: 1\ntenants:\n  - name: s\n    base_url: http://127.0.0.1:9\n    credentials: [{name: api, type: bearer, value: hunter2}]\n", "the file holds no secrets"},
		{"typo", "version: 1\ntenants:\n  - name: s\n    base_url: http://127.0.0.1:9\n    setings: {}\n", `unknown field "setings"`},
		{"bad url", "version: 1\ntenants:\n  - name: s\n    base_url: nope\n", "tenants[0].base_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, tc.name+".yaml")
			os.WriteFile(f, []byte(tc.doc), 0o644)
			_, _, err := c.run(t, "apply", "-f", f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("apply: %v; want an error containing %q", err, tc.want)
			}
		})
	}
	// The API's own refusal (an upstream on a refused address) is shown as
	// the API words it.
	f := filepath.Join(dir, "refused.yaml")
	os.WriteFile(f, []byte("version: 1\ntenants:\n  - name: s\n    base_url: http://10.1.2.3\n"), 0o644)
	_, _, err := c.run(t, "apply", "-f", f)
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "base_url") {
		t.Errorf("apply of a refused base_url: %v", err)
	}
	if out := c.must(t, "export"); strings.Contains(out, "name: s\n") {
		t.Errorf("a refused file left a tenant:\n%s", out)
	}
}
