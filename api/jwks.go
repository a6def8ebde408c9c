package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleJWKS serves the public keys of the identity assertions upstream
// calls carry (RFC 7517). Verifiers may cache it for five minutes: a new
// key is published longer than that before it signs.
func handleJWKS(keys func(ctx context.Context) ([]json.RawMessage, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		ks, err := keys(c.Request().Context())
		if err != nil {
			return fmt.Errorf("list identity keys: %w", err)
		}
		if ks == nil {
			ks = []json.RawMessage{}
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		return c.JSON(http.StatusOK, map[string]any{"keys": ks})
	}
}
