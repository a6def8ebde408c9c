package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

type pinger interface {
	Ping(ctx context.Context) error
}

// handleHealthz says the process is alive; it checks nothing else so a
// database outage never gets the pod restarted.
func handleHealthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz takes the replica out of rotation while ready fails. The
// cause is logged, not returned: probes are unauthenticated.
func handleReadyz(ready func(context.Context) error, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := ready(c.Request().Context()); err != nil {
			log.Warn("not ready", "err", err)
			return &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "not ready to serve"}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	}
}
