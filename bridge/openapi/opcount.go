package openapi

import (
	"bytes"
	"encoding/json"
	"strings"

	yaml "github.com/pb33f/go-yaml"
)

// pathItemShape decodes only the keys of each path item: values decode into
// skipped, which keeps nothing, so counting a document's operations costs a
// fraction of what libopenapi's model does.
type pathItemShape struct {
	Paths map[string]map[string]skipped `json:"paths" yaml:"paths"`
}

// skipped accepts any JSON or YAML value (objects, arrays such as a path
// item's parameters, scalars) and keeps none of it.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error     { return nil }
func (*skipped) UnmarshalYAML(*yaml.Node) error { return nil }

// countOperations counts the operations (path × HTTP method) of an OpenAPI
// 2 or 3 document cheaply, before Convert builds the full model. A document
// that does not parse counts zero: Convert reports why.
func CountOperations(raw []byte) (int, error) {
	var doc pathItemShape
	var err error
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		err = json.Unmarshal(raw, &doc)
	} else {
		err = yaml.Unmarshal(raw, &doc)
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, item := range doc.Paths {
		for k := range item {
			switch strings.ToLower(k) {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				n++
			}
		}
	}
	return n, nil
}
