package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/portico-mcp/portico/bridge/openapi"
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
	if err := openapi.CheckJQ(s); err != nil {
		return nil, err
	}
	// The tools as agents will see them: settings.tools applied, and
	// refused with every problem, as saving them would be.
	maxResponse := r.opts.MaxResponseBytes
	if s.MaxResponseBytes > 0 {
		maxResponse = s.MaxResponseBytes
	}
	ops, inv := openapi.TransformTools(conv.Operations, s.Tools, maxResponse)
	if err := inv.Err(); err != nil {
		return nil, err
	}
	conv.Operations = ops
	p := previewOf(conv)
	if p.Listed, err = listedJSON(ops, s); err != nil {
		return nil, err
	}
	return p, nil
}

// listedJSON is tools/list's tools for ops under s.
func listedJSON(ops []*openapi.Operation, s tenant.Settings) (json.RawMessage, error) {
	listed := listedTools(ops, s.ListingMode())
	if s.ToolMode == tenant.ToolModeDiscovery {
		listed = discoveryTools()
	}
	if listed == nil {
		listed = []*mcp.Tool{}
	}
	b, err := json.Marshal(listed)
	if err != nil {
		return nil, fmt.Errorf("encode listed tools: %w", err)
	}
	return b, nil
}

// preview shapes c for the dashboard: grouped as MCP lists them, each entry
// with its method, path, schemas, operation id and tags.
func previewOf(c *openapi.Conversion) *tenant.Preview {
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

// NotServingError is PreviewTenant's answer when the tenant has no spec
// version to preview against, or a live call is asked of a tenant this
// replica does not serve (it is not active). It matches tenant.ErrConflict.
type NotServingError struct{ Reason string }

func (e *NotServingError) Error() string        { return e.Reason }
func (e *NotServingError) Is(target error) bool { return target == tenant.ErrConflict }

// PreviewTenant converts tenant id's serving document (its stored version)
// with req.Settings, storing nothing, and returns the tools exactly as
// tools/list would send them to agents. With req.Sample it shapes the
// given upstream answer of one tool; with req.Call it calls the upstream
// of one tool with the tenant's credentials (a real call, counted and
// recorded like an agent's) and shapes its answer. Settings that would be
// refused by PUT /settings are refused here with the same problems
// (*tenant.InvalidError); a sample or call naming no tool, or arguments
// the tool's previewed schema refuses, are problems under sample.* or
// call.*.
func (r *Runtime) PreviewTenant(ctx context.Context, id string, req tenant.ToolPreviewRequest) (*tenant.ToolPreview, error) {
	s := req.Settings
	l := r.lookup(id)
	var st *state
	if l != nil {
		st = l.state.Load()
	}
	if req.Call != nil && (st == nil || st.closed) {
		return nil, &NotServingError{fmt.Sprintf("tenant %s is not active, so its service cannot be called; preview with a sample instead", id)}
	}
	var base []*openapi.Operation
	var report tenant.ConversionReport
	version := 0
	if st != nil && !st.closed && st.report != nil && st.convKey == convKey(st.spec.SHA256, s) {
		// The settings that shape conversion are those being served: the
		// serving operations, with no conversion.
		base, report, version = st.base, *st.report, st.spec.Version
	} else {
		t, err := r.store.Tenant(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read tenant %s: %w", id, err)
		}
		status, err := r.store.SpecStatus(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read spec status of %s: %w", id, err)
		}
		if status.ServingVersion == 0 {
			return nil, &NotServingError{fmt.Sprintf("tenant %s has no stored spec version yet; activate it once, or preview its spec_url with POST /preview", id)}
		}
		spec, err := r.store.Spec(ctx, id, status.ServingVersion)
		if err != nil {
			return nil, fmt.Errorf("load spec version %d of %s: %w", status.ServingVersion, id, err)
		}
		if !r.convert.previews.TryAcquire(1) {
			return nil, r.convert.previewsBusy()
		}
		wctx, cancel := context.WithTimeout(ctx, r.opts.PreviewWait)
		conv, err := r.convertSpec(wctx, spec.Raw, &tenant.Tenant{SpecURL: t.SpecURL, Settings: s})
		cancel()
		r.convert.previews.Release(1)
		if err != nil {
			return nil, err
		}
		base, report, version = conv.Operations, conv.Report, spec.Version
	}
	maxResponse := r.opts.MaxResponseBytes
	if s.MaxResponseBytes > 0 {
		maxResponse = s.MaxResponseBytes
	}
	// The checks PUT /settings makes, all at once so an editor can show
	// each problem beside its field.
	var inv tenant.InvalidError
	if err := openapi.CheckSettingKeys(report.OperationKeys, s); err != nil {
		var ki *tenant.InvalidError
		if errors.As(err, &ki) {
			inv.Problems = append(inv.Problems, ki.Problems...)
		}
	}
	ops, tinv := openapi.TransformTools(base, s.Tools, maxResponse)
	inv.Problems = append(inv.Problems, tinv.Problems...)
	if err := openapi.CheckJQ(s); err != nil {
		var ji *tenant.InvalidError
		if errors.As(err, &ji) {
			for _, p := range ji.Problems {
				if !slices.ContainsFunc(inv.Problems, func(q tenant.FieldProblem) bool { return q.Field == p.Field }) {
					inv.Problems = append(inv.Problems, p)
				}
			}
		}
	}
	if err := inv.Err(); err != nil {
		return nil, err
	}
	lb, err := listedJSON(ops, s)
	if err != nil {
		return nil, err
	}
	out := &tenant.ToolPreview{Preview: *previewOf(&openapi.Conversion{Operations: ops, Report: report}), SpecVersion: version}
	out.Listed = lb
	// Which key reshapes each tool, so an editor finds a renamed tool's
	// override: operations are one per method and path.
	keyOf := map[string]string{}
	for k := range s.Tools {
		for _, op := range base {
			if op.MatchesKey(k) {
				keyOf[op.Method+" "+op.Path] = k
				break
			}
		}
	}
	for i, it := range out.Tools {
		out.Tools[i].SettingsKey = keyOf[it.Method+" "+it.Path]
	}
	switch {
	case req.Call != nil:
		out.Sample, err = r.previewCall(ctx, l, st, base, ops, s, *req.Call, maxResponse)
	case req.Sample != nil:
		out.Sample, err = previewSample(ctx, base, ops, s, *req.Sample, maxResponse)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// previewTool finds the tool a sample or call names among ops (the
// previewed tools) by name, or among base by a settings.tools key (tool
// name, operationId or "METHOD /path"), returning its previewed copy.
func previewTool(base, ops []*openapi.Operation, s tenant.Settings, name, field string, maxResponse int64) (*openapi.Operation, error) {
	if name == "" {
		return nil, invalid(field, "is required: the name of the tool, as the preview lists it")
	}
	var names []string
	for _, op := range ops {
		if op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		if op.Name == name {
			return op, nil
		}
		names = append(names, op.Name)
	}
	for _, op := range base {
		if !op.MatchesKey(name) || op.Kind == tenant.KindResource || op.Kind == tenant.KindResourceTemplate {
			continue
		}
		for k, tt := range s.Tools {
			if !op.MatchesKey(k) {
				continue
			}
			if tt.Hidden {
				return nil, invalid(field, fmt.Sprintf("%q is hidden by settings.tools[%q]: agents cannot call it", name, k))
			}
			t, inv := openapi.TransformOp(op, k, tt, maxResponse)
			if inv != nil {
				return nil, inv
			}
			return t, nil
		}
		return op, nil
	}
	msg := fmt.Sprintf("%q is no tool of the preview", name)
	if c := openapi.ClosestKey(name, names); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	}
	return nil, invalid(field, msg)
}

// previewSample shapes body as the answer of the tool sample names.
func previewSample(ctx context.Context, base, ops []*openapi.Operation, s tenant.Settings, sample tenant.PreviewSample, maxResponse int64) (*tenant.ShapedSample, error) {
	op, err := previewTool(base, ops, s, sample.Tool, "sample.tool", maxResponse)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(sample.Body)
	if !tenant.JSONGiven(sample.Body) || len(body) == 0 {
		return nil, invalid("sample.body", "is required: the upstream's JSON answer to shape")
	}
	res := &upstreamResult{status: http.StatusOK, contentType: "application/json", body: body, size: int64(len(body))}
	if res.size > maxResponse {
		res.body, res.truncated = body[:maxResponse], true
	}
	out, _, err := shapedSample(ctx, op, res, "", "sample")
	return out, err
}

// previewCall calls the tool call names through the live tenant l, as an
// agent's tools/call would run it under the previewed settings.
func (r *Runtime) previewCall(ctx context.Context, l *live, st *state, base, ops []*openapi.Operation, s tenant.Settings, call tenant.PreviewCall, maxResponse int64) (*tenant.ShapedSample, error) {
	op, err := previewTool(base, ops, s, call.Tool, "call.tool", maxResponse)
	if err != nil {
		return nil, err
	}
	args, err := decodeArgs(call.Arguments)
	if err != nil {
		return nil, invalid("call.arguments", "must be a JSON object: "+err.Error())
	}
	if err := op.ValidateArgs(args); err != nil {
		return nil, invalid("call.arguments", fmt.Sprintf("do not fit the input schema of %s: %v", op.Name, err))
	}
	ctx, done := l.instrument(ctx, op, http.Header{})
	var result *mcp.CallToolResult
	defer func() { done(result) }()
	var sel string
	if op.Transform != nil {
		args, sel = op.Transform.Inbound(args)
	}
	res, err := l.do(ctx, st, op, args, http.Header{}, caller{})
	if err != nil {
		result = toolError("%s", err.Error())
		b, _ := json.Marshal(result)
		return &tenant.ShapedSample{Tool: op.Name, Source: "call", Result: b}, nil
	}
	var out *tenant.ShapedSample
	out, result, err = shapedSample(ctx, op, res, sel, "call")
	return out, err
}

// shapedSample maps res as a call of op would (its response shape, sel
// being the agent's _select) and says what the upstream sent.
func shapedSample(ctx context.Context, op *openapi.Operation, res *upstreamResult, sel, source string) (*tenant.ShapedSample, *mcp.CallToolResult, error) {
	var result *mcp.CallToolResult
	if op.Transform != nil && op.Transform.Shape != nil {
		result = shapeResult(ctx, op.Transform.Shape, op, res, sel)
	} else {
		result = res.toolResult(op)
	}
	if res.elapsed > 0 {
		result.Meta = mcp.Meta{UpstreamMSMeta: float64(res.elapsed.Microseconds()) / 1000}
	}
	b, err := json.Marshal(result)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the shaped result of %s: %w", op.Name, err)
	}
	up := &tenant.UpstreamAnswer{Status: res.status, ContentType: res.contentType, Bytes: res.size,
		MS: float64(res.elapsed.Microseconds()) / 1000}
	if body := bytes.TrimSpace(res.body); !res.truncated && isJSON(res.contentType) && json.Valid(body) {
		up.Body = body
	} else if utf8.Valid(res.body) {
		up.Text = string(res.body)
	}
	return &tenant.ShapedSample{Tool: op.Name, Source: source, Upstream: up, Result: b}, result, nil
}

// invalid is one field's problem as an error.
func invalid(field, problem string) error {
	var inv tenant.InvalidError
	inv.Add(field, problem)
	return &inv
}
