package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// Calls is the fleet-wide call history in Postgres: every replica's tool
// calls and resource reads, and the per-minute and per-hour rollups written
// with them (tenant.Store; cmd wraps it to flush this replica's buffer
// before a read, so a caller sees its own calls at once).
type Calls interface {
	Calls(ctx context.Context, id string, f tenant.CallFilter) (tenant.CallPage, error)
	CallBuckets(ctx context.Context, id string, since time.Time) ([]tenant.CallBucket, error)
	Usage(ctx context.Context, id string, q tenant.UsageQuery) (tenant.Usage, error)
	DailyUsage(ctx context.Context, id string, from, to time.Time) ([]tenant.UsageDay, error)
}

var _ Calls = (*pgstore.Store)(nil)

const (
	defaultCallLimit = 200
	maxCallLimit     = 1000
	// maxDailyUsageRange bounds one metering query.
	maxDailyUsageRange = 400 * 24 * time.Hour
)

// timeRange reads the from and to query parameters (RFC 3339; since and
// until are accepted as their older names), defaulting to the last def up
// to now, and checks from < to and that the range is at most maxRange.
func timeRange(c echo.Context, def, maxRange time.Duration, problems *[]tenant.FieldProblem) (from, to time.Time) {
	now := time.Now().UTC()
	to, from = now, now.Add(-def)
	parse := func(names ...string) (time.Time, bool) {
		for _, n := range names {
			if s := c.QueryParam(n); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					*problems = append(*problems, tenant.FieldProblem{Field: n, Problem: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"})
					return time.Time{}, false
				}
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	if t, ok := parse("to", "until"); ok {
		to = t
		from = to.Add(-def)
	}
	if t, ok := parse("from", "since"); ok {
		from = t
	}
	switch {
	case !from.Before(to):
		*problems = append(*problems, tenant.FieldProblem{Field: "from", Problem: "must be before to"})
	case maxRange > 0 && to.Sub(from) > maxRange:
		*problems = append(*problems, tenant.FieldProblem{Field: "from", Problem: fmt.Sprintf("the range from..to is at most %s; ask for a shorter range or a larger bucket", maxRange)})
	}
	return from, to
}

// handleCallList answers GET /tenants/{id}/calls: one page of calls of
// every replica (newest first, filtered by tool, status, token and time
// range, with a cursor to the next page), the per-minute series and a
// summary of the range (default the last 24 h).
func handleCallList(store tenantGetter, calls Calls) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		f := tenant.CallFilter{Tool: c.QueryParam("tool"), Status: c.QueryParam("status"), TokenID: c.QueryParam("token"),
			Limit: defaultCallLimit, After: c.QueryParam("cursor")}
		var problems []tenant.FieldProblem
		if s := c.QueryParam("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxCallLimit {
				problems = append(problems, tenant.FieldProblem{Field: "limit", Problem: fmt.Sprintf("must be an integer between 1 and %d", maxCallLimit)})
			}
			f.Limit = n
		}
		f.Since, f.Until = timeRange(c, 24*time.Hour, 0, &problems)
		if len(problems) > 0 {
			return &tenant.InvalidError{Problems: problems}
		}
		if _, err := store.Tenant(ctx, id); err != nil {
			return explain(fmt.Errorf("calls of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		page, buckets := tenant.CallPage{Calls: []tenant.CallRecord{}}, []tenant.CallBucket{}
		if calls != nil {
			var err error
			if page, err = calls.Calls(ctx, id, f); err != nil {
				return fmt.Errorf("calls of tenant %s: %w", id, err)
			}
			if buckets, err = calls.CallBuckets(ctx, id, f.Since); err != nil {
				return fmt.Errorf("call totals of tenant %s: %w", id, err)
			}
		}
		// The per-minute series and its summary cover from..to, as the
		// page does (CallBuckets reads from since onwards).
		inRange := buckets[:0]
		sum := callSummary{}
		for _, b := range buckets {
			if !b.Start.Before(f.Until) {
				continue
			}
			inRange = append(inRange, b)
			sum.Calls += b.Calls
			sum.Errors += b.Errors
		}
		buckets = inRange
		if sum.Calls > 0 {
			sum.ErrorRate = float64(sum.Errors) / float64(sum.Calls)
		}
		return c.JSON(http.StatusOK, map[string]any{
			"calls": page.Calls, "next_cursor": page.Next, "buckets": buckets, "summary": sum,
			"bucket_seconds": 60, "scope": "fleet",
		})
	}
}

type callSummary struct {
	Calls     int     `json:"calls"`
	Errors    int     `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
}

// handleUsage answers GET /tenants/{id}/usage: calls, errors, upstream
// bytes and Portico and upstream latency percentiles per bucket and per
// tool from the fleet's rollups; format=csv gives the buckets as CSV.
func handleUsage(store tenantGetter, calls Calls) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		var problems []tenant.FieldProblem
		q := tenant.UsageQuery{Bucket: c.QueryParam("bucket"), Tool: c.QueryParam("tool")}
		if q.Bucket == "" {
			q.Bucket = "hour"
		}
		span, ok := tenant.UsageBuckets[q.Bucket]
		if !ok {
			problems = append(problems, tenant.FieldProblem{Field: "bucket", Problem: "must be minute, hour or day"})
			span = time.Hour
		}
		q.From, q.To = timeRange(c, 24*time.Hour, span*tenant.MaxUsageBuckets, &problems)
		format, err := csvFormat(c)
		if err != nil {
			problems = append(problems, *err)
		}
		if len(problems) > 0 {
			return &tenant.InvalidError{Problems: problems}
		}
		if _, err := store.Tenant(ctx, id); err != nil {
			return explain(fmt.Errorf("usage of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		u := tenant.Usage{From: q.From, To: q.To, Bucket: q.Bucket, Buckets: []tenant.UsageStats{}, Tools: []tenant.UsageStats{}}
		if calls != nil {
			var err error
			if u, err = calls.Usage(ctx, id, q); err != nil {
				return fmt.Errorf("usage of tenant %s: %w", id, err)
			}
		}
		if !format {
			return c.JSON(http.StatusOK, u)
		}
		rows := [][]string{{"start", "calls", "errors", "upstream_bytes", "portico_p50_ms", "portico_p95_ms", "portico_p99_ms", "upstream_p50_ms", "upstream_p95_ms", "upstream_p99_ms"}}
		for _, b := range u.Buckets {
			rows = append(rows, []string{b.Start.Format(time.RFC3339), i64(b.Calls), i64(b.Errors), i64(b.Bytes),
				f64(b.Portico.P50), f64(b.Portico.P95), f64(b.Portico.P99), f64(b.Upstream.P50), f64(b.Upstream.P95), f64(b.Upstream.P99)})
		}
		return writeCSV(c, fmt.Sprintf("usage-%s-%s.csv", id, q.Bucket), rows)
	}
}

// handleDailyUsage answers GET /usage (operators) and serves metering: calls,
// errors and upstream bytes per tenant per UTC day, exact, as JSON or CSV.
// tenant narrows it to one tenant.
func handleDailyUsage(calls Calls) echo.HandlerFunc {
	return func(c echo.Context) error {
		var problems []tenant.FieldProblem
		from, to := timeRange(c, 30*24*time.Hour, maxDailyUsageRange, &problems)
		format, err := csvFormat(c)
		if err != nil {
			problems = append(problems, *err)
		}
		if len(problems) > 0 {
			return &tenant.InvalidError{Problems: problems}
		}
		days := []tenant.UsageDay{}
		if calls != nil {
			var err error
			if days, err = calls.DailyUsage(c.Request().Context(), c.QueryParam("tenant"), from, to); err != nil {
				return fmt.Errorf("daily usage: %w", err)
			}
		}
		if !format {
			return c.JSON(http.StatusOK, map[string]any{"from": from, "to": to, "days": days})
		}
		rows := [][]string{{"day", "tenant_id", "calls", "errors", "upstream_bytes"}}
		for _, d := range days {
			rows = append(rows, []string{d.Day.Format(time.DateOnly), d.TenantID, i64(d.Calls), i64(d.Errors), i64(d.UpstreamBytes)})
		}
		return writeCSV(c, "usage.csv", rows)
	}
}

// csvFormat reads format=json|csv (default json).
func csvFormat(c echo.Context) (bool, *tenant.FieldProblem) {
	switch c.QueryParam("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, &tenant.FieldProblem{Field: "format", Problem: "must be json or csv"}
}

func writeCSV(c echo.Context, name string, rows [][]string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	for _, r := range rows {
		for i, f := range r {
			r[i] = csvSafe(f)
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// csvSafe defuses a field a spreadsheet would run as a formula (a tenant id
// or tool name is chosen by users).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

func i64(n int64) string   { return strconv.FormatInt(n, 10) }
func f64(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
