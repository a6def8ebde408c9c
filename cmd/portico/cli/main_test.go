package cli

import (
	"testing"

	"github.com/portico-mcp/portico/e2e/harness"
)

// TestMain reports which of the package's heavy suites ran or were
// skipped (harness.Main).
func TestMain(m *testing.M) { harness.Main(m, "cmd/portico/cli") }
