package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// realFastAPI runs the end-to-end test's FastAPI app under uvicorn and
// measures the same call directly and through Portico. Reported, not a
// target: a single uvicorn worker is the bottleneck.
func realFastAPI(ctx context.Context, o options, rep *report) error {
	if err := exec.Command(o.python, "-c", "import fastapi, uvicorn").Run(); err != nil {
		fmt.Fprintln(o.stderr, "real FastAPI: skipping:", o.python, "lacks fastapi/uvicorn (apt-get install -y python3-fastapi python3-uvicorn)")
		rep.fastapiSkipped = o.python + " lacks fastapi/uvicorn"
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.CommandContext(ctx, o.python, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--log-level", "warning")
	cmd.Dir = "e2e/testdata"
	cmd.Env = append(os.Environ(), "E2E_SECRET=bench", "E2E_MARKER_DIR="+os.TempDir())
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/openapi.json")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 200 {
			return fmt.Errorf("uvicorn did not start (run from the repository root): %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, err := startPorticoChild(ctx, o, "portico-fastapi", []childTenant{{Name: "fastapi", BaseURL: base, SpecURL: base + "/openapi.json"}})
	if err != nil {
		return err
	}
	defer p.close()
	t := p.Tenants[0]
	args := func(n int) string { return `{"user_id":` + strconv.Itoa(n%1000) + `}` }
	pt := mcpTarget("portico", "stateless", t.Endpoint, t.Token, "get_user_users", args)
	// uvicorn is measured as the upstream of both (its CPU, not its allocations).
	uvicorn := &child{name: "uvicorn", cmd: cmd}
	pt.server, pt.upstream = p.child, uvicorn
	direct := directTarget(base + "/users/")
	direct.upstream = uvicorn
	targets := []target{direct, pt}
	for _, c := range []int{1, 16} {
		var rs []result
		for _, tg := range targets {
			r, err := runLoad(ctx, "real FastAPI", tg, c, o.warm, o.duration, "")
			if err != nil {
				return err
			}
			rs = append(rs, r)
			fmt.Fprintf(o.stderr, "real FastAPI c=%-3d %-8s %7.0f/s p50 %.3f ms p99 %.3f ms errors %d %s\n", c, r.Target, r.RPS, r.P50ms, r.P99ms, r.Errors, r.FirstError)
		}
		rep.addFastAPI(relate(rs))
	}
	return nil
}
