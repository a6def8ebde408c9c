package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// callPath measures tools/call through Portico (session-less, session and
// 2026-07-28 clients) and through the minimal go-sdk server (stateless and
// session) against the same request sent directly, at each concurrency,
// interleaved so they share the machine's state of the moment. The
// upstream, Portico and each minimal server run as processes of their own.
func callPath(ctx context.Context, o options, rep *report) error {
	up, err := startChild(ctx, o, "upstream", "upstream", childConfig{})
	if err != nil {
		return err
	}
	defer up.close()
	minStateless, err := startChild(ctx, o, "minimal-stateless", "minimal", childConfig{Upstream: up.URL, Stateless: true})
	if err != nil {
		return err
	}
	defer minStateless.close()
	minSession, err := startChild(ctx, o, "minimal-session", "minimal", childConfig{Upstream: up.URL})
	if err != nil {
		return err
	}
	defer minSession.close()
	p, err := startPorticoChild(ctx, o, "portico", []childTenant{{Name: "bench", BaseURL: up.URL, SpecURL: up.URL + "/openapi.json"}})
	if err != nil {
		return err
	}
	defer p.close()
	t := p.Tenants[0]
	args := func(n int) string { return `{"item_id":` + strconv.Itoa(42+n%1000) + `,"q":"bench"}` }
	with := func(tg target, server *child) target { tg.server, tg.upstream = server, up; return tg }
	targets := []target{
		with(directTarget(up.URL+"/items/"), nil),
		with(mcpTarget("minimal go-sdk", "stateless", minStateless.URL, "", "read_item", args), minStateless),
		with(mcpTarget("minimal go-sdk", "session", minSession.URL, "", "read_item", args), minSession),
		with(mcpTarget("portico", "stateless", t.Endpoint, t.Token, t.Tool, args), p.child),
		with(mcpTarget("portico", "session", t.Endpoint, t.Token, t.Tool, args), p.child),
		with(mcpTarget("portico", version20260728, t.Endpoint, t.Token, t.Tool, args), p.child),
	}
	fmt.Fprintf(o.stderr, "call path: servers' logs in %s\n", o.logDir)
	for _, c := range o.concs {
		var rs []result
		for _, tg := range targets {
			st0, _ := up.stats(ctx)
			prof := ""
			if o.profileDir != "" && tg.name == "portico" && c == o.concs[len(o.concs)-1] {
				prof = filepath.Join(o.profileDir, fmt.Sprintf("portico-%s-c%d.pprof", tg.mode, c))
			}
			r, err := runLoad(ctx, "call path", tg, c, o.warm, o.duration, prof)
			if err != nil {
				return err
			}
			st1, _ := up.stats(ctx)
			rs = append(rs, r)
			fmt.Fprintf(o.stderr, "call path c=%-3d %-15s %-10s %8.0f/s p50 %.3f ms p99 %.3f ms p99.9 %.3f ms cpu µs/call server %.0f upstream %.0f load gen %.0f; server allocs %.0f (%.1f KB)/call errors %d; upstream connections opened %d %s\n",
				c, r.Target, r.Mode, r.RPS, r.P50ms, r.P99ms, r.P999ms, r.ServerCPUus, r.UpstreamCPUus, r.LoadGenCPUus, r.AllocsPerCall, r.AllocKBPerCall, r.Errors, st1.Conns-st0.Conns, r.FirstError)
		}
		rep.addCalls(relate(rs))
	}
	return nil
}

// relate fills each run's ratios against the direct run and the minimal
// server's run of the same mode at the same concurrency (2026-07-28, which
// the minimal server is not measured at, against its stateless run).
func relate(rs []result) []result {
	var direct *result
	minimal := map[string]*result{}
	for i := range rs {
		switch rs[i].Target {
		case "direct":
			direct = &rs[i]
		case "minimal go-sdk":
			minimal[rs[i].Mode] = &rs[i]
		}
	}
	for i := range rs {
		r := &rs[i]
		if direct == nil || r == direct {
			continue
		}
		r.RatioVsDirect = r.RPS / direct.RPS
		r.AddedP50ms = r.P50ms - direct.P50ms
		r.AddedCPUusPerCl = r.CPUusPerCall - direct.CPUusPerCall
		if m := minimal[r.Mode]; m != nil && m != r && m.RPS > 0 {
			r.RatioVsMinimal = r.RPS / m.RPS
		} else if m := minimal["stateless"]; r.Target != "minimal go-sdk" && m != nil && m.RPS > 0 {
			r.RatioVsMinimal = r.RPS / m.RPS
		}
	}
	return rs
}
