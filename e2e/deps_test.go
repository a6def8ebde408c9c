package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportRules keeps the dependency direction DESIGN.md fixes: tenant is
// the core and pulls in neither echo, the MCP SDK nor a database driver
// (tenant/pgstore keeps it in Postgres); api and bridge never
// import each other, so each can change without the other; the CLI's
// client and manifest depend on no server package; server, the serving
// process, depends on no command and no test code. The command line
// (cmd/portico/cli) is imported only by the binary and the end-to-end
// tests, and the end-to-end tests (e2e) by nothing.
func TestImportRules(t *testing.T) {
	const mod = "github.com/portico-mcp/portico/"
	rules := []struct {
		name      string
		pkg       string
		forbidden []string
	}{
		{"tenant is the core", "tenant", []string{"github.com/labstack/echo", "github.com/modelcontextprotocol/go-sdk", "github.com/jackc/pgx", mod + "api", mod + "bridge", mod + "tenant/pgstore"}},
		{"the store knows only the model", "tenant/pgstore", []string{"github.com/labstack/echo", "github.com/modelcontextprotocol/go-sdk", mod + "api", mod + "bridge"}},
		{"api does not import bridge", "api", []string{mod + "bridge", "github.com/modelcontextprotocol/go-sdk"}},
		{"conversion is pure", "bridge/openapi", []string{"github.com/modelcontextprotocol/go-sdk", "github.com/jackc/pgx", "net/http/httptest", mod + "tenant/pgstore", mod + "api"}},
		{"bridge does not import api", "bridge", []string{mod + "api", "github.com/labstack/echo"}},
		{"web is only files", "web", []string{mod + "api", mod + "bridge", mod + "tenant", "github.com/labstack/echo"}},
		// The CLI's packages know Portico only through its public REST API.
		{"client speaks only the REST API", "client", []string{mod + "api", mod + "bridge", mod + "manifest", "github.com/labstack/echo", "github.com/modelcontextprotocol/go-sdk"}},
		{"manifest is pure", "manifest", []string{mod + "api", mod + "bridge", mod + "client", "github.com/labstack/echo", "github.com/modelcontextprotocol/go-sdk", "net/http"}},
		{"api does not import the CLI's packages", "api", []string{mod + "client", mod + "manifest"}},
		// server is the serving process the commands, the end-to-end tests
		// and the benchmark build; it knows nothing of them or of tests.
		{"server is neither the CLI nor test code", "server", []string{mod + "client", mod + "cmd", mod + "e2e", "testing"}},
		// The tests' harness starts Portico through server, as the commands do.
		{"the test harness starts Portico through server", "e2e/harness", []string{mod + "cmd"}},
		{"errorbody is the standard library only", "errorbody", []string{mod + "api", mod + "bridge", mod + "tenant", "github.com/labstack/echo", "github.com/modelcontextprotocol/go-sdk"}},
	}
	// Who may import a package, tests included.
	importers := []struct {
		name    string
		pkg     string
		allowed []string
	}{
		{"the command line is the binary's", "cmd/portico/cli", []string{mod + "cmd/portico", mod + "cmd/portico/cli", mod + "e2e"}},
		{"the end-to-end tests are imported by nothing", "e2e", []string{mod + "e2e"}},
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}", mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, r := range importers {
		t.Run(r.name, func(t *testing.T) {
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				pkg, imports, _ := strings.Cut(line, " ")
				if slices.Contains(r.allowed, pkg) {
					continue
				}
				if slices.Contains(strings.Fields(imports), mod+r.pkg) {
					t.Errorf("%s imports %s", pkg, r.pkg)
				}
			}
		})
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", mod+r.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range r.forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s imports %s", r.pkg, dep)
					}
				}
			}
		})
	}
}
