// Package e2e holds Portico's end-to-end tests: Portico serving on
// PostgreSQL (in the test's process through harness.Serve, or as the built
// binary), real FastAPI apps under /usr/bin/python3, Node MCP clients and
// Chromium. Its fixtures are in testdata.
package e2e

import (
	"testing"

	"github.com/portico-mcp/portico/e2e/harness"
)

// TestMain reports which of the package's heavy suites ran or were
// skipped (harness.Main).
func TestMain(m *testing.M) { harness.Main(m, "e2e") }
