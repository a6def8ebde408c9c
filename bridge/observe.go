package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/portico-mcp/portico/bridge/openapi"
	"github.com/portico-mcp/portico/tenant"
)

// tracer names the bridge's spans; it is the global provider's, which cmd
// sets up from the OTEL_* environment (a no-op one when tracing is off still
// carries an incoming traceparent through to the upstream).
var tracer = otel.Tracer("github.com/portico-mcp/portico/bridge")

type outcomeKey struct{}

// outcome is what one call reports to metrics: how it ended and how long it
// waited for the upstream. It lives in the call's context so do keeps its
// signature.
type outcome struct {
	status     string
	upstream   time.Duration
	httpStatus int   // the upstream's answer, 0 when none
	bytes      int64 // the upstream's response body
}

func setStatus(ctx context.Context, status string) {
	if oc, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		oc.status = status
	}
}

var internalSpan = trace.WithSpanKind(trace.SpanKindInternal)

// instrument starts a call's span and outcome; done records its metrics.
func (l *live) instrument(ctx context.Context, op *openapi.Operation, h http.Header) (context.Context, func(*mcp.CallToolResult)) {
	// A call's gateway time starts when the MCP request arrived (serveMCP),
	// so it includes token checks and decoding, not only the tool handler.
	var start time.Time
	if info := requestInfo(ctx); info != nil {
		start = info.start
	} else {
		start = time.Now()
	}
	oc := &outcome{status: StatusOK}
	ctx = context.WithValue(ctx, outcomeKey{}, oc)
	ctx, span := tracer.Start(ctx, "mcp "+op.Name, internalSpan)
	recording := span.IsRecording() // with tracing off, no attributes to build
	if recording {
		span.SetAttributes(
			attribute.String("portico.tenant", l.id),
			attribute.String("mcp.tool", op.Name),
			attribute.String("http.request.method", op.Method),
			attribute.String("url.template", op.Path),
			attribute.String("portico.request_id", h.Get("X-Request-Id")),
		)
	}
	return ctx, func(res *mcp.CallToolResult) {
		if recording {
			span.SetAttributes(attribute.String("portico.outcome", oc.status))
		}
		if oc.status != StatusOK || res != nil && res.IsError {
			span.SetStatus(codes.Error, oc.status)
		}
		span.End()
		total := time.Since(start)
		l.metrics.call(l.id, op.Name, oc.status, total, oc.upstream)
		if l.calls != nil {
			var token string
			if info := requestInfo(ctx); info != nil {
				token = info.tok.ID
			}
			l.calls.record(l.id, l.redact(callRecord(start, op.Name, token, oc, total, res)))
		}
	}
}

// recovered logs a panic in a call with its request id and stack and turns
// it into a tool error, so one bug costs one call, not the process.
func (l *live) recovered(ctx context.Context, op *openapi.Operation, h http.Header, p any) *mcp.CallToolResult {
	rid := h.Get("X-Request-Id")
	setStatus(ctx, StatusPanic)
	l.log.ErrorContext(ctx, "panic in MCP call", "tenant", l.id, "tool", op.Name, "request_id", rid,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return toolError("internal error in Portico while calling %s (request id %s); it has been logged for the operators", op.Name, rid)
}

// upstreamAnswered classifies an HTTP answer for metrics and the breaker:
// 5xx counts against the upstream, anything else for it.
func (l *live) upstreamAnswered(ctx context.Context, status int, elapsed time.Duration) {
	oc, _ := ctx.Value(outcomeKey{}).(*outcome)
	if oc != nil {
		oc.upstream, oc.httpStatus = elapsed, status
	}
	switch {
	case status >= 500:
		setStatus(ctx, StatusUpstream5xx)
		l.breaker.record(true, fmt.Sprintf("HTTP %d", status), time.Now())
	case status >= 400:
		setStatus(ctx, StatusUpstream4xx)
		l.breaker.record(false, "", time.Now())
	default:
		l.breaker.record(false, "", time.Now())
	}
}

// upstreamFailed classifies a call that got no HTTP answer and describes it.
func (l *live) upstreamFailed(ctx context.Context, op *openapi.Operation, timeout time.Duration, start time.Time, err error) error {
	if oc, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		oc.upstream = time.Since(start)
	}
	desc := describeUpstreamError(ctx, op, timeout, err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		setStatus(ctx, StatusTimeout)
		l.breaker.record(true, fmt.Sprintf("no answer within %s", timeout), time.Now())
	case ctx.Err() != nil: // the client went away: not the upstream's fault
		setStatus(ctx, StatusTransport)
		l.breaker.abandon()
	default:
		setStatus(ctx, StatusTransport)
		l.breaker.record(true, desc.Error(), time.Now())
	}
	return desc
}

// callRecord is what the call history keeps of a tool call (res set) or a
// resource read (res nil): never arguments or results, only a failed tool
// call's message (truncated by the recorder).
func callRecord(start time.Time, tool, token string, oc *outcome, total time.Duration, res *mcp.CallToolResult) tenant.CallRecord {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	r := tenant.CallRecord{At: start.UTC(), Kind: "tool", Tool: tool, TokenID: token, Status: oc.status,
		IsError: oc.status != StatusOK || res != nil && res.IsError, UpstreamStatus: oc.httpStatus,
		LatencyMS: ms(total), UpstreamMS: ms(oc.upstream), GatewayMS: ms(max(0, total-oc.upstream)), Bytes: oc.bytes}
	if res == nil {
		r.Kind = "resource"
	}
	if r.IsError && r.Status == StatusOK {
		r.Status = "tool_error"
	}
	if r.IsError && res != nil {
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				r.Error = t.Text
				break
			}
		}
	}
	return r
}

// redact blanks the tenant's credential values out of a recorded error, in
// case the upstream echoed one back in an error body.
func (l *live) redact(r tenant.CallRecord) tenant.CallRecord {
	if r.Error == "" {
		return r
	}
	if st := l.state.Load(); st != nil {
		for _, c := range st.creds {
			if v := c.Value.Reveal(); len(v) >= 4 {
				r.Error = strings.ReplaceAll(r.Error, v, "[REDACTED]")
			}
		}
	}
	return r
}
