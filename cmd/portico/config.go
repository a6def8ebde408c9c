package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// config is every setting Portico reads, parsed once from the environment
// (flags override some per command). Secrets are kept out of String.
type config struct {
	Addr         string // PORTICO_ADDR, default :8080
	PublicURL    string // PORTICO_PUBLIC_URL: how clients reach us, for mcp_url; default from Addr
	DatabaseURL  string // DATABASE_URL (or PORTICO_DATABASE_URL)
	MasterKeys   []tenant.MasterKey
	AllowCIDRs   []netip.Prefix // PORTICO_ALLOW_UPSTREAM_CIDRS
	DrainTimeout time.Duration  // PORTICO_DRAIN_TIMEOUT, default 30s
	// Spec cache: PORTICO_SPEC_REFRESH_INTERVAL (default 5m, per-tenant
	// setting wins), PORTICO_SPEC_FETCH_TIMEOUT (30s), PORTICO_SPEC_MAX_BYTES
	// (32 MiB), PORTICO_RESYNC_INTERVAL (60s: the cross-replica safety resync).
	RefreshInterval  time.Duration
	SpecFetchTimeout time.Duration
	MaxSpecBytes     int64
	ResyncInterval   time.Duration
	// OAuthIssuer and OAuthJWKSURL name an external authorization server
	// whose JWT access tokens (audience = the tenant's MCP URL) tenant
	// endpoints accept beside MCP tokens: PORTICO_OAUTH_ISSUER,
	// PORTICO_OAUTH_JWKS_URL (both or neither).
	OAuthIssuer   string
	OAuthJWKSURL  string
	LogLevel      slog.Level // PORTICO_LOG_LEVEL: debug|info|warn|error
	LogJSON       bool       // PORTICO_LOG_FORMAT=json (default) or text
	masterKeysSet bool
}

func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{
		Addr:         or(getenv("PORTICO_ADDR"), ":8080"),
		PublicURL:    strings.TrimRight(getenv("PORTICO_PUBLIC_URL"), "/"),
		DatabaseURL:  or(getenv("DATABASE_URL"), getenv("PORTICO_DATABASE_URL")),
		DrainTimeout: 30 * time.Second,
		LogJSON:      getenv("PORTICO_LOG_FORMAT") != "text",
	}
	var problems []string
	c.OAuthIssuer, c.OAuthJWKSURL = getenv("PORTICO_OAUTH_ISSUER"), getenv("PORTICO_OAUTH_JWKS_URL")
	if (c.OAuthIssuer == "") != (c.OAuthJWKSURL == "") {
		problems = append(problems, "PORTICO_OAUTH_ISSUER and PORTICO_OAUTH_JWKS_URL must be set together")
	}
	if s := getenv("PORTICO_MASTER_KEYS"); s != "" {
		keys, err := tenant.ParseMasterKeys(s)
		if err != nil {
			problems = append(problems, "PORTICO_MASTER_KEYS: "+err.Error())
		}
		c.MasterKeys, c.masterKeysSet = keys, err == nil
	}
	if s := getenv("PORTICO_ALLOW_UPSTREAM_CIDRS"); s != "" {
		cidrs, err := parseCIDRs(s)
		if err != nil {
			problems = append(problems, "PORTICO_ALLOW_UPSTREAM_CIDRS: "+err.Error())
		}
		c.AllowCIDRs = cidrs
	}
	if s := getenv("PORTICO_DRAIN_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			problems = append(problems, fmt.Sprintf("PORTICO_DRAIN_TIMEOUT: %q is not a duration like 30s", s))
		}
		c.DrainTimeout = d
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{
		{"PORTICO_SPEC_REFRESH_INTERVAL", &c.RefreshInterval},
		{"PORTICO_SPEC_FETCH_TIMEOUT", &c.SpecFetchTimeout},
		{"PORTICO_RESYNC_INTERVAL", &c.ResyncInterval},
	} {
		if s := getenv(d.env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v <= 0 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a positive duration like 5m", d.env, s))
			}
			*d.dst = v
		}
	}
	if s := getenv("PORTICO_SPEC_MAX_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("PORTICO_SPEC_MAX_BYTES: %q is not a positive number of bytes", s))
		}
		c.MaxSpecBytes = n
	}
	if s := getenv("PORTICO_LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			problems = append(problems, fmt.Sprintf("PORTICO_LOG_LEVEL: %q is not one of debug, info, warn, error", s))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("bad configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// String describes the configuration without its secrets.
func (c *config) String() string {
	kids := make([]string, len(c.MasterKeys))
	for i, k := range c.MasterKeys {
		kids[i] = k.ID
	}
	return fmt.Sprintf("addr=%s public_url=%s database=%s master_keys=[%s] allow_upstream=%v drain=%s",
		c.Addr, c.PublicURL, redactURL(c.DatabaseURL), strings.Join(kids, ","), c.AllowCIDRs, c.DrainTimeout)
}

func (c *config) logger(w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

func parseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8 or an IP address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			if colon := strings.Index(s[i+3:at], ":"); colon >= 0 {
				return s[:i+3+colon] + ":***" + s[at:]
			}
		}
	}
	return s
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
