package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// promptStore is what the prompt routes need from tenant.Store.
type promptStore interface {
	CreatePrompt(ctx context.Context, tenantID string, p tenant.Prompt, actor string) (tenant.Prompt, error)
	UpdatePrompt(ctx context.Context, tenantID, name string, p tenant.Prompt, actor string) (tenant.Prompt, error)
	DeletePrompt(ctx context.Context, tenantID, name, actor string) error
	Prompts(ctx context.Context, tenantID string) ([]tenant.Prompt, error)
	Prompt(ctx context.Context, tenantID, name string) (tenant.Prompt, error)
	CheckToolsets(ctx context.Context, tenantID string, names []string) error
}

var _ promptStore = (*pgstore.Store)(nil)

// promptRequest is the body of POST and PUT: a prompt without its times.
type promptRequest struct {
	Name        string                  `json:"name"`
	Title       string                  `json:"title"`
	Description string                  `json:"description"`
	Arguments   []tenant.PromptArgument `json:"arguments"`
	Messages    []tenant.PromptMessage  `json:"messages"`
	Toolsets    []string                `json:"toolsets"`
}

func (r promptRequest) prompt() tenant.Prompt {
	return tenant.Prompt{Name: r.Name, Title: r.Title, Description: r.Description, Arguments: nonNil(r.Arguments), Messages: r.Messages, Toolsets: r.Toolsets}
}

// handlePromptCreate stores a new prompt and reloads the tenant, so its
// sessions here hear prompts/list_changed at once (other replicas follow
// the change notification).
func handlePromptCreate(store promptStore, rt reloader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req promptRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p := req.prompt()
		if err := p.Validate(); err != nil {
			return err
		}
		if c.QueryParam("dry_run") == "true" {
			return promptDryRun(c, store, id, p)
		}
		p, err := store.CreatePrompt(c.Request().Context(), id, p, actor(c))
		if err != nil {
			return explain(fmt.Errorf("create prompt of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("prompt %s of tenant %s saved; reload: %w", p.Name, id, err)
		}
		return c.JSON(http.StatusCreated, p)
	}
}

// promptDryRun answers ?dry_run=true: the prompt as it would be saved,
// checked as a save would check it (its toolsets must exist), storing
// nothing: the dashboard's editor checks as the user types.
func promptDryRun(c echo.Context, store promptStore, id string, p tenant.Prompt) error {
	if err := store.CheckToolsets(c.Request().Context(), id, p.Toolsets); err != nil {
		return explain(fmt.Errorf("check prompt of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
	}
	return c.JSON(http.StatusOK, p)
}

func handlePromptList(store promptStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		ps, err := store.Prompts(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list prompts of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, map[string]any{"prompts": nonNil(ps)})
	}
}

func handlePromptGet(store promptStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		p, err := store.Prompt(c.Request().Context(), id, name)
		if err != nil {
			return explain(fmt.Errorf("get prompt %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "prompt %s of tenant %s was not found", name, id)
		}
		return c.JSON(http.StatusOK, p)
	}
}

// handlePromptPut replaces a prompt whole; a body naming another name
// renames it. An empty name in the body keeps the path's.
func handlePromptPut(store promptStore, rt reloader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		var req promptRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if req.Name == "" {
			req.Name = name
		}
		p := req.prompt()
		if err := p.Validate(); err != nil {
			return err
		}
		if c.QueryParam("dry_run") == "true" {
			return promptDryRun(c, store, id, p)
		}
		p, err := store.UpdatePrompt(c.Request().Context(), id, name, p, actor(c))
		if err != nil {
			return explain(fmt.Errorf("update prompt %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "prompt %s of tenant %s was not found; create it with POST /api/v1/tenants/%s/prompts", name, id, id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("prompt %s of tenant %s saved; reload: %w", p.Name, id, err)
		}
		return c.JSON(http.StatusOK, p)
	}
}

func handlePromptDelete(store promptStore, rt reloader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		if err := store.DeletePrompt(c.Request().Context(), id, name, actor(c)); err != nil {
			return explain(fmt.Errorf("delete prompt %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "prompt %s of tenant %s was not found", name, id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("prompt %s of tenant %s deleted; reload: %w", name, id, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
