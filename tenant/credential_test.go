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
