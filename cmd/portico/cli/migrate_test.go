package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestMigrateForceFollowsTheAdvice: a dirty schema makes serve refuse with
// advice to run `portico migrate force N`; running exactly that command
// leaves the schema clean, and `portico help` lists it.
func TestMigrateForceFollowsTheAdvice(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// The newest migration "failed half way"; the operator fixes the schema
	// by undoing it by hand.
	if _, err := conn.Exec(ctx, "UPDATE schema_migrations SET dirty = true"); err != nil {
		t.Fatal(err)
	}
	downs, _ := fs.Glob(migrations.FS, fmt.Sprintf("%06d_*.down.sql", migrations.Latest()))
	undo, err := fs.ReadFile(migrations.FS, downs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(undo)); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	env := map[string]string{"DATABASE_URL": db}
	getenv := func(k string) string { return env[k] }
	advice := migrations.Check(ctx, db)
	m := regexp.MustCompile("`portico migrate force (\\d+)`").FindStringSubmatch(advice.Error())
	if m == nil {
		t.Fatalf("dirty schema error %q names no force command", advice)
	}
	var out bytes.Buffer
	if err := Run(ctx, []string{"migrate", "force", m[1]}, getenv, &out, &out); err != nil {
		t.Fatalf("portico migrate force %s: %v", m[1], err)
	}
	if got := out.String(); !strings.Contains(got, "schema version "+m[1]+" of") || strings.Contains(got, "dirty") {
		t.Errorf("after force: %q", got)
	}
	out.Reset()
	if err := Run(ctx, []string{"migrate", "up"}, getenv, &out, &out); err != nil {
		t.Fatalf("migrate up after force: %v", err)
	}
	if err := migrations.Check(ctx, db); err != nil {
		t.Errorf("after force and up: %v", err)
	}
	for _, bad := range [][]string{{"migrate", "force"}, {"migrate", "force", "x"}, {"migrate", "force", "999"}} {
		if err := Run(ctx, bad, getenv, &out, &out); err == nil || !strings.Contains(err.Error(), "force") {
			t.Errorf("%v: %v, want a usage error naming force", bad, err)
		}
	}
	out.Reset()
	Run(ctx, []string{"help"}, getenv, &out, &out)
	if !strings.Contains(out.String(), "force N") {
		t.Errorf("portico help does not list migrate force:\n%s", out.String())
	}
}
