package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// TestKeysGenerateUniqueIDs checks that two master keys made the same day
// get different key ids, so the documented rotation (new key first, old
// second in PORTICO_MASTER_KEYS) works with both.
func TestKeysGenerateUniqueIDs(t *testing.T) {
	var ring []string
	for range 2 {
		var out strings.Builder
		if err := Run(t.Context(), []string{"keys", "generate"}, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		ring = append(ring, strings.TrimSpace(out.String()))
	}
	kid := func(k string) string { id, _, _ := strings.Cut(k, ":"); return id }
	if kid(ring[0]) == kid(ring[1]) {
		t.Fatalf("two generated keys share the id %q", kid(ring[0]))
	}
	if _, err := tenant.ParseMasterKeys(ring[0] + "," + ring[1]); err != nil {
		t.Errorf("a ring of two generated keys does not parse: %v", err)
	}
}
