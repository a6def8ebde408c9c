package bridge

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
)

func TestToolAnnotations(t *testing.T) {
	for _, tc := range []struct {
		method               string
		readOnly, idempotent bool
		destructive          *bool
	}{
		{"GET", true, false, nil},
		{"DELETE", false, true, ptr(true)},
		{"PUT", false, true, ptr(true)},
		{"POST", false, false, ptr(false)},
	} {
		t.Run(tc.method, func(t *testing.T) {
			a := toolOf(&openapi.Operation{Method: tc.method}).Annotations
			if a.ReadOnlyHint != tc.readOnly || a.IdempotentHint != tc.idempotent || a.OpenWorldHint == nil || !*a.OpenWorldHint ||
				(tc.destructive == nil) != (a.DestructiveHint == nil) || tc.destructive != nil && *tc.destructive != *a.DestructiveHint {
				t.Errorf("%s annotations = %+v", tc.method, a)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestToolAnnotationsMatchSDK pins openapi.ToolAnnotations to the SDK's type:
// the conversion in toolOf needs the same fields in the same order, and the
// same JSON keeps listings byte for byte what the SDK would encode.
func TestToolAnnotationsMatchSDK(t *testing.T) {
	a := &openapi.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false), ReadOnlyHint: true, Title: "T"}
	ours, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := json.Marshal((*mcp.ToolAnnotations)(a))
	if err != nil {
		t.Fatal(err)
	}
	if string(ours) != string(sdk) {
		t.Errorf("openapi.ToolAnnotations encodes as %s, the SDK's as %s", ours, sdk)
	}
	if empty, _ := json.Marshal(&openapi.ToolAnnotations{}); string(empty) != `{"idempotentHint":false,"readOnlyHint":false}` {
		t.Errorf("zero annotations encode as %s", empty)
	}
}
