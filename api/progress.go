package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// ProgressReader knows where each tenant's running activation or spec
// refresh stands (tenant.ProgressBoard, fed by every replica's reports).
type ProgressReader interface {
	Get(id string) (tenant.Progress, bool)
}

// handleProgress answers GET /tenants/{id}/progress: {"progress": {...}}
// while an activation or refresh runs and for a minute after it ended, else
// {"progress": null}. Clients poll it while their POST /activate or
// /spec/refresh is in flight, or to watch a scheduled refresh.
func handleProgress(store tenantGetter, board ProgressReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		if _, err := store.Tenant(ctx, id); err != nil {
			return explain(fmt.Errorf("progress of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		var out *tenant.Progress
		if board != nil {
			if p, ok := board.Get(id); ok {
				out = &p
			}
		}
		return c.JSON(http.StatusOK, map[string]any{"progress": out})
	}
}
