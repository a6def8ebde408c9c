package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant/pgtest"
)

// TestSettingKeysMustMatch: a names, uris or timeouts_ms key that names no
// operation of an active tenant's document is refused with a 422 naming
// the key and the closest operation, and nothing is saved; keys that match
// (operationId, or "METHOD /path" in any case) are accepted.
func TestSettingKeysMustMatch(t *testing.T) {
	p := startPortico(t, pgtest.NewDB(t))
	id := demoTenant(t, p)
	base := "/api/v1/tenants/" + id
	p.do(t, "PUT", base+"/settings", map[string]any{"names": map[string]string{"get_book_books__book_id__get": "get_book"}}, 200, nil)

	var body struct {
		Error struct {
			Code    string
			Message string
			Details struct {
				Fields []struct{ Field, Problem string }
			}
		}
	}
	for _, tc := range []struct {
		method, path string
		body         any
		field, hint  string
	}{
		{"PUT", "/settings", map[string]any{"names": map[string]string{"get_bok_books__book_id__get": "x"}},
			`settings.names["get_bok_books__book_id__get"]`, `did you mean "get_book_books__book_id__get"?`},
		{"PUT", "/settings", map[string]any{"uris": map[string]string{"GET /book/{book_id}": "books://item/{book_id}"}},
			`settings.uris["GET /book/{book_id}"]`, `did you mean "GET /books/{book_id}"?`},
		{"PUT", "/settings", map[string]any{"timeouts_ms": map[string]int{"nothing_like_it": 500}},
			`settings.timeouts_ms["nothing_like_it"]`, `key it by an operationId or "METHOD /path"`},
		{"PATCH", "", map[string]any{"settings": map[string]any{"names": map[string]string{"list_book_books_get": "x"}}},
			`settings.names["list_book_books_get"]`, `did you mean "list_books_books_get"?`},
	} {
		body.Error.Details.Fields = nil
		p.do(t, tc.method, base+tc.path, tc.body, 422, &body)
		ok := false
		for _, f := range body.Error.Details.Fields {
			ok = ok || f.Field == tc.field && strings.Contains(f.Problem, tc.hint)
		}
		if !ok {
			t.Errorf("%s %v: %+v; want field %s saying %q", tc.method, tc.body, body.Error, tc.field, tc.hint)
		}
	}
	// Nothing of the refused changes was saved.
	var got struct{ Settings map[string]any }
	p.do(t, "GET", base, nil, 200, &got)
	if b, _ := json.Marshal(got.Settings); string(b) != `{"names":{"get_book_books__book_id__get":"get_book"}}` {
		t.Errorf("settings after refused changes = %s", b)
	}
	// Matching keys, in every accepted form, are taken.
	p.do(t, "PUT", base+"/settings", map[string]any{
		"names":       map[string]string{"get /books/{book_id}": "get_book"},
		"uris":        map[string]string{"list_books_books_get": "books://all/list"},
		"timeouts_ms": map[string]int{"POST /books": 2000},
	}, 200, nil)
}
