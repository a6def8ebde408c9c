package migrations_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

func TestLatest(t *testing.T) {
	if got := migrations.Latest(); got < 1 {
		t.Fatalf("Latest() = %d, want >= 1", got)
	}
}

func TestUpDownCheck(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t) // already at Latest()
	latest := migrations.Latest()

	if err := migrations.Check(ctx, db); err != nil {
		t.Fatalf("Check on migrated database: %v", err)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("Up with nothing to do: %v", err)
	}
	// Down counts migrations, not version numbers, and numbers may have
	// gaps while parallel work lands (000003 before 000002).
	ups, _ := fs.Glob(migrations.FS, "*.up.sql")
	if err := migrations.Down(ctx, db, len(ups)); err != nil {
		t.Fatalf("Down(%d) from version %d: %v", len(ups), latest, err)
	}
	v, dirty, err := migrations.Version(ctx, db)
	if err != nil || v != 0 || dirty {
		t.Fatalf("Version after full down = (%d, %v, %v), want (0, false, nil)", v, dirty, err)
	}
	if n := countTables(t, db); n != 1 { // only schema_migrations is left
		t.Errorf("after full down %d tables remain, want 1 (schema_migrations)", n)
	}
	err = migrations.Check(ctx, db)
	if err == nil || !strings.Contains(err.Error(), "portico migrate up") {
		t.Errorf("Check on empty database = %v, want a hint to run `portico migrate up`", err)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("Up: %v", err)
	}
	if err := migrations.Check(ctx, db); err != nil {
		t.Fatalf("Check after Up: %v", err)
	}
}

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name   string
		update string
		want   string
	}{
		{"dirty", "UPDATE schema_migrations SET dirty = true", "portico migrate force"},
		{"newer", "UPDATE schema_migrations SET version = 9999", "upgrade portico"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := pgtest.NewDB(t)
			exec(t, db, tt.update)
			err := migrations.Check(ctx, db)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestForceClearsDirty(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	exec(t, db, "UPDATE schema_migrations SET dirty = true")
	if err := migrations.Force(ctx, db, migrations.Latest()); err != nil {
		t.Fatalf("Force: %v", err)
	}
	if err := migrations.Check(ctx, db); err != nil {
		t.Fatalf("Check after Force: %v", err)
	}
}

func exec(t *testing.T, db, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func countTables(t *testing.T, db string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
