package openapi

import (
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
)

func TestCheckSettingKeys(t *testing.T) {
	keys := []string{"list_items", "GET /items", "get_item", "GET /items/{id}", "wipe", "DELETE /admin"}
	ok := tenant.Settings{
		Names:      map[string]string{"list_items": "items", "get /items/{id}": "item"},
		URIs:       map[string]string{"wipe": "x://y"}, // an excluded operation may be named too
		TimeoutsMS: map[string]int{"DELETE /admin": 10},
	}
	if err := CheckSettingKeys(keys, ok); err != nil {
		t.Errorf("matching keys refused: %v", err)
	}
	err := CheckSettingKeys(keys, tenant.Settings{
		Names:      map[string]string{"list_itmes": "x", "zzzzzzzzzz": "y"},
		TimeoutsMS: map[string]int{"GET /item/{id}": 5},
	})
	got := err.Error()
	for _, want := range []string{
		`settings.names["list_itmes"] matches no operation`, `did you mean "list_items"?`,
		`settings.names["zzzzzzzzzz"] matches no operation of the tenant's document: key it by an operationId or "METHOD /path";`,
		`settings.timeouts_ms["GET /item/{id}"]`, `did you mean "GET /items/{id}"?`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q does not say %q", got, want)
		}
	}
}

// TestConvertWarnsOfUnmatchedKeys: a conversion with a names or uris key
// that matches no operation says so in its report.
func TestConvertWarnsOfUnmatchedKeys(t *testing.T) {
	spec := `{"openapi":"3.0.2","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"operationId":"get_a","responses":{"200":{"description":"ok"}}}}}}`
	conv, err := Convert([]byte(spec), Options{Names: map[string]string{"get_b": "b"}, URIs: map[string]string{"GET /a": "x://a"}})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(conv.Report.Warnings, "\n")
	if !strings.Contains(w, `settings.names["get_b"] matches no operation`) || !strings.Contains(w, `did you mean "get_a"?`) || strings.Contains(w, "settings.uris") {
		t.Errorf("warnings = %q", w)
	}
}
