package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type toolLister interface {
	Tools(ctx context.Context, id string) ([]tenant.Tool, error)
}

type auditReader interface {
	AuditPage(ctx context.Context, q tenant.AuditQuery) ([]tenant.AuditEntry, error)
	ActorNames(ctx context.Context, entries []tenant.AuditEntry) (map[string]string, error)
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

// operatorLog picks the operator's audit log: events that belong to no tenant.
func operatorLog(echo.Context) string { return "" }

// handleAuditList serves one audit log, newest first, a page at a time:
// ?limit=, ?action= (exact, or a prefix ending in "."), ?since= (RFC 3339)
// and ?cursor= (the next_cursor of the previous page). logOf picks the log:
// the tenant in the path, or "" for the operator log.
func handleAuditList(store auditReader, logOf func(echo.Context) string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := logOf(c)
		q := tenant.AuditQuery{TenantID: id, Limit: defaultAuditLimit, Action: c.QueryParam("action"), Actor: c.QueryParam("actor")}
		var inv tenant.InvalidError
		if s := c.QueryParam("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxAuditLimit {
				inv.Add("limit", fmt.Sprintf("must be an integer between 1 and %d", maxAuditLimit))
			}
			q.Limit = n
		}
		if s := c.QueryParam("cursor"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 {
				inv.Add("cursor", "must be the next_cursor of a previous page")
			}
			q.Before = n
		}
		if s := c.QueryParam("since"); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				inv.Add("since", "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			q.Since = t
		}
		if len(q.Action) > 100 {
			inv.Add("action", "must be at most 100 characters")
		}
		if len(q.Actor) > 200 {
			inv.Add("actor", "must be at most 200 characters")
		} else if q.Actor != "" && !validActor(q.Actor) {
			inv.Add("actor", `must be an actor of the log, such as "user:ID", "apikey:ID", "system" or "oauth:CLIENT" (the actor field of an entry)`)
		}
		if err := inv.Err(); err != nil {
			return err
		}
		entries, err := store.AuditPage(c.Request().Context(), q)
		if err != nil {
			return explain(fmt.Errorf("read audit log %q: %w", id, err),
				tenant.ErrNotFound, "tenant %s was not found", id)
		}
		names, err := store.ActorNames(c.Request().Context(), entries)
		if err != nil {
			return fmt.Errorf("name audit actors of %q: %w", id, err)
		}
		for i := range entries {
			entries[i].ActorName = names[entries[i].Actor]
		}
		out := map[string]any{"audit": nonNil(entries)}
		if len(entries) == q.Limit {
			out["next_cursor"] = strconv.FormatInt(entries[len(entries)-1].ID, 10)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// validActor reports whether s looks like an audit actor: one to two
// "kind:id" parts joined by "/", or a bare word such as "system".
func validActor(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":-_.@+", r)) {
				return false
			}
		}
	}
	return true
}
