package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracer names the bridge's spans; it is the global provider's, which cmd
// sets up from the OTEL_* environment (a no-op one when tracing is off still
// carries an incoming traceparent through to the upstream).
var tracer = otel.Tracer("github.com/portico-mcp/portico/bridge")

type outcomeKey struct{}
type startKey struct{}

// outcome is what one call reports to metrics: how it ended and how long it
// waited for the upstream. It lives in the call's context so do keeps its
// signature.
type outcome struct {
	status   string
	upstream time.Duration
}

func setStatus(ctx context.Context, status string) {
	if oc, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		oc.status = status
	}
}

// withStart stamps the time the MCP request arrived, so a call's gateway
// time includes token checks and decoding, not only the tool handler.
func withStart(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startKey{}, t)
}

// instrument starts a call's span and outcome; done records its metrics.
func (l *live) instrument(ctx context.Context, op *Operation, h http.Header) (context.Context, func(*mcp.CallToolResult)) {
	start, ok := ctx.Value(startKey{}).(time.Time)
	if !ok {
		start = time.Now()
	}
	oc := &outcome{status: StatusOK}
	ctx = context.WithValue(ctx, outcomeKey{}, oc)
	ctx, span := tracer.Start(ctx, "mcp "+op.Name, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(
			attribute.String("portico.tenant", l.id),
			attribute.String("mcp.tool", op.Name),
			attribute.String("http.request.method", op.Method),
			attribute.String("url.template", op.Path),
			attribute.String("portico.request_id", h.Get("X-Request-Id")),
		))
	return ctx, func(res *mcp.CallToolResult) {
		span.SetAttributes(attribute.String("portico.outcome", oc.status))
		if oc.status != StatusOK || res != nil && res.IsError {
			span.SetStatus(codes.Error, oc.status)
		}
		span.End()
		l.metrics.call(l.id, op.Name, oc.status, time.Since(start), oc.upstream)
	}
}

// recovered logs a panic in a call with its request id and stack and turns
// it into a tool error, so one bug costs one call, not the process.
func (l *live) recovered(ctx context.Context, op *Operation, h http.Header, p any) *mcp.CallToolResult {
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
		oc.upstream = elapsed
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
func (l *live) upstreamFailed(ctx context.Context, op *Operation, timeout time.Duration, start time.Time, err error) error {
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
