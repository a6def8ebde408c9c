package bridge

import (
	"context"

	"github.com/portico-mcp/portico/tenant"
)

// Preview fetches the document at specURL through the runtime's guarded
// client and converts it with settings s, storing nothing. Failures are
// *tenant.ActivationError (spec_unreachable, spec_too_large, spec_invalid), or
// converter_busy when this replica's conversion budget stays full,
// the same an activation of that document would meet.
func (r *Runtime) Preview(ctx context.Context, specURL string, s tenant.Settings) (*tenant.Preview, error) {
	if !r.convert.previews.TryAcquire(1) {
		return nil, r.convert.previewsBusy()
	}
	defer r.convert.previews.Release(1)
	f, err := fetchSpec(ctx, r.fetch, specURL, r.opts.MaxSpecBytes, nil)
	if err != nil {
		return nil, err
	}
	// A preview is interactive: it waits for room in the conversion budget
	// PreviewWait at most, then says the replica is busy.
	wctx, cancel := context.WithTimeout(ctx, r.opts.PreviewWait)
	defer cancel()
	conv, err := r.convertSpec(wctx, f.raw, &tenant.Tenant{SpecURL: specURL, Settings: s})
	if err != nil {
		return nil, err
	}
	if err := CheckJQ(s); err != nil {
		return nil, err
	}
	// The tools as agents will see them: settings.tools applied, and
	// refused with every problem, as saving them would be.
	maxResponse := r.opts.MaxResponseBytes
	if s.MaxResponseBytes > 0 {
		maxResponse = s.MaxResponseBytes
	}
	ops, inv := transformTools(conv.Operations, s.Tools, maxResponse)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	conv.Operations = ops
	return conv.preview(), nil
}

// preview shapes c for the dashboard: grouped as MCP lists them, each entry
// with its method, path, schemas, operation id and tags.
func (c *Conversion) preview() *tenant.Preview {
	p := &tenant.Preview{
		Tools: []tenant.PreviewItem{}, Resources: []tenant.PreviewItem{}, ResourceTemplates: []tenant.PreviewItem{},
		Report: c.Report,
	}
	for _, op := range c.Operations {
		it := tenant.PreviewItem{
			Tool: tenant.Tool{Name: op.Name, Title: op.Title, Kind: op.Kind, Method: op.Method, Path: op.Path, URI: op.URI,
				Description: op.Description, InputSchema: op.InputSchema, OutputSchema: op.OutputSchema},
			OperationID: op.OperationID, Tags: op.Tags,
		}
		switch op.Kind {
		case tenant.KindResource:
			p.Resources = append(p.Resources, it)
		case tenant.KindResourceTemplate:
			p.ResourceTemplates = append(p.ResourceTemplates, it)
		default:
			p.Tools = append(p.Tools, it)
		}
	}
	return p
}
