package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Prompts (prompts/list, prompts/get) are the tenant's own message
// templates, stored beside its settings (tenant.Prompt), not converted
// from the spec. They are part of the state like tools: read once per
// request from the state pointer, so a change is one step for clients. The
// SDK's registry holds them only so that its changes notify 2026-07-28
// listen streams (and advertise the capability); session GET streams hear
// of them through the state's fingerprint (sessionstream.go). A tenant
// without prompts advertises no prompts capability and answers prompts/*
// method-not-found, as the 2026-07-28 discover checks require.

// promptSet is a state's prompts: as listed and as defined, by name.
type promptSet struct {
	listed []*mcp.Prompt
	defs   map[string]*tenant.Prompt
	fp     string // fingerprint of the listing; "" when there are none
}

// newPromptSet builds the set served for ps (in the store's order, by name).
func newPromptSet(ps []tenant.Prompt) promptSet {
	if len(ps) == 0 {
		return promptSet{}
	}
	s := promptSet{defs: make(map[string]*tenant.Prompt, len(ps))}
	h := sha256.New()
	for i := range ps {
		p := &ps[i]
		s.defs[p.Name] = p
		mp := &mcp.Prompt{Name: p.Name, Title: p.Title, Description: p.Description}
		for _, a := range p.Arguments {
			mp.Arguments = append(mp.Arguments, &mcp.PromptArgument{Name: a.Name, Description: a.Description, Required: a.Required})
		}
		s.listed = append(s.listed, mp)
		h.Write(openapi.MustJSON(mp))
		h.Write([]byte{0})
	}
	s.fp = hex.EncodeToString(h.Sum(nil)[:8])
	return s
}

// has reports whether the set holds any prompt.
func (s promptSet) has() bool { return len(s.defs) > 0 }

// listedPrompt is the listing of prompt name, for telling changed prompts
// apart when the registry is brought in line.
func (s promptSet) listedPrompt(name string) *mcp.Prompt {
	for _, p := range s.listed {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// noPrompts is the error of prompts/* for a tenant without prompts.
func noPrompts(method string) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "method not found: " + method + " (this server has no prompts; add one with POST /api/v1/tenants/{id}/prompts)"}
}

// listPrompts answers prompts/list from st.
func listPrompts(st *state) (mcp.Result, error) {
	if !st.prompts.has() {
		return nil, noPrompts("prompts/list")
	}
	return &mcp.ListPromptsResult{Prompts: st.prompts.listed, Cacheable: listCache}, nil
}

// getPrompt answers prompts/get from st: the prompt's messages with its
// arguments filled in. An unknown prompt, a missing required argument or an
// argument the prompt does not declare is -32602 saying which.
func getPrompt(st *state, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	if !st.prompts.has() {
		return nil, noPrompts("prompts/get")
	}
	if req == nil || req.Params == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params: prompts/get needs params {\"name\": …}"}
	}
	p := st.prompts.defs[req.Params.Name]
	if p == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: no prompt named %q; prompts/list names this server's prompts (%s)", req.Params.Name, promptNames(st.prompts))}
	}
	declared := make(map[string]bool, len(p.Arguments))
	var missing []string
	for _, a := range p.Arguments {
		declared[a.Name] = true
		if a.Required && req.Params.Arguments[a.Name] == "" {
			missing = append(missing, a.Name)
		}
	}
	if len(missing) > 0 {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: prompt %q needs the argument(s) %s: send them in params.arguments", p.Name, quoteAll(missing))}
	}
	var unknown []string
	for name := range req.Params.Arguments {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: prompt %q has no argument(s) %s; its arguments are %s", p.Name, quoteAll(unknown), argNames(p))}
	}
	args := req.Params.Arguments
	res := &mcp.GetPromptResult{Description: p.Description, Messages: make([]*mcp.PromptMessage, 0, len(p.Messages))}
	for _, m := range p.Messages {
		var c mcp.Content
		switch {
		case m.Image != nil:
			data, _ := base64.StdEncoding.DecodeString(m.Image.Data) // checked when stored
			c = &mcp.ImageContent{Data: data, MIMEType: m.Image.MIMEType}
		case m.Resource != nil:
			c = &mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: tenant.Render(m.Resource.URI, args), MIMEType: m.Resource.MIMEType, Text: tenant.Render(m.Resource.Text, args)}}
		default:
			c = &mcp.TextContent{Text: tenant.Render(m.Text, args)}
		}
		res.Messages = append(res.Messages, &mcp.PromptMessage{Role: mcp.Role(m.Role), Content: c})
	}
	return res, nil
}

// completePrompt answers completion/complete for an argument of a prompt:
// its completions that start with what the client typed.
func completePrompt(st *state, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	ref := req.Params.Ref
	p := st.prompts.defs[ref.Name]
	if p == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: no prompt named %q; prompts/list names this server's prompts (%s)", ref.Name, promptNames(st.prompts))}
	}
	name := req.Params.Argument.Name
	for _, a := range p.Arguments {
		if a.Name == name {
			return &mcp.CompleteResult{Completion: match(a.Completions, req.Params.Argument.Value)}, nil
		}
	}
	return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid params: prompt %q has no argument %q; its arguments are %s", p.Name, name, argNames(p))}
}

func promptNames(s promptSet) string {
	if !s.has() {
		return "none"
	}
	names := make([]string, 0, len(s.listed))
	for _, p := range s.listed {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func argNames(p *tenant.Prompt) string {
	if len(p.Arguments) == 0 {
		return "none"
	}
	names := make([]string, len(p.Arguments))
	for i, a := range p.Arguments {
		names[i] = a.Name
	}
	return quoteAll(names)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// addPrompts registers in the SDK's registry the prompts of st that are
// new or listed differently than in old, before st is swapped in, so
// prompts/get of any prompt of st finds its handler; removePrompts drops
// the ones st no longer has, after the swap. The registry's changes notify
// listen streams (prompts/list_changed) and set the capability. Prompts
// listed the same are left alone: no change, no notification.
func (l *live) addPrompts(srv *mcp.Server, old, st *state) {
	var prev promptSet
	if old != nil {
		prev = old.prompts
	}
	for _, p := range st.prompts.listed {
		if q := prev.listedPrompt(p.Name); q != nil && string(openapi.MustJSON(q)) == string(openapi.MustJSON(p)) {
			continue
		}
		srv.AddPrompt(p, l.renderPrompt)
	}
}

func (l *live) removePrompts(srv *mcp.Server, old, st *state) {
	if old == nil {
		return
	}
	var gone []string
	for _, p := range old.prompts.listed {
		if st.prompts.defs[p.Name] == nil {
			gone = append(gone, p.Name)
		}
	}
	if len(gone) > 0 {
		srv.RemovePrompts(gone...)
	}
}

// renderPrompt is the registry's handler of every prompt: it renders from
// the state serveFromState read for the request.
func (l *live) renderPrompt(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	st := l.view(ctx)
	if pc, ok := ctx.Value(pinnedKey{}).(*pinnedCall); ok && pc.st != nil {
		st = pc.st
	}
	return getPrompt(st, req)
}
