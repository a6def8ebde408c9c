package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

func callAt(tenantID, tool string, at time.Time, isErr bool) tenant.CallRecord {
	r := tenant.CallRecord{TenantID: tenantID, At: at, Kind: "tool", Tool: tool, Status: "ok", UpstreamStatus: 200,
		LatencyMS: 12, UpstreamMS: 10, GatewayMS: 2, Bytes: 100, TokenID: "tok1"}
	if isErr {
		r.Status, r.IsError, r.UpstreamStatus, r.Error = "upstream_5xx", true, 502, "bad gateway"
	}
	return r
}

func TestCallHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := f.store.MaintainCallHistory(ctx, now, 7, 90); err != nil {
		t.Fatal(err)
	}
	var recs []tenant.CallRecord
	for i := range 25 {
		recs = append(recs, callAt("ta", fmt.Sprintf("tool%d", i%2), now.Add(-time.Duration(i)*time.Second), i%5 == 0))
	}
	recs = append(recs, callAt("tb", "tool0", now, false))
	// Two writes, as two replicas would: the rollups add up.
	if err := f.store.WriteCalls(ctx, recs[:10]); err != nil {
		t.Fatal(err)
	}
	if err := f.store.WriteCalls(ctx, recs[10:]); err != nil {
		t.Fatal(err)
	}

	// Pages of 10 with a cursor see every call of ta once, newest first.
	seen, cursor, pages := 0, "", 0
	var last time.Time
	for {
		p, err := f.store.Calls(ctx, "ta", tenant.CallFilter{Since: now.Add(-time.Hour), Limit: 10, After: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range p.Calls {
			if c.TenantID != "ta" || !last.IsZero() && c.At.After(last) {
				t.Fatalf("call %+v out of order or of another tenant", c)
			}
			last = c.At
		}
		seen += len(p.Calls)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if seen != 25 || pages != 3 {
		t.Errorf("paged %d calls in %d pages, want 25 in 3", seen, pages)
	}
	for _, tc := range []struct {
		name string
		f    tenant.CallFilter
		want int
	}{
		{"tool", tenant.CallFilter{Tool: "tool1"}, 12},
		{"errors", tenant.CallFilter{Status: "error"}, 5},
		{"status", tenant.CallFilter{Status: "upstream_5xx"}, 5},
		{"token", tenant.CallFilter{TokenID: "tok1"}, 25},
		{"other token", tenant.CallFilter{TokenID: "tok2"}, 0},
		{"range", tenant.CallFilter{Since: now.Add(-9500 * time.Millisecond), Until: now.Add(-4500 * time.Millisecond)}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.Since.IsZero() {
				tc.f.Since = now.Add(-time.Hour)
			}
			p, err := f.store.Calls(ctx, "ta", tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Calls) != tc.want {
				t.Errorf("%d calls, want %d", len(p.Calls), tc.want)
			}
		})
	}
	if _, err := f.store.Calls(ctx, "ta", tenant.CallFilter{After: "not-a-cursor"}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("bad cursor: %v, want ErrInvalid", err)
	}

	for _, bucket := range []string{"minute", "hour", "day"} {
		u, err := f.store.Usage(ctx, "ta", tenant.UsageQuery{From: now.Add(-time.Hour), To: now.Add(time.Minute), Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		if u.Total.Calls != 25 || u.Total.Errors != 5 || u.Total.Bytes != 2500 || len(u.Tools) != 2 {
			t.Errorf("%s: total %+v, %d tools; want 25 calls, 5 errors, 2500 bytes, 2 tools", bucket, u.Total, len(u.Tools))
		}
		var sum int64
		for _, b := range u.Buckets {
			sum += b.Calls
		}
		if sum != 25 {
			t.Errorf("%s: buckets sum to %d calls", bucket, sum)
		}
		if p := u.Total.Upstream.P50; p < 8.75 || p > 11.25 {
			t.Errorf("%s: upstream p50 %g, want about 10", bucket, p)
		}
	}
	days, err := f.store.DailyUsage(ctx, "", now.Add(-24*time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ta, tb int64
	for _, d := range days {
		switch d.TenantID {
		case "ta":
			ta += d.Calls
		case "tb":
			tb += d.Calls
		}
	}
	if ta != 25 || tb != 1 {
		t.Errorf("daily usage ta=%d tb=%d, want 25 and 1", ta, tb)
	}
	bs, err := f.store.CallBuckets(ctx, "ta", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range bs {
		n += b.Calls
	}
	if n != 25 {
		t.Errorf("minute buckets count %d calls, want 25", n)
	}
}

func TestCallHistoryRetentionDropsPartitions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	old := now.AddDate(0, 0, -10)
	// A write into a day with no partition creates it.
	if err := f.store.WriteCalls(ctx, []tenant.CallRecord{callAt("ta", "t", old, false), callAt("ta", "t", now, false)}); err != nil {
		t.Fatal(err)
	}
	count := func(table string) (n int) {
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("calls") != 2 {
		t.Fatalf("stored %d calls, want 2", count("calls"))
	}
	if err := f.store.MaintainCallHistory(ctx, now, 7, 90); err != nil {
		t.Fatal(err)
	}
	if c, m := count("calls"), count("call_minutes"); c != 1 || m != 2 {
		t.Errorf("after retention: %d calls, %d minute rollups; want 1 and 2", c, m)
	}
	var parts int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = $1`, "calls_"+old.Format("20060102")).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if parts != 0 {
		t.Error("the old day's partition of calls was not dropped")
	}
}
