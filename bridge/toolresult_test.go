package bridge

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func checkAppendToolResult(t *testing.T, res *mcp.CallToolResult) {
	t.Helper()
	want, err := res.MarshalJSON()
	var buf bytes.Buffer
	buf.WriteString("prefix")
	ok := appendToolResult(&buf, res)
	if !ok {
		if buf.String() != "prefix" {
			t.Fatalf("declined but wrote %q", buf.String())
		}
		return
	}
	if err != nil {
		t.Fatalf("wrote %q where the SDK fails: %v", buf.String(), err)
	}
	if got := buf.Bytes()[len("prefix"):]; !bytes.Equal(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAppendToolResultMatchesSDK(t *testing.T) {
	texts := []string{"", "plain", `{"a":"<b>&amp;</b>"}`, "tab\tnl\ncr\r\b\f\x01\x1f\x7f \"q\" \\", "é \u2028 \u2029 \xff\xfe ok", "日本"}
	structured := []json.RawMessage{nil, json.RawMessage(`{"id": 42, "nested": {"a": [1, 2.50, 1e3]}}`),
		json.RawMessage(` {"h":"<b>&amp;</b> é ` + "\u2028" + ` \u2029"} `), json.RawMessage(`{"result": [1,"two",null]}`), json.RawMessage(`{bad`)}
	metas := []mcp.Meta{nil, {}, {UpstreamMSMeta: 0.0}, {UpstreamMSMeta: 1.234}, {UpstreamMSMeta: 1e-7}, {UpstreamMSMeta: 12345.678}, {"other": 1}, {UpstreamMSMeta: 1.0, "x": 2}}
	for _, text := range texts {
		for _, sc := range structured {
			for _, meta := range metas {
				for _, isErr := range []bool{false, true} {
					res := &mcp.CallToolResult{Meta: meta, Content: []mcp.Content{&mcp.TextContent{Text: text}}, IsError: isErr}
					if sc != nil {
						res.StructuredContent = sc
					}
					checkAppendToolResult(t, res)
				}
			}
		}
	}
	// Results it leaves to the SDK, unwritten.
	for _, res := range []*mcp.CallToolResult{
		{Content: []mcp.Content{}},
		{Content: []mcp.Content{&mcp.TextContent{Text: "a"}, &mcp.TextContent{Text: "b"}}},
		{Content: []mcp.Content{&mcp.ImageContent{Data: []byte{1}, MIMEType: "image/png"}}},
		{Content: []mcp.Content{&mcp.TextContent{Text: "a"}}, StructuredContent: map[string]any{"a": 1}},
		{Content: []mcp.Content{&mcp.TextContent{Text: "a"}}, StructuredContent: json.RawMessage(nil)},
	} {
		var buf bytes.Buffer
		if appendToolResult(&buf, res) || buf.Len() != 0 {
			t.Errorf("%+v: took it, wrote %q", res, buf.String())
		}
	}
}

func FuzzAppendToolResult(f *testing.F) {
	f.Add("plain <b>", []byte(`{"a":1}`), 1.5, false)
	f.Add("\xff\u2028", []byte(` [1, "<&>"] `), 0.0, true)
	f.Fuzz(func(t *testing.T, text string, sc []byte, ms float64, isErr bool) {
		res := &mcp.CallToolResult{Meta: mcp.Meta{UpstreamMSMeta: ms}, Content: []mcp.Content{&mcp.TextContent{Text: text}}, IsError: isErr}
		if len(sc) > 0 {
			res.StructuredContent = json.RawMessage(sc)
		}
		checkAppendToolResult(t, res)
	})
}
