package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portico-mcp/portico/tenant"
)

// previewer converts a service's OpenAPI document without storing anything.
// *bridge.Runtime implements it; cmd wires it in.
type previewer interface {
	Preview(ctx context.Context, specURL string, s tenant.Settings) (*tenant.Preview, error)
}

type previewRequest struct {
	BaseURL  string           `json:"base_url"`
	SpecURL  string           `json:"spec_url"`
	Settings *tenant.Settings `json:"settings"`
}

func (r previewRequest) validate() error {
	var inv tenant.InvalidError
	if r.SpecURL == "" || r.BaseURL != "" {
		addProblems(&inv, tenant.ValidateHTTPURL("base_url", r.BaseURL))
	}
	if r.SpecURL != "" {
		addProblems(&inv, tenant.ValidateHTTPURL("spec_url", r.SpecURL))
	}
	if r.Settings != nil {
		addProblems(&inv, r.Settings.Validate())
	}
	return inv.Err()
}

// handlePreview shows what a service would become before anything is stored:
// the create-tenant wizard and the route-map editor call it. A document that
// cannot be fetched is a 502 and one that cannot be converted a 422, each
// with the reason, as activation would report them.
func handlePreview(pv previewer, check upstreamChecker, rec eventRecorder, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		if pv == nil {
			return &apiError{Status: http.StatusNotImplemented, Code: "not_implemented",
				Message: "this server cannot preview specs"}
		}
		var req previewRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(); err != nil {
			return err
		}
		// Refused here with 422 naming the field, as at registration, not
		// only by the guarded fetch as an unreachable document.
		if err := checkUpstreams(c, check, rec, log, "", map[string]*string{"base_url": &req.BaseURL, "spec_url": &req.SpecURL}); err != nil {
			return err
		}
		specURL := req.SpecURL
		if specURL == "" {
			specURL = tenant.DefaultSpecURL(req.BaseURL)
		}
		var s tenant.Settings
		if req.Settings != nil {
			s = *req.Settings
		}
		p, err := pv.Preview(c.Request().Context(), specURL, s)
		var ae *tenant.ActivationError
		if errors.As(err, &ae) {
			return &apiError{Status: activationStatus(ae), Code: ae.Code, Message: ae.Reason,
				Details: map[string]any{"field": ae.Field, "spec_url": specURL}, RetryAfter: 5}
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// toolPreviewer previews a tenant's own serving document under settings
// not yet saved, and shapes one tool's answer. *bridge.Runtime implements it.
type toolPreviewer interface {
	PreviewTenant(ctx context.Context, id string, req tenant.ToolPreviewRequest) (*tenant.ToolPreview, error)
}

type tenantPreviewRequest struct {
	Settings *tenant.Settings      `json:"settings"`
	Sample   *tenant.PreviewSample `json:"sample"`
	Call     *tenant.PreviewCall   `json:"call"`
}

// handleTenantPreview shows what tenant id's tools become under settings
// (the stored ones when the body has none) before they are saved: the
// dashboard's tool editor calls it as the admin types. It refuses what PUT
// /settings would refuse, with the same fields, and stores nothing; a call
// reaches the tenant's service for real.
func handleTenantPreview(store tenantGetter, pv toolPreviewer) echo.HandlerFunc {
	return func(c echo.Context) error {
		if pv == nil {
			return &apiError{Status: http.StatusNotImplemented, Code: "not_implemented",
				Message: "this server cannot preview tenants' tools"}
		}
		ctx, id := c.Request().Context(), c.Param("id")
		var req tenantPreviewRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		var inv tenant.InvalidError
		if req.Sample != nil && req.Call != nil {
			inv.Add("call", "give sample or call, not both")
		}
		if req.Settings != nil {
			addProblems(&inv, req.Settings.Validate())
		}
		if err := inv.Err(); err != nil {
			return err
		}
		t, err := store.Tenant(ctx, id)
		if err != nil {
			return explain(fmt.Errorf("get tenant %s: %w", id, err), tenant.ErrNotFound, "tenant %s was not found", id)
		}
		pr := tenant.ToolPreviewRequest{Settings: t.Settings, Sample: req.Sample, Call: req.Call}
		if req.Settings != nil {
			pr.Settings = *req.Settings
		}
		p, err := pv.PreviewTenant(ctx, id, pr)
		var ae *tenant.ActivationError
		switch {
		case errors.As(err, &ae):
			return &apiError{Status: activationStatus(ae), Code: ae.Code, Message: ae.Reason,
				Details: map[string]any{"field": ae.Field}, RetryAfter: 5}
		case errors.Is(err, tenant.ErrConflict):
			return &apiError{Status: http.StatusConflict, Code: "not_serving", Message: err.Error()}
		case err != nil:
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}
