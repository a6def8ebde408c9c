package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	pgxv5 "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// LockTimeout bounds the wait for another replica's migration. golang-migrate's
// 15 s default is shorter than a large migration on a busy database, and a
// replica that gives up early would fail its deploy for no reason.
const LockTimeout = 5 * time.Minute

// open builds the one migrator every entry point uses. There is exactly one
// construction path (pgx config → stdlib.OpenDB → pgxv5.WithInstance) because
// golang-migrate derives its advisory lock id from the database name, and the
// URL-based driver spells that name differently ("/db" vs "db"): two replicas
// built differently would not exclude each other.
//
// The caller must call Close on the result, which also closes the *sql.DB.
func open(ctx context.Context, databaseURL string) (*migrate.Migrate, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	// WithInstance pings without a context; ping here first so an unreachable
	// server respects ctx instead of the driver's own timeouts.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	drv, err := pgxv5.WithInstance(db, &pgxv5.Config{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	src, err := iofs.New(FS, ".")
	if err != nil {
		drv.Close()
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		src.Close()
		drv.Close()
		return nil, fmt.Errorf("create migrator: %w", err)
	}
	m.LockTimeout = LockTimeout
	return m, nil
}

// run opens a migrator, runs f and closes it. When ctx ends, the migrator is
// asked to stop after the migration in progress: golang-migrate takes no
// context, and interrupting a file half way would leave the schema dirty.
func run(ctx context.Context, databaseURL string, f func(*migrate.Migrate) error) (err error) {
	m, err := open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() {
		srcErr, dbErr := m.Close()
		if err == nil {
			err = errors.Join(srcErr, dbErr)
		}
	}()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case m.GracefulStop <- true:
			default:
			}
		case <-done:
		}
	}()
	return f(m)
}

// Up applies every pending migration. An up-to-date database is success.
func Up(ctx context.Context, databaseURL string) error {
	return run(ctx, databaseURL, func(m *migrate.Migrate) error {
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate up: %w", explain(err))
		}
		return ctx.Err()
	})
}

// Down reverts the newest n applied migrations.
func Down(ctx context.Context, databaseURL string, n int) error {
	if n < 1 {
		return fmt.Errorf("migrate down: step count must be at least 1, got %d", n)
	}
	return run(ctx, databaseURL, func(m *migrate.Migrate) error {
		if err := m.Steps(-n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate down %d: %w", n, explain(err))
		}
		return ctx.Err()
	})
}

// Force records version as applied and clean without running anything; 0
// means "nothing applied". It is the operator's way out of a dirty schema after
// fixing it by hand; nothing in Portico calls it automatically.
func Force(ctx context.Context, databaseURL string, version uint) error {
	v := int(version)
	if version == 0 {
		v = -1 // golang-migrate's "no version"
	}
	return run(ctx, databaseURL, func(m *migrate.Migrate) error {
		if err := m.Force(v); err != nil {
			return fmt.Errorf("force schema version %d: %w", version, err)
		}
		return nil
	})
}

// Version reports the applied schema version; (0, false, nil) means the
// database was never migrated.
func Version(ctx context.Context, databaseURL string) (version uint, dirty bool, err error) {
	err = run(ctx, databaseURL, func(m *migrate.Migrate) error {
		var err error
		version, dirty, err = m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			version, dirty, err = 0, false, nil
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		return nil
	})
	return version, dirty, err
}

// Latest is the highest migration version embedded in this binary.
func Latest() uint {
	var latest uint
	for _, v := range versions() {
		latest = max(latest, v)
	}
	return latest
}

// versions are the embedded migration versions, in no particular order.
// Numbers may have gaps while parallel work lands.
func versions() []uint {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		panic("migrations: read embedded FS: " + err.Error()) // cannot happen with embed
	}
	var out []uint
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".up.sql") {
			continue
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, uint(v))
	}
	return out
}

// Check returns nil when the database is at exactly Latest() and clean, and
// otherwise an error telling the operator what to run. Serving against any
// other schema would fail later in confusing ways, so `portico serve` calls
// this at startup and refuses to start.
func Check(ctx context.Context, databaseURL string) error {
	v, dirty, err := Version(ctx, databaseURL)
	if err != nil {
		return err
	}
	want := Latest()
	switch {
	case dirty:
		return fmt.Errorf("database schema is dirty at version %d: a migration failed part way; "+
			"fix the schema by hand, then run `portico migrate force %d` (the last version that fully applied) "+
			"and `portico migrate up`", v, lastClean(v))
	case v < want:
		return fmt.Errorf("database schema is at version %d but this binary needs %d: run `portico migrate up`", v, want)
	case v > want:
		return fmt.Errorf("database schema version %d is newer than this binary (%d): upgrade portico", v, want)
	}
	return nil
}

// lastClean guesses the version before a dirty one, as a hint for the operator.
func lastClean(dirty uint) uint {
	var prev uint // the embedded version just below dirty: numbers may have gaps
	for _, v := range versions() {
		if v < dirty {
			prev = max(prev, v)
		}
	}
	return prev
}

// explain adds the operator's next step to golang-migrate's terse errors.
func explain(err error) error {
	var d migrate.ErrDirty
	switch {
	case errors.As(err, &d):
		return fmt.Errorf("database schema is dirty at version %d: fix it by hand, then run `portico migrate force %d`: %w",
			d.Version, lastClean(uint(d.Version)), err)
	case errors.Is(err, migrate.ErrLockTimeout):
		return fmt.Errorf("another migration held the lock for over %s: %w", LockTimeout, err)
	}
	return err
}
