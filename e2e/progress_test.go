package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/cmd/portico/cli"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestActivationProgress: `portico tenant register --activate` prints each
// phase of the activation (download, parse, convert, store, serve) and its
// end, never the spec URL's query, and a second replica on the same database reports the same phases
// at GET /progress, learnt through Postgres.
func TestActivationProgress(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "glance_openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	defer up.Close()
	dbURL := pgtest.NewDB(t)
	a := startPortico(t, dbURL, "PORTICO_LOG_LEVEL=warn")
	b := startPortico(t, dbURL, "PORTICO_LOG_LEVEL=warn")
	// Progress is heard, not read back: b must be listening before the work starts.
	waitFor(t, 20*time.Second, "the second replica to be ready", func() bool {
		code, _ := getStatus(t, b.url+"/readyz")
		return code == 200
	})

	var stdout, stderr bytes.Buffer
	env := map[string]string{"PORTICO_API_KEY": a.adminKey}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cli.Run(ctx, []string{"tenant", "register", "--name", "notes", "--base-url", up.URL, "--spec-url", up.URL + "/openapi.json?key=s3cret", "--activate", "--api", a.url},
		func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("tenant register: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "TENANT_STATUS=active") {
		t.Fatalf("stdout = %q, want an active tenant", stdout.String())
	}
	// Each phase once, in order, then the end.
	var phases []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if m := regexp.MustCompile(`^activate: (\w+)`).FindStringSubmatch(line); m != nil {
			phases = append(phases, m[1])
		}
	}
	want := append(append([]string{}, tenant.Phases...), "done")
	if strings.Join(phases, " ") != strings.Join(want, " ") {
		t.Errorf("printed phases %v, want %v; stderr:\n%s", phases, want, stderr.String())
	}
	for _, s := range []string{"activate: parse    1.5 KB, 3 operations", "activate: store    1.5 KB as a new spec version", "activate: done in"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
		}
	}

	// The other replica heard every phase.
	id := regexp.MustCompile(`TENANT_ID=(\S+)`).FindStringSubmatch(stdout.String())[1]
	var got struct {
		Progress *tenant.Progress `json:"progress"`
	}
	waitFor(t, 10*time.Second, "the second replica to report the finished activation", func() bool {
		b.do(t, "GET", "/api/v1/tenants/"+id+"/progress", nil, 200, &got)
		return got.Progress != nil && got.Progress.Done
	})
	var steps []string
	for _, s := range got.Progress.Steps {
		steps = append(steps, s.Phase)
	}
	if got.Progress.Op != "activate" || got.Progress.Error != "" || strings.Join(steps, " ") != strings.Join(tenant.Phases, " ") {
		b, _ := json.Marshal(got.Progress)
		t.Errorf("second replica's progress = %s, want a finished activation with every phase", b)
	}
	// Activating again converts the stored version: nothing to download
	// or store, and every phase still reported, in order.
	a.do(t, "POST", "/api/v1/tenants/"+id+"/deactivate", nil, 200, nil)
	a.do(t, "POST", "/api/v1/tenants/"+id+"/activate", nil, 200, nil)
	a.do(t, "GET", "/api/v1/tenants/"+id+"/progress", nil, 200, &got)
	var again []string
	for _, s := range got.Progress.Steps {
		again = append(again, s.Phase+": "+s.Detail)
	}
	wantAgain := []string{"download: nothing to download: version 1 is in the spec cache", "parse: 1.5 KB, 3 operations",
		"convert: operations to tools", "store: nothing to store: serving stored version 1", "serve: 3 tools, resources and templates"}
	if !got.Progress.Done || strings.Join(again, "\n") != strings.Join(wantAgain, "\n") {
		t.Errorf("second activation's steps:\n%s\nwant:\n%s", strings.Join(again, "\n"), strings.Join(wantAgain, "\n"))
	}
	// A key in the spec URL's query is never shown.
	if pj, _ := json.Marshal(got.Progress); strings.Contains(string(pj), "s3cret") || strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("progress shows the spec URL's query: %s\n%s", pj, stderr.String())
	}
}
