package bridge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
)

// TestToolResultShapes: what each kind of upstream answer becomes.
func TestToolResultShapes(t *testing.T) {
	op := &openapi.Operation{Name: "op", Method: "GET", Path: "/x"}
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2}
	for _, tc := range []struct {
		name string
		res  upstreamResult
		want func(*mcp.CallToolResult) bool
	}{
		{"object", upstreamResult{status: 200, body: []byte(`{"a":1}`), contentType: "application/json"}, func(r *mcp.CallToolResult) bool {
			return !r.IsError && string(r.StructuredContent.([]byte)) == `{"a":1}`
		}},
		{"list wrapped", upstreamResult{status: 200, body: []byte(`[1,2]`), contentType: "application/json"}, func(r *mcp.CallToolResult) bool {
			return string(r.StructuredContent.([]byte)) == `{"result":[1,2]}`
		}},
		{"image", upstreamResult{status: 200, body: png, contentType: "image/png"}, func(r *mcp.CallToolResult) bool {
			img, ok := r.Content[0].(*mcp.ImageContent)
			return ok && img.MIMEType == "image/png" && string(img.Data) == string(png)
		}},
		{"binary", upstreamResult{status: 200, body: []byte{0xff, 0xfe, 0}, contentType: "application/octet-stream"}, func(r *mcp.CallToolResult) bool {
			e, ok := r.Content[0].(*mcp.EmbeddedResource)
			return ok && e.Resource.MIMEType == "application/octet-stream"
		}},
		{"text", upstreamResult{status: 200, body: []byte("hello"), contentType: "text/plain"}, func(r *mcp.CallToolResult) bool {
			return r.Content[0].(*mcp.TextContent).Text == "hello" && r.StructuredContent == nil
		}},
		{"no content", upstreamResult{status: 204}, func(r *mcp.CallToolResult) bool {
			return !r.IsError && r.Content[0].(*mcp.TextContent).Text == "The call succeeded: HTTP 204 No Content, with no content." && r.StructuredContent == nil
		}},
		{"422 as tool error", upstreamResult{status: 422, body: []byte(`{"detail":[{"loc":["query","x"],"msg":"field required"}]}`)}, func(r *mcp.CallToolResult) bool {
			return r.IsError && r.Content[0].(*mcp.TextContent).Text == `upstream returned HTTP 422 Unprocessable Entity for GET /x: {"detail":[{"loc":["query","x"],"msg":"field required"}]}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.res.toolResult(op)
			if sc, ok := r.StructuredContent.(interface{ MarshalJSON() ([]byte, error) }); ok {
				b, _ := sc.MarshalJSON()
				r.StructuredContent = b
			}
			if !tc.want(r) {
				t.Errorf("result = %+v (content %+v)", r, r.Content)
			}
		})
	}
}

// TestNoContentMatchesOutputSchema: a 204 gives structured content only when
// the tool's output schema admits an empty result, so clients that validate
// structuredContent against outputSchema accept it.
func TestNoContentMatchesOutputSchema(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     *openapi.Operation
		want   string // structured content, "" for none
		suffix string
	}{
		{"no output schema", &openapi.Operation{}, "", "with no content."},
		{"wrapped, nullable", &openapi.Operation{WrapResult: true, OutputSchema: []byte(`{"type":"object","properties":{"result":{"type":["array","null"]}},"required":["result"],"x-fastmcp-wrap-result":true}`)}, `{"result":null}`, "with no content."},
		{"object, nothing required", &openapi.Operation{OutputSchema: []byte(`{"type":"object","properties":{"id":{"type":"integer"}}}`)}, `{}`, "with no content."},
		{"object, required field", &openapi.Operation{OutputSchema: []byte(`{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}`)}, "", "the service sent none.)"},
		{"wrapped, not nullable", &openapi.Operation{WrapResult: true, OutputSchema: []byte(`{"type":"object","properties":{"result":{"type":"array"}},"required":["result"]}`)}, "", "the service sent none.)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.op.Name, tc.op.Method, tc.op.Path = "op", "DELETE", "/x"
			r := (&upstreamResult{status: 204}).toolResult(tc.op)
			got := ""
			if r.StructuredContent != nil {
				got = string(r.StructuredContent.(json.RawMessage))
			}
			text := r.Content[0].(*mcp.TextContent).Text
			if r.IsError || got != tc.want || !strings.HasPrefix(text, "The call succeeded: HTTP 204 No Content") || !strings.HasSuffix(text, tc.suffix) {
				t.Errorf("result: isError %v, structured %q, text %q; want structured %q, text ending %q", r.IsError, got, text, tc.want, tc.suffix)
			}
		})
	}
}
