package server

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var updateDocs = flag.Bool("update", false, "rewrite the configuration table of docs/operations.md from settings")

const operationsDoc = "../docs/operations.md"

// TestOperationsDocsMatchSettings keeps the configuration table of
// docs/operations.md the rendering of settings; -update rewrites it.
func TestOperationsDocsMatchSettings(t *testing.T) {
	raw, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	const heading = "## Configuration (environment)\n"
	start := strings.Index(doc, heading)
	if start < 0 {
		t.Fatalf("%s has no %q section", operationsDoc, strings.TrimSpace(heading))
	}
	start += len(heading)
	end := strings.Index(doc[start:], "\n\n")
	if end < 0 {
		t.Fatalf("%s: the configuration table does not end with a blank line", operationsDoc)
	}
	end += start + 1
	want := SettingsTable()
	if *updateDocs {
		if err := os.WriteFile(operationsDoc, []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(want, doc[start:end]); diff != "" {
		t.Errorf("docs/operations.md's configuration table differs from settings (-settings +docs); run go test ./server -run TestOperationsDocsMatchSettings -update:\n%s", diff)
	}
}

func TestSettingsDeclaredOnce(t *testing.T) {
	seen := map[string]bool{}
	help := SettingsHelp()
	for _, st := range settings {
		if seen[st.env] {
			t.Errorf("%s is declared twice", st.env)
		}
		seen[st.env] = true
		if st.help == "" {
			t.Errorf("%s has no help", st.env)
		}
		if !strings.Contains(help, st.env) {
			t.Errorf("portico help does not name %s", st.env)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, ":8080"},
		{"DrainTimeout", c.DrainTimeout, 30 * time.Second},
		{"LogJSON", c.LogJSON, true},
		{"MaxSpecBytes", c.MaxSpecBytes, int64(32 << 20)},
		{"BodyLimit", c.BodyLimit, int64(1 << 20)},
		{"MaxHeaderBytes", c.MaxHeaderBytes, 64 << 10},
		{"MaxResponseBytes", c.MaxResponseBytes, int64(10 << 20)},
		{"ConvertMemory", c.ConvertMemory, int64(512 << 20)},
		{"RESTCallerRate", c.RESTCallerRate, rateLimit{PerSecond: 20, Burst: 40}},
		{"LoginRate", c.LoginRate, rateLimit{PerSecond: 0.2, Burst: 10}},
		{"BreakerFailures", c.BreakerFailures, 5},
		{"BreakerOff", c.BreakerOff, false},
		{"TokenCacheStale", c.TokenCacheStale, time.Hour},
		{"ResyncInterval", c.ResyncInterval, time.Minute},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadConfigValues(t *testing.T) {
	env := map[string]string{
		"PORTICO_DATABASE_URL":         "postgres://u:p@h/db",
		"PORTICO_PUBLIC_URL":           "https://p.example/",
		"PORTICO_BODY_LIMIT":           "2048",
		"PORTICO_SPEC_MAX_BYTES":       "4 MiB",
		"PORTICO_RATE_LIMIT_LOGIN":     "0",
		"PORTICO_BREAKER_FAILURES":     "off",
		"PORTICO_CONVERT_MEMORY_MB":    "64",
		"PORTICO_LOG_FORMAT":           "text",
		"PORTICO_LOG_LEVEL":            "debug",
		"PORTICO_ALLOW_UPSTREAM_CIDRS": "10.0.0.0/8, 192.168.1.7",
	}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://u:p@h/db" || c.PublicURL != "https://p.example" || c.BodyLimit != 2048 ||
		c.MaxSpecBytes != 4<<20 || c.LoginRate != (rateLimit{}) || !c.BreakerOff || c.ConvertMemory != 64<<20 ||
		c.LogJSON || c.LogLevel.String() != "DEBUG" || len(c.AllowCIDRs) != 2 || c.AllowCIDRs[1].String() != "192.168.1.7/32" {
		t.Errorf("config = %+v", c)
	}
}

// TestLoadConfigReportsEveryProblem: each malformed variable is named with
// what is wrong, all at once.
func TestLoadConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"PORTICO_RATE_LIMIT_CALLER":   "fast",
		"PORTICO_UPSTREAM_TIMEOUT":    "0s",
		"PORTICO_MAX_CONCURRENCY":     "-1",
		"PORTICO_BODY_LIMIT":          "1 TB",
		"PORTICO_CONVERT_MEMORY_MB":   "8",
		"PORTICO_BOOTSTRAP_ADMIN_KEY": "secret",
		"PORTICO_LOG_LEVEL":           "loud",
		"PORTICO_OAUTH_ISSUER":        "https://issuer.example",
	}
	_, err := LoadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for k := range env {
		if k == "PORTICO_OAUTH_ISSUER" {
			k = "PORTICO_OAUTH_ISSUER and PORTICO_OAUTH_JWKS_URL must be set together"
		}
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error repeats the bootstrap key: %v", err)
	}
}
