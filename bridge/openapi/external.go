package openapi

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pb33f/go-yaml"

	"github.com/portico-mcp/portico/tenant"
)

// External references ($ref to another document) are never fetched: a
// tenant's document must not make Portico read URLs or files of the
// tenant's choosing. libopenapi, which cannot resolve them either, drops
// whatever holds one (the whole request body of an operation whose body
// schema is external), so the converter removes them first and leaves the
// place open: a schema accepts any value, a request body becomes an open
// JSON body, and a parameter or response it named is skipped. Each URL is
// reported once, with where it was used.

// externalRef is one external reference and the places that use it.
type externalRef struct {
	ref    string
	where  []string
	action string // what was done at the first place
}

// hasExternalRef reports whether spec may hold a $ref whose value does not
// start with "#". It scans the bytes without parsing them, so documents
// without one (nearly all) pay one pass over their bytes; a false positive
// only costs the parse in openExternalRefs.
func hasExternalRef(spec []byte) bool {
	for i := 0; ; {
		j := bytes.Index(spec[i:], []byte("$ref"))
		if j < 0 {
			return false
		}
		k := i + j + len("$ref")
		i = k
		if k < len(spec) && (spec[k] == '"' || spec[k] == '\'') {
			k++
		}
		k = skipBlank(spec, k)
		if k >= len(spec) || spec[k] != ':' {
			continue
		}
		k = skipBlank(spec, k+1)
		if k < len(spec) && (spec[k] == '{' || spec[k] == '[') {
			continue // a property named $ref (Kubernetes' JSONSchemaProps), not a reference
		}
		if k < len(spec) && (spec[k] == '"' || spec[k] == '\'') {
			k++
		}
		if k < len(spec) && spec[k] != '#' && spec[k] != '"' && spec[k] != '\'' && spec[k] != '\n' && spec[k] != '\r' {
			return true
		}
	}
}

func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// openExternalRefs returns spec with every external $ref removed (see the
// comment at the top of this file) and the references it removed, in
// document order. It returns spec unchanged and no references when there
// are none or the bytes do not parse (libopenapi then reports why).
func openExternalRefs(spec []byte) ([]byte, []*externalRef) {
	var root yaml.Node
	if err := yaml.Unmarshal(spec, &root); err != nil {
		return spec, nil
	}
	w := &refOpener{byRef: make(map[string]*externalRef)}
	w.walk(&root, nil)
	if len(w.list) == 0 {
		return spec, nil
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		return spec, nil
	}
	return out, w.list
}

type refOpener struct {
	list  []*externalRef
	byRef map[string]*externalRef
}

func (w *refOpener) walk(n *yaml.Node, path []string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, path)
		}
	case yaml.SequenceNode:
		kept := n.Content[:0]
		for i, c := range n.Content {
			p := append(path, fmt.Sprint(i))
			if c.Kind == yaml.MappingNode && w.open(c, p) == refDrop {
				continue
			}
			w.walk(c, p)
			kept = append(kept, c)
		}
		n.Content = kept
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := n.Content[i+1]
			p := append(path, n.Content[i].Value)
			if v.Kind == yaml.MappingNode {
				w.open(v, p)
			}
			w.walk(v, p)
		}
	}
}

type refAction int

const (
	refNone refAction = iota
	refOpen
	refDrop
)

// open removes an external $ref from mapping n at path, shaping what is
// left so the place stays usable, and records the reference.
func (w *refOpener) open(n *yaml.Node, path []string) refAction {
	idx := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "$ref" && v.Kind == yaml.ScalarNode && !strings.HasPrefix(v.Value, "#") && v.Value != "" {
			idx = i
			break
		}
	}
	if idx < 0 {
		return refNone
	}
	ref := n.Content[idx+1].Value
	n.Content = append(n.Content[:idx], n.Content[idx+2:]...)
	action, result := refOpen, "the schema there accepts any value"
	switch refPlace(path) {
	case "parameter":
		action, result = refDrop, "the parameter is skipped"
		if path[len(path)-2] != "parameters" { // a named component, not a list item
			action = refOpen
		}
	case "request body":
		result = "the body accepts any JSON value"
		n.Content = append(n.Content,
			yamlStr("content"), yamlMap(yamlStr("application/json"), yamlMap(yamlStr("schema"), yamlMap())))
	case "response":
		result = "the tool has no output schema"
		if !hasKey(n, "description") {
			n.Content = append(n.Content, yamlStr("description"), yamlStr("external reference not fetched"))
		}
	case "path item":
		result = "its operations are missing"
	}
	e := w.byRef[ref]
	if e == nil {
		e = &externalRef{ref: ref, action: result}
		w.byRef[ref] = e
		w.list = append(w.list, e)
	}
	e.where = append(e.where, refWhere(path))
	return action
}

// refPlace says what kind of object sits at path: "schema", "parameter",
// "request body", "response", "path item" or "" (something else).
func refPlace(path []string) string {
	for i, k := range path {
		// Below these keys everything is a schema, whatever the
		// property names are.
		if k == "schema" || k == "items" || (i == 1 && path[0] == "components" && k == "schemas") || (i == 0 && k == "definitions") {
			return "schema"
		}
	}
	n := len(path)
	switch {
	case n == 0:
		return ""
	case path[n-1] == "requestBody", n == 3 && path[0] == "components" && path[1] == "requestBodies":
		return "request body"
	case n >= 2 && path[n-2] == "parameters", n == 3 && path[0] == "components" && path[1] == "parameters":
		return "parameter"
	case n >= 2 && path[n-2] == "responses", n == 3 && path[0] == "components" && path[1] == "responses":
		return "response"
	case n == 2 && path[0] == "paths":
		return "path item"
	}
	return ""
}

// refWhere names a place for a warning: "POST /things request body",
// "GET /things response 200 property items.owner", "schema Pet", else a
// JSON pointer.
func refWhere(path []string) string {
	switch {
	case len(path) >= 3 && path[0] == "paths" && tenant.IsOperationMethod(path[2]):
		s := strings.ToUpper(path[2]) + " " + path[1]
		if len(path) > 3 {
			switch path[3] {
			case "requestBody":
				s += " request body"
			case "parameters":
				s += " parameter"
			case "responses":
				s += " response"
				if len(path) > 4 {
					s += " " + path[4]
				}
			}
		}
		return s + propertyPath(path)
	case len(path) == 2 && path[0] == "paths":
		return "path " + path[1]
	case len(path) >= 3 && path[0] == "components" && path[1] == "schemas":
		return "schema " + path[2] + propertyPath(path[3:])
	case len(path) >= 2 && path[0] == "definitions":
		return "schema " + path[1] + propertyPath(path[2:])
	}
	esc := make([]string, len(path))
	for i, p := range path {
		esc[i] = escapePointer(p)
	}
	return "#/" + strings.Join(esc, "/")
}

// propertyPath returns " property a.b" for the property names in path.
func propertyPath(path []string) string {
	var names []string
	for i := 0; i+1 < len(path); i++ {
		if path[i] == "properties" {
			names = append(names, path[i+1])
			i++
		}
	}
	if len(names) == 0 {
		return ""
	}
	return " property " + strings.Join(names, ".")
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func yamlStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func yamlMap(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
}

// reportExternal turns the removed references into warnings and one
// unsupported-feature entry.
func (c *converter) reportExternal(refs []*externalRef) {
	n := 0
	for _, e := range refs {
		n += len(e.where)
		where := e.where[0]
		if more := len(e.where) - 1; more == 1 {
			where += " and 1 more place"
		} else if more > 1 {
			where += fmt.Sprintf(" and %d more places", more)
		}
		c.warnf("external reference %s not fetched (used at %s): %s", e.ref, where, e.action)
	}
	c.unsupported(n, "external references ($ref to another document)",
		"not fetched: schemas there accept any value, request bodies any JSON, parameters and responses they name are skipped")
}
