package bridge

import "github.com/modelcontextprotocol/go-sdk/mcp"

// Server returns the MCP server of active tenant id, or nil. It lets a
// single-tenant front end (`portico run`) serve it over stdio or plain HTTP.
func (r *Runtime) Server(id string) *mcp.Server {
	if l := r.lookup(id); l != nil {
		return l.server
	}
	return nil
}
