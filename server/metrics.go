package server

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/portico-mcp/portico/errorbody"
)

// publicMetrics guards /metrics on the public port. Its series name every
// tenant and tool with their call counts, so it is not for anyone who can
// reach the port: it answers only a scraper that presents token as a bearer
// token, and with no token it is not served there at all (addr, when set, is
// the separate listener that serves it instead).
func publicMetrics(h http.Handler, token, addr string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			where := "set PORTICO_METRICS_ADDR to serve it on a separate, internal listener, or PORTICO_METRICS_TOKEN to read it here with a bearer token"
			if addr != "" {
				where = "it is served on the metrics listener (PORTICO_METRICS_ADDR)"
			}
			writeMetricsError(w, http.StatusNotFound, "not_found", "/metrics is not served on this port: "+where)
			return
		}
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portico-metrics"`)
			writeMetricsError(w, http.StatusUnauthorized, "unauthorized", "/metrics needs Authorization: Bearer <PORTICO_METRICS_TOKEN>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeMetricsError(w http.ResponseWriter, status int, code, msg string) {
	errorbody.Write(w, status, code, msg, nil)
}

// listenMetrics opens the separate metrics listener when PORTICO_METRICS_ADDR
// names one.
func (a *Server) listenMetrics() error {
	if a.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on PORTICO_METRICS_ADDR %s: %w", a.cfg.MetricsAddr, err)
	}
	a.metricsLn = ln
	return nil
}
