package bridge

import (
	"net/http"
	"time"
)

// GuardedClient returns an HTTP client for fetches Portico makes on a
// stranger's say-so (an OAuth client's metadata document URL, say): every
// dial, redirects included, goes through the same guard as upstream calls,
// so internal addresses are refused unless PORTICO_ALLOW_UPSTREAM_CIDRS
// allows them. No proxy from the environment is used.
func (r *Runtime) GuardedClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         r.guard.dialContext(),
			TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConns:        4,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}
