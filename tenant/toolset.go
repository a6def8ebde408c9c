package tenant

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A Toolset is a named subset of a tenant's tools served at its own MCP
// URL, /t/<tenant>/mcp/<name>: the tools it names, the tools carrying one
// of its tags, or (naming neither) every tool; read_only keeps only the
// tools that change nothing (GET and HEAD operations, or tools whose
// annotations say readOnlyHint). Resources are read-only by nature: a
// toolset serves those its names or tags select (all of them when it names
// neither). MCP tokens can be restricted to toolsets (Token.Toolsets); the
// tenant's own endpoint keeps serving everything.
type Toolset struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Tools       []string  `json:"tools"`
	Tags        []string  `json:"tags"`
	ReadOnly    bool      `json:"read_only"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Limits of one toolset.
const (
	maxToolsetTools = 2000
	maxToolsetTags  = 100
	MaxToolsets     = 100 // per tenant
)

// toolsetNameRE is a toolset name: one URL path segment people can type.
var toolsetNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks ts's shape; whether its tools exist is the runtime's to
// say (it knows the serving document). The error is an *InvalidError
// naming each bad field.
func (ts *Toolset) Validate() error {
	var inv InvalidError
	if ts.Name == "" {
		inv.Add("name", "is required: 1-63 of lowercase letters, digits, '_' and '-', starting with a letter or digit (it is a segment of the toolset's MCP URL)")
	} else if !toolsetNameRE.MatchString(ts.Name) {
		inv.Add("name", fmt.Sprintf("%q must be 1-63 of lowercase letters, digits, '_' and '-', starting with a letter or digit (it is a segment of the toolset's MCP URL)", ts.Name))
	}
	if len(ts.Description) > 1000 {
		inv.Add("description", "must be at most 1000 bytes")
	}
	if len(ts.Tools) > maxToolsetTools {
		inv.Add("tools", fmt.Sprintf("has %d entries; at most %d are allowed", len(ts.Tools), maxToolsetTools))
	}
	seen := map[string]bool{}
	for i, name := range ts.Tools {
		f := fmt.Sprintf("tools[%d]", i)
		switch {
		case strings.TrimSpace(name) == "":
			inv.Add(f, "is empty: name a tool (as tools/list names it) or an operationId")
		case seen[name]:
			inv.Add(f, fmt.Sprintf("%q is already named earlier in tools", name))
		}
		seen[name] = true
	}
	if len(ts.Tags) > maxToolsetTags {
		inv.Add("tags", fmt.Sprintf("has %d entries; at most %d are allowed", len(ts.Tags), maxToolsetTags))
	}
	seenTag := map[string]bool{}
	for i, tag := range ts.Tags {
		f := fmt.Sprintf("tags[%d]", i)
		switch {
		case strings.TrimSpace(tag) == "":
			inv.Add(f, "is empty: name an OpenAPI tag of the tenant's operations")
		case seenTag[tag]:
			inv.Add(f, fmt.Sprintf("%q is already named earlier in tags", tag))
		}
		seenTag[tag] = true
	}
	return inv.Err()
}

// normalize makes nil lists empty, so a toolset reads the same stored or not.
func (ts *Toolset) Normalize() {
	if ts.Tools == nil {
		ts.Tools = []string{}
	}
	if ts.Tags == nil {
		ts.Tags = []string{}
	}
}

// Selects reports whether ts serves an operation with tags tags and
// read-only-ness readOnly that entries of ts.Tools name when names says so
// (names is the operation's own test of an entry: its MCP name, its
// operationId, METHOD /path).
func (ts *Toolset) Selects(names func(entry string) bool, tags []string, readOnly bool) bool {
	if ts.ReadOnly && !readOnly {
		return false
	}
	if len(ts.Tools) == 0 && len(ts.Tags) == 0 {
		return true
	}
	if slices.ContainsFunc(ts.Tools, names) {
		return true
	}
	for _, t := range tags {
		if slices.Contains(ts.Tags, t) {
			return true
		}
	}
	return false
}

// Allows reports whether a token restricted to toolsets (none: not
// restricted) may use the endpoint of toolset name ("" is the tenant's own
// endpoint, which serves everything and so needs an unrestricted token).
func (t Token) Allows(toolset string) bool {
	if len(t.Toolsets) == 0 {
		return true
	}
	return toolset != "" && slices.Contains(t.Toolsets, toolset)
}

// ToolsetInUseError refuses to delete a toolset that unrevoked MCP tokens
// are restricted to: deleting it would leave them without an endpoint, and
// a toolset made later with its name would grant them access again.
type ToolsetInUseError struct {
	Toolset string
	Tokens  []string // "name (prefix…)"
}

// Unwrap makes the refusal an ErrConflict.
func (e *ToolsetInUseError) Unwrap() error { return ErrConflict }

func (e *ToolsetInUseError) Error() string {
	return fmt.Sprintf("toolset %s is the restriction of MCP token(s) %s: revoke them, or rename the toolset, first", e.Toolset, strings.Join(e.Tokens, ", "))
}
