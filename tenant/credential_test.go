package tenant

import (
	"errors"
	"strings"
	"testing"
)

// TestCredentialRefusesControlCharacters checks that a credential value an
// HTTP request cannot carry is refused naming the field, instead of being
// stored and breaking every call.
func TestCredentialRefusesControlCharacters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     Credential
		value string
		field string
	}{
		{"NUL in bearer", Credential{Name: "api", Type: CredBearer}, "abc\x00def", "value"},
		{"NUL in header", Credential{Name: "api", Type: CredHeader, Header: "X-Key"}, "\x00", "value"},
		{"escape in basic", Credential{Name: "api", Type: CredBasic}, "u:p\x1b", "value"},
		{"DEL in query", Credential{Name: "api", Type: CredQuery, Header: "key"}, "a\x7f", "value"},
		{"NUL in query name", Credential{Name: "api", Type: CredQuery, Header: "k\x00"}, "v", "header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate(tc.value)
			var inv *InvalidError
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want an InvalidError naming %q", err, tc.field)
			}
		})
	}
	if err := (Credential{Name: "api", Type: CredHeader, Header: "X-Key"}).Validate("tab\tis fine"); err != nil {
		t.Errorf("a tab is allowed in a header value: %v", err)
	}
}

// TestOAuth2CredentialValidate: an oauth2_client_credentials credential
// needs a usable token URL and a client id; the OAuth2 fields are refused
// on the other types; each problem names its field.
func TestOAuth2CredentialValidate(t *testing.T) {
	ok := OAuth2Config{TokenURL: "https://idp.example/token", ClientID: "portico", Scopes: []string{"read", "api:write"}, AuthMethod: AuthMethodPost}
	if err := (Credential{Name: "m2m", Type: CredOAuth2ClientCredentials, OAuth2Config: ok}).Validate("s3cret"); err != nil {
		t.Fatalf("valid credential refused: %v", err)
	}
	with := func(f func(*OAuth2Config)) OAuth2Config {
		c := ok
		c.Scopes = append([]string(nil), ok.Scopes...)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name  string
		typ   CredentialType
		conf  OAuth2Config
		value string
		field string
	}{
		{"no token URL", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.TokenURL = "" }), "s", "token_url"},
		{"token URL not http", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.TokenURL = "file:///etc/passwd" }), "s", "token_url"},
		{"token URL with userinfo", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.TokenURL = "https://a:b@idp.example/token" }), "s", "token_url"},
		{"no client id", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.ClientID = "" }), "s", "client_id"},
		{"scope with a space", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.Scopes = []string{"read write"} }), "s", "scopes[0]"},
		{"empty scope", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.Scopes = []string{"read", ""} }), "s", "scopes[1]"},
		{"unknown auth method", CredOAuth2ClientCredentials, with(func(c *OAuth2Config) { c.AuthMethod = "private_key_jwt" }), "s", "auth_method"},
		{"no secret", CredOAuth2ClientCredentials, ok, "", "value"},
		{"OAuth2 fields on a bearer", CredBearer, ok, "s", "token_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Credential{Name: "m2m", Type: tc.typ, OAuth2Config: tc.conf}.Validate(tc.value)
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Validate = %v, want an InvalidError", err)
			}
			found := false
			for _, p := range inv.Problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("Validate = %v, want a problem with field %q", err, tc.field)
			}
		})
	}
}

// TestAuthorizationCodeCredentialValidate: an oauth2_authorization_code
// credential needs an authorization endpoint, a token endpoint and a
// client id; authorize_url is refused on the other types; each problem
// names its field.
func TestAuthorizationCodeCredentialValidate(t *testing.T) {
	ok := OAuth2Config{AuthorizeURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token", ClientID: "portico", Scopes: []string{"notes:read"}}
	if err := (Credential{Name: "upstream", Type: CredOAuth2AuthorizationCode, OAuth2Config: ok}).Validate("s3cret"); err != nil {
		t.Fatalf("valid credential refused: %v", err)
	}
	with := func(f func(*OAuth2Config)) OAuth2Config {
		c := ok
		c.Scopes = append([]string(nil), ok.Scopes...)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name   string
		typ    CredentialType
		conf   OAuth2Config
		header string
		value  string
		field  string
	}{
		{"no authorize URL", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.AuthorizeURL = "" }), "", "s", "authorize_url"},
		{"authorize URL not http", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.AuthorizeURL = "javascript:alert(1)" }), "", "s", "authorize_url"},
		{"no token URL", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.TokenURL = "" }), "", "s", "token_url"},
		{"no client id", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.ClientID = "" }), "", "s", "client_id"},
		{"bad scope", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.Scopes = []string{`a"b`} }), "", "s", "scopes[0]"},
		{"unknown auth method", CredOAuth2AuthorizationCode, with(func(c *OAuth2Config) { c.AuthMethod = "tls_client_auth" }), "", "s", "auth_method"},
		{"bad header", CredOAuth2AuthorizationCode, ok, "X Bad", "s", "header"},
		{"no secret", CredOAuth2AuthorizationCode, ok, "", "", "value"},
		{"authorize URL on client credentials", CredOAuth2ClientCredentials, ok, "", "s", "authorize_url"},
		{"authorize URL on a header credential", CredHeader, OAuth2Config{AuthorizeURL: "https://idp.example/authorize"}, "X-Key", "s", "token_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Credential{Name: "upstream", Type: tc.typ, Header: tc.header, OAuth2Config: tc.conf}.Validate(tc.value)
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("Validate = %v, want an InvalidError", err)
			}
			found := false
			for _, p := range inv.Problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("Validate = %v, want a problem with field %q", err, tc.field)
			}
		})
	}
}
