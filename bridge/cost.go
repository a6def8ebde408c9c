package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/tenant"
)

// CostThreshold is the estimated tokens above which the conformance report
// recommends a smaller listing: a tenth of a 200k-token context window, a
// price an agent pays on every conversation before it does anything.
const CostThreshold = 20_000

// Tokenizer names how the cost's tokens are estimated.
const Tokenizer = "o200k_base estimate (EstimateTokens)"

// costMeter measures encoded tools, reusing its buffers.
type costMeter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newCostMeter() *costMeter {
	m := &costMeter{}
	m.enc = json.NewEncoder(&m.buf)
	m.enc.SetEscapeHTML(false) // as tools/list encodes
	return m
}

// placeholder stands for a schema in the encoding of the rest of a tool.
var placeholder = json.RawMessage(`{}`)

// tool returns the cost of t as tools/list encodes it. The schemas are
// json.RawMessage or nil; they are measured as they are, and the rest of
// the tool is encoded with placeholders in their place.
func (m *costMeter) tool(t *mcp.Tool) tenant.Cost {
	in, _ := t.InputSchema.(json.RawMessage)
	out, _ := t.OutputSchema.(json.RawMessage)
	rest := *t
	rest.InputSchema = placeholder
	holders := len(placeholder)
	if len(out) > 0 {
		rest.OutputSchema = placeholder
		holders += len(placeholder)
	} else {
		rest.OutputSchema = nil
	}
	m.buf.Reset()
	var c tenant.Cost
	if err := m.enc.Encode(&rest); err == nil {
		b := bytes.TrimRight(m.buf.Bytes(), "\n")
		c.NameDescription = tenant.CostPart{Bytes: len(b) - holders, Tokens: EstimateTokens(b)}
	}
	c.InputSchema = tenant.CostPart{Bytes: len(in), Tokens: EstimateTokens(in)}
	if len(out) > 0 {
		c.OutputSchema = tenant.CostPart{Bytes: len(out), Tokens: EstimateTokens(out)}
	}
	c.Bytes = c.NameDescription.Bytes + c.InputSchema.Bytes + c.OutputSchema.Bytes
	c.Tokens = c.NameDescription.Tokens + c.InputSchema.Tokens + c.OutputSchema.Tokens
	return c
}

// toolSetCost measures tools, the list a tenant serves in listing mode
// listing.
func toolSetCost(tools []*mcp.Tool, listing string) *tenant.ToolSetCost {
	m := newCostMeter()
	c := &tenant.ToolSetCost{Listing: listing, Tokenizer: Tokenizer, Tools: make([]tenant.ToolCost, 0, len(tools))}
	for _, t := range tools {
		tc := m.tool(t)
		c.Total.Add(tc)
		c.Tools = append(c.Tools, tenant.ToolCost{Name: t.Name, Cost: tc})
	}
	for _, t := range discoveryTools() {
		c.DiscoveryTokens += m.tool(t).Tokens
	}
	c.Recommendation = recommend(c)
	return c
}

// recommend says what would cut an expensive set, with computed figures.
func recommend(c *tenant.ToolSetCost) string {
	if c.Total.Tokens <= CostThreshold {
		return ""
	}
	top := slices.Clone(c.Tools)
	slices.SortStableFunc(top, func(a, b tenant.ToolCost) int { return b.Tokens - a.Tokens })
	ten := 0
	for i := 0; i < len(top) && i < 10; i++ {
		ten += top[i].Tokens
	}
	return fmt.Sprintf("this set of %d tools costs ~%s tokens; discovery mode (settings.tool_mode \"discovery\") would cut it to ~%s; "+
		"so would a toolset: route maps that exclude what agents do not need (the 10 costliest tools alone are ~%s)",
		len(c.Tools), roundTokens(c.Total.Tokens), roundTokens(c.DiscoveryTokens), roundTokens(ten))
}

// roundTokens writes n the way a person reads a cost: 512, 3.1k, 180k, 1.6M.
func roundTokens(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 10_000:
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	case n < 1_000_000:
		return fmt.Sprintf("%dk", (n+500)/1000)
	}
	return fmt.Sprintf("%.1fM", float64(n)/1e6)
}
