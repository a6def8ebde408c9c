package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
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

// rest measures t without its schemas: name, description, annotations
// and the keys around them, as tools/list encodes it (placeholders stand
// in for the schemas and are not counted).
func (m *costMeter) rest(t *mcp.Tool) tenant.CostPart {
	r := *t
	r.InputSchema = placeholder
	holders := len(placeholder)
	if out, _ := t.OutputSchema.(json.RawMessage); len(out) > 0 {
		r.OutputSchema = placeholder
		holders += len(placeholder)
	} else {
		r.OutputSchema = nil
	}
	m.buf.Reset()
	if err := m.enc.Encode(&r); err != nil {
		return tenant.CostPart{}
	}
	b := bytes.TrimRight(m.buf.Bytes(), "\n")
	return tenant.CostPart{Bytes: len(b) - holders, Tokens: EstimateTokens(b)}
}

// tool returns the cost of t as tools/list encodes it; its schemas are
// json.RawMessage (or nil), measured as they are.
func (m *costMeter) tool(t *mcp.Tool) tenant.Cost {
	c := tenant.Cost{NameDescription: m.rest(t)}
	if in, ok := t.InputSchema.(json.RawMessage); ok {
		c.InputSchema = tenant.CostPart{Bytes: len(in), Tokens: EstimateTokens(in)}
	}
	if out, ok := t.OutputSchema.(json.RawMessage); ok && len(out) > 0 {
		c.OutputSchema = tenant.CostPart{Bytes: len(out), Tokens: EstimateTokens(out)}
	}
	c.Sum()
	return c
}

// toolSetCost measures the tools ops list in listing mode listing, with
// the totals of both listing modes and of discovery mode. Lean tools share
// their input schemas with full ones, so only the rest of each tool is
// measured twice.
func toolSetCost(ops []*openapi.Operation, listing string) *tenant.ToolSetCost {
	if listing != tenant.ListingLean {
		listing = tenant.ListingFull
	}
	m := newCostMeter()
	c := &tenant.ToolSetCost{Listing: listing, Tokenizer: Tokenizer, Tools: []tenant.ToolCost{}}
	describe := true
	for _, op := range ops {
		if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		if op.Name == describeToolName {
			describe = false
		}
		full := m.tool(toolOf(op))
		lean := tenant.Cost{NameDescription: m.rest(leanToolOf(op)), InputSchema: full.InputSchema}
		lean.Sum()
		c.FullTokens += full.Tokens
		c.LeanTokens += lean.Tokens
		tc := full
		if listing == tenant.ListingLean {
			tc = lean
		}
		c.Total.Add(tc)
		c.Tools = append(c.Tools, tenant.ToolCost{Name: op.Name, Cost: tc})
	}
	if describe {
		d := m.tool(leanDescribeTool())
		c.LeanTokens += d.Tokens
		if listing == tenant.ListingLean {
			c.Total.Add(d)
			c.Tools = append(c.Tools, tenant.ToolCost{Name: describeToolName, Cost: d})
		}
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
	s := fmt.Sprintf("this set of %d tools costs ~%s tokens. Cheaper: ", len(c.Tools), roundTokens(c.Total.Tokens))
	if c.Listing == tenant.ListingFull && c.LeanTokens < c.FullTokens {
		s += fmt.Sprintf("lean listing (settings.listing \"lean\") ~%s; ", roundTokens(c.LeanTokens))
	}
	return s + fmt.Sprintf("discovery mode (settings.tool_mode \"discovery\") ~%s; "+
		"a toolset (route maps excluding what agents do not need) saves what it leaves out: the 10 costliest tools are ~%s",
		roundTokens(c.DiscoveryTokens), roundTokens(ten))
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

// Convert is [openapi.Convert] with the report's cost filled in: what the
// tools cost a model as tools/list serves them in listing mode listing
// ("full", also "", or "lean"). The operations do not depend on listing.
func Convert(spec []byte, opts openapi.Options, listing string) (*openapi.Conversion, error) {
	c, err := openapi.Convert(spec, opts)
	if err != nil {
		return nil, err
	}
	c.Report.Cost = toolSetCost(c.Operations, listing)
	return c, nil
}
