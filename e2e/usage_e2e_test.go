package e2e

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestUsageAndMetering: after real tool calls, /usage gives per-bucket and
// per-tool figures and CSV, /usage (operators) meters per tenant per day,
// bad input gets 422 naming the field, and a tenant key can neither read
// the operator's metering nor another tenant's usage.
func TestUsageAndMetering(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	p := startPortico(t, dbURL)
	fastapi := startFastAPI(t)
	id, mcpURL, token := p.register(t, "metered", fastapi.url)
	other, _, _ := p.register(t, "other", fastapi.url)
	waitTools(t, "the tenant", mcpURL, token, toolsV1)
	const n = 7
	for range n {
		if _, err := callDirect(&http.Client{Timeout: 30 * time.Second}, mcpURL, token); err != nil {
			t.Fatal(err)
		}
	}
	admin := bearer("admin", p.adminKey)
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	var u struct {
		Buckets []struct{ Calls int64 }
		Tools   []struct {
			Tool          string
			Calls         int64
			UpstreamBytes int64                      `json:"upstream_bytes"`
			PorticoMS     struct{ P50, P99 float64 } `json:"portico_ms"`
			UpstreamMS    struct{ P50 float64 }      `json:"upstream_ms"`
		}
		Total struct{ Calls int64 }
	}
	p.do(t, "GET", "/api/v1/tenants/"+id+"/usage?"+url.Values{"from": {from}, "bucket": {"minute"}}.Encode(), nil, 200, &u)
	if u.Total.Calls != n || len(u.Tools) != 1 || u.Tools[0].Tool != "whoami_whoami_get" || u.Tools[0].Calls != n ||
		u.Tools[0].UpstreamBytes == 0 || u.Tools[0].UpstreamMS.P50 <= 0 || u.Tools[0].PorticoMS.P99 < u.Tools[0].PorticoMS.P50 {
		t.Fatalf("usage = %+v, want %d calls of whoami_whoami_get with bytes and latencies", u, n)
	}

	status, body, h := p.send(t, admin, "GET", "/api/v1/tenants/"+id+"/usage?"+url.Values{"from": {from}, "bucket": {"day"}, "format": {"csv"}}.Encode(), nil)
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || err != nil || len(rows) != 2 || rows[0][0] != "start" || rows[1][1] != "7" {
		t.Fatalf("usage CSV: %d %s %v\n%s", status, h.Get("Content-Type"), err, body)
	}

	var days struct {
		Days []struct {
			TenantID string `json:"tenant_id"`
			Calls    int64
		}
	}
	p.do(t, "GET", "/api/v1/usage", nil, 200, &days)
	if len(days.Days) != 1 || days.Days[0].TenantID != id || days.Days[0].Calls != n {
		t.Fatalf("daily usage = %+v, want %d calls of %s", days, n, id)
	}
	status, body, _ = p.send(t, admin, "GET", "/api/v1/usage?format=csv", nil)
	if status != 200 || !strings.Contains(string(body), "day,tenant_id,calls,errors,upstream_bytes\n") || !strings.Contains(string(body), ","+id+",7,") {
		t.Fatalf("daily usage CSV: %d\n%s", status, body)
	}

	for _, bad := range []struct{ query, field string }{
		{"bucket=week", "bucket"},
		{"from=yesterday", "from"},
		{"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"},
		{"bucket=minute&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z", "from"},
		{"format=xml", "format"},
	} {
		status, body, _ := p.send(t, admin, "GET", "/api/v1/tenants/"+id+"/usage?"+bad.query, nil)
		if status != 422 || !strings.Contains(string(body), `"field":"`+bad.field+`"`) {
			t.Errorf("usage?%s: %d %s, want 422 naming %s", bad.query, status, body, bad.field)
		}
	}
	// /calls: the page, the per-minute series and the summary all keep to
	// from..to; a range that ends before the calls holds none of them.
	type callsPage struct {
		Calls   []struct{ Tool string }
		Buckets []struct{ Calls int64 }
		Summary struct{ Calls int64 }
	}
	var all, before callsPage
	p.do(t, "GET", "/api/v1/tenants/"+id+"/calls?"+url.Values{"from": {from}}.Encode(), nil, 200, &all)
	var series int64
	for _, b := range all.Buckets {
		series += b.Calls
	}
	if len(all.Calls) != n || all.Summary.Calls != n || series != n {
		t.Errorf("calls from an hour ago: %d calls, summary %d, series %d; want %d each", len(all.Calls), all.Summary.Calls, series, n)
	}
	early := time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	p.do(t, "GET", "/api/v1/tenants/"+id+"/calls?"+url.Values{"from": {from}, "to": {early}}.Encode(), nil, 200, &before)
	if len(before.Calls) != 0 || before.Summary.Calls != 0 || len(before.Buckets) != 0 {
		t.Errorf("calls in a range that ends before them: %+v, want none", before)
	}
	if status, body, _ := p.send(t, admin, "GET", "/api/v1/tenants/"+id+"/calls?cursor=bogus", nil); status != 422 || !strings.Contains(string(body), `"field":"cursor"`) {
		t.Errorf("calls with a bad cursor: %d %s", status, body)
	}

	var key struct{ Secret string }
	p.do(t, "POST", "/api/v1/tenants/"+id+"/api-keys", map[string]any{"name": "reader", "scopes": []string{"read"}}, 201, &key)
	tenantKey := bearer("tenant key", key.Secret)
	if status, _, _ := p.send(t, tenantKey, "GET", "/api/v1/tenants/"+id+"/usage", nil); status != 200 {
		t.Errorf("a tenant key reading its own usage: %d", status)
	}
	for _, path := range []string{"/api/v1/usage", "/api/v1/usage?tenant=" + id, "/api/v1/tenants/" + other + "/usage", "/api/v1/tenants/" + other + "/calls"} {
		if status, body, _ := p.send(t, tenantKey, "GET", path, nil); status != 403 && status != 404 {
			t.Errorf("a tenant key at %s: %d %s, want 403 or 404", path, status, body)
		}
	}
}
