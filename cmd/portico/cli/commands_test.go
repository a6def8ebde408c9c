package cli

import (
	"strings"
	"testing"
)

// TestCommandsWithoutConfig: a malformed variable breaks only the commands
// that read the configuration.
func TestCommandsWithoutConfig(t *testing.T) {
	getenv := func(k string) string {
		if k == "PORTICO_RATE_LIMIT_TENANT" {
			return "lots"
		}
		return ""
	}
	var out, errOut strings.Builder
	if err := Run(t.Context(), []string{"version"}, getenv, &out, &errOut); err != nil {
		t.Errorf("version: %v", err)
	}
	if err := Run(t.Context(), []string{"convert", "testdata/does-not-exist.json"}, getenv, &out, &errOut); err == nil || strings.Contains(err.Error(), "PORTICO_RATE_LIMIT_TENANT") {
		t.Errorf("convert: %v, want an error about the missing file only", err)
	}
	if err := Run(t.Context(), []string{"help"}, getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), "PORTICO_RATE_LIMIT_TENANT") {
		t.Errorf("help: %v", err)
	}
	if err := Run(t.Context(), []string{"migrate", "version"}, getenv, &out, &errOut); err == nil || !strings.Contains(err.Error(), "PORTICO_RATE_LIMIT_TENANT") {
		t.Errorf("migrate: %v, want the configuration error", err)
	}
}
