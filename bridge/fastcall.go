package bridge

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// The fast path answers the hottest request, a stateless tools/call, without
// the SDK's per-request session, streaming decoder and goroutines, which cost
// a go-sdk server most of its time (mostly garbage collection). It writes
// exactly what the SDK's StreamableHTTPHandler would: the same headers, the
// same JSON-RPC envelope around the same CallToolResult JSON, as an SSE event
// or a JSON body by the handler's JSONResponse setting. Anything it is not
// sure of goes to the SDK: other methods, notifications, batches, sessions,
// progress tokens (Portico reports progress through the SDK session), _meta
// on older versions, 2026-07-28 requests whose metadata or Mcp-* headers the
// SDK would refuse, odd ids. TestFastCallMatchesSDK holds it to that.

// fastVersions are the Mcp-Protocol-Version values the fast path answers;
// "" is what a client sends before it negotiated (the SDK reads 2025-03-26).
var fastVersions = map[string]bool{"": true, "2024-11-05": true, "2025-03-26": true, "2025-06-18": true, "2025-11-25": true, version20260728: true}

// version20260728 is the protocol version with per-request metadata
// (SEP-2575): each request carries its protocol version, client info and
// capabilities in _meta and names its method (and tool) in Mcp-Method and
// Mcp-Name headers, which the SDK checks; its results carry resultType and
// the server's info in _meta. Later versions go to the SDK.
const version20260728 = "2026-07-28"

// maxJSONDepth is the SDK's nesting limit; deeper messages go to the SDK so
// they are refused the same way.
const maxJSONDepth = 1000

// fastEligible reports whether req's headers are ones the fast paths answer
// exactly as the stateless SDK handler would.
func (r *Runtime) fastEligible(req *http.Request) bool {
	//lint:ignore SA1019 the fast paths mirror the SDK handler, which still honours the deprecated option
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
	jsonOK, streamOK := accepts(h.Values("Accept"))
	return jsonOK && streamOK
}

// writeFastHeaders sets the headers the SDK sends with a response and
// reports whether the body is an SSE event (else a JSON body).
func (r *Runtime) writeFastHeaders(w http.ResponseWriter) (sse bool) {
	sse = !r.mcpOpts.JSONResponse
	h := w.Header()
	h["Cache-Control"] = hdrNoCache
	if sse {
		h["Content-Type"] = hdrEventStream
		h["Connection"] = hdrKeepAlive
	} else {
		h["Content-Type"] = hdrJSON
	}
	return sse
}

// The fast paths' response header values, shared: net/http only reads them
// (Header.Set and Add replace or append, never write into them).
var (
	hdrNoCache     = []string{"no-cache, no-transform"}
	hdrEventStream = []string{"text/event-stream"}
	hdrKeepAlive   = []string{"keep-alive"}
	hdrJSON        = []string{"application/json"}
)

// fastCall answers req, a POST whose body was decoded into msg, when it is a
// tools/call the fast path can answer, and reports whether it did.
func (r *Runtime) fastCall(w http.ResponseWriter, req *http.Request, l *live, msg *rpcMessage) bool {
	if msg.method != "tools/call" || !r.fastEligible(req) {
		return false
	}
	call, ok := msg.toolCall()
	if !ok {
		return false
	}
	h := req.Header
	v26 := h.Get("Mcp-Protocol-Version") == version20260728
	if !r.requestMetaOK(h, "tools/call", call.meta) || v26 && h.Get("Mcp-Name") != call.name {
		return false
	}
	// A client that asked for log messages gets them from the SDK's path
	// (sessionlog.go): its session set a level, or the request carries one.
	if info := requestInfo(req.Context()); info != nil && info.logLevel != "" || v26 && bytes.Contains(call.meta, logLevelKey) {
		return false
	}
	st := l.view(req.Context())
	op := st.ops["tool:"+call.name]
	if st.discovery { // only the meta-tools are tools; the SDK answers them
		return false
	}
	if op == nil || op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
		return false // unknown tools get the SDK's own error
	}
	if v26 && bytes.Contains(op.InputSchema, []byte(`"x-mcp-header"`)) {
		return false // the SDK checks Mcp-Param-* headers against the arguments
	}
	ti, _ := tokenInfo(req.Context(), "", req) // as the SDK's middleware would give it
	// The request, its params and extra in one allocation.
	fr := &fastRequest{params: mcp.CallToolParamsRaw{Name: call.name, Arguments: call.args}, extra: mcp.RequestExtra{Header: h, TokenInfo: ti}}
	fr.req = mcp.CallToolRequest{Params: &fr.params, Extra: &fr.extra}
	res, err := l.callTool(op)(req.Context(), &fr.req)
	complete := v26 && err == nil && res != nil
	if complete { // as the SDK's annotateServerInfo
		m := res.GetMeta()
		if m == nil {
			m = map[string]any{}
		}
		if _, ok := m[mcp.MetaKeyServerInfo]; !ok {
			m[mcp.MetaKeyServerInfo] = l.impl
		}
		res.SetMeta(m)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	sse := r.writeFastHeaders(w)
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
	} else if complete && res.InputRequests == nil {
		// The SDK marks a 2026-07-28 result complete; resultType is the
		// last member CallToolResult.MarshalJSON writes (Portico's results
		// have no inputRequests), so it goes before "}}".
		buf.Truncate(buf.Len() - 2)
		buf.WriteString(`,"resultType":"complete"}}`)
	}
	if sse {
		buf.WriteString("\n\n")
	}
	// The SDK flushes its one event and then ends the stream; the fast path
	// leaves the framing to net/http, which sends a small response in one
	// write with a Content-Length instead of a flushed chunk and then the
	// closing chunk (two writes, and two reads at the client, per call).
	// The event and headers are the same; nothing follows it either way.
	// Counted before the answer leaves, so a client that has its answer
	// sees the count (the tests read it right after the call returns).
	r.fastCalls.Add(1)
	r.opts.Metrics.fast("tools/call")
	w.Write(buf.Bytes())
	return true
}

// logLevelKey is how a log level appears in a _meta the fast paths answer
// (metaOK refuses keys with escapes).
//
//lint:ignore SA1019 the logging utility is deprecated in 2026-07-28 but still served
var logLevelKey = []byte(`"` + mcp.MetaKeyLogLevel + `"`)

type fastRequest struct {
	req    mcp.CallToolRequest
	params mcp.CallToolParamsRaw
	extra  mcp.RequestExtra
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeResponse appends the JSON-RPC response the SDK sends for a tools/call
// with id (already canonical JSON) that returned res, err.
func encodeResponse(buf *bytes.Buffer, id []byte, res *mcp.CallToolResult, err error) error {
	if err == nil && res != nil && res.InputRequests != nil {
		result, err := marshalInputRequired(res)
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
	buf.WriteString(`{"jsonrpc":"2.0","id":`)
	buf.Write(id)
	buf.WriteString(`,"result":`)
	if !appendToolResult(buf, res) {
		result, err := res.MarshalJSON()
		if err != nil {
			return err
		}
		buf.Write(result)
	}
	buf.WriteByte('}')
	return nil
}

// marshalInputRequired writes res, a result asking for input (a 2026-07-28
// call's inputRequests, elicit.go), as the SDK does once it has marked it
// input_required, a mark only the SDK can set: CallToolResult.MarshalJSON's
// own wire shape with resultType filled in, and content left as the
// handler returned it.
func marshalInputRequired(res *mcp.CallToolResult) ([]byte, error) {
	type plain mcp.CallToolResult // its fields, without its MarshalJSON
	ir, err := json.Marshal(res.InputRequests)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		plain
		ResultType    string          `json:"resultType,omitempty"`
		InputRequests json.RawMessage `json:"inputRequests,omitempty"`
	}{plain(*res), "input_required", ir})
}

// appendToolResult writes res as (*mcp.CallToolResult).MarshalJSON would,
// without reflection, maps or intermediate copies, for the results calls
// return: one text content, JSON structured content, the upstream time in
// _meta. It reports false, having written nothing, for any other result.
// TestAppendToolResultMatchesSDK and FuzzAppendToolResult hold it to the SDK.
func appendToolResult(buf *bytes.Buffer, res *mcp.CallToolResult) bool {
	if len(res.Content) != 1 || res.InputRequests != nil || res.RequestState != "" || len(res.Meta) > 1 {
		return false
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok || text == nil || text.Meta != nil || text.Annotations != nil {
		return false
	}
	var structured json.RawMessage
	switch sc := res.StructuredContent.(type) {
	case nil:
	case json.RawMessage:
		if sc == nil { // a nil RawMessage in an interface is not omitted: "null"
			return false
		}
		structured = sc
	default:
		return false
	}
	var ms float64
	if len(res.Meta) == 1 {
		v, ok := res.Meta[UpstreamMSMeta].(float64)
		if !ok || v != v || v != 0 && (v < 1e-6 || v >= 1e21) { // NaN, encoding/json's 'e' format range
			return false
		}
		ms = v
	}
	start := buf.Len()
	b := buf.AvailableBuffer()
	if len(res.Meta) == 1 {
		b = append(b, `{"_meta":{"`+UpstreamMSMeta+`":`...)
		b = strconv.AppendFloat(b, ms, 'f', -1, 64)
		b = append(b, `},"content":[{"type":"text","text":`...)
	} else {
		b = append(b, `{"content":[{"type":"text","text":`...)
	}
	b = appendJSONString(b, text.Text)
	b = append(b, '}', ']')
	buf.Write(b)
	if structured != nil {
		buf.WriteString(`,"structuredContent":`)
		if err := compactHTML(buf, structured); err != nil {
			buf.Truncate(start)
			return false
		}
	}
	if res.IsError {
		buf.WriteString(`,"isError":true`)
	}
	buf.WriteByte('}')
	return true
}

// compactHTML appends raw as encoding/json marshals a json.RawMessage:
// compacted, with <, >, & and U+2028/U+2029 escaped.
func compactHTML(buf *bytes.Buffer, raw []byte) error {
	if !bytes.ContainsAny(raw, "<>&\u2028\u2029") {
		return json.Compact(buf, raw)
	}
	tmp := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(tmp)
	tmp.Reset()
	if err := json.Compact(tmp, raw); err != nil {
		return err
	}
	json.HTMLEscape(buf, tmp.Bytes())
	return nil
}

// appendJSONString appends s as encoding/json encodes a string (HTML
// escaping on, invalid UTF-8 as U+FFFD), as the SDK writes results.
func appendJSONString(b []byte, s string) []byte { return openapi.AppendEscaped(b, s, true) }

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
	meta json.RawMessage // params._meta, if any
}

// rpcMessage is a POST body decoded once: its method for routing, and its
// top-level members for the fast paths, which answer only messages whose
// members are exactly the ones they expect.
type rpcMessage struct {
	method  string // as jsonrpcMethod reads it
	object  bool   // the body is one JSON object, its members below
	jsonrpc json.RawMessage
	id      json.RawMessage
	params  json.RawMessage
	extra   bool // a member other than jsonrpc, id, method, params
	deep    bool // nests deeper than the SDK accepts
}

// parseMessage decodes body once. Its method is what jsonrpcMethod returns
// (encoding/json matches the field case-insensitively); only when several
// spellings make that depend on member order does it decode again.
//
// The members are read by scanning the validated body in place (members),
// without building a map; a key with an escape or a method member spelled
// other than "method" takes the encoding/json path (parseMessageMap), which
// gives the same answer.
func parseMessage(body []byte) rpcMessage {
	var msg rpcMessage
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		msg.method = jsonrpcMethod(body)
		return msg
	}
	if msg.deep = tooDeep(b); msg.deep || !json.Valid(body) {
		msg.method = jsonrpcMethod(body)
		return msg
	}
	var method json.RawMessage
	ok := members(b, func(k, v []byte) bool {
		switch string(k) {
		case "jsonrpc":
			msg.jsonrpc = v
		case "id":
			msg.id = v
		case "method":
			method = v
		case "params":
			msg.params = v
		default:
			if bytes.EqualFold(k, []byte("method")) {
				return false // case-insensitive match: leave it to encoding/json
			}
			msg.extra = true
		}
		return true
	})
	if !ok {
		return parseMessageMap(body)
	}
	msg.object = true
	if len(method) > 0 && method[0] == '"' {
		msg.method = jsonString(method)
	}
	return msg
}

// parseMessageMap is parseMessage by way of a map of the members, for the
// bodies the in-place scan leaves alone.
func parseMessageMap(body []byte) rpcMessage {
	var msg rpcMessage
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		msg.method = jsonrpcMethod(body)
		return msg
	}
	msg.object = true
	var raw json.RawMessage
	n := 0
	for k, v := range top {
		if strings.EqualFold(k, "method") {
			raw, n = v, n+1
		}
		switch k {
		case "jsonrpc":
			msg.jsonrpc = v
		case "id":
			msg.id = v
		case "method":
		case "params":
			msg.params = v
		default:
			msg.extra = true
		}
	}
	switch {
	case n > 1: // several spellings: encoding/json takes the last in the document
		msg.method = jsonrpcMethod(body)
	case len(raw) > 0 && raw[0] == '"':
		json.Unmarshal(raw, &msg.method)
	}
	return msg
}

// strict checks the members of a single JSON-RPC 2.0 request, exact and
// case-sensitive as the SDK decodes them, and returns its id as the SDK
// writes it back; false leaves the message to the SDK.
func (msg *rpcMessage) strict() (id []byte, ok bool) {
	if !msg.object || msg.deep || msg.extra {
		return nil, false
	}
	if string(msg.jsonrpc) != `"2.0"` {
		return nil, false
	}
	id = canonicalID(msg.id)
	return id, id != nil
}

// toolCall reads msg as a tools/call request with params of only name and
// arguments. Anything else reports false and is left to the SDK.
func (msg *rpcMessage) toolCall() (toolCall, bool) {
	var call toolCall
	id, ok := msg.strict()
	if !ok || msg.method != "tools/call" {
		return call, false
	}
	call.id = id
	if len(msg.params) == 0 || msg.params[0] != '{' {
		return call, false
	}
	good, nameOK := true, false
	scanned := members(msg.params, func(k, v []byte) bool {
		switch string(k) {
		case "name": // the last one counts, as in encoding/json
			if nameOK = len(v) > 0 && v[0] == '"'; nameOK {
				call.name = jsonString(v)
			}
		case "arguments":
			call.args = v
		case "_meta":
			call.meta = v // checked by requestMetaOK
		default:
			good = false // newer fields (a progress token is in _meta)
		}
		return good
	})
	if scanned && !nameOK {
		return call, false
	}
	if !scanned && good { // a key with an escape: decode as encoding/json would
		var params map[string]json.RawMessage
		call.name, call.args = "", nil
		if json.Unmarshal(msg.params, &params) != nil {
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
			case "_meta":
				call.meta = v
			default:
				return call, false
			}
		}
	} else if !good {
		return call, false
	}
	return call, call.name != ""
}

// members calls fn with the raw key (between its quotes) and raw value of
// each member of obj, a JSON object already known to be valid, in document
// order, until fn returns false. It reports false, having stopped, when fn
// did or when a key holds an escape (the caller decodes those another way).
func members(obj []byte, fn func(k, v []byte) bool) bool {
	i := skipSpace(obj, 1) // past '{'
	for i < len(obj) && obj[i] != '}' {
		if obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
		end := skipValue(obj, i) // the key, a string
		key := obj[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1) // past ':'
		end = skipValue(obj, i)
		if !fn(key, obj[i:end]) {
			return false
		}
		i = skipSpace(obj, end)
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(b)
	case '{', '[':
		depth, inString := 0, false
		for j := i; j < len(b); j++ {
			c := b[j]
			if inString {
				switch c {
				case '\\':
					j++
				case '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		j := i
		for ; j < len(b); j++ {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return j
			}
		}
		return j
	}
}

// jsonString decodes raw, a valid JSON string, as encoding/json would.
func jsonString(raw []byte) string {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		switch string(s) { // the hot methods, without a copy
		case "tools/call":
			return "tools/call"
		case "tools/list":
			return "tools/list"
		}
		return string(s)
	}
	var out string
	json.Unmarshal(raw, &out)
	return out
}

// parseToolCall decodes body as a tools/call the fast path can answer.
func parseToolCall(body []byte) (toolCall, bool) {
	msg := parseMessage(body)
	return msg.toolCall()
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

// requestMetaOK reports whether a request for method with params._meta meta
// (nil when absent) passes the SDK's per-request checks, so the fast paths
// may answer it. Before 2026-07-28 that is a request without _meta. A
// 2026-07-28 request must name its method in Mcp-Method and carry the
// version, valid client capabilities and, if any, valid client info in
// _meta (the checks of the SDK's servePOST, validateMcpHeaders and
// validateRequestMeta). Portico reads none of them: a call is the same
// whoever the client is. A log level is allowed here; fastCall leaves the
// calls that carry one to the SDK, which sends their log messages. Any other member, a progress token above all
// (Portico then reports progress through the SDK's session), goes to the
// SDK, as does a _meta whose decoding could differ between encoding/json
// and the SDK's decoder (escapes, invalid UTF-8).
func (r *Runtime) requestMetaOK(h http.Header, method string, meta json.RawMessage) bool {
	if h.Get("Mcp-Protocol-Version") != version20260728 {
		return meta == nil
	}
	if h.Get("Mcp-Method") != method {
		return false
	}
	// A client sends the same _meta with every request, and the SDK's
	// decoding of it costs more than the rest of the call: the verdict,
	// which depends on the bytes alone, is kept for the first few hundred.
	return r.metaVerdicts.verdict(meta)
}

// metaVerdicts holds metaOK's verdicts by _meta, at most maxMetaVerdicts;
// each Runtime has its own.
type metaVerdicts struct {
	m sync.Map
	n atomic.Int64
}

const maxMetaVerdicts = 512

func (v *metaVerdicts) verdict(meta json.RawMessage) bool {
	if ok, seen := v.m.Load(string(meta)); seen {
		return ok.(bool)
	}
	ok := metaOK(meta)
	if v.n.Add(1) <= maxMetaVerdicts {
		v.m.Store(string(meta), ok)
	}
	return ok
}

// metaOK is requestMetaOK's check of a 2026-07-28 request's _meta.
func metaOK(meta json.RawMessage) bool {
	if len(meta) == 0 || meta[0] != '{' || !utf8.Valid(meta) || bytes.IndexByte(meta, '\\') >= 0 {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(meta, &members) != nil || string(members[mcp.MetaKeyProtocolVersion]) != `"`+version20260728+`"` {
		return false
	}
	m := mcp.Meta{}
	for k, v := range members {
		switch k {
		//lint:ignore SA1019 the SDK still accepts a log level in _meta, so the fast paths do too
		case mcp.MetaKeyProtocolVersion, mcp.MetaKeyLogLevel:
		case mcp.MetaKeyClientInfo, mcp.MetaKeyClientCapabilities:
			var val any
			if json.Unmarshal(v, &val) != nil {
				return false
			}
			m[k] = val
		default:
			return false
		}
	}
	// The SDK's own decoding of the two: nil when missing or invalid.
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Meta: m}}
	if _, ok := m[mcp.MetaKeyClientInfo]; ok && req.ClientInfo() == nil {
		return false
	}
	return req.ClientCapabilities() != nil
}
