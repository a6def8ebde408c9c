package openapi

import (
	"strings"
	"testing"
)

// TestStyleExamples checks parameter serialisation against the style
// examples table of the OpenAPI 3 specification (parameter "color").
// Object keys are sent in sorted order (B, G, R), so the expected strings
// are the specification's with keys sorted.
func TestStyleExamples(t *testing.T) {
	str := "blue"
	arr := []any{"blue", "black", "brown"}
	obj := map[string]any{"R": float64(100), "G": float64(200), "B": float64(150)}
	tests := []struct {
		name    string
		in      string
		style   string
		explode bool
		value   any
		want    string
	}{
		{"matrix string", "path", "matrix", false, str, ";color=blue"},
		{"matrix array", "path", "matrix", false, arr, ";color=blue,black,brown"},
		{"matrix array explode", "path", "matrix", true, arr, ";color=blue;color=black;color=brown"},
		{"matrix object", "path", "matrix", false, obj, ";color=B,150,G,200,R,100"},
		{"matrix object explode", "path", "matrix", true, obj, ";B=150;G=200;R=100"},
		{"label string", "path", "label", false, str, ".blue"},
		{"label array", "path", "label", false, arr, ".blue,black,brown"},
		{"label array explode", "path", "label", true, arr, ".blue.black.brown"},
		{"label object", "path", "label", false, obj, ".B,150,G,200,R,100"},
		{"label object explode", "path", "label", true, obj, ".B=150.G=200.R=100"},
		{"simple string", "path", "simple", false, str, "blue"},
		{"simple array", "path", "simple", false, arr, "blue,black,brown"},
		{"simple object", "path", "simple", false, obj, "B,150,G,200,R,100"},
		{"simple object explode", "path", "simple", true, obj, "B=150,G=200,R=100"},
		{"form string", "query", "form", true, str, "color=blue"},
		{"form array", "query", "form", false, arr, "color=blue,black,brown"},
		{"form array explode", "query", "form", true, arr, "color=blue&color=black&color=brown"},
		{"form object", "query", "form", false, obj, "color=B,150,G,200,R,100"},
		{"form object explode", "query", "form", true, obj, "B=150&G=200&R=100"},
		{"spaceDelimited array", "query", "spaceDelimited", false, arr, "color=blue%20black%20brown"},
		{"pipeDelimited array", "query", "pipeDelimited", false, arr, "color=blue|black|brown"},
		{"deepObject object", "query", "deepObject", true, obj, "color%5BB%5D=150&color%5BG%5D=200&color%5BR%5D=100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Param{Arg: "color", Name: "color", In: tt.in, Style: tt.style, Explode: tt.explode}
			var got string
			if tt.in == "path" {
				got = pathValue(p, tt.value)
			} else {
				got = strings.Join(queryPairs(p, tt.value), "&")
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
