package api

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps api off the MCP side: it may build on tenant and
// echo, never on bridge or the MCP SDK (DESIGN.md, "Import rules").
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/portico-mcp/portico/bridge") ||
			strings.HasPrefix(dep, "github.com/modelcontextprotocol/") {
			t.Errorf("api depends on %s", dep)
		}
	}
}
