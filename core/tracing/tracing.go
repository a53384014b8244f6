package tracing

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config says where spans go. The zero Endpoint means off.
type Config struct {
	// Endpoint is the collector's OTLP/HTTP URL: http://host:4318 or
	// https://host:4318, with /v1/traces added when it has no path.
	Endpoint string
	// SampleRatio is the share of new traces kept (0..1). A request that
	// continues a trace follows the sampled flag of its traceparent.
	SampleRatio float64
	// ServiceName and ServiceVersion name the spans' service.
	ServiceName, ServiceVersion string
	// CAFile verifies an https collector against a hospital CA.
	CAFile string
	// Headers are sent with every export, each "Name=value".
	Headers []string
	// Logger receives the start line and the collector's failures (once
	// each way). Nil: slog.Default().
	Logger *slog.Logger

	// BatchTimeout is the longest a finished span waits to be sent
	// (default 5s). ExportTimeout bounds one export, retries included
	// (default 10s). Tests shorten them.
	BatchTimeout, ExportTimeout time.Duration
}

// Tracing is the node's tracer provider. The zero of it is not usable; use
// Off or Start. Safe for concurrent use.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when off
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	endpoint string
}

// Off returns tracing that records nothing and costs next to nothing.
func Off() *Tracing {
	p := noop.NewTracerProvider()
	return &Tracing{provider: p, tracer: p.Tracer(scope), prop: propagation.TraceContext{}}
}

// scope names the instrumentation in every span this package makes.
const scope = "github.com/roundshq/rounds/core/tracing"

// Start builds the provider and exporter. It does not contact the collector:
// an unreachable one costs dropped spans, never a failed start or request.
// With an empty Endpoint it returns Off().
func Start(cfg Config) (*Tracing, error) {
	if cfg.Endpoint == "" {
		return Off(), nil
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 5 * time.Second
	}
	if cfg.ExportTimeout <= 0 {
		cfg.ExportTimeout = 10 * time.Second
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing: sample ratio %v is not between 0 and 1", cfg.SampleRatio)
	}
	endpoint, err := EndpointURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(endpoint),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
		otlptracehttp.WithTimeout(cfg.ExportTimeout),
		// Retry a busy collector (429/502/503/504) within the export's own
		// time; a refused connection fails at once.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 500 * time.Millisecond,
			MaxInterval: 2 * time.Second, MaxElapsedTime: cfg.ExportTimeout}),
	}
	if len(cfg.Headers) > 0 {
		h := map[string]string{}
		for _, kv := range cfg.Headers {
			name, value, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, errors.New("tracing: a header must be Name=value")
			}
			h[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		opts = append(opts, otlptracehttp.WithHeaders(h))
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tracing: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tracing: %s holds no PEM certificate", cfg.CAFile)
		}
		opts = append(opts, otlptracehttp.WithTLSClientConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: exporter: %w", err)
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.version", cfg.ServiceVersion),
	}
	if host, err := os.Hostname(); err == nil {
		// Which node of a cluster served the request.
		attrs = append(attrs, attribute.String("service.instance.id", host))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&reportingExporter{SpanExporter: exp, log: log, endpoint: endpoint},
			sdktrace.WithBatchTimeout(cfg.BatchTimeout), sdktrace.WithExportTimeout(cfg.ExportTimeout)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
	)
	log.Info("tracing on", "otlp_endpoint", endpoint, "sample_ratio", cfg.SampleRatio, "service_name", cfg.ServiceName)
	return &Tracing{provider: sdk, sdk: sdk, tracer: sdk.Tracer(scope), prop: propagation.TraceContext{}, endpoint: endpoint}, nil
}

// EndpointURL is the URL spans are posted to: the configured one, with the
// OTLP traces path when it names none.
func EndpointURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing: endpoint %q is not an http(s) URL", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// On says whether spans are exported.
func (t *Tracing) On() bool { return t.sdk != nil }

// Provider is the tracer provider to hand to the parts that make spans.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Shutdown sends the spans still queued and stops the exporter. It returns
// when they are sent or ctx ends, whichever is first; spans ended after it
// are dropped.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// reportingExporter logs the collector's failures once, not once per batch,
// and keeps them from OpenTelemetry's global error handler (which would
// print each one to stderr).
type reportingExporter struct {
	sdktrace.SpanExporter
	log      *slog.Logger
	endpoint string
	failing  atomic.Bool
}

func (e *reportingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		if e.failing.CompareAndSwap(false, true) {
			e.log.Warn("tracing: the collector cannot be reached; spans are dropped until it answers (requests are not affected)",
				"otlp_endpoint", e.endpoint, "err", err)
		}
		return nil
	}
	if e.failing.CompareAndSwap(true, false) {
		e.log.Info("tracing: the collector answers again", "otlp_endpoint", e.endpoint)
	}
	return nil
}
