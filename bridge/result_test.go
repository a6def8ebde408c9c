package bridge

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestToolResultShapes: what each kind of upstream answer becomes.
func TestToolResultShapes(t *testing.T) {
	op := &Operation{Name: "op", Method: "GET", Path: "/x"}
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
			return !r.IsError && r.Content[0].(*mcp.TextContent).Text == "HTTP 204 No Content (no content)"
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
