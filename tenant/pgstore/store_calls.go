package pgstore

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/portico-mcp/portico/tenant"
)

// callTables are the partitioned call history tables and the column each is
// partitioned by.
var callTables = []string{"calls", "call_minutes", "call_hours"}

var callColumns = []string{"tenant_id", "at", "kind", "tool", "token_id", "status", "is_error",
	"upstream_status", "latency_ms", "upstream_ms", "gateway_ms", "bytes", "error"}

// WriteCalls stores a batch of calls of any tenants (each record's
// TenantID) with one COPY, and adds them to the per-minute and per-hour
// rollups, in one transaction: the history and its rollups never disagree.
// A missing day partition is created and the batch tried once more.
func (s *Store) WriteCalls(ctx context.Context, recs []tenant.CallRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.writeCalls(ctx, recs)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" { // no partition of relation found for row
		lo, hi := recs[0].At, recs[0].At
		for _, r := range recs {
			lo, hi = minTime(lo, r.At), maxTime(hi, r.At)
		}
		if err := s.EnsureCallPartitions(ctx, lo, hi); err != nil {
			return err
		}
		err = s.writeCalls(ctx, recs)
	}
	return dbErr("write call history", err)
}

func (s *Store) writeCalls(ctx context.Context, recs []tenant.CallRecord) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		i := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"calls"}, callColumns, pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(recs) {
				return nil, nil
			}
			r := &recs[i]
			i++
			return []any{r.TenantID, r.At, r.Kind, r.Tool, r.TokenID, r.Status, r.IsError, r.UpstreamStatus,
				r.LatencyMS, r.UpstreamMS, r.GatewayMS, r.Bytes, r.Error}, nil
		}))
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, t := range []struct {
			table string
			span  time.Duration
		}{{"call_minutes", time.Minute}, {"call_hours", time.Hour}} {
			for _, g := range rollup(recs, t.span) {
				b.Queue(`INSERT INTO `+t.table+` AS m (tenant_id, start, tool, calls, errors, bytes, latency_sum_ms, latency_max_ms,
					upstream_sum_ms, gateway_sum_ms, gateway_hist, upstream_hist)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
				ON CONFLICT (tenant_id, start, tool) DO UPDATE SET
					calls = m.calls + excluded.calls, errors = m.errors + excluded.errors, bytes = m.bytes + excluded.bytes,
					latency_sum_ms = m.latency_sum_ms + excluded.latency_sum_ms,
					latency_max_ms = greatest(m.latency_max_ms, excluded.latency_max_ms),
					upstream_sum_ms = m.upstream_sum_ms + excluded.upstream_sum_ms,
					gateway_sum_ms = m.gateway_sum_ms + excluded.gateway_sum_ms,
					gateway_hist = (SELECT array_agg(x + y ORDER BY i) FROM unnest(m.gateway_hist, excluded.gateway_hist) WITH ORDINALITY AS h(x, y, i)),
					upstream_hist = (SELECT array_agg(x + y ORDER BY i) FROM unnest(m.upstream_hist, excluded.upstream_hist) WITH ORDINALITY AS h(x, y, i))`,
					g.tenant, g.start, g.tool, g.calls, g.errors, g.bytes, g.latencySum, g.latencyMax,
					g.upstreamSum, g.gatewaySum, []int64(g.gatewayH), []int64(g.upstreamH))
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

type rollupRow struct {
	tenant, tool                                    string
	start                                           time.Time
	calls, errors, bytes                            int64
	latencySum, latencyMax, upstreamSum, gatewaySum float64
	gatewayH, upstreamH                             tenant.Histogram
}

// rollup groups recs by tenant, span-aligned start and tool, sorted by that
// key so concurrent writers (every replica) lock rows in one order.
func rollup(recs []tenant.CallRecord, span time.Duration) []*rollupRow {
	type key struct {
		tenant, tool string
		start        int64
	}
	m := map[key]*rollupRow{}
	for i := range recs {
		r := &recs[i]
		start := r.At.UTC().Truncate(span)
		k := key{r.TenantID, r.Tool, start.Unix()}
		g := m[k]
		if g == nil {
			g = &rollupRow{tenant: r.TenantID, tool: r.Tool, start: start, gatewayH: tenant.NewHistogram(), upstreamH: tenant.NewHistogram()}
			m[k] = g
		}
		g.calls++
		if r.IsError {
			g.errors++
		}
		g.bytes += r.Bytes
		g.latencySum += r.LatencyMS
		g.latencyMax = max(g.latencyMax, r.LatencyMS)
		g.upstreamSum += r.UpstreamMS
		g.gatewaySum += r.GatewayMS
		g.gatewayH.Observe(r.GatewayMS)
		g.upstreamH.Observe(r.UpstreamMS)
	}
	out := make([]*rollupRow, 0, len(m))
	for _, g := range m {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *rollupRow) int {
		return cmp.Or(strings.Compare(a.tenant, b.tenant), a.start.Compare(b.start), strings.Compare(a.tool, b.tool))
	})
	return out
}

// EnsureCallPartitions creates the day partitions of every call history
// table covering from..to (UTC days), if they are missing.
func (s *Store) EnsureCallPartitions(ctx context.Context, from, to time.Time) error {
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.Add(24 * time.Hour) {
		for _, t := range callTables {
			name := fmt.Sprintf("%s_%s", t, d.Format("20060102"))
			_, err := s.pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')`,
				pgx.Identifier{name}.Sanitize(), t, d.Format(time.RFC3339), d.Add(24*time.Hour).Format(time.RFC3339)))
			var pe *pgconn.PgError
			if errors.As(err, &pe) && (pe.Code == "42P07" || pe.Code == "23505") {
				err = nil // another replica created it at the same moment
			}
			if err != nil {
				return dbErr("create call history partition "+name, err)
			}
		}
	}
	return nil
}

// MaintainCallHistory creates the partitions for yesterday to the day after
// tomorrow and drops raw call partitions older than rawDays and rollup
// partitions older than rollupDays. Dropping a partition is how retention
// works: no DELETE, no vacuum debt. It also forgets rate-limit buckets
// untouched for a day (a full bucket is the same as none).
func (s *Store) MaintainCallHistory(ctx context.Context, now time.Time, rawDays, rollupDays int) error {
	if err := s.EnsureCallPartitions(ctx, now.Add(-24*time.Hour), now.Add(48*time.Hour)); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_buckets WHERE at < now() - interval '1 day'`); err != nil {
		return dbErr("forget idle rate limit buckets", err)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	for _, t := range callTables {
		keep := rollupDays
		if t == "calls" {
			keep = rawDays
		}
		if keep < 1 {
			continue
		}
		cutoff := today.AddDate(0, 0, -keep) // the oldest day kept is today-keep+1
		rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1`, t)
		if err != nil {
			return dbErr("list call history partitions", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return dbErr("list call history partitions", err)
		}
		for _, n := range names {
			day, err := time.Parse("20060102", strings.TrimPrefix(n, t+"_"))
			if err != nil || !strings.HasPrefix(n, t+"_") || day.After(cutoff) {
				continue
			}
			if _, err := s.pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{n}.Sanitize()); err != nil {
				return dbErr("drop call history partition "+n, err)
			}
		}
	}
	return nil
}

// maxCallPage caps one page of calls.
const maxCallPage = 1000

// Calls returns one page of tenant id's calls matching f, newest first.
func (s *Store) Calls(ctx context.Context, id string, f tenant.CallFilter) (tenant.CallPage, error) {
	limit := f.Limit
	if limit < 1 || limit > maxCallPage {
		limit = maxCallPage
	}
	where := []string{"tenant_id = $1", "at >= $2", "at < $3"}
	until := f.Until
	if until.IsZero() {
		until = time.Now().Add(time.Minute)
	}
	args := []any{id, f.Since, until}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Tool != "" {
		add("tool = $%d", f.Tool)
	}
	switch f.Status {
	case "":
	case "error":
		where = append(where, "is_error")
	default:
		add("status = $%d", f.Status)
	}
	if f.TokenID != "" {
		add("token_id = $%d", f.TokenID)
	}
	if f.After != "" {
		at, rid, err := parseCallCursor(f.After)
		if err != nil {
			return tenant.CallPage{}, &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "cursor", Problem: "is not a cursor this API returned; pass the next_cursor of the previous page unchanged, or leave it out for the first page"}}}
		}
		args = append(args, at, rid)
		where = append(where, fmt.Sprintf("(at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, `SELECT id, at, kind, tool, token_id, status, is_error, upstream_status,
		latency_ms, upstream_ms, gateway_ms, bytes, error FROM calls WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return tenant.CallPage{}, dbErr("list calls", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.CallRecord, error) {
		r := tenant.CallRecord{TenantID: id}
		err := row.Scan(&r.ID, &r.At, &r.Kind, &r.Tool, &r.TokenID, &r.Status, &r.IsError, &r.UpstreamStatus,
			&r.LatencyMS, &r.UpstreamMS, &r.GatewayMS, &r.Bytes, &r.Error)
		r.At = r.At.UTC()
		return r, err
	})
	if err != nil {
		return tenant.CallPage{}, dbErr("list calls", err)
	}
	p := tenant.CallPage{Calls: list}
	if len(list) > limit {
		p.Calls = list[:limit]
		last := p.Calls[limit-1]
		p.Next = callCursor(last.At, last.ID)
	}
	return p, nil
}

func callCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func parseCallCursor(s string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, err
	}
	a, i, ok := strings.Cut(string(b), ".")
	us, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(i, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, errors.New("malformed cursor")
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// CallBuckets returns tenant id's per-minute totals (every tool) from since
// until now, oldest first; minutes without calls are left out.
func (s *Store) CallBuckets(ctx context.Context, id string, since time.Time) ([]tenant.CallBucket, error) {
	rows, err := s.pool.Query(ctx, `SELECT start, sum(calls), sum(errors), sum(latency_sum_ms), max(latency_max_ms), sum(upstream_sum_ms)
		FROM call_minutes WHERE tenant_id = $1 AND start >= $2 GROUP BY start ORDER BY start`, id, since.Truncate(time.Minute))
	if err != nil {
		return nil, dbErr("call totals", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.CallBucket, error) {
		var b tenant.CallBucket
		err := row.Scan(&b.Start, &b.Calls, &b.Errors, &b.LatencySumMS, &b.LatencyMaxMS, &b.UpstreamSumMS)
		b.Start = b.Start.UTC()
		return b, err
	})
	return out, dbErr("call totals", err)
}

// Usage returns tenant id's calls from q.From to q.To per bucket and per
// tool, from the rollups (minute buckets from the per-minute rollup, hour
// and day buckets from the per-hour one).
func (s *Store) Usage(ctx context.Context, id string, q tenant.UsageQuery) (tenant.Usage, error) {
	span, ok := tenant.UsageBuckets[q.Bucket]
	if !ok {
		return tenant.Usage{}, &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "bucket", Problem: "must be minute, hour or day"}}}
	}
	from, to := q.From.UTC().Truncate(span), q.To.UTC()
	table := "call_hours"
	if span == time.Minute {
		table = "call_minutes"
	}
	args := []any{id, from, to}
	toolCond := ""
	if q.Tool != "" {
		args = append(args, q.Tool)
		toolCond = " AND tool = $4"
	}
	rows, err := s.pool.Query(ctx, `SELECT start, tool, calls, errors, bytes, latency_sum_ms, gateway_hist, upstream_hist
		FROM `+table+` WHERE tenant_id = $1 AND start >= $2 AND start < $3`+toolCond, args...)
	if err != nil {
		return tenant.Usage{}, dbErr("usage", err)
	}
	defer rows.Close()
	u := tenant.Usage{From: from, To: to, Bucket: q.Bucket, Buckets: []tenant.UsageStats{}, Tools: []tenant.UsageStats{}}
	byStart, byTool := map[int64]*tenant.UsageStats{}, map[string]*tenant.UsageStats{}
	var (
		start              time.Time
		tool               string
		calls, errs, bytes int64
		latency            float64
		gh, uh             pgtype.FlatArray[int64] // decoded without reflection per element
	)
	for rows.Next() {
		if err := rows.Scan(&start, &tool, &calls, &errs, &bytes, &latency, &gh, &uh); err != nil {
			return tenant.Usage{}, dbErr("usage", err)
		}
		b := start.UTC().Truncate(span)
		sb := byStart[b.Unix()]
		if sb == nil {
			sb = &tenant.UsageStats{Start: &b}
			byStart[b.Unix()] = sb
		}
		st := byTool[tool]
		if st == nil {
			st = &tenant.UsageStats{Tool: tool}
			byTool[tool] = st
		}
		for _, x := range []*tenant.UsageStats{sb, st, &u.Total} {
			x.Add(calls, errs, bytes, latency, tenant.Histogram(gh), tenant.Histogram(uh))
		}
	}
	if err := rows.Err(); err != nil {
		return tenant.Usage{}, dbErr("usage", err)
	}
	for _, b := range byStart {
		b.Finish()
		u.Buckets = append(u.Buckets, *b)
	}
	for _, t := range byTool {
		t.Finish()
		u.Tools = append(u.Tools, *t)
	}
	u.Total.Finish()
	slices.SortFunc(u.Buckets, func(a, b tenant.UsageStats) int { return a.Start.Compare(*b.Start) })
	slices.SortFunc(u.Tools, func(a, b tenant.UsageStats) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Tool, b.Tool))
	})
	return u, nil
}

// DailyUsage meters calls and upstream bytes per tenant per UTC day from
// from to to (exclusive), for billing; id "" means every tenant. The
// figures come from the rollups the history writes in the same transaction
// as the calls, so they are exact.
func (s *Store) DailyUsage(ctx context.Context, id string, from, to time.Time) ([]tenant.UsageDay, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, date_trunc('day', start AT TIME ZONE 'UTC') AS day,
			sum(calls), sum(errors), sum(bytes)
		FROM call_hours WHERE ($1 = '' OR tenant_id = $1) AND start >= $2 AND start < $3
		GROUP BY tenant_id, day ORDER BY day, tenant_id`, id, from.UTC().Truncate(24*time.Hour), to.UTC())
	if err != nil {
		return nil, dbErr("daily usage", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.UsageDay, error) {
		var d tenant.UsageDay
		var day time.Time
		err := row.Scan(&d.TenantID, &day, &d.Calls, &d.Errors, &d.UpstreamBytes)
		d.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		return d, err
	})
	return out, dbErr("daily usage", err)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// LeaseTokens takes up to want whole tokens from the shared bucket key
// (want < 0 gives -want back), refilled at lim by the database's clock.
func (s *Store) LeaseTokens(ctx context.Context, key string, lim tenant.RateLimit, want int) (int, float64, error) {
	var granted, level float64
	err := s.pool.QueryRow(ctx, `SELECT granted, level FROM rate_lease($1, $2, $3, $4)`,
		key, lim.PerSecond, float64(lim.BurstSize()), float64(want)).Scan(&granted, &level)
	if err != nil {
		return 0, 0, dbErr("lease rate limit tokens", err)
	}
	return int(granted), level, nil
}

// Heartbeat records that replica is alive and returns how many replicas
// were seen in the last 15 seconds; replicas silent for an hour are
// forgotten.
func (s *Store) Heartbeat(ctx context.Context, replica string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `WITH beat AS (
			INSERT INTO replicas (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now() RETURNING id
		), gone AS (DELETE FROM replicas WHERE seen_at < now() - interval '1 hour')
		SELECT count(*) + 1 FROM replicas WHERE seen_at > now() - interval '15 seconds' AND id <> $1`, replica).Scan(&n)
	return n, dbErr("replica heartbeat", err)
}
