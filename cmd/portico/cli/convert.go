package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// cmdConvert prints what an OpenAPI document becomes, offline.
func cmdConvert(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print tools, resources and templates as MCP lists them, and the conformance report, as JSON")
	routeMaps := fs.String("route-maps", "", "a JSON file with a list of route maps")
	listing := fs.String("listing", "full", `how tools/list shows the tools: "full" or "lean" (first paragraph of each description, no output schemas)`)
	var spec string
	// Accept the flags before or after SPEC.
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		if spec != "" {
			return errors.New("usage: portico convert SPEC [--route-maps FILE] [--listing full|lean] [--json]")
		}
		spec, rest = fs.Arg(0), fs.Args()[1:]
	}
	if spec == "" {
		return errors.New("usage: portico convert SPEC [--route-maps FILE] [--listing full|lean] [--json]")
	}
	raw, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	var opts openapi.Options
	if *routeMaps != "" {
		b, err := os.ReadFile(*routeMaps)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &opts.RouteMaps); err != nil {
			return fmt.Errorf("%s: not a JSON list of route maps: %w", *routeMaps, err)
		}
		if err := (tenant.Settings{RouteMaps: opts.RouteMaps}).Validate(); err != nil {
			return fmt.Errorf("%s: %w", *routeMaps, err)
		}
	}
	if err := (tenant.Settings{Listing: *listing}).Validate(); err != nil {
		return fmt.Errorf("--listing: %w", err)
	}
	conv, err := bridge.Convert(raw, opts, *listing)
	if err != nil {
		return fmt.Errorf("%s: %w", spec, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // as tools/list encodes: compacted, each tool is the served bytes
		return enc.Encode(bridge.MCPListing(conv, *listing))
	}
	for _, op := range conv.Operations {
		target := op.Name
		if op.URI != "" {
			target += " " + op.URI
		}
		fmt.Fprintf(stdout, "%-18s %-7s %-40s %s\n", op.Kind, op.Method, op.Path, target)
	}
	printReport(stdout, conv.Report)
	fmt.Fprintf(stdout, "%d operations from %q %s\n", len(conv.Operations), conv.Title, conv.Version)
	return nil
}

// printReport prints the conformance report after the table: counts, then
// each name changed, feature not carried over and warning on its own line.
func printReport(w io.Writer, r bridge.Report) {
	fmt.Fprintf(w, "\nreport: %s\n", r.Summary())
	fmt.Fprintf(w, "  operations seen %d, tools %d, resources %d, resource templates %d, excluded %d\n",
		r.Seen, r.Tools, r.Resources, r.ResourceTemplates, len(r.Excluded))
	for _, e := range r.Excluded {
		fmt.Fprintln(w, "  excluded:", e)
	}
	for _, n := range r.NamesCut {
		fmt.Fprintf(w, "  name cut: %s %q -> %q\n", n.Operation, n.From, n.To)
	}
	for _, n := range r.NamesSuffixed {
		fmt.Fprintf(w, "  name suffixed: %s %q -> %q\n", n.Operation, n.From, n.To)
	}
	for _, u := range r.Unsupported {
		fmt.Fprintf(w, "  not supported: %s (%d): %s\n", u.Feature, u.Count, u.Instead)
	}
	for _, s := range r.Warnings {
		if restatesNameCut(s, r.NamesCut) {
			continue // printed above as "name cut"
		}
		fmt.Fprintln(w, "  warning:", s)
	}
	printCost(w, r.Cost)
}

// restatesNameCut reports whether warning s is the converter's note of a
// name cut that cuts lists already, so each change is printed once.
func restatesNameCut(s string, cuts []tenant.NameChange) bool {
	for _, n := range cuts {
		if strings.HasPrefix(s, fmt.Sprintf("%s: name %q is longer than", n.Operation, n.From)) {
			return true
		}
	}
	return false
}

// printCost prints what listing the tools costs a model: the set, its
// parts, the costliest tools and the recommendation.
func printCost(w io.Writer, c *tenant.ToolSetCost) {
	if c == nil {
		return
	}
	kb := func(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }
	t := c.Total
	fmt.Fprintf(w, "\ncost (%s listing, tokens: %s):\n", c.Listing, c.Tokenizer)
	fmt.Fprintf(w, "  %d tools: %s, ~%d tokens (name+description %d, input schemas %d, output schemas %d)\n",
		len(c.Tools), kb(t.Bytes), t.Tokens, t.NameDescription.Tokens, t.InputSchema.Tokens, t.OutputSchema.Tokens)
	fmt.Fprintf(w, "  the same tools: full listing ~%d tokens, lean listing ~%d, discovery mode ~%d\n", c.FullTokens, c.LeanTokens, c.DiscoveryTokens)
	if c.Recommendation != "" {
		fmt.Fprintln(w, "  recommendation:", c.Recommendation)
	}
	top := slices.Clone(c.Tools)
	slices.SortStableFunc(top, func(a, b tenant.ToolCost) int { return b.Tokens - a.Tokens })
	if len(top) > 10 {
		top = top[:10]
	}
	if len(top) > 0 {
		fmt.Fprintf(w, "  %-56s %9s %8s %8s %8s %8s\n", "costliest tools", "bytes", "tokens", "name+d", "input", "output")
	}
	for _, tc := range top {
		fmt.Fprintf(w, "  %-56s %9d %8d %8d %8d %8d\n", tc.Name, tc.Bytes, tc.Tokens, tc.NameDescription.Tokens, tc.InputSchema.Tokens, tc.OutputSchema.Tokens)
	}
	if n := len(c.Tools) - len(top); n > 0 {
		fmt.Fprintf(w, "  ... %d more; --json lists every tool's cost under report.cost.tools\n", n)
	}
}
