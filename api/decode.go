package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
)

// decodeJSON reads the request body into dst, strictly: unknown fields,
// trailing data and wrong types are 400 bad_json naming the field and the
// type expected. It replaces echo's Bind on purpose: Bind merges path
// params with the body (so a body "id" could override the path's tenant id)
// and silently ignores unknown fields. dst must be a DTO without path fields;
// handlers read c.Param explicitly.
func decodeJSON(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // *http.MaxBytesError: 413
	}
	if f := nulField(body); f != "" {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json",
			Message: fmt.Sprintf("field %q holds a NUL character (\\u0000), which cannot be stored; remove it", f),
			Details: map[string]any{"field": f}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &apiError{Status: http.StatusBadRequest, Code: "bad_json",
			Message: "request body must hold exactly one JSON object"}
	}
	return nil
}

// badJSON turns encoding/json's errors into sentences a client can act on.
func badJSON(err error) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	e := &apiError{Status: http.StatusBadRequest, Code: "bad_json"}
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		e.Message = "request body is empty; expected a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		e.Message = "request body ends in the middle of a JSON value"
	case errors.As(err, &syn):
		e.Message = fmt.Sprintf("request body is not valid JSON (at byte %d): %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		want := jsonType(typ.Type)
		if field == "" {
			e.Message = fmt.Sprintf("request body must be a JSON %s, not %s", want, article(typ.Value))
		} else {
			e.Message = fmt.Sprintf("field %q must be %s, not %s", field, article(want), article(typ.Value))
			e.Details = map[string]any{"field": field, "expected": want, "got": typ.Value}
		}
	default:
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			e.Message = fmt.Sprintf("field %q is not allowed here; see /api/v1/openapi.json for the accepted fields", name)
			e.Details = map[string]any{"field": name}
			break
		}
		e.Message = "request body could not be read as JSON"
	}
	return e
}

// jsonType names a Go destination type in JSON terms.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

func article(noun string) string {
	if noun == "" {
		return "a value"
	}
	if strings.HasPrefix(noun, "number ") { // UnmarshalTypeError.Value for out-of-range numbers
		return noun
	}
	switch noun[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + noun
	}
	return "a " + noun
}
