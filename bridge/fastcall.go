package bridge

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// The fast path answers the hottest request, a stateless tools/call, without
// the SDK's per-request session, streaming decoder and goroutines, which cost
// a go-sdk server most of its time (mostly garbage collection). It writes
// exactly what the SDK's StreamableHTTPHandler would: the same headers, the
// same JSON-RPC envelope around the same CallToolResult JSON, as an SSE event
// or a JSON body by the handler's JSONResponse setting. Anything it is not
// sure of goes to the SDK: other methods, notifications, batches, sessions,
// _meta (progress), protocol versions from 2026-07-28 (per-request metadata
// and header checks), odd ids. TestFastCallMatchesSDK holds it to that.

// fastVersions are the Mcp-Protocol-Version values the fast path answers;
// "" is what a client sends before it negotiated (the SDK reads 2025-03-26).
var fastVersions = map[string]bool{"": true, "2024-11-05": true, "2025-03-26": true, "2025-06-18": true, "2025-11-25": true}

// maxJSONDepth is the SDK's nesting limit; deeper messages go to the SDK so
// they are refused the same way.
const maxJSONDepth = 1000

// fastCall answers req, a POST whose body was read into body, when it is a
// tools/call the fast path can answer, and reports whether it did.
func (r *Runtime) fastCall(w http.ResponseWriter, req *http.Request, l *live, body []byte) bool {
	if r.noFastPath || !r.mcpOpts.Stateless || r.mcpOpts.CrossOriginProtection != nil {
		return false
	}
	h := req.Header
	if !fastVersions[h.Get("Mcp-Protocol-Version")] || h.Get("Mcp-Session-Id") != "" || len(h.Values("Last-Event-ID")) > 0 {
		return false
	}
	if ct, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || ct != "application/json" {
		return false
	}
	if jsonOK, streamOK := accepts(h.Values("Accept")); !jsonOK || !streamOK {
		return false
	}
	call, ok := parseToolCall(body)
	if !ok {
		return false
	}
	st := l.state.Load()
	op := st.ops["tool:"+call.name]
	if st.discovery { // only the meta-tools are tools; the SDK answers them
		return false
	}
	if op == nil || op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return false // unknown tools get the SDK's own error
	}
	ti, _ := tokenInfo(req.Context(), "", req) // as the SDK's middleware would give it
	res, err := l.callTool(op)(req.Context(), &mcp.CallToolRequest{
		Params: &mcp.CallToolParamsRaw{Name: call.name, Arguments: call.args},
		Extra:  &mcp.RequestExtra{Header: h, TokenInfo: ti},
	})
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	sse := !r.mcpOpts.JSONResponse
	if sse {
		buf.WriteString("event: message\ndata: ")
	}
	if err := encodeResponse(buf, call.id, res, err); err != nil {
		r.log.Error("encode tool result", "tool", call.name, "err", err)
		buf.Reset()
		if sse {
			buf.WriteString("event: message\ndata: ")
		}
		encodeResponse(buf, call.id, nil, err)
	}
	w.Header().Set("Cache-Control", "no-cache, no-transform")
	if sse {
		buf.WriteString("\n\n")
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Connection", "keep-alive")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Write(buf.Bytes())
	if sse {
		http.NewResponseController(w).Flush()
	}
	r.fastCalls.Add(1)
	return true
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeResponse appends the JSON-RPC response the SDK sends for a tools/call
// with id (already canonical JSON) that returned res, err.
func encodeResponse(buf *bytes.Buffer, id []byte, res *mcp.CallToolResult, err error) error {
	if err == nil && res != nil && res.Content == nil {
		res2 := *res
		res2.Content = []mcp.Content{} // as the SDK does: never "content":null
		res = &res2
	}
	if err != nil || res == nil {
		// Not reached today (tool handlers return isError results); kept
		// exact by letting the SDK's own encoder build the error response.
		jid, _ := jsonrpc.MakeID(idValue(id))
		var result json.RawMessage
		if err == nil {
			result = json.RawMessage("null")
		}
		b, eerr := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: jid, Result: result, Error: err})
		if eerr != nil {
			return eerr
		}
		buf.Write(b)
		return nil
	}
	result, err := res.MarshalJSON()
	if err != nil {
		return err
	}
	buf.WriteString(`{"jsonrpc":"2.0","id":`)
	buf.Write(id)
	buf.WriteString(`,"result":`)
	buf.Write(result)
	buf.WriteByte('}')
	return nil
}

func idValue(id []byte) any {
	if len(id) > 0 && id[0] == '"' {
		return string(id[1 : len(id)-1])
	}
	n, _ := strconv.ParseInt(string(id), 10, 64)
	return float64(n)
}

// toolCall is a parsed tools/call request.
type toolCall struct {
	id   []byte // as the SDK writes it back
	name string
	args json.RawMessage
}

// parseToolCall decodes body once, strictly: a single JSON-RPC 2.0 tools/call
// request with an integer or plain-string id and params of only name and
// arguments. Anything else reports false and is left to the SDK.
func parseToolCall(body []byte) (toolCall, bool) {
	var call toolCall
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) == 0 || b[0] != '{' || tooDeep(b) {
		return call, false
	}
	var msg struct {
		JSONRPC, ID, Method, Params json.RawMessage
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return call, false
	}
	for k, v := range top { // exact, case-sensitive keys, as the SDK decodes them
		switch k {
		case "jsonrpc":
			msg.JSONRPC = v
		case "id":
			msg.ID = v
		case "method":
			msg.Method = v
		case "params":
			msg.Params = v
		default:
			return call, false
		}
	}
	if string(msg.JSONRPC) != `"2.0"` || string(msg.Method) != `"tools/call"` {
		return call, false
	}
	if call.id = canonicalID(msg.ID); call.id == nil {
		return call, false
	}
	var params map[string]json.RawMessage
	if len(msg.Params) == 0 || msg.Params[0] != '{' || json.Unmarshal(msg.Params, &params) != nil {
		return call, false
	}
	for k, v := range params {
		switch k {
		case "name":
			if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &call.name) != nil {
				return call, false
			}
		case "arguments":
			call.args = v
		default:
			return call, false // _meta (progress tokens) and newer fields
		}
	}
	return call, call.name != ""
}

// canonicalID returns the id as the SDK writes it back, or nil when the fast
// path should not answer it: integers exactly representable as float64 (the
// SDK decodes ids as float64) and strings that need no escaping.
func canonicalID(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '"' {
		s := raw[1 : len(raw)-1]
		for _, c := range s {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return nil
			}
		}
		return raw
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > 1<<53 || n < -(1<<53) {
		return nil
	}
	return strconv.AppendInt(nil, n, 10)
}

// tooDeep reports whether b nests deeper than the SDK accepts.
func tooDeep(b []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > maxJSONDepth {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// accepts reports whether Accept values admit JSON and an event stream, as
// the SDK's handler checks them.
func accepts(values []string) (jsonOK, streamOK bool) {
	for _, value := range values {
		for raw := range strings.SplitSeq(value, ",") {
			base, _, _ := strings.Cut(strings.TrimSpace(raw), ";")
			switch strings.ToLower(strings.TrimSpace(base)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	return jsonOK, streamOK
}
