package main

import (
	"context"
	"fmt"
	"strconv"
)

// callPath measures tools/call through Portico and through the minimal
// go-sdk server against the same request sent directly, at each concurrency,
// interleaved so the three share the machine's state of the moment.
func callPath(ctx context.Context, o options, rep *report) error {
	up, err := startUpstream()
	if err != nil {
		return err
	}
	defer up.close()
	minStateless, err := startMinimal(up.url, true)
	if err != nil {
		return err
	}
	defer minStateless.close()
	minSession, err := startMinimal(up.url, false)
	if err != nil {
		return err
	}
	defer minSession.close()
	p, err := startPortico(ctx, o.db)
	if err != nil {
		return err
	}
	defer p.close()
	id, token, err := p.addTenant(ctx, "bench", up.url)
	if err != nil {
		return err
	}
	tool, err := p.toolName(ctx, id)
	if err != nil {
		return err
	}
	args := func(n int) string { return `{"item_id":` + strconv.Itoa(42+n%1000) + `,"q":"bench"}` }
	targets := []target{
		directTarget(up.url + "/items/"),
		mcpTarget("minimal go-sdk", "stateless", minStateless.url, "", "read_item", args),
		mcpTarget("minimal go-sdk", "session", minSession.url, "", "read_item", args),
		mcpTarget("portico", "stateless", p.endpoint(id), token, tool, args),
	}
	for _, c := range o.concs {
		var rs []result
		for _, tg := range targets {
			conns := up.conns.Load()
			r, err := runLoad(ctx, "call path", tg, c, o.warm, o.duration)
			if err != nil {
				return err
			}
			rs = append(rs, r)
			fmt.Fprintf(o.stderr, "call path c=%-3d %-15s %-9s %8.0f/s p50 %.3f ms p99 %.3f ms p99.9 %.3f ms cpu %.0f us/call allocs %.0f (%.1f KB)/call errors %d; upstream connections opened %d %s\n",
				c, r.Target, r.Mode, r.RPS, r.P50ms, r.P99ms, r.P999ms, r.CPUusPerCall, r.AllocsPerCall, r.AllocKBPerCall, r.Errors, up.conns.Load()-conns, r.FirstError)
		}
		rep.addCalls(relate(rs))
	}
	return nil
}

// relate fills each run's ratios against the direct run and the minimal
// server's run of the same mode at the same concurrency.
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
		} else if m := minimal["stateless"]; r.Target == "portico" && m != nil && m.RPS > 0 {
			r.RatioVsMinimal = r.RPS / m.RPS
		}
	}
	return rs
}
