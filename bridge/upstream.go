package bridge

import (
	"errors"
	"net/http"
	"time"

	"github.com/portico-mcp/portico/tenant"
)

// maxConcurrency is the tenant's own cap on concurrent upstream calls, or
// the operator's default.
func (r *Runtime) maxConcurrency(s tenant.Settings) int {
	if s.MaxConcurrency > 0 {
		return s.MaxConcurrency
	}
	return r.opts.MaxConcurrency
}

// upstreamClient is a tenant's own connection pool to its upstream: every
// dial goes through the guard, redirects included; no proxy from the
// environment (a proxy would dial on our behalf, past the guard).
func upstreamClient(g guard, conc int) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		DialContext:           g.dialContext(),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          conc,
		MaxIdleConnsPerHost:   conc,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}, tr
}

// checkRedirect bounds redirects and keeps credentials on their host: Go
// drops Authorization on a cross-host redirect but would forward a custom
// credential header (X-API-Key …), so a cross-host hop keeps only headers
// that carry nothing secret. Every hop dials through the guard again.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		for k := range req.Header {
			switch k {
			case "Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "User-Agent":
			default:
				req.Header.Del(k)
			}
		}
	}
	return nil
}
