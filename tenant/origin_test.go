package tenant

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCanonicalOrigin(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		wantErr        string // substring of the problem; "" = valid
	}{
		{name: "https", in: "https://app.example.com", want: "https://app.example.com"},
		{name: "port kept", in: "http://127.0.0.1:5173", want: "http://127.0.0.1:5173"},
		{name: "case folded", in: "HTTPS://App.Example.COM", want: "https://app.example.com"},
		{name: "default https port dropped", in: "https://app.example.com:443", want: "https://app.example.com"},
		{name: "default http port dropped", in: "http://localhost:80", want: "http://localhost"},
		{name: "non-default port of other scheme kept", in: "https://app.example.com:80", want: "https://app.example.com:80"},
		{name: "ipv6 compressed", in: "http://[0:0:0:0:0:0:0:1]:8080", want: "http://[::1]:8080"},
		{name: "punycode", in: "https://xn--bcher-kva.example", want: "https://xn--bcher-kva.example"},

		{name: "star", in: "*", wantErr: `"*" is not allowed`},
		{name: "wildcard subdomain", in: "https://*.example.com", wantErr: "wildcards are not supported"},
		{name: "null", in: "null", wantErr: `"null" is what sandboxed frames`},
		{name: "empty", in: "", wantErr: "is empty"},
		{name: "trailing slash", in: "https://app.example.com/", wantErr: `write "https://app.example.com"`},
		{name: "path", in: "https://app.example.com:8443/mcp", wantErr: `write "https://app.example.com:8443"`},
		{name: "query", in: "https://app.example.com?x=1", wantErr: "not an origin: an origin is scheme, host and port only"},
		{name: "fragment", in: "https://app.example.com#top", wantErr: "scheme, host and port only"},
		{name: "bare host", in: "app.example.com", wantErr: "is not an origin: write scheme and host"},
		{name: "other scheme", in: "ftp://app.example.com", wantErr: "must start with https://"},
		{name: "user info", in: "https://u:p@app.example.com", wantErr: "write https://app.example.com"},
		{name: "port range", in: "https://app.example.com:70000", wantErr: "a port is 1-65535"},
		{name: "empty port", in: "https://app.example.com:", wantErr: "empty port"},
		{name: "unicode host", in: "https://bücher.example", wantErr: "punycode"},
		{name: "spaces", in: " https://app.example.com", wantErr: "has spaces around it"},
		{name: "zoned ipv6", in: "http://[fe80::1%25eth0]", wantErr: "invalid IPv6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := CanonicalOrigin(c.in)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("CanonicalOrigin(%q) = %v", c.in, err)
			case c.wantErr == "" && got != c.want:
				t.Fatalf("CanonicalOrigin(%q) = %q, want %q", c.in, got, c.want)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("CanonicalOrigin(%q) = %q, %v; want an error containing %q", c.in, got, err, c.wantErr)
			}
		})
	}
}

func TestSettingsValidateCORSOrigins(t *testing.T) {
	err := Settings{CORSOrigins: []string{"https://ok.example", "*", "https://ok.example/"}}.Validate()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Validate = %v, want *InvalidError", err)
	}
	var fields []string
	for _, p := range inv.Problems {
		fields = append(fields, p.Field)
	}
	if got := strings.Join(fields, ","); got != "settings.cors_origins[1],settings.cors_origins[2]" {
		t.Errorf("fields = %s, want the two bad entries by index", got)
	}

	many := make([]string, MaxCORSOrigins+1)
	for i := range many {
		many[i] = fmt.Sprintf("https://app%d.example.com", i)
	}
	if err := (Settings{CORSOrigins: many}).Validate(); err == nil || !strings.Contains(err.Error(), "settings.cors_origins has 101 origins") {
		t.Errorf("Validate of %d origins = %v", len(many), err)
	}
	if err := (Settings{CORSOrigins: many[:MaxCORSOrigins]}).Validate(); err != nil {
		t.Errorf("Validate of %d origins = %v", MaxCORSOrigins, err)
	}
}
