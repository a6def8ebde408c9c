package bridge

import (
	"context"
	"crypto/rand"
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A call by a user who has not linked the upstream account a credential
// needs (linkRequired) is a tool error with the link URL for every client.
// A client that declared URL-mode elicitation is handed the URL the way
// its protocol version defines, so it can offer to open it:
//
//   - 2025-11-25 (a session: the capability declared at initialize travels
//     in the signed session id, so every replica knows it): the JSON-RPC
//     error URLElicitationRequiredError, -32042, whose data.elicitations
//     holds one {mode:"url", elicitationId, url, message}; the client
//     calls again once the user linked.
//   - 2026-07-28 (capabilities in each request's _meta): an input-required
//     result (multi round-trip requests) whose inputRequests holds one
//     elicitation/create of mode url. The client retries with the user's
//     answer in inputResponses; a retry that answered it and still finds no
//     link gets the tool error, so a client never loops on the same URL.
//
// The URL is the dashboard's Connected accounts page: it carries nothing
// of the user, and the link it starts is bound to whoever signs in there,
// so a URL passed to someone else links their account, not the caller's.

// urlElicitationVersion is the first protocol version with URL-mode
// elicitation.
const urlElicitationVersion = "2025-11-25"

// linkInputKey is the id of the input request asking to link cred.
func linkInputKey(cred string) string { return "portico.link/" + cred }

// elicitLink returns how the client of req is asked to open lr's URL: an
// input-required result or a -32042 error. Both are nil when the client
// did not declare URL-mode elicitation, or already answered this request:
// the call then ends with the tool error.
func elicitLink(ctx context.Context, req *mcp.CallToolRequest, lr *linkRequired) (*mcp.CallToolResult, error) {
	info := requestInfo(ctx)
	if info == nil {
		return nil, nil
	}
	if requestHeader(req.Extra).Get("Mcp-Protocol-Version") == version20260728 {
		if req.Params != nil && req.Params.InputResponses[linkInputKey(lr.cred)] != nil {
			return nil, nil
		}
		if !metaDeclaresURLElicitation(info.params) {
			return nil, nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{}, InputRequests: mcp.InputRequestMap{
			linkInputKey(lr.cred): &mcp.ElicitParams{Mode: "url", Message: lr.prompt, URL: lr.url},
		}}, nil
	}
	if !info.sess.elicitURL || info.sess.version < urlElicitationVersion {
		return nil, nil
	}
	err := mcp.URLElicitationRequiredError([]*mcp.ElicitParams{{Mode: "url", ElicitationID: rand.Text(), URL: lr.url, Message: lr.prompt}})
	if e, ok := err.(*jsonrpc.Error); ok {
		e.Message = lr.msg // the SDK's is generic; a client that shows only the message still says what to do
	}
	return nil, err
}

// metaDeclaresURLElicitation reports whether a 2026-07-28 request whose
// params are params declares URL-mode elicitation in its _meta.
func metaDeclaresURLElicitation(params json.RawMessage) bool {
	var p struct {
		Meta struct {
			Capabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
		} `json:"_meta"`
	}
	return json.Unmarshal(params, &p) == nil && declaresURLElicitation(p.Meta.Capabilities)
}
