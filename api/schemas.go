package api

import (
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// handleSchema serves the JSON Schemas cmd publishes (portico.yaml.json,
// the configuration-as-code file). Like the OpenAPI document it is public:
// editors fetch it to validate a file, and it holds no data.
func handleSchema(schemas map[string][]byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		b, ok := schemas[name]
		if !ok {
			names := slices.Sorted(maps.Keys(schemas))
			return &apiError{Status: http.StatusNotFound, Code: "not_found",
				Message: "no schema is published under " + name, Details: map[string]any{"schemas": names}}
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "application/schema+json", b)
	}
}
