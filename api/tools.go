package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type toolLister interface {
	Tools(ctx context.Context, id string) ([]tenant.Tool, error)
}

type auditReader interface {
	Audit(ctx context.Context, tenantID string, limit int) ([]tenant.AuditEntry, error)
}

// handleToolList shows what agents see right now. The runtime only knows
// active tenants, so its not-found means "not active", and we say so.
func handleToolList(rt toolLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		tools, err := rt.Tools(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list tools of tenant %s: %w", id, err), tenant.ErrNotFound,
				"tenant %s is not active (or does not exist); activate it to list its tools", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"tools": nonNil(tools)})
	}
}

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

func handleAuditList(store auditReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		limit := defaultAuditLimit
		if s := c.QueryParam("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxAuditLimit {
				return &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "limit",
					Problem: fmt.Sprintf("must be an integer between 1 and %d", maxAuditLimit)}}}
			}
			limit = n
		}
		entries, err := store.Audit(c.Request().Context(), id, limit)
		if err != nil {
			return explain(fmt.Errorf("read audit of tenant %s: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"audit": nonNil(entries)})
	}
}
