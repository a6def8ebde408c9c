package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// tracker reports the phases of one activation or refresh to
// Config.Progress. It travels in the context (like net/http/httptrace), so
// the steps deep in buildState and convertSpec report without every
// signature carrying it; a nil tracker reports nothing.
type tracker struct {
	report func(tenant.Progress)
	p      tenant.Progress
}

type trackerKey struct{}

// track starts reporting work op on tenant id under ctx.
func (r *Runtime) track(ctx context.Context, id, op string) (context.Context, *tracker) {
	if r.opts.Progress == nil {
		return withTracker(ctx, nil), nil
	}
	now := time.Now()
	t := &tracker{report: r.opts.Progress, p: tenant.Progress{TenantID: id, Op: op, StartedAt: now, At: now}}
	return withTracker(ctx, t), t
}

// withTracker returns ctx carrying t (nil: report nothing below ctx).
func withTracker(ctx context.Context, t *tracker) context.Context {
	return context.WithValue(ctx, trackerKey{}, t)
}

func trackerFrom(ctx context.Context) *tracker {
	t, _ := ctx.Value(trackerKey{}).(*tracker)
	return t
}

// phase reports that phase ph begins.
func (t *tracker) phase(ph, detail string) {
	if t == nil {
		return
	}
	t.p.Phase, t.p.Detail, t.p.At = ph, detail, time.Now()
	t.p.Steps = append(t.p.Steps[:len(t.p.Steps):len(t.p.Steps)], tenant.ProgressStep{Phase: ph, Detail: detail, At: t.p.At})
	t.report(t.p)
}

// done reports the end of the work; err is its failure, if any.
func (t *tracker) done(err error, detail string) {
	if t == nil {
		return
	}
	t.p.Done, t.p.At = true, time.Now()
	if detail != "" {
		t.p.Detail = detail
	}
	if err != nil {
		t.p.Error = progressError(err)
	}
	t.report(t.p)
}

// progressError is the sentence a failure is shown with: the activation
// error's reason (written for people, never a secret), else a generic one.
func progressError(err error) string {
	var ae *tenant.ActivationError
	if errors.As(err, &ae) {
		return cut(ae.Reason, 500)
	}
	return "the work failed; see the answer of the request that started it"
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// sizeOf says how big a document is, for a phase's detail.
func sizeOf(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// auditableSpecURL is the spec URL without its query and user info, which
// may hold a key: progress is shown to everyone who can read the tenant.
func auditableSpecURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the spec URL"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
