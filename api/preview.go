package api

import (
	"context"
	"errors"
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
