package bridge

import (
	"testing"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

func TestFirstParagraph(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"one line", "List users", "List users"},
		{"summary and description", "List users\n\nPages through them.\n\nMore.", "List users"},
		{"blank line with spaces", "Get a pet\n  \t\nLong text", "Get a pet"},
		{"single newlines stay", "Line one\nline two\n\nrest", "Line one\nline two"},
		{"deprecated", "Old call\n\nDetails.\n\n" + deprecatedNote, "Old call (deprecated)"},
		{"only deprecated", "Old call\n\n" + deprecatedNote, "Old call (deprecated)"},
		{"nothing before the break", "\n\nText", "\n\nText"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstParagraph(tt.in); got != tt.want {
				t.Errorf("firstParagraph(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestLeanDescribeToolName checks that an operation named describe_tool
// keeps its name in lean listing: no meta-tool is added then.
func TestLeanDescribeToolName(t *testing.T) {
	ops := []*openapi.Operation{
		{Name: "a", Kind: tenant.KindTool, Method: "GET", Description: "A\n\nmore", InputSchema: []byte(`{"type":"object"}`), OutputSchema: []byte(`{"type":"object"}`)},
		{Name: "r", Kind: tenant.KindResource, Method: "GET", Description: "R"},
	}
	lean := listedTools(ops, tenant.ListingLean)
	if len(lean) != 2 || lean[0].Description != "A" || lean[0].OutputSchema != nil || lean[1].Name != describeToolName {
		t.Fatalf("lean tools = %+v, want a in lean form and describe_tool", lean)
	}
	if full := listedTools(ops, tenant.ListingFull); len(full) != 1 || full[0].Description != "A\n\nmore" || full[0].OutputSchema == nil {
		t.Fatalf("full tools = %+v, want a as converted", full)
	}
	ops = append(ops, &openapi.Operation{Name: describeToolName, Kind: tenant.KindTool, Method: "POST", Description: "D", InputSchema: []byte(`{"type":"object"}`)})
	lean = listedTools(ops, tenant.ListingLean)
	if len(lean) != 2 || lean[1].Name != describeToolName || lean[1].Description != "D" {
		t.Fatalf("lean tools with an operation named describe_tool = %+v, want the operation only", lean)
	}
	c := toolSetCost(ops, tenant.ListingLean)
	if len(c.Tools) != 2 || c.LeanTokens != c.Total.Tokens || c.FullTokens <= c.LeanTokens {
		t.Errorf("lean cost = %+v, want 2 tools, lean total = total < full", c)
	}
}
