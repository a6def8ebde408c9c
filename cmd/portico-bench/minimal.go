package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// minimalServer is the baseline: a go-sdk v1.8.0 server proxying the same
// call to the same upstream the straightforward way (raw AddTool, one
// Streamable HTTP handler, default options, a pooled upstream client).
type minimalServer struct {
	url string
	srv *http.Server
}

func startMinimal(upstreamURL string, stateless bool) (*minimalServer, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	s := mcp.NewServer(&mcp.Implementation{Name: "minimal", Version: "1"}, nil)
	s.AddTool(&mcp.Tool{
		Name:        "read_item",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"item_id":{"type":"integer"},"q":{"type":"string"}},"required":["item_id"]}`),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args struct {
			ItemID int    `json:"item_id"`
			Q      string `json:"q"`
		}
		if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
			return nil, err
		}
		u := fmt.Sprintf("%s/items/%d", upstreamURL, args.ItemID)
		if args.Q != "" {
			u += "?q=" + url.QueryEscape(args.Q)
		}
		hreq, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		resp, err := client.Do(hreq)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(body)}}, StructuredContent: json.RawMessage(body)}, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: stateless})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &minimalServer{url: "http://" + ln.Addr().String() + "/mcp", srv: &http.Server{Handler: h}}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *minimalServer) close() { m.srv.Close() }
