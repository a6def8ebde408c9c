package bridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/yosida95/uritemplate/v3"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// errorBodyLimit is how much of an upstream error body a tool error quotes.
const errorBodyLimit = 4096

// upstreamResult is one upstream HTTP exchange.
type upstreamResult struct {
	status      int
	path        string // the request's, without its query
	body        []byte
	contentType string
	truncated   bool // body was cut at the response size cap
	size        int64
	elapsed     time.Duration
}

// callTool returns the MCP handler of tool op. Every upstream failure comes
// back as a result with isError set, naming the cause, never as a protocol
// error: an agent can read and act on it.
func (l *live) callTool(op *openapi.Operation) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if p, ok := ctx.Value(pinnedKey{}).(*pinnedCall); ok {
			return l.call(ctx, p.st, p.op, req)
		}
		return l.call(ctx, l.view(ctx), op, req)
	}
}

// UpstreamMSMeta is the _meta key of a tool result that carries how long the
// upstream HTTP exchange took, in milliseconds.
const UpstreamMSMeta = "portico/upstream_ms"

// call runs tool op of state st: the state the call started with, so a
// spec swap mid-call does not change what the call does. Its error is a
// JSON-RPC error for the client (URLElicitationRequiredError, elicit.go);
// out is then what the call log records.
//
// Every tool call passes here (SDK handler, state middleware, fast path), so
// limits, metrics, tracing and panic recovery hold whichever way it came in.
func (l *live) call(ctx context.Context, st *state, op *openapi.Operation, req *mcp.CallToolRequest) (out *mcp.CallToolResult, rpcErr error) {
	ctx, done := l.instrument(ctx, op, requestHeader(req.Extra))
	defer func() { done(out) }()
	defer func() {
		// The SDK does not recover tool handlers, and a panic on its
		// goroutine would take every tenant down with this one call.
		if p := recover(); p != nil {
			out, rpcErr = l.recovered(ctx, op, requestHeader(req.Extra), p), nil
		}
	}()
	if err := l.limits.allow(tokenOf(req.Extra)); err != nil {
		l.rateLimited(ctx, err)
		return toolError("%s", err.Error()), nil
	}
	args, err := decodeArgs(req.Params.Arguments)
	if err != nil {
		setStatus(ctx, StatusInvalid)
		return toolError("the arguments of %s must be a JSON object: %v", op.Name, err), nil
	}
	if err := op.ValidateArgs(args); err != nil {
		setStatus(ctx, StatusInvalid)
		return toolError("invalid arguments for %s: %v. Nothing was sent to the service; correct the arguments as the tool's inputSchema describes and call again.", op.Name, err), nil
	}
	var sel string
	if op.Transform != nil {
		args, sel = op.Transform.Inbound(args)
	}
	stop := reportProgress(ctx, req, progressInterval)
	res, err := l.do(ctx, st, op, args, requestHeader(req.Extra), callerOf(req.Extra))
	stop()
	logUpstream(ctx, req, op, res)
	if err != nil {
		var lr *linkRequired
		if errors.As(err, &lr) {
			if ask, rpcErr := elicitLink(ctx, req, lr); rpcErr != nil {
				return toolError("%s", err.Error()), rpcErr
			} else if ask != nil {
				return ask, nil
			}
		}
		return toolError("%s", err.Error()), nil
	}
	if op.Transform != nil && op.Transform.Shape != nil {
		out = shapeResult(ctx, op.Transform.Shape, op, res, sel)
	} else {
		out = res.toolResult(op)
	}
	// The upstream's share of the call, so a client (the dashboard's
	// playground) can tell Portico's latency from the service's.
	out.Meta = mcp.Meta{UpstreamMSMeta: float64(res.elapsed.Microseconds()) / 1000}
	return out, nil
}

// progressInterval is how often a call whose client sent a progress token
// reports that it is still waiting for the upstream.
const progressInterval = time.Second

// reportProgress sends notifications/progress for req, at once and then
// every interval, until stop is called, when the client asked for progress
// with a progress token. An upstream call reports no fraction done, so
// progress counts the intervals waited and carries no total.
func reportProgress(ctx context.Context, req *mcp.CallToolRequest, interval time.Duration) (stop func()) {
	if req == nil || req.Session == nil || req.Params == nil || req.Params.GetProgressToken() == nil {
		return func() {}
	}
	tok := req.Params.GetProgressToken()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for n := 0; ; n++ {
			msg := fmt.Sprintf("waiting for the upstream (%ds)", n*int(interval/time.Second))
			if req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(n), Message: msg}) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// readResource returns the MCP handler of resource or template op.
func (l *live) readResource(op *openapi.Operation) mcp.ResourceHandler {
	var tmpl *uritemplate.Template
	if op.Kind == tenant.KindResourceTemplate {
		tmpl, _ = uritemplate.New(op.URI) // the SDK validated it when it was added
	}
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (_ *mcp.ReadResourceResult, err error) {
		ctx, done := l.instrument(ctx, op, requestHeader(req.Extra))
		defer func() { done(nil) }()
		defer func() {
			if p := recover(); p != nil {
				l.recovered(ctx, op, requestHeader(req.Extra), p)
				err = fmt.Errorf("internal error in Portico while reading %s (request id %s)", req.Params.URI, requestHeader(req.Extra).Get("X-Request-Id"))
			}
		}()
		if err := l.limits.allow(tokenOf(req.Extra)); err != nil {
			l.rateLimited(ctx, err)
			return nil, err
		}
		args := map[string]any{}
		if tmpl != nil {
			vals := tmpl.Match(req.Params.URI)
			if vals == nil {
				return nil, mcp.ResourceNotFoundError(req.Params.URI)
			}
			for _, name := range tmpl.Varnames() {
				if v := vals.Get(name); v.Valid() {
					args[name] = v.String()
				}
			}
		}
		res, err := l.do(ctx, l.view(ctx), op, args, requestHeader(req.Extra), callerOf(req.Extra))
		if err != nil {
			return nil, err
		}
		if res.status >= 400 {
			return nil, fmt.Errorf("upstream returned HTTP %d %s for %s %s: %s", res.status, http.StatusText(res.status), op.Method, op.Path, quote(res.body, errorBodyLimit))
		}
		mt := res.contentType
		if mt == "" {
			mt = op.MediaType()
		}
		c := &mcp.ResourceContents{URI: req.Params.URI, MIMEType: mt}
		if textMedia(mt) && utf8.Valid(res.body) {
			c.Text = string(res.body)
		} else {
			c.Blob = res.body
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{c}}, nil
	}
}

// textMedia reports whether a body of media type mt is text a resource
// carries as text: text/*, JSON, XML, YAML, JavaScript, form data, or no
// type at all. Anything else (images, PDF, octet streams, audio, archives)
// is a blob, even when its bytes happen to be valid UTF-8.
func textMedia(mt string) bool {
	mt, _, _ = strings.Cut(strings.ToLower(mt), ";")
	mt = strings.TrimSpace(mt)
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), openapi.IsJSONMedia(mt),
		strings.HasSuffix(mt, "/xml"), strings.HasSuffix(mt, "+xml"),
		strings.HasSuffix(mt, "/yaml"), strings.HasSuffix(mt, "+yaml"), mt == "application/x-yaml",
		mt == "application/javascript", mt == "application/ecmascript", mt == "application/x-www-form-urlencoded",
		mt == "application/graphql", mt == "application/sql":
		return true
	}
	return false
}

// do sends op's request built from args to the tenant's upstream with its
// credentials (and, when the tenant asks, the caller's signed identity), bounded by the tenant's concurrency cap, timeout and the
// response size cap. Errors are sentences fit for an agent and never carry a
// credential (query credentials would otherwise appear in URL errors).
func (l *live) do(ctx context.Context, st *state, op *openapi.Operation, args map[string]any, in http.Header, who caller) (*upstreamResult, error) {
	if st.closed {
		setStatus(ctx, StatusShuttingDown)
		return nil, errors.New("this tenant is shutting down; retry shortly")
	}
	timeout := st.timeout
	if t, ok := st.tenant.Settings.TimeoutFor(op.OperationID, op.Method, op.Path); ok {
		timeout = t // settings.timeouts_ms for this route
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := l.conc.acquire(ctx); err != nil {
		setStatus(ctx, StatusBusy)
		return nil, fmt.Errorf("the tenant's concurrency limit (%d calls) stayed full for %s; retry later", l.conc.current(), timeout)
	}
	defer l.conc.release()
	// build makes the request anew each time: a retry needs a fresh body.
	build := func() (*http.Request, error) {
		req, err := op.NewRequest(ctx, st.tenant.BaseURL, args)
		if err != nil {
			setStatus(ctx, StatusInvalid)
			return nil, fmt.Errorf("invalid arguments for %s: %w", op.Name, err)
		}
		for _, h := range st.tenant.Settings.ForwardHeaders {
			if v := in.Values(h); len(v) > 0 {
				req.Header[http.CanonicalHeaderKey(h)] = v
			}
		}
		applyCredentials(req, st.creds)
		if err := l.applyIdentity(ctx, req, st, who); err != nil {
			setStatus(ctx, StatusCredential)
			return nil, err
		}
		return req, nil
	}
	req, err := build()
	if err != nil {
		return nil, err
	}
	if err := l.breaker.allow(time.Now()); err != nil {
		setStatus(ctx, StatusCircuitOpen)
		return nil, err
	}
	used, err := applyTokens(ctx, req, st.clientCreds)
	if err != nil {
		setStatus(ctx, StatusCredential)
		l.breaker.abandon()
		return nil, err
	}
	userUsed, err := l.applyUserTokens(ctx, req, st, who, nil)
	if err != nil {
		setStatus(ctx, StatusCredential)
		l.breaker.abandon()
		return nil, err
	}
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, l.upstreamFailed(ctx, op, timeout, start, err)
	}
	if resp.StatusCode == http.StatusUnauthorized && (len(used) > 0 || len(userUsed) > 0) {
		// The upstream refused a fetched access token (revoked, or expired
		// early): fetch a new one (a user's: refresh it), once, and retry once.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		for _, u := range used {
			u.src.invalidate(u.tok)
		}
		if req, err = build(); err != nil {
			return nil, err
		}
		if _, err = applyTokens(ctx, req, st.clientCreds); err != nil {
			setStatus(ctx, StatusCredential)
			return nil, err
		}
		if _, err = l.applyUserTokens(ctx, req, st, who, userUsed); err != nil {
			setStatus(ctx, StatusCredential)
			return nil, err
		}
		if resp, err = l.client.Do(req); err != nil {
			return nil, l.upstreamFailed(ctx, op, timeout, start, err)
		}
	}
	defer resp.Body.Close()
	limit := st.maxResponse
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, l.upstreamFailed(ctx, op, timeout, start, err)
	}
	l.upstreamAnswered(ctx, resp.StatusCode, time.Since(start))
	res := &upstreamResult{status: resp.StatusCode, path: req.URL.EscapedPath(), contentType: resp.Header.Get("Content-Type"), size: int64(len(body))}
	if int64(len(body)) > limit {
		n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20)) // let the connection be reused
		res.body, res.truncated, res.size = body[:limit], true, int64(len(body))+n
	} else {
		res.body = body
	}
	res.elapsed = time.Since(start)
	if oc, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		oc.bytes = res.size
	}
	return res, nil
}

// toolResult maps a finished exchange to a tool result: JSON success bodies
// become structured content (non-objects wrapped as {"result": ...}) plus the
// same JSON as text; HTTP errors become isError results with status and body.
func (res *upstreamResult) toolResult(op *openapi.Operation) *mcp.CallToolResult {
	if res.status >= 400 {
		return toolError("upstream returned HTTP %d %s for %s %s: %s", res.status, http.StatusText(res.status), op.Method, op.Path, quote(res.body, errorBodyLimit))
	}
	trimmed := bytes.TrimSpace(res.body)
	if len(trimmed) == 0 {
		return noContent(op, res.status)
	}
	if res.truncated {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{
			Text: fmt.Sprintf("%s\n[response cut: the upstream sent %d bytes, more than the %d-byte limit]", quote(res.body, len(res.body)), res.size, len(res.body)),
		}}}
	}
	if isJSON(res.contentType) && json.Valid(trimmed) {
		structured := json.RawMessage(trimmed)
		if op.WrapResult || trimmed[0] != '{' {
			structured = json.RawMessage(`{"result":` + string(trimmed) + `}`)
		}
		return &mcp.CallToolResult{
			Content:           []mcp.Content{&mcp.TextContent{Text: string(trimmed)}},
			StructuredContent: structured,
		}
	}
	// Images and audio become the content types MCP clients render.
	if mt := mediaType(res.contentType); strings.HasPrefix(mt, "image/") {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: res.body, MIMEType: mt}}}
	} else if strings.HasPrefix(mt, "audio/") {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.AudioContent{Data: res.body, MIMEType: mt}}}
	}
	if !utf8.Valid(res.body) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{
			URI: "portico://response/" + op.Name, MIMEType: res.contentType, Blob: res.body,
		}}}}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(res.body)}}}
}

func toolError(format string, a ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, a...)}}}
}

// applyCredentials attaches the tenant's credentials to an upstream request.
func applyCredentials(req *http.Request, creds []tenant.LiveCredential) {
	for _, c := range creds {
		v := c.Value.Reveal()
		switch c.Type {
		case tenant.CredBearer:
			h := c.Header
			if h == "" {
				h = "Authorization"
			}
			req.Header.Set(h, "Bearer "+v)
		case tenant.CredHeader:
			req.Header.Set(c.Header, v)
		case tenant.CredBasic:
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(v)))
		case tenant.CredQuery:
			if req.URL.RawQuery != "" {
				req.URL.RawQuery += "&"
			}
			req.URL.RawQuery += url.QueryEscape(c.Header) + "=" + url.QueryEscape(v)
		}
	}
}

// describeUpstreamError turns a transport failure into a sentence without the
// request URL, which may carry a query credential.
func describeUpstreamError(ctx context.Context, op *openapi.Operation, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("upstream did not answer %s %s within %s; retry later, or raise the tenant's settings.upstream_timeout_ms (or settings.timeouts_ms for this operation)", op.Method, op.Path, timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("upstream request %s %s failed: %v", op.Method, op.Path, err)
}

func decodeArgs(raw json.RawMessage) (map[string]any, error) {
	args := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return args, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // keep large integers exact on their way upstream
	if err := d.Decode(&args); err != nil {
		return nil, err
	}
	return args, nil
}

// tokenOf names the MCP token behind a request (tenant/token id, as
// serveMCP recorded it) for per-token limits; "" when unknown.
func tokenOf(extra *mcp.RequestExtra) string {
	if extra == nil || extra.TokenInfo == nil {
		return ""
	}
	return extra.TokenInfo.UserID
}

func requestHeader(extra *mcp.RequestExtra) http.Header {
	if extra == nil {
		return nil
	}
	return extra.Header
}

func isJSON(contentType string) bool {
	if contentType == "" {
		return true // FastAPI always labels JSON; unlabelled bodies are tried as JSON
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// mediaType returns contentType without its parameters, lower-cased.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return mt
}

// quote returns at most limit bytes of body as text, marking a cut.
func quote(body []byte, limit int) string {
	if len(body) <= limit {
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	return strings.ToValidUTF8(string(body[:limit]), "\uFFFD") + fmt.Sprintf("… [%d more bytes]", len(body)-limit)
}

// rateLimited records a refusal by a rate limit in the call's status and
// the rate-limit series.
func (l *live) rateLimited(ctx context.Context, err error) {
	setStatus(ctx, StatusRateLimited)
	scope := "tenant"
	if rl, ok := err.(*RateLimitError); ok && strings.Contains(rl.What, "token") {
		scope = "token"
	}
	l.metrics.RateLimited(l.id, scope)
}

// noContent is the result of a success without a body (204 No Content, or
// an empty 2xx): text saying so and, when the tool declares an output
// schema, the empty structured result that schema admits ({"result": null}
// for a wrapped result, else {}), because clients that validate
// structuredContent against outputSchema (the TypeScript SDK) reject a
// result that has none. FastMCP sends an empty text and no structured
// content here, which such clients reject. When the schema admits neither
// (the document promised a body and the service sent none), the result
// carries no structured content and the text says so.
func noContent(op *openapi.Operation, status int) *mcp.CallToolResult {
	text := fmt.Sprintf("The call succeeded: HTTP %d %s, with no content.", status, http.StatusText(status))
	out := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
	if op.OutputSchema == nil {
		return out
	}
	var empty map[string]any
	var raw json.RawMessage
	if op.WrapResult {
		empty, raw = map[string]any{"result": nil}, json.RawMessage(`{"result":null}`)
	} else {
		empty, raw = map[string]any{}, json.RawMessage(`{}`)
	}
	if schema, err := op.OutSchema(); err == nil && schema != nil && schema.Validate(empty) == nil {
		out.StructuredContent = raw
		return out
	}
	out.Content[0] = &mcp.TextContent{Text: text + " (The tool's output schema describes a body; the service sent none.)"}
	return out
}
