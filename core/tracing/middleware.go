package tracing

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/httpapi"
)

// AttrRequestID is the request id (X-Request-ID) on the server span, to find
// a trace from a log line or an error envelope. core/httpapi adds
// rounds.org_id (the actor's organisation) and rounds.error_code.
const AttrRequestID = attribute.Key("rounds.request_id")

// Middleware opens a server span for each request, continuing the trace of
// an incoming W3C traceparent header. Wrap the http.ServeMux itself with it:
// the span is named after the pattern the mux matched ("GET
// /api/v1/departments/{id}"), never the filled-in path, and the mux writes
// that pattern into the very request it is handed.
//
// Requests for the untraced paths (exact match: probes and scrapes, which
// would only crowd the collector) pass through without a span.
//
// Off, it returns next unchanged.
func (t *Tracing) Middleware(next http.Handler, untraced ...string) http.Handler {
	if t.sdk == nil {
		return next
	}
	skip := map[string]bool{}
	for _, p := range untraced {
		skip[p] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if skip[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.scheme", scheme(r))))
		if id := core.RequestID(ctx); id != "" {
			span.SetAttributes(AttrRequestID.String(id))
		}
		rec := &statusRecorder{&httpapi.StatusWriter{ResponseWriter: w}}
		r = r.WithContext(ctx)
		defer func() {
			// Also on a panic (http.ErrAbortHandler): the span still ends.
			if r.Pattern != "" {
				name, route := r.Pattern, r.Pattern
				if m, p, ok := strings.Cut(r.Pattern, " "); ok && m != "" && !strings.HasPrefix(m, "/") {
					route = p
				} else {
					name = r.Method + " " + r.Pattern
				}
				span.SetName(name)
				span.SetAttributes(attribute.String("http.route", route))
			}
			status := rec.Status()
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
		}()
		next.ServeHTTP(rec, r)
	})
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// statusRecorder is httpapi's StatusWriter that also counts a hijacked
// connection (a WebSocket upgrade) as 101.
type statusRecorder struct{ *httpapi.StatusWriter }

// Hijack hands the connection over (WebSocket upgrades).
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil && s.Code == 0 {
		s.Code = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Flush keeps streaming responses streaming.
func (s *statusRecorder) Flush() {
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}
