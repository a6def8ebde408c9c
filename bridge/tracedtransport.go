package bridge

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracedTransport sends upstream calls through otelhttp (a client span per
// call, W3C traceparent sent) when the call's span is recording, that is
// when tracing is on. Otherwise a client span would record nothing, and
// otelhttp's per-call request clone, span and metric attributes cost about
// as much CPU as the HTTP round trip itself; the call then only carries an
// incoming trace context (and baggage) on to the upstream, the way otelhttp
// would have sent it.
type tracedTransport struct {
	base   http.RoundTripper
	traced http.RoundTripper
}

func newTracedTransport(base http.RoundTripper) *tracedTransport {
	return &tracedTransport{base: base, traced: otelhttp.NewTransport(base)}
}

func (t *tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sc := trace.SpanContextFromContext(ctx)
	if trace.SpanFromContext(ctx).IsRecording() {
		return t.traced.RoundTrip(req)
	}
	if !sc.IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return t.base.RoundTrip(req) // nothing to propagate
	}
	// A RoundTripper must not change the caller's request: inject into a copy.
	req = req.Clone(ctx)
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))
	return t.base.RoundTrip(req)
}
