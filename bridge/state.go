package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// Tools lists what active tenant id serves.
func (r *Runtime) Tools(_ context.Context, id string) ([]tenant.Tool, error) {
	l := r.lookup(id)
	if l == nil {
		return nil, fmt.Errorf("tenant %s is not active: %w", id, tenant.ErrNotFound)
	}
	return toolsOf(l.state.Load()), nil
}

// toolsOf lists what st serves.
func toolsOf(st *state) []tenant.Tool {
	out := make([]tenant.Tool, 0, len(st.list))
	for _, op := range st.list {
		out = append(out, tenant.Tool{
			Name: op.Name, Title: op.Title, Kind: op.Kind, Method: op.Method, Path: op.Path, URI: op.URI,
			Description: op.Description, Tags: op.Tags, InputSchema: op.InputSchema, OutputSchema: op.OutputSchema,
		})
	}
	return out
}

// convShare hands one conversion to every tenant that needs it while a
// Restore runs, keyed by convKey (document hash and conversion settings).
type convShare struct {
	mu sync.Mutex
	m  map[string]*sharedConv
}

type sharedConv struct {
	done chan struct{}
	conv *openapi.Conversion // nil when the conversion failed
}

// convert returns the operations of raw converted for t, converting once
// per key. A failed conversion is not shared: its error names the tenant's
// spec URL, so each tenant converts (and fails) on its own.
func (s *convShare) convert(ctx context.Context, r *Runtime, key string, raw []byte, t *tenant.Tenant) (*openapi.Conversion, error) {
	s.mu.Lock()
	c, ok := s.m[key]
	if !ok {
		c = &sharedConv{done: make(chan struct{})}
		s.m[key] = c
	}
	s.mu.Unlock()
	if ok {
		<-c.done
		if c.conv != nil {
			return c.conv, nil
		}
	} else {
		defer close(c.done)
	}
	conv, err := r.convertSpec(ctx, raw, t)
	if err != nil {
		return nil, err
	}
	if !ok {
		c.conv = conv
	}
	return conv, nil
}

// buildState loads the tenant's serving spec version (pinned, else newest;
// fetching and storing one when the cache is empty and fetchIfMissing is
// set), converts it with the tenant's settings unless prev already holds
// that conversion or conv is given, and decrypts its credentials. It also
// returns the tenant's generation, read before anything else, so a change
// racing the build is picked up by the next resync.
func (r *Runtime) buildState(ctx context.Context, t *tenant.Tenant, fetchIfMissing bool, prev *state, conv *preconverted) (*state, int64, error) {
	status, err := r.store.SpecStatus(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read spec status: %w", err)
	}
	var spec tenant.SpecVersion
	var ops []*openapi.Operation
	var report *tenant.ConversionReport
	cached := false // converted from a stored version
	switch v := status.ServingVersion; {
	case prev != nil && !prev.closed && v > 0 && prev.spec.Version == v && prev.convKey == convKey(prev.spec.SHA256, t.Settings):
		spec, ops, report = prev.spec, prev.base, prev.report // versions never change: no load, no conversion
	case conv != nil && v > 0 && conv.spec.Version == v && conv.key == convKey(conv.spec.SHA256, t.Settings):
		spec, ops, report = conv.spec, conv.ops, conv.report
	case v > 0:
		cached = true
		trackerFrom(ctx).phase(tenant.PhaseDownload, fmt.Sprintf("nothing to download: version %d is in the spec cache", v))
		spec, err = r.store.Spec(ctx, t.ID, v)
		if err != nil {
			return nil, 0, fmt.Errorf("load cached spec: %w", err)
		}
		if share := r.share.Load(); share != nil && spec.SHA256 != "" {
			c, err := share.convert(ctx, r, convKey(spec.SHA256, t.Settings), spec.Raw, t)
			if err != nil {
				return nil, 0, err
			}
			ops, report = c.Operations, &c.Report
			break
		}
		c, err := r.convertSpec(ctx, spec.Raw, t)
		if err != nil {
			return nil, 0, err
		}
		ops, report = c.Operations, &c.Report
	case !fetchIfMissing:
		return nil, 0, fmt.Errorf("load cached spec: %w", tenant.ErrNotFound)
	default:
		tr := trackerFrom(ctx)
		tr.phase(tenant.PhaseDownload, auditableSpecURL(t.SpecURL))
		f, ferr := fetchSpec(ctx, r.fetch, t.SpecURL, r.opts.MaxSpecBytes, nil)
		if ferr != nil {
			return nil, 0, ferr
		}
		c, cerr := r.convertSpec(ctx, f.raw, t)
		if cerr != nil {
			return nil, 0, cerr
		}
		tr.phase(tenant.PhaseStore, fmt.Sprintf("%s as a new spec version", sizeOf(len(f.raw))))
		spec, _, err = r.store.AddSpecVersion(ctx, t.ID, tenant.SpecVersion{
			SHA256: f.sha256, ETag: f.etag, LastModified: f.lastModified, Raw: f.raw,
			ToolCount: len(c.Operations), Warnings: c.Warnings,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("store spec version: %w", err)
		}
		ops, report = c.Operations, &c.Report
	}
	if cached {
		trackerFrom(ctx).phase(tenant.PhaseStore, fmt.Sprintf("nothing to store: serving stored version %d", spec.Version))
	}
	key := convKey(spec.SHA256, t.Settings)
	spec.Raw, spec.Diff = nil, nil // not needed once converted
	creds, err := r.store.LiveCredentials(ctx, t.ID)
	if err != nil {
		return nil, 0, &tenant.ActivationError{Code: "credentials_unreadable",
			Reason: "could not decrypt the tenant's credentials: " + errors.Unwrap(err).Error()}
	}
	prompts, err := r.store.Prompts(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read prompts: %w", err)
	}
	toolsets, err := r.store.Toolsets(ctx, t.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("read toolsets: %w", err)
	}
	timeout := r.opts.UpstreamTimeout
	if t.Settings.UpstreamTimeoutMS > 0 {
		timeout = time.Duration(t.Settings.UpstreamTimeoutMS) * time.Millisecond
	}
	maxResponse := r.opts.MaxResponseBytes
	if t.Settings.MaxResponseBytes > 0 {
		maxResponse = t.Settings.MaxResponseBytes
	}
	base := ops
	if len(t.Settings.Tools) > 0 {
		// Saved settings were checked against the document then; parts a
		// later document no longer fits are skipped, the rest applies.
		var inv *tenant.InvalidError
		if ops, inv = openapi.TransformTools(base, t.Settings.Tools, maxResponse); len(inv.Problems) > 0 {
			r.log.Warn("settings.tools do not all apply to the serving document", "tenant", t.ID, "problems", inv.Error())
		}
	}
	st := &state{tenant: t, base: base, creds: creds, clientCreds: r.clientCreds(creds, prev), timeout: timeout,
		maxResponse: maxResponse, spec: spec, convKey: key, report: report, cors: newCORSPolicy(t.Settings)}
	st.serve(ops, prompts)
	st.withToolsets(toolsets, prompts)
	return st, status.Generation, nil
}

// serve makes st serve ops and prompts: the lookup by key, the lists MCP
// clients get (in st.tenant's listing and tool mode) and what completes.
// A tenant's state and each toolset's view are built by it alike.
func (st *state) serve(ops []*openapi.Operation, prompts []tenant.Prompt) {
	st.list, st.ops = ops, make(map[string]*openapi.Operation, len(ops))
	for _, op := range ops {
		st.ops[op.Key()] = op
		switch op.Kind {
		case tenant.KindResource:
			st.resources = append(st.resources, &mcp.Resource{Name: op.Name, URI: op.URI, Description: op.Description, MIMEType: op.MediaType()})
		case tenant.KindResourceTemplate:
			st.templates = append(st.templates, &mcp.ResourceTemplate{Name: op.Name, URITemplate: op.URI, Description: op.Description, MIMEType: op.MediaType()})
		}
	}
	s := st.tenant.Settings
	st.lean = s.ListingMode() == tenant.ListingLean
	st.tools = listedTools(ops, s.ListingMode())
	if s.ToolMode == tenant.ToolModeDiscovery {
		st.discovery, st.tools = true, discoveryTools()
	}
	st.completions = completionsFor(ops)
	st.prompts = newPromptSet(prompts)
}

// preconverted is a conversion done by a refresh, handed to buildState so
// the new version is not converted twice.
type preconverted struct {
	spec   tenant.SpecVersion // without its document
	key    string             // convKey of the conversion
	ops    []*openapi.Operation
	report *tenant.ConversionReport
}

// convKey identifies a conversion: the same document converted with the
// same route maps and names gives the same operations.
func convKey(sha string, s tenant.Settings) string {
	b, _ := json.Marshal(struct {
		M []tenant.RouteMap
		N map[string]string
		U map[string]string `json:",omitempty"`
		L string            `json:",omitempty"` // the report's cost depends on it
	}{s.RouteMaps, s.Names, s.URIs, leanOnly(s.ListingMode())})
	return sha + "|" + string(b)
}

// leanDescribe reports whether st lists lean listing's describe_tool: in
// lean listing, outside discovery mode, when no operation has the name.
func (st *state) leanDescribe() bool {
	return st.lean && !st.discovery && st.ops["tool:"+describeToolName] == nil
}

// leanOnly is listing when lean and "" otherwise, so the conversion keys
// of tenants in full listing stay what they were before lean existed.
func leanOnly(listing string) string {
	if listing == tenant.ListingLean {
		return listing
	}
	return ""
}

// convertSpec converts a document off the request path, within this
// replica's conversion budget (convertbudget.go), since a big spec costs
// hundreds of MB. It waits for room as long as ctx allows.
func (r *Runtime) convertSpec(ctx context.Context, raw []byte, t *tenant.Tenant) (*openapi.Conversion, error) {
	// Counted before taking from the budget and before libopenapi builds
	// its model: a 20k-operation document cost ~500 MB to convert.
	n, err := openapi.CountOperations(raw)
	if err == nil && n > r.opts.MaxOperations {
		return nil, &tenant.ActivationError{Code: "spec_too_large", Field: "spec_url",
			Reason: fmt.Sprintf("the document at spec_url %s has %d operations, more than the limit of %d (PORTICO_MAX_OPERATIONS); serve a smaller document or exclude paths upstream", t.SpecURL, n, r.opts.MaxOperations)}
	}
	est := estimateConvertBytes(len(raw), n)
	release, err := r.convert.acquire(ctx, est)
	if err != nil {
		return nil, r.convert.busyError(est)
	}
	defer release()
	r.converted.Add(1)
	tr := trackerFrom(ctx)
	if n > 0 {
		tr.phase(tenant.PhaseParse, fmt.Sprintf("%s, %d operations", sizeOf(len(raw)), n))
	} else {
		tr.phase(tenant.PhaseParse, sizeOf(len(raw)))
	}
	var parsed func()
	if tr != nil {
		parsed = func() { tr.phase(tenant.PhaseConvert, "operations to tools") }
	}
	conv, err := Convert(raw, openapi.Options{RouteMaps: t.Settings.RouteMaps, Names: t.Settings.Names, URIs: t.Settings.URIs, Logger: r.log, Parsed: parsed}, t.Settings.ListingMode())
	if err != nil {
		return nil, &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url",
			Reason: "the document at spec_url " + t.SpecURL + " could not be converted: " + err.Error()}
	}
	return conv, nil
}

// apply makes st the live state of l in one step (one pointer swap: lists
// and calls read the state once) and brings the SDK's registry in line so
// connected sessions get list_changed: operations new or visibly changed are
// (re)added before the swap, operations gone from st are removed after it,
// on the same server object. Operations that look the same to clients are left alone, so a
// rebuild that changes nothing sends no notification.
func (r *Runtime) apply(l *live, st *state) (err error) {
	defer func() {
		// The SDK panics on a schema it rejects; one bad tool must not take
		// the process down.
		if p := recover(); p != nil {
			err = &tenant.ActivationError{Code: "spec_invalid", Field: "spec_url", Reason: fmt.Sprintf("an operation could not be registered: %v", p)}
		}
	}()
	old := l.state.Load()
	// Each toolset has a server of its own, kept while the toolset exists.
	oldSets := l.toolsetServers.Load()
	sets := make(map[string]*mcp.Server, len(st.toolsets))
	type pair struct {
		srv     *mcp.Server
		old, st *state
	}
	pairs := []pair{{l.server, old, st}}
	for name, view := range st.toolsets {
		srv, prev := (*mcp.Server)(nil), (*state)(nil)
		if oldSets != nil {
			srv = (*oldSets)[name]
		}
		if srv != nil {
			prev = old.view(name)
		} else {
			srv = l.newServer()
		}
		sets[name] = srv
		pairs = append(pairs, pair{srv, prev, view})
	}
	// New and changed operations are registered before the swap, so a call
	// routed with st (live.go) always finds its handler in the SDK.
	for _, p := range pairs {
		l.register(p.srv, p.old, p.st)
	}
	l.toolsetServers.Store(&sets)
	l.state.Store(st)
	for _, p := range pairs {
		l.unregister(p.srv, p.old, p.st)
	}
	l.watchers.publishChange(old, st)
	// A deleted toolset's open streams end: its URL answers 404 now.
	if oldSets != nil {
		for name, srv := range *oldSets {
			if sets[name] == nil {
				for ss := range srv.Sessions() {
					ss.Close()
				}
			}
		}
	}
	l.limits.configure(limitsFor(st.tenant.Settings, r.opts.TenantRate, r.opts.TokenRate))
	l.conc.setLimit(r.maxConcurrency(st.tenant.Settings))
	return nil
}

// CheckSettings refuses settings whose per-operation keys name no
// operation of tenant id's serving document. It needs the operations, so
// it checks only a tenant active on this replica (every replica serves the
// same version); for another tenant it returns nil, and the activation's
// report lists keys that match nothing among its warnings.
func (r *Runtime) CheckSettings(id string, s tenant.Settings) error {
	if err := openapi.CheckJQ(s); err != nil {
		return err
	}
	l := r.lookup(id)
	if l == nil {
		return nil
	}
	st := l.state.Load()
	if st == nil || st.report == nil || len(st.report.OperationKeys) == 0 {
		return nil
	}
	if err := openapi.CheckSettingKeys(st.report.OperationKeys, s); err != nil {
		return err
	}
	maxResponse := r.opts.MaxResponseBytes
	if s.MaxResponseBytes > 0 {
		maxResponse = s.MaxResponseBytes
	}
	return openapi.CheckTools(st.base, s, maxResponse)
}
