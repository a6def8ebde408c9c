package bridge

import (
	"context"
	"fmt"

	"github.com/portico-mcp/portico/tenant"
)

// SpecReport returns the conformance report of tenant id's spec: the
// version this replica serves, else the pinned or newest stored one,
// converted with the tenant's current settings. The serving version's
// report is the one its conversion produced (so activation, which answers
// with it, converts once); any other converts again (a second or two for
// the largest documents).
func (r *Runtime) SpecReport(ctx context.Context, id string) (tenant.SpecReport, error) {
	t, err := r.store.Tenant(ctx, id)
	if err != nil {
		return tenant.SpecReport{}, err
	}
	st, err := r.store.SpecStatus(ctx, id)
	if err != nil {
		return tenant.SpecReport{}, err
	}
	v := st.ServingVersion
	if l := r.lookup(id); l != nil {
		if s := l.state.Load(); s != nil && s.spec.Version > 0 {
			v = s.spec.Version
			if s.report != nil && s.convKey == convKey(s.spec.SHA256, t.Settings) {
				return tenant.SpecReport{SpecVersion: v, ConversionReport: *s.report}, nil
			}
		}
	}
	if v == 0 {
		return tenant.SpecReport{}, fmt.Errorf("tenant %s has no stored spec yet; activate it or refresh its spec: %w", id, tenant.ErrNotFound)
	}
	sv, err := r.store.Spec(ctx, id, v)
	if err != nil {
		return tenant.SpecReport{}, err
	}
	c, err := r.convertSpec(ctx, sv.Raw, t)
	if err != nil {
		return tenant.SpecReport{}, err
	}
	return tenant.SpecReport{SpecVersion: v, ConversionReport: c.Report}, nil
}
