package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

type pinger interface {
	Ping(ctx context.Context) error
}

// ReadyCheck is one named condition of readiness. Its error text is shown to
// unauthenticated probes, so it must say what is wrong without internals
// (no addresses, no credentials).
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// handleHealthz says the process is alive; it checks nothing else so a
// database outage never gets the pod restarted.
func handleHealthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz takes the replica out of rotation while a check fails and
// says which one and why. ?exclude=NAME (repeatable) skips a check: a
// Kubernetes readiness probe may exclude "database" so replicas keep serving
// MCP from memory through a Postgres outage.
func handleReadyz(checks []ReadyCheck, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		excluded := map[string]bool{}
		for _, v := range c.QueryParams()["exclude"] {
			for _, name := range strings.Split(v, ",") {
				excluded[strings.TrimSpace(name)] = true
			}
		}
		states := map[string]string{}
		var failed []string
		for _, ch := range checks {
			if excluded[ch.Name] {
				states[ch.Name] = "excluded"
				continue
			}
			if err := ch.Check(c.Request().Context()); err != nil {
				states[ch.Name] = err.Error()
				failed = append(failed, ch.Name+": "+err.Error())
				continue
			}
			states[ch.Name] = "ok"
		}
		if len(failed) > 0 {
			log.Warn("not ready", "failed", failed)
			return &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready",
				Message: "not ready: " + strings.Join(failed, "; "),
				Details: map[string]any{"checks": states}}
		}
		return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": states})
	}
}
