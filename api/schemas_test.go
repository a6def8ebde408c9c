package api

import (
	"encoding/json"
	"testing"
)

// TestSchemasServedWithoutKey: a published schema is public and served as
// given; any other name, including one that tries to leave the list, is a
// 404 in the error envelope that lists the published names.
func TestSchemasServedWithoutKey(t *testing.T) {
	h := New(Options{Store: &fakeStore{}, Runtime: &fakeRuntime{}, Schemas: map[string][]byte{"portico.yaml.json": []byte(`{"title":"x"}`)}}).Handler()
	w := do(t, h, "GET", "/api/v1/schemas/portico.yaml.json", "", "")
	if w.Code != 200 || w.Body.String() != `{"title":"x"}` || w.Header().Get("Content-Type") != "application/schema+json" {
		t.Fatalf("schema: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	for _, name := range []string{"nope.json", "..%2f..%2fetc%2fpasswd", "PORTICO.YAML.JSON"} {
		w := do(t, h, "GET", "/api/v1/schemas/"+name, "", "")
		var env struct {
			Error struct {
				Code    string
				Details struct{ Schemas []string }
			}
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); w.Code != 404 || err != nil || env.Error.Code != "not_found" ||
			len(env.Error.Details.Schemas) != 1 || env.Error.Details.Schemas[0] != "portico.yaml.json" {
			t.Errorf("GET /api/v1/schemas/%s: %d %s; want 404 not_found listing portico.yaml.json", name, w.Code, w.Body)
		}
	}
	if w := do(t, newTestServer(t, nil, nil), "GET", "/api/v1/schemas/portico.yaml.json", "", ""); w.Code != 404 {
		t.Errorf("no schemas published: %d %s", w.Code, w.Body)
	}
}
