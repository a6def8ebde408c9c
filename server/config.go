package server

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/tenant"
)

// identityKeyPolicy is the default rotation of identity-assertion keys
// with PORTICO_IDENTITY_KEY_ROTATION as its period; a key is published
// before it signs and after it stops for at most a tenth of the period
// (default: 10 minutes before, an hour after).
func (c *Config) identityKeyPolicy() tenant.IdentityKeyPolicy {
	p := bridge.DefaultIdentityKeyPolicy
	if c.IdentityRotation > 0 && c.IdentityRotation != p.Rotate {
		p.Rotate = c.IdentityRotation
		p.Publish = min(p.Publish, c.IdentityRotation/10)
		p.Overlap = min(p.Overlap, c.IdentityRotation/10)
	}
	return p
}

// Config is every setting Portico reads, parsed from the environment by the
// commands that need it (flags override some per command). The variables,
// their defaults and their help are declared once, in settings. Secrets are
// kept out of String.
type Config struct {
	Addr         string
	PublicURL    string
	DatabaseURL  string
	MasterKeys   []tenant.MasterKey
	AllowCIDRs   []netip.Prefix
	DrainTimeout time.Duration
	LogLevel     slog.Level
	LogJSON      bool

	RefreshInterval  time.Duration
	SpecFetchTimeout time.Duration
	MaxSpecBytes     int64
	MaxOperations    int
	ConvertMemory    int64
	ResyncInterval   time.Duration
	MCPSessionTTL    time.Duration

	BodyLimit        int64
	MaxHeaderBytes   int
	UpstreamTimeout  time.Duration
	MaxConcurrency   int
	MaxResponseBytes int64
	RESTCallerRate   rateLimit
	RESTTenantRate   rateLimit
	LoginRate        rateLimit
	AuthFailureRate  rateLimit
	MCPTenantRate    rateLimit
	MCPTokenRate     rateLimit

	CallBuffer          int
	CallFlushInterval   time.Duration
	CallRetentionDays   int
	RollupRetentionDays int
	SessionTTL          time.Duration
	TrustProxy          bool

	ShutdownDelay     time.Duration
	TokenCacheTTL     time.Duration
	IdentityRotation  time.Duration
	TokenCacheStale   time.Duration
	BreakerFailures   int
	BreakerCoolDown   time.Duration
	BreakerOff        bool
	BootstrapAdminKey string
	Tracing           bool // from the standard OTEL_* variables

	MetricsAddr  string
	MetricsToken string

	OAuthIssuer  string
	OAuthJWKSURL string

	AdminPassword string // never printed

	// Version is the build's version, which the command sets (it is no
	// environment variable).
	Version string
}

// setting declares one environment variable: its name, default (in the
// variable's own syntax, parsed like a value the operator sets), help and
// how it is parsed into Config. settings is the only list of variables:
// LoadConfig, `portico help` and the table in docs/operations.md
// (TestOperationsDocsMatchSettings) all come from it.
type setting struct {
	env   string
	def   string // "" when unset means unset
	shown string // the default as the help shows it, when def does not say it (e.g. "from the listener")
	help  string // one line for `portico help`
	doc   string // the meaning column of docs/operations.md; help when empty
	set   func(c *Config, s string) error
}

// settings lists every variable in the order `portico help` and the docs
// show them. To add one: add a field to Config and an entry here, then run
// `go test ./server -run TestOperationsDocsMatchSettings -update`.
var settings = []setting{
	{env: "DATABASE_URL", help: "PostgreSQL URL (PORTICO_DATABASE_URL is read when it is unset)",
		doc: "PostgreSQL URL; pgxpool parameters (`pool_max_conns`, …) go in the URL. `PORTICO_DATABASE_URL` is read when it is unset",
		set: str(func(c *Config) *string { return &c.DatabaseURL })},
	{env: "PORTICO_MASTER_KEYS", help: "kid:base64(32 bytes), comma list, newest first",
		set: func(c *Config, s string) (err error) { c.MasterKeys, err = tenant.ParseMasterKeys(s); return err }},
	{env: "PORTICO_ADDR", def: ":8080", help: "listen address",
		set: str(func(c *Config) *string { return &c.Addr })},
	{env: "PORTICO_PUBLIC_URL", shown: "from the listener", help: "how clients reach Portico (tenant mcp_url, OAuth issuer)",
		doc: "how clients reach Portico (tenant `mcp_url`, OAuth issuer); also the one origin browser pages may call `/mcp` and the tenant endpoints from without being listed in `cors_origins`: behind a proxy, set it to the proxy's URL",
		set: func(c *Config, s string) error { c.PublicURL = strings.TrimRight(s, "/"); return nil }},
	{env: "PORTICO_ALLOW_UPSTREAM_CIDRS", shown: "none", help: "private ranges (CIDRs or addresses, comma list) tenants may call",
		set: func(c *Config, s string) (err error) { c.AllowCIDRs, err = parseCIDRs(s); return err }},
	{env: "PORTICO_SPEC_REFRESH_INTERVAL", def: "5m", help: "how often a tenant's spec_url is fetched again (a tenant's settings win)",
		set: duration(func(c *Config) *time.Duration { return &c.RefreshInterval }, true)},
	{env: "PORTICO_SPEC_FETCH_TIMEOUT", def: "30s", help: "time one OpenAPI document download may take",
		set: duration(func(c *Config) *time.Duration { return &c.SpecFetchTimeout }, true)},
	{env: "PORTICO_SPEC_MAX_BYTES", def: "32MiB", help: "largest OpenAPI document fetched",
		set: byteSize(func(c *Config) *int64 { return &c.MaxSpecBytes })},
	{env: "PORTICO_MAX_OPERATIONS", def: "5000", help: "operations one OpenAPI document may have",
		doc: "operations (path × method) one OpenAPI document may have; more is refused with 422 `spec_too_large` before conversion (see security.md, Limits)",
		set: count(func(c *Config) *int { return &c.MaxOperations }, "operations")},
	{env: "PORTICO_CONVERT_MEMORY_MB", def: "512", help: "estimated heap, in MiB (at least 16), of the conversions one replica runs at once",
		doc: "estimated heap of the conversions one replica runs at once (preview, activation, refresh share it; 60 B per document byte or 25 KiB per operation, whichever is more); a document estimated above it converts alone; at most 4 previews run at once per replica and a preview that cannot start converting within 10 s gets 503 `converter_busy` with Retry-After. Keep it below the pod's memory limit minus ~150 MB",
		set: func(c *Config, s string) error {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 16 {
				return fmt.Errorf("%q is not a number of megabytes of at least 16", s)
			}
			c.ConvertMemory = n << 20
			return nil
		}},
	{env: "PORTICO_RESYNC_INTERVAL", def: "60s", help: "how often a replica reloads every tenant in case it missed a notification",
		set: duration(func(c *Config) *time.Duration { return &c.ResyncInterval }, true)},
	{env: "PORTICO_MCP_SESSION_TTL", def: "24h", help: "lifetime of a session-based (2025-xx) MCP session",
		doc: "lifetime of a session-based (2025-xx) MCP session from its `initialize`, at most its token's expiry; then the client gets 404 and initializes again. Session ids are signed with a key derived from `PORTICO_MASTER_KEYS`, so every replica must share them (it must anyway)",
		set: duration(func(c *Config) *time.Duration { return &c.MCPSessionTTL }, true)},
	{env: "PORTICO_BODY_LIMIT", def: "1MiB", help: "largest /api/v1 request body",
		set: byteSize(func(c *Config) *int64 { return &c.BodyLimit })},
	{env: "PORTICO_MAX_HEADER_BYTES", def: "65536", help: "largest request header block (431 beyond)",
		set: count(func(c *Config) *int { return &c.MaxHeaderBytes }, "bytes")},
	{env: "PORTICO_UPSTREAM_TIMEOUT", def: "30s", help: "time one upstream call may take (a tenant's settings win)",
		set: duration(func(c *Config) *time.Duration { return &c.UpstreamTimeout }, true)},
	{env: "PORTICO_MAX_CONCURRENCY", def: "64", help: "upstream calls in flight per tenant (a tenant's settings win)",
		set: count(func(c *Config) *int { return &c.MaxConcurrency }, "calls")},
	{env: "PORTICO_MAX_RESPONSE_BYTES", def: "10MiB", help: "largest upstream response read",
		set: byteSize(func(c *Config) *int64 { return &c.MaxResponseBytes })},
	{env: "PORTICO_RATE_LIMIT_CALLER", def: "20:40", help: "REST requests per API key or dashboard session, PER_SECOND[:BURST], 0 for none",
		set: rate(func(c *Config) *rateLimit { return &c.RESTCallerRate })},
	{env: "PORTICO_RATE_LIMIT_TENANT", def: "50:100", help: "REST requests per tenant's routes (settings.rest_rate_limit_* win)",
		set: rate(func(c *Config) *rateLimit { return &c.RESTTenantRate })},
	{env: "PORTICO_RATE_LIMIT_LOGIN", def: "0.2:10", help: "failed sign-ins per client address and per (email, address)",
		set: rate(func(c *Config) *rateLimit { return &c.LoginRate })},
	{env: "PORTICO_RATE_LIMIT_AUTH_FAILURES", def: "0.5:30", help: "failed API keys, MCP tokens, OAuth codes per client address and per secret prefix",
		set: rate(func(c *Config) *rateLimit { return &c.AuthFailureRate })},
	{env: "PORTICO_MCP_RATE_LIMIT_TENANT", def: "100:200", help: "tool calls per tenant (a tenant's settings win)",
		set: rate(func(c *Config) *rateLimit { return &c.MCPTenantRate })},
	{env: "PORTICO_MCP_RATE_LIMIT_TOKEN", def: "20:40", help: "tool calls per MCP token (a tenant's settings win)",
		set: rate(func(c *Config) *rateLimit { return &c.MCPTokenRate })},
	{env: "PORTICO_SESSION_TTL", def: "12h", help: "lifetime of a dashboard sign-in",
		set: duration(func(c *Config) *time.Duration { return &c.SessionTTL }, true)},
	{env: "PORTICO_TRUST_PROXY", def: "false", help: "true: the client address comes from X-Forwarded-For",
		set: func(c *Config, s string) error { c.TrustProxy = s == "true"; return nil }},
	{env: "PORTICO_BOOTSTRAP_ADMIN_KEY", shown: "none", help: "a pk_… admin key serve makes sure exists (stored hashed)",
		doc: "a `pk_…` admin key `serve` makes sure exists (stored hashed; a revoked one stays revoked)",
		set: func(c *Config, s string) error {
			k := strings.TrimSpace(s)
			if k == "" {
				return nil
			}
			if !strings.HasPrefix(k, tenant.APIKeyPrefix) || len(k) < 24 {
				return fmt.Errorf("must start with pk_ and hold at least 20 random characters after it (make one with `portico admin key generate`)")
			}
			c.BootstrapAdminKey = k
			return nil
		}},
	{env: "PORTICO_ADMIN_PASSWORD", shown: "stdin", help: "the password of `portico admin user create`",
		set: str(func(c *Config) *string { return &c.AdminPassword })},
	{env: "PORTICO_DRAIN_TIMEOUT", def: "30s", help: "how long requests in flight get after SIGTERM",
		set: duration(func(c *Config) *time.Duration { return &c.DrainTimeout }, false)},
	{env: "PORTICO_CALL_BUFFER", def: "100000", help: "call records a replica buffers at most, riding out a database outage (beyond: dropped and counted)",
		doc: "call records a replica buffers at most (about 300 bytes each), riding out a database outage; records beyond it are dropped and counted in `portico_call_records_dropped_total` and the log. At 1,000 calls/s per replica the default covers 100 s of outage",
		set: count(func(c *Config) *int { return &c.CallBuffer }, "records")},
	{env: "PORTICO_CALL_FLUSH_INTERVAL", def: "1s", help: "longest wait before a replica writes its buffered call records",
		doc: "longest a replica buffers tool calls and resource reads before writing them to the call history (one COPY and one rollup upsert per flush; a full batch of 5,000 flushes sooner)",
		set: duration(func(c *Config) *time.Duration { return &c.CallFlushInterval }, true)},
	{env: "PORTICO_CALL_RETENTION_DAYS", def: "7", help: "days of raw call records kept (whole daily partitions are dropped)",
		doc: "days of raw calls kept (`/calls`); older day partitions are dropped hourly",
		set: count(func(c *Config) *int { return &c.CallRetentionDays }, "days")},
	{env: "PORTICO_CALL_ROLLUP_RETENTION_DAYS", def: "90", help: "days of per-minute and per-hour call totals kept (usage metering reaches this far back)",
		doc: "days of per-minute and per-hour totals kept (`/usage`, metering)",
		set: count(func(c *Config) *int { return &c.RollupRetentionDays }, "days")},
	{env: "PORTICO_SHUTDOWN_DELAY", def: "0s", help: "unready-but-serving time before the drain (Helm: 5s)",
		set: duration(func(c *Config) *time.Duration { return &c.ShutdownDelay }, false)},
	{env: "PORTICO_TOKEN_CACHE_TTL", def: "10s", help: "a verified MCP token is trusted this long without the database",
		set: duration(func(c *Config) *time.Duration { return &c.TokenCacheTTL }, false)},
	{env: "PORTICO_IDENTITY_KEY_ROTATION", def: "24h", help: "how long a key signs identity assertions before a new one takes over",
		doc: "how long a key signs identity assertions before a new one takes over (published 10 min before, kept an hour after; at most a tenth of the period each)",
		set: duration(func(c *Config) *time.Duration { return &c.IdentityRotation }, false)},
	{env: "PORTICO_TOKEN_CACHE_MAX_STALE", def: "1h", help: "and this much longer while the database is unreachable",
		set: duration(func(c *Config) *time.Duration { return &c.TokenCacheStale }, false)},
	{env: "PORTICO_BREAKER_FAILURES", def: "5", help: "upstream failures in a row that open a tenant's circuit (off or 0 disables)",
		doc: "upstream failures in a row that open a tenant's circuit (`off` or `0` disables); ≥ 50 % of the last 20 also opens it",
		set: func(c *Config, s string) error {
			c.BreakerOff = false
			switch s = strings.TrimSpace(s); s {
			case "":
				return nil
			case "off", "0":
				c.BreakerOff = true
				return nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return fmt.Errorf("%q is not a number of failures (or off)", s)
			}
			c.BreakerFailures = n
			return nil
		}},
	{env: "PORTICO_BREAKER_COOLDOWN", def: "10s", help: "open time of a circuit before one probe call",
		set: duration(func(c *Config) *time.Duration { return &c.BreakerCoolDown }, false)},
	{env: "PORTICO_LOG_LEVEL", def: "info", help: "debug, info, warn or error",
		doc: "debug, info, warn or error (slog); every request line and error carries `request_id` (and `trace_id` when tracing)",
		set: func(c *Config, s string) error {
			if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
				return fmt.Errorf("%q is not one of debug, info, warn, error", s)
			}
			return nil
		}},
	{env: "PORTICO_LOG_FORMAT", def: "json", help: "json or text",
		set: func(c *Config, s string) error { c.LogJSON = s != "text"; return nil }},
	{env: "PORTICO_METRICS_ADDR", shown: "none", help: "a separate listener for /metrics, e.g. :9090, for an internal network",
		doc: "a separate listener for `/metrics`, e.g. `:9090`, for an internal network (see Metrics)",
		set: str(func(c *Config) *string { return &c.MetricsAddr })},
	{env: "PORTICO_METRICS_TOKEN", shown: "none", help: "bearer token that reads /metrics on PORTICO_ADDR",
		doc: "lets a scraper read `/metrics` on the public port with `Authorization: Bearer <token>` (see Metrics)",
		set: str(func(c *Config) *string { return &c.MetricsToken })},
	{env: "PORTICO_OAUTH_ISSUER", shown: "none", help: "an external authorization server whose JWT access tokens tenant endpoints accept",
		doc: "an external authorization server whose JWT access tokens (audience = the tenant's MCP URL) tenant endpoints accept beside MCP tokens; set together with `PORTICO_OAUTH_JWKS_URL`",
		set: str(func(c *Config) *string { return &c.OAuthIssuer })},
	{env: "PORTICO_OAUTH_JWKS_URL", shown: "none", help: "that server's JWKS URL (set both or neither)",
		set: str(func(c *Config) *string { return &c.OAuthJWKSURL })},
	{env: "OTEL_EXPORTER_OTLP_ENDPOINT", shown: "off", help: "(or …_TRACES_ENDPOINT) turns on OTLP/HTTP trace export; the other OTEL_* variables as usual",
		doc: "(or `…_TRACES_ENDPOINT`) turns on OTLP/HTTP trace export; `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_EXPORTER_OTLP_HEADERS` as usual; `OTEL_SDK_DISABLED=true` / `OTEL_TRACES_EXPORTER=none` turn it off"},
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

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, s string) error { *field(c) = s; return nil }
}

func rate(field func(*Config) *rateLimit) func(*Config, string) error {
	return func(c *Config, s string) (err error) { *field(c), err = parseRate(s); return err }
}

// duration parses a Go duration; positive refuses 0.
func duration(field func(*Config) *time.Duration, positive bool) func(*Config, string) error {
	return func(c *Config, s string) error {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil || d < 0:
			return fmt.Errorf("%q is not a duration like 30s", s)
		case positive && d == 0:
			return fmt.Errorf("%q is not a positive duration like 30s", s)
		}
		*field(c) = d
		return nil
	}
}

// count parses a positive integer.
func count(field func(*Config) *int, unit string) func(*Config, string) error {
	return func(c *Config, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive number of %s", s, unit)
		}
		*field(c) = n
		return nil
	}
}

// byteSize parses a positive number of bytes, with an optional KiB, MiB or GiB suffix.
func byteSize(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, s string) error {
		num, mult := s, int64(1)
		for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
			if n, ok := strings.CutSuffix(s, suffix); ok {
				num, mult = strings.TrimSpace(n), m
			}
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 1 || n > math.MaxInt64/mult {
			return fmt.Errorf("%q is not a positive number of bytes (a suffix KiB, MiB or GiB may follow)", s)
		}
		*field(c) = n * mult
		return nil
	}
}

// LoadConfig parses every variable of settings, reporting all the malformed
// ones at once. Only the commands that use the configuration call it.
func LoadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{}
	var problems []string
	for _, st := range settings {
		if st.set == nil {
			continue
		}
		if st.def != "" {
			if err := st.set(c, st.def); err != nil {
				panic(fmt.Sprintf("default of %s: %v", st.env, err))
			}
		}
		s := getenv(st.env)
		if s == "" && st.env == "DATABASE_URL" {
			s = getenv("PORTICO_DATABASE_URL")
		}
		if s == "" {
			continue
		}
		if err := st.set(c, s); err != nil {
			problems = append(problems, st.env+": "+err.Error())
		}
	}
	if (c.OAuthIssuer == "") != (c.OAuthJWKSURL == "") {
		problems = append(problems, "PORTICO_OAUTH_ISSUER and PORTICO_OAUTH_JWKS_URL must be set together")
	}
	c.Tracing = tracingEnabled(getenv)
	if len(problems) > 0 {
		return nil, fmt.Errorf("bad configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// defaultShown is a setting's default as help and docs show it.
func (st setting) defaultShown() string {
	switch {
	case st.shown != "":
		return st.shown
	case st.def != "":
		return st.def
	}
	return "—"
}

// SettingsHelp is the configuration part of `portico help`.
func SettingsHelp() string {
	var b strings.Builder
	b.WriteString("Configuration (environment; docs/operations.md has the details):\n")
	for _, st := range settings {
		fmt.Fprintf(&b, "  %-34s %s", st.env, st.help)
		if d := st.defaultShown(); d != "—" {
			fmt.Fprintf(&b, " (default %s)", d)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// SettingsTable is the configuration table of docs/operations.md.
func SettingsTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, st := range settings {
		doc := st.doc
		if doc == "" {
			doc = st.help
		}
		d := st.defaultShown()
		if st.def != "" {
			d = "`" + d + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", st.env, d, doc)
	}
	return b.String()
}

// String describes the configuration without its secrets.
func (c *Config) String() string {
	kids := make([]string, len(c.MasterKeys))
	for i, k := range c.MasterKeys {
		kids[i] = k.ID
	}
	return fmt.Sprintf("addr=%s public_url=%s database=%s master_keys=[%s] allow_upstream=%v drain=%s shutdown_delay=%s bootstrap_admin_key=%t tracing=%t",
		c.Addr, c.PublicURL, redactURL(c.DatabaseURL), strings.Join(kids, ","), c.AllowCIDRs, c.DrainTimeout, c.ShutdownDelay, c.BootstrapAdminKey != "", c.Tracing)
}

// Logger is the logger the configuration asks for (PORTICO_LOG_LEVEL,
// PORTICO_LOG_FORMAT), writing to w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
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
