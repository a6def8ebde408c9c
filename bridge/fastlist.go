package bridge

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
)

// The tools/list fast path answers a session-less tools/list with bytes
// encoded once per state (one tool-set version): encoding a big tool set
// (GitHub: 1,223 tools, ~7 MB) costs the SDK ~0.2 s of CPU per request,
// twice over (it encodes the result, then the envelope around it). A new
// state, which every refresh, settings change and Reload builds, starts with
// no encoding, so the cache cannot outlive the tools it lists.
// TestFastListMatchesSDK holds the bytes to what the SDK sends.

// toolsList is the encoded result of tools/list for a state, built on first use.
type toolsList struct {
	once sync.Once
	b    []byte
	err  error
}

// toolsListResult returns the JSON of st's tools/list result, exactly as
// the SDK encodes the result serveFromState returns (encoding/json without
// HTML escaping, as its jsonrpc2 package does).
func (st *state) toolsListResult() ([]byte, error) {
	return st.listed.encode(&mcp.ListToolsResult{Tools: openapi.NonNilSlice(st.tools), Cacheable: listCache})
}

// toolsListResult26 is toolsListResult for a 2026-07-28 request: the SDK
// marks the result complete and names the server (impl) in its _meta.
func (st *state) toolsListResult26(impl *mcp.Implementation) ([]byte, error) {
	res := &mcp.ListToolsResult{Meta: mcp.Meta{mcp.MetaKeyServerInfo: impl}, Tools: openapi.NonNilSlice(st.tools), Cacheable: listCache}
	res.ResultType = "complete"
	return st.listed26.encode(res)
}

// encode returns the encoding of res, made on first use.
func (tl *toolsList) encode(res *mcp.ListToolsResult) ([]byte, error) {
	tl.once.Do(func() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			tl.err = err
			return
		}
		tl.b = bytes.TrimRight(buf.Bytes(), "\n")
	})
	return tl.b, tl.err
}

// fastList answers msg, a tools/list request the fast path can answer, and
// reports whether it did. Cursors are accepted and ignored, as
// serveFromState ignores them: every tool is on the one page.
func (r *Runtime) fastList(w http.ResponseWriter, req *http.Request, l *live, msg *rpcMessage) bool {
	if msg.method != "tools/list" || !r.fastEligible(req) {
		return false
	}
	id, ok := msg.strict()
	if !ok {
		return false
	}
	var meta json.RawMessage
	if msg.params != nil {
		var params map[string]json.RawMessage
		if msg.params[0] != '{' || json.Unmarshal(msg.params, &params) != nil {
			return false
		}
		for k, v := range params {
			switch {
			case k == "_meta":
				meta = v // checked by requestMetaOK
			case k != "cursor" || len(v) == 0 || v[0] != '"':
				return false // newer fields go to the SDK
			}
		}
	}
	if !r.requestMetaOK(req.Header, "tools/list", meta) {
		return false
	}
	l.catchUp.wait(req.Context())
	st := l.view(req.Context())
	if st.closed {
		return false
	}
	var result []byte
	var err error
	if req.Header.Get("Mcp-Protocol-Version") == version20260728 {
		result, err = st.toolsListResult26(l.impl)
	} else {
		result, err = st.toolsListResult()
	}
	if err != nil {
		r.log.Error("encode tools/list", "tenant", l.id, "err", err)
		return false
	}
	// Written in pieces, not copied into one buffer: net/http buffers
	// small responses whole either way, and a big list is sent chunked.
	r.fastLists.Add(1) // before the answer leaves, as in fastCall
	r.opts.Metrics.fast("tools/list")
	sse := r.writeFastHeaders(w)
	if sse {
		io.WriteString(w, "event: message\ndata: ")
	}
	io.WriteString(w, `{"jsonrpc":"2.0","id":`)
	w.Write(id)
	io.WriteString(w, `,"result":`)
	w.Write(result)
	if sse {
		io.WriteString(w, "}\n\n")
		http.NewResponseController(w).Flush()
	} else {
		io.WriteString(w, "}")
	}
	return true
}
