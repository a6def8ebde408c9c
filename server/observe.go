package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/portico-mcp/portico/api"
	"github.com/portico-mcp/portico/bridge"
	"github.com/portico-mcp/portico/errorbody"
	"github.com/portico-mcp/portico/tenant"
)

// telemetry is the process's metrics registry and tracing setup.
type telemetry struct {
	reg      *prometheus.Registry
	bridge   *bridge.Metrics
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	shutdown func(context.Context) error // flushes spans
}

// newTelemetry builds the Prometheus registry (Go runtime, process, HTTP and
// data-plane series) and, when the standard OTEL_* variables ask for it, an
// OTLP/HTTP trace exporter; version labels portico_build_info. W3C trace context propagation is always on, so
// an incoming traceparent reaches the upstream even with tracing off here.
func newTelemetry(ctx context.Context, version string, tracing bool, log *slog.Logger) (*telemetry, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portico_build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	}, func() float64 { return 1 }))
	t := &telemetry{
		reg:    reg,
		bridge: bridge.NewMetrics(reg),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_http_request_duration_seconds",
			Help:    "HTTP request time by method and route pattern (MCP streams last as long as the stream).",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		shutdown: func(context.Context) error { return nil },
	}
	reg.MustRegister(t.requests, t.latency)

	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !tracing {
		return t, nil
	}
	// The exporter reads its own OTEL_EXPORTER_OTLP_* settings (endpoint,
	// headers, timeout) as every OpenTelemetry SDK does.
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry: create the OTLP trace exporter: %w", err)
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(
		semconv.ServiceVersion(version),
	))
	if err != nil {
		res = sdkresource.Default()
	}
	if res.Set().HasValue("service.name") {
		if v, _ := res.Set().Value("service.name"); strings.HasPrefix(v.AsString(), "unknown_service") {
			res, _ = sdkresource.Merge(res, sdkresource.NewSchemaless(semconv.ServiceName("portico")))
		}
	}
	// The sampler follows OTEL_TRACES_SAMPLER(_ARG) (default: parent-based, always on).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("OpenTelemetry", "err", err) }))
	t.shutdown = tp.Shutdown
	log.Info("tracing on: exporting spans over OTLP/HTTP")
	return t, nil
}

// tracingEnabled follows the OpenTelemetry environment conventions: an OTLP
// endpoint switches the exporter on; OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none switch it off.
func tracingEnabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" ||
		getenv("OTEL_TRACES_EXPORTER") == "otlp"
}

// observeHTTP is api's Observe hook.
func (t *telemetry) observeHTTP(method, route string, status int, elapsed time.Duration) {
	t.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	t.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// watch adds gauges read at scrape time: active tenants and the pool.
func (t *telemetry) watch(activeTenants func() int, pool *pgxpool.Pool) {
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portico_active_tenants", Help: "Tenants this process serves now.",
	}, func() float64 { return float64(activeTenants()) }))
	t.reg.MustRegister(poolCollector{pool})
}

// watchCalls reports the call history buffer: records stored, dropped
// because the buffer was full (exact), and waiting to be written.
func (t *telemetry) watchCalls(rec *bridge.CallRecorder, lim *tenant.Limiter) {
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portico_rate_limit_fallback", Help: "1 while this replica cannot reach the shared rate limit buckets and enforces its share (rate ÷ live replicas).",
	}, func() float64 {
		if lim.Fallback() {
			return 1
		}
		return 0
	}))
	t.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portico_rate_limit_fallback_decisions_total", Help: "Requests this replica's rate limits decided by its local share because the shared buckets were unreachable.",
	}, func() float64 { return float64(lim.FallbackDecisions()) }))
	t.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portico_rate_limit_leases_total", Help: "Token batches this replica leased from the shared rate limit buckets.",
	}, func() float64 { return float64(lim.Leases()) }))
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portico_live_replicas", Help: "Replicas that sent a heartbeat in the last 15 s, as this replica last saw.",
	}, func() float64 { return float64(lim.LiveReplicas()) }))
	t.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portico_call_records_written_total", Help: "Call records this replica stored in the call history.",
	}, func() float64 { return float64(rec.WrittenTotal()) }))
	t.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portico_call_records_dropped_total", Help: "Call records dropped because the call history buffer was full (the database was unreachable for too long).",
	}, func() float64 { return float64(rec.DroppedTotal()) }))
	t.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portico_call_records_buffered", Help: "Call records waiting to be written to the call history.",
	}, func() float64 { return float64(rec.Buffered()) }))
}

func (t *telemetry) metricsHandler() http.Handler {
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{Registry: t.reg})
}

// poolCollector reports pgxpool.Stat at scrape time.
type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolConns = prometheus.NewDesc("portico_db_pool_connections",
		"PostgreSQL pool connections by state (acquired, idle, constructing) and the max.", []string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("portico_db_pool_acquires_total",
		"Connections acquired from the pool.", nil, nil)
	poolEmptyAcquires = prometheus.NewDesc("portico_db_pool_empty_acquires_total",
		"Acquires that had to wait because no connection was idle.", nil, nil)
	poolAcquireWait = prometheus.NewDesc("portico_db_pool_acquire_wait_seconds_total",
		"Total time spent waiting for a pool connection.", nil, nil)
	poolCanceled = prometheus.NewDesc("portico_db_pool_canceled_acquires_total",
		"Acquires given up because their context ended (e.g. the database was unreachable).", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConns
	ch <- poolAcquires
	ch <- poolEmptyAcquires
	ch <- poolAcquireWait
	ch <- poolCanceled
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.MaxConns()), "max")
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolAcquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
}

type requestIDKey struct{}

// withRequestContext is the outermost HTTP layer: it gives every request an
// id (keeping a well-formed one from a proxy) before anything logs, puts it
// in the context for the log handler, starts the server span, writes one
// access log line, and recovers a panic that escaped everything else. It
// wraps the writer only to read the status, and passes Flush through, so
// MCP streams are never buffered.
// quietRequest reports requests logged at debug, not info: probes,
// scrapes, and the dashboard's static files when served fine (a dashboard
// session fetches dozens, mostly 304s, and would bury the API's lines).
func quietRequest(req *http.Request, status int) bool {
	p := req.URL.Path
	switch p {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead || status >= 400 {
		return false
	}
	for _, prefix := range []string{"/api/", "/t/", "/mcp", "/oauth/", "/.well-known/"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

func withRequestContext(next http.Handler, log *slog.Logger) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		rid := api.EnsureRequestID(req)
		req = req.WithContext(context.WithValue(req.Context(), requestIDKey{}, rid))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(req.Context(), "panic serving HTTP", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					w.Header().Set("X-Request-Id", rid)
					errorbody.Write(w, http.StatusInternalServerError, "internal", "internal error (request id "+rid+")", nil)
				}
				sw.status = http.StatusInternalServerError
			}
			level := slog.LevelInfo
			if quietRequest(req, sw.code()) {
				level = slog.LevelDebug
			}
			log.Log(req.Context(), level, "http request", "method", req.Method, "path", req.URL.Path,
				"status", sw.code(), "duration_ms", float64(time.Since(start).Microseconds())/1000, "bytes", sw.bytes)
		}()
		next.ServeHTTP(sw, req)
	})
	return otelhttp.NewHandler(h, "portico",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if strings.HasPrefix(r.URL.Path, "/t/") {
				return r.Method + " /t/{id}/mcp"
			}
			return r.Method + " " + r.URL.Path
		}),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && r.URL.Path != "/metrics"
		}),
	)
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush keeps streaming responses streaming through this wrapper.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// contextHandler adds the request id (and the trace id, when a span is
// recording) to every record logged with a request's context.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if rid, ok := ctx.Value(requestIDKey{}).(string); ok {
		has := false
		r.Attrs(func(a slog.Attr) bool { has = has || a.Key == "request_id"; return !has })
		if !has {
			r.AddAttrs(slog.String("request_id", rid))
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
