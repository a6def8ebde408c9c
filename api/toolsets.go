package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
	"github.com/portico-mcp/portico/tenant/pgstore"
)

// toolsetStore is what the toolset routes need from tenant.Store.
type toolsetStore interface {
	CreateToolset(ctx context.Context, tenantID string, ts tenant.Toolset, actor string) (tenant.Toolset, error)
	UpdateToolset(ctx context.Context, tenantID, name string, ts tenant.Toolset, actor string) (tenant.Toolset, error)
	DeleteToolset(ctx context.Context, tenantID, name, actor string) error
	Toolsets(ctx context.Context, tenantID string) ([]tenant.Toolset, error)
	Toolset(ctx context.Context, tenantID, name string) (tenant.Toolset, error)
}

var _ toolsetStore = (*pgstore.Store)(nil)

// toolsetRuntime checks a toolset against the serving document and lists
// what a toolset serves.
type toolsetRuntime interface {
	// CheckToolset refuses tools and tags the tenant's serving document
	// does not have, as a *tenant.InvalidError naming each; nil when the
	// tenant serves nothing to check against.
	CheckToolset(id string, ts tenant.Toolset) error
	// ToolsetTools lists what toolset name of an active tenant serves;
	// tenant.ErrNotFound when the tenant is not active here.
	ToolsetTools(ctx context.Context, id, name string) ([]tenant.Tool, error)
	// PreviewToolset lists what ts would serve, unsaved; tenant.ErrNotFound
	// when the tenant is not active here.
	PreviewToolset(ctx context.Context, id string, ts tenant.Toolset) ([]tenant.Tool, error)
}

// toolsetRequest is the body of POST and PUT: a toolset without its times.
type toolsetRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tools       []string `json:"tools"`
	Tags        []string `json:"tags"`
	ReadOnly    bool     `json:"read_only"`
}

func (r toolsetRequest) toolset() tenant.Toolset {
	return tenant.Toolset{Name: r.Name, Description: r.Description, Tools: nonNil(r.Tools), Tags: nonNil(r.Tags), ReadOnly: r.ReadOnly}
}

// toolsetView is a toolset as the API shows it: with the URL agents
// connect to and, when the tenant is active, the names of what it serves.
type toolsetView struct {
	tenant.Toolset
	MCPURL string `json:"mcp_url"`
	// Serves names the tools, resources and templates the toolset serves
	// now; absent when the tenant is not active.
	Serves []string `json:"serves,omitempty"`
}

// toolsetViewOf is saved toolset ts as the API shows it, with what the
// runtime serves for it.
func toolsetViewOf(c echo.Context, rt toolsetRuntime, baseURL, id string, ts tenant.Toolset) toolsetView {
	tools, err := rt.ToolsetTools(c.Request().Context(), id, ts.Name)
	return viewWith(c, baseURL, id, ts, tools, err)
}

// viewWith is ts as the API shows it, serving tools (none known on err).
func viewWith(c echo.Context, baseURL, id string, ts tenant.Toolset, tools []tenant.Tool, err error) toolsetView {
	if baseURL == "" {
		baseURL = c.Scheme() + "://" + c.Request().Host
	}
	return toolsetView{Toolset: ts, MCPURL: baseURL + "/t/" + url.PathEscape(id) + "/mcp/" + url.PathEscape(ts.Name), Serves: namesOf(tools, err)}
}

// namesOf is the names of tools, nil when they could not be listed (the
// tenant is not active here).
func namesOf(tools []tenant.Tool, err error) []string {
	if err != nil {
		return nil
	}
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	return names
}

// checkToolset validates ts's shape, then its tools and tags against the
// serving document: every problem at once, each naming its field.
func checkToolset(rt toolsetRuntime, id string, ts tenant.Toolset) error {
	var inv tenant.InvalidError
	addProblems(&inv, ts.Validate())
	if len(inv.Problems) == 0 {
		addProblems(&inv, rt.CheckToolset(id, ts))
	}
	return inv.Err()
}

// dryRun answers ?dry_run=true: the toolset as it would be saved, with
// what it would serve, storing nothing (the dashboard's live preview).
func dryRun(c echo.Context, rt toolsetRuntime, baseURL, id string, ts tenant.Toolset) error {
	tools, err := rt.PreviewToolset(c.Request().Context(), id, ts)
	return c.JSON(http.StatusOK, viewWith(c, baseURL, id, ts, tools, err))
}

// handleToolsetCreate stores a new toolset and reloads the tenant, so the
// toolset's URL serves at once here (other replicas follow the change
// notification).
func handleToolsetCreate(store toolsetStore, rt Runtime, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req toolsetRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		ts := req.toolset()
		if err := checkToolset(rt, id, ts); err != nil {
			return err
		}
		if c.QueryParam("dry_run") == "true" {
			return dryRun(c, rt, baseURL, id, ts)
		}
		ts, err := store.CreateToolset(c.Request().Context(), id, ts, actor(c))
		if err != nil {
			return explain(fmt.Errorf("create toolset of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("toolset %s of tenant %s saved; reload: %w", ts.Name, id, err)
		}
		return c.JSON(http.StatusCreated, toolsetViewOf(c, rt, baseURL, id, ts))
	}
}

func handleToolsetList(store toolsetStore, rt Runtime, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		list, err := store.Toolsets(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("list toolsets of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		out := make([]toolsetView, len(list))
		for i, ts := range list {
			out[i] = toolsetViewOf(c, rt, baseURL, id, ts)
		}
		return c.JSON(http.StatusOK, map[string]any{"toolsets": out})
	}
}

func handleToolsetGet(store toolsetStore, rt Runtime, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		ts, err := store.Toolset(c.Request().Context(), id, name)
		if err != nil {
			return explain(fmt.Errorf("get toolset %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "toolset %s of tenant %s was not found", name, id)
		}
		return c.JSON(http.StatusOK, toolsetViewOf(c, rt, baseURL, id, ts))
	}
}

// handleToolsetPut replaces a toolset whole; a body naming another name
// renames it (its URL changes; restricted tokens and attached prompts
// follow). An empty name in the body keeps the path's.
func handleToolsetPut(store toolsetStore, rt Runtime, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		var req toolsetRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if req.Name == "" {
			req.Name = name
		}
		ts := req.toolset()
		if err := checkToolset(rt, id, ts); err != nil {
			return err
		}
		if c.QueryParam("dry_run") == "true" {
			return dryRun(c, rt, baseURL, id, ts)
		}
		ts, err := store.UpdateToolset(c.Request().Context(), id, name, ts, actor(c))
		if err != nil {
			return explain(fmt.Errorf("update toolset %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "toolset %s of tenant %s was not found; create it with POST /api/v1/tenants/%s/toolsets", name, id, id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("toolset %s of tenant %s saved; reload: %w", ts.Name, id, err)
		}
		return c.JSON(http.StatusOK, toolsetViewOf(c, rt, baseURL, id, ts))
	}
}

func handleToolsetDelete(store toolsetStore, rt reloader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, name := c.Param("id"), c.Param("name")
		err := store.DeleteToolset(c.Request().Context(), id, name, actor(c))
		var inUse *tenant.ToolsetInUseError
		if errors.As(err, &inUse) {
			return &apiError{Status: http.StatusConflict, Code: "toolset_in_use", Message: inUse.Error(),
				Details: map[string]any{"tokens": inUse.Tokens}}
		}
		if err != nil {
			return explain(fmt.Errorf("delete toolset %s of tenant %s: %w", name, id, err), tenant.ErrNotFound, "toolset %s of tenant %s was not found", name, id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("toolset %s of tenant %s deleted; reload: %w", name, id, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
