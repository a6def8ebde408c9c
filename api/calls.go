package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// Calls is the data plane's record of recent tool calls: the last calls of
// each tenant and per-minute aggregates of the last 24 hours. It is kept in
// memory by each replica for the calls it served (cmd wires the bridge's
// call log in).
type Calls interface {
	RecentCalls(id string, f tenant.CallFilter) []tenant.CallRecord
	CallStats(id string, since time.Time) []tenant.CallBucket
}

const (
	defaultCallLimit = 200
	maxCallLimit     = 1000
)

// handleCallList answers GET /tenants/{id}/calls: recent calls (newest
// first, filtered by tool and status), the per-minute series and a 24 h
// summary.
func handleCallList(store tenantGetter, calls Calls) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		f := tenant.CallFilter{Tool: c.QueryParam("tool"), Status: c.QueryParam("status"), Limit: defaultCallLimit}
		var problems []tenant.FieldProblem
		if s := c.QueryParam("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxCallLimit {
				problems = append(problems, tenant.FieldProblem{Field: "limit", Problem: fmt.Sprintf("must be an integer between 1 and %d", maxCallLimit)})
			}
			f.Limit = n
		}
		since := time.Now().Add(-24 * time.Hour)
		if s := c.QueryParam("since"); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				problems = append(problems, tenant.FieldProblem{Field: "since", Problem: "must be an RFC 3339 time such as 2026-01-02T15:04:05Z"})
			}
			if t.After(since) {
				since = t
			}
		}
		if len(problems) > 0 {
			return &tenant.InvalidError{Problems: problems}
		}
		f.Since = since
		if _, err := store.Tenant(ctx, id); err != nil {
			return explain(fmt.Errorf("calls of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		list, buckets := []tenant.CallRecord{}, []tenant.CallBucket{}
		if calls != nil {
			list, buckets = calls.RecentCalls(id, f), calls.CallStats(id, since)
		}
		sum := callSummary{}
		for _, b := range buckets {
			sum.Calls += b.Calls
			sum.Errors += b.Errors
		}
		if sum.Calls > 0 {
			sum.ErrorRate = float64(sum.Errors) / float64(sum.Calls)
		}
		return c.JSON(http.StatusOK, map[string]any{
			"calls": list, "buckets": buckets, "summary": sum,
			"bucket_seconds": 60, "scope": "replica",
		})
	}
}

type callSummary struct {
	Calls     int     `json:"calls"`
	Errors    int     `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
}
