package bridge

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

// restoreStore is a fake store of many active tenants, each serving
// specs[id] (one version), recording the statuses Restore sets.
type restoreStore struct {
	*fakeStore
	ids    []string
	specs  map[string]tenant.SpecVersion
	mu     sync.Mutex
	status map[string]tenant.Status
}

func (s *restoreStore) Tenants(context.Context, tenant.TenantFilter) ([]*tenant.Tenant, error) {
	var ts []*tenant.Tenant
	for _, id := range s.ids {
		ts = append(ts, &tenant.Tenant{ID: id, Name: id, BaseURL: "http://127.0.0.1:1", SpecURL: "http://127.0.0.1:1/" + id, Status: tenant.StatusActive})
	}
	return ts, nil
}

func (s *restoreStore) SpecStatus(_ context.Context, id string) (tenant.SpecStatus, error) {
	return tenant.SpecStatus{TenantID: id, NewestVersion: 1, ServingVersion: 1}, nil
}

func (s *restoreStore) Spec(_ context.Context, id string, _ int) (tenant.SpecVersion, error) {
	return s.specs[id], nil
}

func (s *restoreStore) SetStatus(_ context.Context, id string, to tenant.Status, _, _ string) (*tenant.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[id] = to
	return &tenant.Tenant{ID: id, Status: to}, nil
}

// TestRestoreSharesConversions restores tenants on the worker pool: tenants
// serving the same document (same SHA-256 and settings) share one
// conversion, every good tenant serves its own tools, and a tenant whose
// document does not convert is marked failed without stopping the others.
func TestRestoreSharesConversions(t *testing.T) {
	const other = `{"openapi":"3.1.0","info":{"title":"other","version":"1"},"paths":{"/ping":{"get":{"operationId":"ping","responses":{"200":{"description":"ok"}}}}}}`
	s := &restoreStore{fakeStore: &fakeStore{}, specs: map[string]tenant.SpecVersion{}, status: map[string]tenant.Status{}}
	for i := range 40 {
		id := fmt.Sprintf("t%02d", i)
		s.ids = append(s.ids, id)
		switch {
		case i == 7:
			s.specs[id] = tenant.SpecVersion{Version: 1, SHA256: "bad", Raw: []byte(`{"openapi":"3.1.0","paths":`)}
		case i%2 == 0:
			s.specs[id] = tenant.SpecVersion{Version: 1, SHA256: "fast", Raw: []byte(fastSpec)}
		default:
			s.specs[id] = tenant.SpecVersion{Version: 1, SHA256: "other", Raw: []byte(other)}
		}
	}
	r := New(s, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer r.Shutdown(context.Background())
	if err := r.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := r.ActiveCount(); got != 39 {
		t.Errorf("active tenants: %d, want 39", got)
	}
	if s.status["t07"] != tenant.StatusFailed || len(s.status) != 1 {
		t.Errorf("statuses set: %v, want only t07 failed", s.status)
	}
	// One conversion per distinct document; the bad one is converted by
	// its only tenant.
	if got := r.converted.Load(); got != 3 {
		t.Errorf("conversions: %d, want 3", got)
	}
	for _, id := range s.ids {
		if id == "t07" {
			continue
		}
		tools, err := r.Tools(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := "get_r"
		if s.specs[id].SHA256 == "other" {
			want = "ping"
		}
		if len(tools) == 0 || tools[0].Name != want {
			t.Errorf("tenant %s serves %v, want %s first", id, tools, want)
		}
	}
	if r.share.Load() != nil {
		t.Error("conversions are still shared after Restore returned")
	}
}

// TestSpecReportReusesConversion: the report of the version a tenant serves
// comes from the conversion that built it (activation answers with it), so
// asking for it converts nothing; with other conversion settings than the
// served ones it converts again, so it is never stale.
func TestSpecReportReusesConversion(t *testing.T) {
	settings := tenant.Settings{}
	s := &restoreStore{fakeStore: &fakeStore{}, ids: []string{"t1"}, status: map[string]tenant.Status{},
		specs: map[string]tenant.SpecVersion{"t1": {Version: 1, SHA256: "fast", Raw: []byte(fastSpec)}}}
	s.tenantFn = func(context.Context, string) (*tenant.Tenant, error) {
		return &tenant.Tenant{ID: "t1", SpecURL: "http://127.0.0.1:1/t1", Status: tenant.StatusActive, Settings: settings}, nil
	}
	r := New(s, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer r.Shutdown(context.Background())
	if err := r.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := r.converted.Load()
	rep, err := r.SpecReport(context.Background(), "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.converted.Load() - before; got != 0 {
		t.Errorf("report of the serving version converted %d times, want 0", got)
	}
	if rep.SpecVersion != 1 || rep.Tools == 0 || rep.Seen != rep.Operations+len(rep.Excluded) {
		t.Errorf("report = %+v", rep)
	}
	// Settings changed in the store, not yet applied: convert afresh.
	settings.RouteMaps = []tenant.RouteMap{{Pattern: ".*", MCPType: tenant.KindExclude}}
	rep2, err := r.SpecReport(context.Background(), "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.converted.Load() - before; got != 1 {
		t.Errorf("report under new settings converted %d times, want 1", got)
	}
	if rep2.Tools != 0 || len(rep2.Excluded) != rep.Operations {
		t.Errorf("report under an exclude-all route map = %+v", rep2)
	}
}
