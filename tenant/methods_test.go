package tenant

import (
	"strings"
	"testing"
)

// TestQueryOperationsAreSettable: the converter turns QUERY operations into
// tools, so settings may name them as route-map methods and keys.
func TestQueryOperationsAreSettable(t *testing.T) {
	s := Settings{
		RouteMaps:  []RouteMap{{Methods: []string{"query", "GET"}, Pattern: "^/search", MCPType: KindTool}},
		TimeoutsMS: map[string]int{"QUERY /search": 500},
	}
	if err := s.Validate(); err != nil {
		t.Errorf("QUERY refused: %v", err)
	}
	err := Settings{RouteMaps: []RouteMap{{Methods: []string{"FETCH"}, MCPType: KindTool}}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "QUERY") {
		t.Errorf("bad method error %v should list the methods, QUERY included", err)
	}
}
