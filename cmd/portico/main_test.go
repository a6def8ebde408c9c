package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinary builds the binary as deploy/Dockerfile does, version ldflag
// included, and runs the commands that need no database: the process
// around cli.Run (arguments, output, exit status) works. The commands
// themselves are tested in package cli, Portico end to end in e2e.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "portico")
	const ldflags = "-X github.com/portico-mcp/portico/cmd/portico/cli.version=v0.0.0-smoke"
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	portico := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}

	if out, err := portico("version"); err != nil || out != "portico v0.0.0-smoke\n" {
		t.Errorf("portico version = %q, %v; want the version the ldflag set", out, err)
	}
	if out, err := portico("help"); err != nil || !strings.Contains(out, "portico serve") || !strings.Contains(out, "PORTICO_MASTER_KEYS") {
		t.Errorf("portico help = %v, want the commands and the settings:\n%s", err, out)
	}
	out, err := portico("convert", filepath.Join("testdata", "openapi.json"), "--json")
	var listing struct {
		Tools []struct{ Name string }
	}
	if err != nil || json.Unmarshal([]byte(out), &listing) != nil || len(listing.Tools) != 2 || listing.Tools[0].Name != "list_notes_notes_get" {
		t.Errorf("portico convert testdata/openapi.json --json = %v, %+v:\n%s", err, listing, out)
	}
	out, err = portico("no-such-command")
	if code := exitCode(err); code != 1 || !strings.Contains(out, `portico: unknown command "no-such-command"`) {
		t.Errorf("an unknown command: exit %d, output:\n%s\nwant exit 1 and the error on stderr", code, out)
	}
}

func exitCode(err error) int {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
