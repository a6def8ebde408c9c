package pgstore_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portico-mcp/portico/migrations"
	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
	"github.com/portico-mcp/portico/tenant/pgtest"
)

// BenchmarkCallHistoryQueries times the call history's reads over a
// generated history: PORTICO_BENCH_CALLS calls (default 100,000; the figures
// in docs/benchmarks.md use 10,000,000) of one tenant over 30 days and 10
// tools, with the rollups built from them.
//
//	PORTICO_BENCH_CALLS=10000000 go test -run '^$' -bench CallHistoryQueries -benchtime 20x ./tenant
//
// Generating 10,000,000 calls takes minutes; with PORTICO_BENCH_DATABASE_URL
// naming an existing database, the history is generated there once
// (migrating it first) and reused by later runs that ask for as many calls.
func BenchmarkCallHistoryQueries(b *testing.B) {
	n := 100_000
	if s := os.Getenv("PORTICO_BENCH_CALLS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("PORTICO_BENCH_CALLS=%q: want a positive number of calls", s)
		}
	}
	ctx := context.Background()
	var f fixture
	if dbURL := os.Getenv("PORTICO_BENCH_DATABASE_URL"); dbURL != "" {
		if err := migrations.Up(ctx, dbURL); err != nil {
			b.Fatal(err)
		}
		pool, err := pgxpool.New(ctx, dbURL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		key := newKey(b, "k1")
		f = fixture{store: pgstore.NewStore(pool, mustSealer(b, key)), pool: pool, key: key}
	} else {
		f = newFixtureB(b)
	}
	var (
		have          int
		first, newest time.Time
	)
	if err := f.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(at), now()), coalesce(max(at), now()) FROM calls WHERE tenant_id = 'bench'`).
		Scan(&have, &first, &newest); err != nil {
		b.Fatal(err)
	}
	if have == n {
		b.Logf("reusing %d generated calls from %s to %s", n, first.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339))
		queryCallHistory(b, f, newest.Add(time.Second))
		return
	}
	for _, table := range []string{"calls", "call_minutes", "call_hours"} {
		if _, err := f.pool.Exec(ctx, `DELETE FROM `+table+` WHERE tenant_id = 'bench'`); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UTC()
	from := now.AddDate(0, 0, -30)
	if err := f.store.EnsureCallPartitions(ctx, from, now.Add(24*time.Hour)); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// Calls spread evenly over 30 days, 10 tools, 2 % errors; the rollups
	// are the same aggregates WriteCalls keeps, built in one statement each.
	if _, err := f.pool.Exec(ctx, `INSERT INTO calls (tenant_id, at, kind, tool, token_id, status, is_error, upstream_status,
			latency_ms, upstream_ms, gateway_ms, bytes, error)
		SELECT 'bench', $1::timestamptz + (i * (30 * 86400.0 / $2)) * interval '1 second', 'tool', 'tool' || (i % 10), 'tok',
			CASE WHEN i % 50 = 0 THEN 'upstream_5xx' ELSE 'ok' END, i % 50 = 0, CASE WHEN i % 50 = 0 THEN 502 ELSE 200 END,
			5 + (i % 97), 4 + (i % 89), 1 + (i % 7) * 0.1, 100 + i % 1000, ''
		FROM generate_series(1, $2) AS i`, from, n); err != nil {
		b.Fatal(err)
	}
	for _, t := range []struct{ table, span string }{{"call_minutes", "minute"}, {"call_hours", "hour"}} {
		if _, err := f.pool.Exec(ctx, `INSERT INTO `+t.table+` (tenant_id, start, tool, calls, errors, bytes, latency_sum_ms, latency_max_ms,
				upstream_sum_ms, gateway_sum_ms, gateway_hist, upstream_hist)
			SELECT tenant_id, date_trunc('`+t.span+`', at), tool, count(*), count(*) FILTER (WHERE is_error), sum(bytes),
				sum(latency_ms), max(latency_ms), sum(upstream_ms), sum(gateway_ms),
				array_fill(1::bigint, ARRAY[65]), array_fill(1::bigint, ARRAY[65])
			FROM calls GROUP BY 1, 2, 3`); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := f.pool.Exec(ctx, `ANALYZE calls; ANALYZE call_minutes; ANALYZE call_hours`); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d calls and their rollups in %s", n, time.Since(start).Round(time.Second))
	queryCallHistory(b, f, now)
}

// queryCallHistory times the reads behind /usage and /calls over the 30
// days before now.
func queryCallHistory(b *testing.B, f fixture, now time.Time) {
	ctx := context.Background()
	from := now.AddDate(0, 0, -30)
	b.Run("usage-30d-hour", func(b *testing.B) {
		for b.Loop() {
			u, err := f.store.Usage(ctx, "bench", tenant.UsageQuery{From: from, To: now, Bucket: "hour"})
			if err != nil || u.Total.Calls == 0 {
				b.Fatal(err, u.Total.Calls)
			}
		}
	})
	b.Run("usage-30d-day", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.store.Usage(ctx, "bench", tenant.UsageQuery{From: from, To: now, Bucket: "day"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("calls-first-page", func(b *testing.B) {
		for b.Loop() {
			p, err := f.store.Calls(ctx, "bench", tenant.CallFilter{Since: now.Add(-24 * time.Hour), Limit: 200})
			if err != nil || len(p.Calls) != 200 {
				b.Fatal(err, len(p.Calls))
			}
		}
	})
	b.Run("calls-first-page-tool-errors", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.store.Calls(ctx, "bench", tenant.CallFilter{Since: now.Add(-24 * time.Hour), Tool: "tool3", Status: "error", Limit: 200}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func newFixtureB(b *testing.B) fixture {
	b.Helper()
	pool := pgtest.NewPool(b)
	key := newKey(b, "k1")
	return fixture{store: pgstore.NewStore(pool, mustSealer(b, key)), pool: pool, key: key}
}

// BenchmarkWriteCalls writes batches of 5,000 call records (the recorder's
// batch) of one tenant and 10 tools through WriteCalls, as a replica's
// flusher does, and reports the process's CPU per record: what recording
// costs a replica beyond the call itself (the database server's own work is
// not in it).
//
//	go test -run '^$' -bench WriteCalls -benchtime 20x ./tenant
func BenchmarkWriteCalls(b *testing.B) {
	f := newFixtureB(b)
	ctx := context.Background()
	const batch = 5000
	recs := make([]tenant.CallRecord, batch)
	now := time.Now().UTC()
	for i := range recs {
		recs[i] = tenant.CallRecord{TenantID: "bench", At: now.Add(time.Duration(i) * time.Millisecond), Kind: "tool",
			Tool: "tool" + strconv.Itoa(i%10), TokenID: "tok", Status: "ok", UpstreamStatus: 200,
			LatencyMS: 5 + float64(i%97), UpstreamMS: 4 + float64(i%89), GatewayMS: 0.2, Bytes: 512}
	}
	if err := f.store.WriteCalls(ctx, recs); err != nil { // creates the partitions
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if err := f.store.WriteCalls(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N*batch), "cpu-µs/record")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
