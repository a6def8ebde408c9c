package openapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

func TestConvertRejectsNonOpenAPI(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"spaces", "  \n"},
		{"html", "<html><body>Not Found</body></html>"},
		{"json without version", `{"info":{"title":"x"},"paths":{}}`},
		{"plain text", "hello world"},
		{"json array", `[1,2,3]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv, err := Convert([]byte(tt.in), Options{})
			if err == nil {
				t.Fatalf("Convert succeeded with %d operations; want an error", len(conv.Operations))
			}
			if !errors.Is(err, ErrNotOpenAPI) {
				t.Errorf("error %q does not match ErrNotOpenAPI", err)
			}
			if !strings.HasPrefix(err.Error(), "not an OpenAPI document: ") {
				t.Errorf("error %q does not start with %q", err, "not an OpenAPI document: ")
			}
		})
	}
}

func TestConvertRejectsBadRouteMaps(t *testing.T) {
	spec := []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}`)
	tests := []struct {
		name string
		rm   tenant.RouteMap
		want string
	}{
		{"bad pattern", tenant.RouteMap{Pattern: "([", MCPType: tenant.KindTool}, "route_maps[0].pattern"},
		{"bad type", tenant.RouteMap{MCPType: "prompt"}, "route_maps[0].mcp_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert(spec, Options{RouteMaps: []tenant.RouteMap{tt.rm}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestConvertEmptyPaths(t *testing.T) {
	conv, err := Convert([]byte("openapi: 3.0.0\ninfo: {title: Empty, version: '0'}\npaths: {}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Operations) != 0 || conv.Title != "Empty" {
		t.Errorf("got %d operations, title %q", len(conv.Operations), conv.Title)
	}
}
