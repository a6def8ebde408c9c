package api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

var echoParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPIMatchesRoutes fails when a /api/v1 route is missing from the
// document or the document describes a route the router does not have.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := New(Options{Store: &fakeStore{}, Runtime: &fakeRuntime{}, Link: &LinkOptions{}})
	var routes []string
	for _, r := range s.e.Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		p := echoParam.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		routes = append(routes, r.Method+" "+p)
	}
	if len(routes) < 20 {
		t.Fatalf("found only %d /api/v1 routes; is the walk filtering too much?", len(routes))
	}
	var documented []string
	for p, item := range openAPIDocument()["paths"].(obj) {
		for m := range item.(obj) {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(routes)
	slices.Sort(documented)
	if diff := cmp.Diff(routes, documented); diff != "" {
		t.Errorf("routes (-registered +documented):\n%s", diff)
	}
}

// TestOpenAPIDocumentIsConsistent checks what a generator would trip on:
// dangling $refs, duplicate operationIds, undeclared path parameters.
func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	doc := openAPIDocument()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	if generic["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", generic["openapi"])
	}
	schemas := generic["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
	ids := map[string]string{}
	for p, item := range generic["paths"].(map[string]any) {
		want := regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(p, -1)
		for m, raw := range item.(map[string]any) {
			op := raw.(map[string]any)
			where := strings.ToUpper(m) + " " + p
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("%s: operationId %s also used by %s", where, id, prev)
			}
			ids[id] = where
			if op["summary"] == "" || op["responses"] == nil {
				t.Errorf("%s: needs a summary and responses", where)
			}
			var declared []string
			params, _ := op["parameters"].([]any)
			for _, prm := range params {
				prm := prm.(map[string]any)
				if prm["in"] == "path" {
					declared = append(declared, prm["name"].(string))
				}
			}
			var inPath []string
			for _, w := range want {
				inPath = append(inPath, w[1])
			}
			if diff := cmp.Diff(inPath, declared); diff != "" {
				t.Errorf("%s: path parameters (-template +declared):\n%s", where, diff)
			}
		}
	}
}

func TestOpenAPIServedWithoutKey(t *testing.T) {
	w := do(t, newTestServer(t, nil, nil), "GET", "/api/v1/openapi.json", "", "")
	if w.Code != 200 {
		t.Fatalf("status = %d", w.Code)
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Errorf("not an OpenAPI 3.1 document: %v %.100s", err, w.Body)
	}
}
