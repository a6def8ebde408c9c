package api

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

type tenantCreator interface {
	CreateTenant(ctx context.Context, t *tenant.Tenant, actor string) error
}

type tenantGetter interface {
	Tenant(ctx context.Context, id string) (*tenant.Tenant, error)
}

type tenantLister interface {
	Tenants(ctx context.Context, f tenant.TenantFilter) ([]*tenant.Tenant, error)
}

type tenantUpdater interface {
	UpdateTenant(ctx context.Context, id string, p tenant.TenantPatch, actor string) (*tenant.Tenant, error)
}

type tenantDeleter interface {
	DeleteTenant(ctx context.Context, id, actor string) error
}

// tenantGetDeleter is what DELETE needs: the status decides whether the
// runtime must drain the tenant before its rows go.
type tenantGetDeleter interface {
	tenantGetter
	tenantDeleter
}

type activator interface {
	Activate(ctx context.Context, id, actor string) (*tenant.Tenant, error)
}

type deactivator interface {
	Deactivate(ctx context.Context, id, actor string) (*tenant.Tenant, error)
}

type reloader interface {
	Reload(ctx context.Context, id string) error
	// CheckSettings refuses settings that cannot apply to the tenant's
	// serving document (a per-operation key that names no operation), as a
	// *tenant.InvalidError naming each key; nil when they can, or when the
	// tenant serves nothing to check against.
	CheckSettings(id string, s tenant.Settings) error
}

// tenantView is a tenant as the API shows it: with the URL agents connect to.
type tenantView struct {
	*tenant.Tenant
	MCPURL string `json:"mcp_url"`
}

// view adds mcp_url. baseURL empty means "as this request reached us".
func view(c echo.Context, baseURL string, t *tenant.Tenant) tenantView {
	if baseURL == "" {
		baseURL = c.Scheme() + "://" + c.Request().Host
	}
	return tenantView{Tenant: t, MCPURL: baseURL + "/t/" + url.PathEscape(t.ID) + "/mcp"}
}

const maxNameLen = 200

func checkName(inv *tenant.InvalidError, field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		inv.Add(field, "is required")
	case utf8.RuneCountInString(name) > maxNameLen:
		inv.Add(field, fmt.Sprintf("must be at most %d characters", maxNameLen))
	}
}

// addProblems folds the problems of a validator's error into inv.
func addProblems(inv *tenant.InvalidError, err error) {
	if e, ok := err.(*tenant.InvalidError); ok {
		inv.Problems = append(inv.Problems, e.Problems...)
	}
}

type tenantCreateRequest struct {
	Name     string           `json:"name"`
	BaseURL  string           `json:"base_url"`
	SpecURL  string           `json:"spec_url"`
	Settings *tenant.Settings `json:"settings"`
}

func (r tenantCreateRequest) validate() error {
	var inv tenant.InvalidError
	checkName(&inv, "name", r.Name)
	addProblems(&inv, tenant.ValidateHTTPURL("base_url", r.BaseURL))
	if r.SpecURL != "" {
		addProblems(&inv, tenant.ValidateHTTPURL("spec_url", r.SpecURL))
	}
	if r.Settings != nil {
		addProblems(&inv, r.Settings.Validate())
	}
	return inv.Err()
}

// upstreamChecker vets a tenant's URLs before they are stored; nil skips it.
type upstreamChecker func(ctx context.Context, rawURL string) error

// checkUpstreams refuses URLs whose host is an internal address, naming the
// field, and audits the attempt: registering a URL that points into
// Portico's own network is how SSRF starts.
func checkUpstreams(c echo.Context, check upstreamChecker, rec eventRecorder, log *slog.Logger, tenantID string, fields map[string]*string) error {
	if check == nil {
		return nil
	}
	var inv tenant.InvalidError
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		u := fields[f]
		if u == nil || *u == "" {
			continue
		}
		if err := check(c.Request().Context(), *u); err != nil {
			inv.Add(f, "points to an address upstream calls may not reach: "+err.Error())
			securityEvent(c.Request().Context(), rec, log, tenantID, actor(c), "security.upstream_refused",
				map[string]any{"field": f, "url": auditableURL(*u)})
		}
	}
	return inv.Err()
}

// auditableURL drops a URL's query, which may hold a key.
func auditableURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

type tenantCreatorStore interface {
	tenantCreator
	memberManager
	eventRecorder
}

// handleTenantCreate registers a service. Operators create tenants for
// anyone; a signed-in user (or user key) creates one and becomes its owner;
// tenant keys cannot create tenants.
func handleTenantCreate(store tenantCreatorStore, check upstreamChecker, log *slog.Logger, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := caller(c)
		if !p.operator() && p.user.ID == "" {
			return forbidden("creating tenants needs an admin API key, an operator or a signed-in user; tenant keys manage only their own tenant")
		}
		var req tenantCreateRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		if err := checkUpstreams(c, check, store, log, "", map[string]*string{"base_url": &req.BaseURL, "spec_url": &req.SpecURL}); err != nil {
			return err
		}
		t := &tenant.Tenant{Name: req.Name, BaseURL: req.BaseURL, SpecURL: req.SpecURL}
		if t.SpecURL == "" {
			t.SpecURL = tenant.DefaultSpecURL(t.BaseURL)
		}
		if req.Settings != nil {
			t.Settings = *req.Settings
		}
		if err := store.CreateTenant(c.Request().Context(), t, actor(c)); err != nil {
			return explain(fmt.Errorf("create tenant: %w", err), tenant.ErrConflict,
				"a tenant named %q already exists", req.Name)
		}
		if p.user.ID != "" && !p.user.Operator {
			if _, err := store.PutMember(c.Request().Context(), t.ID, p.user.ID, tenant.RoleOwner, actor(c)); err != nil {
				return fmt.Errorf("tenant %s created; make its creator owner: %w", t.ID, err)
			}
		}
		return c.JSON(http.StatusCreated, view(c, baseURL, t))
	}
}

type tenantListerStore interface {
	tenantLister
	membershipLister
}

func handleTenantList(store tenantListerStore, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var f tenant.TenantFilter
		if s := c.QueryParam("status"); s != "" {
			f.Status = tenant.Status(s)
			if !f.Status.Valid() {
				return &tenant.InvalidError{Problems: []tenant.FieldProblem{{Field: "status",
					Problem: "must be one of pending, active, inactive, failed, suspended"}}}
			}
		}
		switch p := caller(c); {
		case p.operator():
		case p.key.TenantID != "":
			f.IDs = []string{p.key.TenantID}
		default:
			ms, err := store.Memberships(c.Request().Context(), p.user.ID)
			if err != nil {
				return fmt.Errorf("list tenants: %w", err)
			}
			f.IDs = []string{} // non-nil: no memberships means no tenants, not all of them
			for _, m := range ms {
				f.IDs = append(f.IDs, m.TenantID)
			}
		}
		ts, err := store.Tenants(c.Request().Context(), f)
		if err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
		views := make([]tenantView, 0, len(ts))
		for _, t := range ts {
			views = append(views, view(c, baseURL, t))
		}
		return c.JSON(http.StatusOK, map[string]any{"tenants": views})
	}
}

func handleTenantGet(store tenantGetter, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		t, err := store.Tenant(c.Request().Context(), id)
		if err != nil {
			return explain(fmt.Errorf("get tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, view(c, baseURL, t))
	}
}

// tenantPatchRequest mirrors tenant.TenantPatch with JSON names; absent or
// null fields are left unchanged.
type tenantPatchRequest struct {
	Name     *string          `json:"name"`
	BaseURL  *string          `json:"base_url"`
	SpecURL  *string          `json:"spec_url"`
	Settings *tenant.Settings `json:"settings"`
}

func (r tenantPatchRequest) validate() error {
	var inv tenant.InvalidError
	if r.Name == nil && r.BaseURL == nil && r.SpecURL == nil && r.Settings == nil {
		inv.Add("body", "must set at least one of name, base_url, spec_url, settings")
	}
	if r.Name != nil {
		checkName(&inv, "name", *r.Name)
	}
	if r.BaseURL != nil {
		addProblems(&inv, tenant.ValidateHTTPURL("base_url", *r.BaseURL))
	}
	if r.SpecURL != nil {
		addProblems(&inv, tenant.ValidateHTTPURL("spec_url", *r.SpecURL))
	}
	if r.Settings != nil {
		addProblems(&inv, r.Settings.Validate())
	}
	return inv.Err()
}

// handleTenantUpdate reloads an active tenant after an upstream or settings
// change so it takes effect without a deactivate/activate round trip.
func handleTenantUpdate(store interface {
	tenantUpdater
	eventRecorder
}, rt reloader, check upstreamChecker, log *slog.Logger, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var req tenantPatchRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		if err := checkUpstreams(c, check, store, log, id, map[string]*string{"base_url": req.BaseURL, "spec_url": req.SpecURL}); err != nil {
			return err
		}
		if req.Settings != nil && req.SpecURL == nil {
			if err := rt.CheckSettings(id, *req.Settings); err != nil {
				return err
			}
		}
		p := tenant.TenantPatch{Name: req.Name, BaseURL: req.BaseURL, SpecURL: req.SpecURL, Settings: req.Settings}
		t, err := store.UpdateTenant(c.Request().Context(), id, p, actor(c))
		if err != nil {
			err = explain(fmt.Errorf("update tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
			return explain(err, tenant.ErrConflict, "another tenant already uses that name")
		}
		if req.BaseURL != nil || req.SpecURL != nil || req.Settings != nil {
			if err := rt.Reload(c.Request().Context(), id); err != nil {
				return fmt.Errorf("tenant %s updated; reload: %w", id, err)
			}
		}
		return c.JSON(http.StatusOK, view(c, baseURL, t))
	}
}

func handleSettingsPut(store tenantUpdater, rt reloader, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var s tenant.Settings
		if err := decodeJSON(c, &s); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return err
		}
		if err := rt.CheckSettings(id, s); err != nil {
			return err
		}
		t, err := store.UpdateTenant(c.Request().Context(), id, tenant.TenantPatch{Settings: &s}, actor(c))
		if err != nil {
			return explain(fmt.Errorf("replace settings of tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		if err := rt.Reload(c.Request().Context(), id); err != nil {
			return fmt.Errorf("settings of tenant %s saved; reload: %w", id, err)
		}
		return c.JSON(http.StatusOK, view(c, baseURL, t))
	}
}

// handleTenantDelete drains an active tenant before deleting it, so no MCP
// call is left running against a tenant whose credentials are gone.
func handleTenantDelete(store tenantGetDeleter, rt deactivator) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		t, err := store.Tenant(ctx, id)
		if err != nil {
			return explain(fmt.Errorf("get tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		if t.Status == tenant.StatusActive {
			if _, err := rt.Deactivate(ctx, id, actor(c)); err != nil {
				return fmt.Errorf("deactivate tenant %s before delete: %w", id, err)
			}
		}
		if err := store.DeleteTenant(ctx, id, actor(c)); err != nil {
			return explain(fmt.Errorf("delete tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// activatedView is an activated tenant with the conformance report of the
// spec it now serves, so whoever registers a service sees at once what
// the conversion made of it.
type activatedView struct {
	tenantView
	ReportSummary string             `json:"report_summary,omitempty"`
	Report        *tenant.SpecReport `json:"report,omitempty"`
}

func handleTenantActivate(rt activator, baseURL string, sp Spec) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		t, err := rt.Activate(c.Request().Context(), id, actor(c))
		if err != nil {
			return explain(fmt.Errorf("activate tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		out := activatedView{tenantView: view(c, baseURL, t)}
		if sp != nil {
			// The tenant is active whatever happens here; a report that
			// cannot be built is left out, GET /spec/report says why.
			if rep, err := sp.SpecReport(c.Request().Context(), id); err == nil {
				out.Report, out.ReportSummary = &rep, rep.Summary()
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}

func handleTenantDeactivate(rt deactivator, baseURL string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		t, err := rt.Deactivate(c.Request().Context(), id, actor(c))
		if err != nil {
			return explain(fmt.Errorf("deactivate tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		return c.JSON(http.StatusOK, view(c, baseURL, t))
	}
}
