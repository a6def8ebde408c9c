package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// config is every setting Portico reads, parsed once from the environment
// (flags override some per command). Secrets are kept out of String.
type config struct {
	Addr          string // PORTICO_ADDR, default :8080
	PublicURL     string // PORTICO_PUBLIC_URL: how clients reach us, for mcp_url; default from Addr
	DatabaseURL   string // DATABASE_URL (or PORTICO_DATABASE_URL)
	MasterKeys    []tenant.MasterKey
	AllowCIDRs    []netip.Prefix // PORTICO_ALLOW_UPSTREAM_CIDRS
	DrainTimeout  time.Duration  // PORTICO_DRAIN_TIMEOUT, default 30s
	LogLevel      slog.Level     // PORTICO_LOG_LEVEL: debug|info|warn|error
	LogJSON       bool           // PORTICO_LOG_FORMAT=json (default) or text
	masterKeysSet bool

	// Spec cache: PORTICO_SPEC_REFRESH_INTERVAL (default 5m, per-tenant
	// setting wins), PORTICO_SPEC_FETCH_TIMEOUT (30s), PORTICO_SPEC_MAX_BYTES
	// (32 MiB), PORTICO_RESYNC_INTERVAL (60s: the cross-replica safety resync).
	RefreshInterval  time.Duration
	SpecFetchTimeout time.Duration
	MaxSpecBytes     int64
	MaxOperations    int   // PORTICO_MAX_OPERATIONS per document, default 5000
	ConvertMemory    int64 // PORTICO_CONVERT_MEMORY_MB: estimated heap of conversions at once, default 512
	ResyncInterval   time.Duration
	MCPSessionTTL    time.Duration // PORTICO_MCP_SESSION_TTL: lifetime of a 2025-xx MCP session, default 24h

	// Limits (operator defaults; tenants override the MCP ones in settings).
	BodyLimit        int64         // PORTICO_BODY_LIMIT bytes for /api/v1 bodies, default 1 MiB
	MaxHeaderBytes   int           // PORTICO_MAX_HEADER_BYTES, default 64 KiB (431 beyond)
	UpstreamTimeout  time.Duration // PORTICO_UPSTREAM_TIMEOUT, default 30s
	MaxConcurrency   int           // PORTICO_MAX_CONCURRENCY per tenant, default 64
	MaxResponseBytes int64         // PORTICO_MAX_RESPONSE_BYTES per upstream response, default 10 MiB
	RESTCallerRate   rateLimit     // PORTICO_RATE_LIMIT_CALLER per API key / session, default 20:40
	RESTTenantRate   rateLimit     // PORTICO_RATE_LIMIT_TENANT per tenant's REST routes, default 50:100; settings.rest_rate_limit_* override
	LoginRate        rateLimit     // PORTICO_RATE_LIMIT_LOGIN failed sign-ins per client address and per (email, address), default 0.2:10
	AuthFailureRate  rateLimit     // PORTICO_RATE_LIMIT_AUTH_FAILURES failed API keys, MCP tokens, OAuth codes per client address and per secret prefix, default 0.5:30
	MCPTenantRate    rateLimit     // PORTICO_MCP_RATE_LIMIT_TENANT tool calls per tenant, default 100:200
	MCPTokenRate     rateLimit     // PORTICO_MCP_RATE_LIMIT_TOKEN tool calls per MCP token, default 20:40
	SessionTTL       time.Duration // PORTICO_SESSION_TTL, default 12h
	TrustProxy       bool          // PORTICO_TRUST_PROXY=true: client address from X-Forwarded-For

	// Call history (docs/operations.md, "Call history"): every replica
	// buffers its calls and writes them to Postgres in batches.
	CallBuffer          int           // PORTICO_CALL_BUFFER: records buffered at most, riding out a database outage (100000)
	CallFlushInterval   time.Duration // PORTICO_CALL_FLUSH_INTERVAL: longest wait before a batch is written (1s)
	CallRetentionDays   int           // PORTICO_CALL_RETENTION_DAYS: raw calls kept (7)
	RollupRetentionDays int           // PORTICO_CALL_ROLLUP_RETENTION_DAYS: per-minute and per-hour totals kept (90)

	// Operations (docs/operations.md has the reference).
	ShutdownDelay     time.Duration // PORTICO_SHUTDOWN_DELAY: unready but still serving before the drain (default 0; Helm sets 5s)
	TokenCacheTTL     time.Duration // PORTICO_TOKEN_CACHE_TTL (10s)
	TokenCacheStale   time.Duration // PORTICO_TOKEN_CACHE_MAX_STALE (1h)
	BreakerFailures   int           // PORTICO_BREAKER_FAILURES (5; 0 or "off" disables)
	BreakerCoolDown   time.Duration // PORTICO_BREAKER_COOLDOWN (10s)
	BreakerOff        bool
	BootstrapAdminKey string // PORTICO_BOOTSTRAP_ADMIN_KEY: an admin API key serve makes sure exists (hashed)
	Tracing           bool   // from the standard OTEL_* variables

	// MetricsAddr is a separate listener for /metrics (PORTICO_METRICS_ADDR,
	// e.g. :9090), meant for an internal network; MetricsToken
	// (PORTICO_METRICS_TOKEN) lets a scraper read /metrics on the public
	// port with Authorization: Bearer <token>. With neither, /metrics is
	// not served: it names every tenant and tool.
	MetricsAddr  string
	MetricsToken string

	// OAuthIssuer and OAuthJWKSURL name an external authorization server
	// whose JWT access tokens (audience = the tenant's MCP URL) tenant
	// endpoints accept beside MCP tokens: PORTICO_OAUTH_ISSUER,
	// PORTICO_OAUTH_JWKS_URL (both or neither).
	OAuthIssuer  string
	OAuthJWKSURL string

	adminPassword string // PORTICO_ADMIN_PASSWORD, for `admin user create`; never printed
}

// rateLimit is "PER_SECOND[:BURST]" in the environment; 0 turns a limit off.
type rateLimit = tenant.RateLimit

func parseRate(s string) (rateLimit, error) {
	r, b, hasBurst := strings.Cut(strings.TrimSpace(s), ":")
	var rl rateLimit
	if _, err := fmt.Sscanf(r, "%g", &rl.PerSecond); err != nil || rl.PerSecond < 0 {
		return rl, fmt.Errorf("%q is not PER_SECOND[:BURST], e.g. 20:40 or 0 for no limit", s)
	}
	rl.Burst = int(math.Ceil(rl.PerSecond))
	if hasBurst {
		n, err := strconv.Atoi(b)
		if err != nil || n < 1 {
			return rl, fmt.Errorf("%q: the burst after ':' must be a positive integer", s)
		}
		rl.Burst = n
	}
	return rl, nil
}

func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{
		Addr:         or(getenv("PORTICO_ADDR"), ":8080"),
		PublicURL:    strings.TrimRight(getenv("PORTICO_PUBLIC_URL"), "/"),
		DatabaseURL:  or(getenv("DATABASE_URL"), getenv("PORTICO_DATABASE_URL")),
		DrainTimeout: 30 * time.Second,
		LogJSON:      getenv("PORTICO_LOG_FORMAT") != "text",

		BodyLimit:           1 << 20,
		MaxHeaderBytes:      64 << 10,
		UpstreamTimeout:     30 * time.Second,
		MaxConcurrency:      64,
		MaxResponseBytes:    10 << 20,
		RESTCallerRate:      rateLimit{PerSecond: 20, Burst: 40},
		RESTTenantRate:      rateLimit{PerSecond: 50, Burst: 100},
		LoginRate:           rateLimit{PerSecond: 0.2, Burst: 10},
		AuthFailureRate:     rateLimit{PerSecond: 0.5, Burst: 30},
		MCPTenantRate:       rateLimit{PerSecond: 100, Burst: 200},
		MCPTokenRate:        rateLimit{PerSecond: 20, Burst: 40},
		SessionTTL:          12 * time.Hour,
		CallBuffer:          100_000,
		CallFlushInterval:   time.Second,
		CallRetentionDays:   7,
		RollupRetentionDays: 90,
		TrustProxy:          getenv("PORTICO_TRUST_PROXY") == "true",
		MetricsAddr:         getenv("PORTICO_METRICS_ADDR"),
		MetricsToken:        getenv("PORTICO_METRICS_TOKEN"),
		adminPassword:       getenv("PORTICO_ADMIN_PASSWORD"),
	}
	var problems []string
	c.OAuthIssuer, c.OAuthJWKSURL = getenv("PORTICO_OAUTH_ISSUER"), getenv("PORTICO_OAUTH_JWKS_URL")
	if (c.OAuthIssuer == "") != (c.OAuthJWKSURL == "") {
		problems = append(problems, "PORTICO_OAUTH_ISSUER and PORTICO_OAUTH_JWKS_URL must be set together")
	}
	for name, dst := range map[string]*rateLimit{
		"PORTICO_RATE_LIMIT_CALLER": &c.RESTCallerRate, "PORTICO_RATE_LIMIT_TENANT": &c.RESTTenantRate,
		"PORTICO_RATE_LIMIT_LOGIN": &c.LoginRate, "PORTICO_MCP_RATE_LIMIT_TENANT": &c.MCPTenantRate,
		"PORTICO_MCP_RATE_LIMIT_TOKEN": &c.MCPTokenRate, "PORTICO_RATE_LIMIT_AUTH_FAILURES": &c.AuthFailureRate,
	} {
		if s := getenv(name); s != "" {
			rl, err := parseRate(s)
			if err != nil {
				problems = append(problems, name+": "+err.Error())
			}
			*dst = rl
		}
	}
	for name, dst := range map[string]*time.Duration{
		"PORTICO_UPSTREAM_TIMEOUT": &c.UpstreamTimeout, "PORTICO_SESSION_TTL": &c.SessionTTL,
	} {
		if s := getenv(name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a positive duration like 30s", name, s))
			}
			*dst = d
		}
	}
	for name, dst := range map[string]*int64{
		"PORTICO_BODY_LIMIT": &c.BodyLimit, "PORTICO_MAX_RESPONSE_BYTES": &c.MaxResponseBytes,
	} {
		if s := getenv(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a positive number of bytes", name, s))
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*int{
		"PORTICO_MAX_HEADER_BYTES": &c.MaxHeaderBytes, "PORTICO_MAX_CONCURRENCY": &c.MaxConcurrency,
		"PORTICO_CALL_BUFFER": &c.CallBuffer, "PORTICO_CALL_RETENTION_DAYS": &c.CallRetentionDays,
		"PORTICO_CALL_ROLLUP_RETENTION_DAYS": &c.RollupRetentionDays,
	} {
		if s := getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a positive integer", name, s))
			}
			*dst = n
		}
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
		{"PORTICO_MCP_SESSION_TTL", &c.MCPSessionTTL},
		{"PORTICO_CALL_FLUSH_INTERVAL", &c.CallFlushInterval},
	} {
		if s := getenv(d.env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v <= 0 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a positive duration like 5m", d.env, s))
			}
			*d.dst = v
		}
	}
	durations := []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{
		{"PORTICO_SHUTDOWN_DELAY", &c.ShutdownDelay, 0},
		{"PORTICO_TOKEN_CACHE_TTL", &c.TokenCacheTTL, 10 * time.Second},
		{"PORTICO_TOKEN_CACHE_MAX_STALE", &c.TokenCacheStale, time.Hour},
		{"PORTICO_BREAKER_COOLDOWN", &c.BreakerCoolDown, 10 * time.Second},
	}
	for _, d := range durations {
		*d.dst = d.def
		if s := getenv(d.env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < 0 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a duration like 10s", d.env, s))
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
	if s := getenv("PORTICO_MAX_OPERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("PORTICO_MAX_OPERATIONS: %q is not a positive number of operations", s))
		}
		c.MaxOperations = n
	}
	if s := getenv("PORTICO_CONVERT_MEMORY_MB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 16 {
			problems = append(problems, fmt.Sprintf("PORTICO_CONVERT_MEMORY_MB: %q is not a number of megabytes of at least 16", s))
		}
		c.ConvertMemory = n << 20
	}
	c.BreakerFailures = 5
	switch s := strings.TrimSpace(getenv("PORTICO_BREAKER_FAILURES")); s {
	case "":
	case "off", "0":
		c.BreakerOff = true
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("PORTICO_BREAKER_FAILURES: %q is not a number of failures (or off)", s))
		}
		c.BreakerFailures = n
	}
	c.BootstrapAdminKey = strings.TrimSpace(getenv("PORTICO_BOOTSTRAP_ADMIN_KEY"))
	if k := c.BootstrapAdminKey; k != "" && (!strings.HasPrefix(k, tenant.APIKeyPrefix) || len(k) < 24) {
		problems = append(problems, "PORTICO_BOOTSTRAP_ADMIN_KEY: must start with pk_ and hold at least 20 random characters after it (make one with `portico admin key generate`)")
	}
	c.Tracing = tracingEnabled(getenv)
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
	return fmt.Sprintf("addr=%s public_url=%s database=%s master_keys=[%s] allow_upstream=%v drain=%s shutdown_delay=%s bootstrap_admin_key=%t tracing=%t",
		c.Addr, c.PublicURL, redactURL(c.DatabaseURL), strings.Join(kids, ","), c.AllowCIDRs, c.DrainTimeout, c.ShutdownDelay, c.BootstrapAdminKey != "", c.Tracing)
}

func (c *config) logger(w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(contextHandler{slog.NewJSONHandler(w, o)})
	}
	return slog.New(contextHandler{slog.NewTextHandler(w, o)})
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
