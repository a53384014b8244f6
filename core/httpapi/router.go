package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/roundshq/rounds/core"
)

// HandlerFunc is an API handler. A returned error becomes the error envelope;
// a handler that returns an error must not have written a response.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Access says who may reach a route at the transport level. Whether the
// actor may do the thing is decided by the service, never here.
type Access int

const (
	// Authenticated routes need a valid session, token or bot token.
	Authenticated Access = iota
	// Public routes (login, health) need nothing.
	Public
)

// Route is one API endpoint. Request and Response are zero values of the body
// types, used for the OpenAPI document.
type Route struct {
	Method   string // GET, POST, PUT, PATCH, DELETE
	Path     string // e.g. /api/v1/departments/{id}
	Summary  string
	Tag      string
	Access   Access
	Request  any
	Response any
	// Status is the success status (default 200).
	Status int
	// MaxBody overrides MaxBodyBytes for uploads.
	MaxBody int64
	Handler HandlerFunc
}

// Authenticator identifies the actor of a request: by session cookie (and
// then checks the CSRF token on unsafe methods), by bearer token, or not at
// all (EUnauthenticated).
type Authenticator interface {
	Authenticate(r *http.Request) (core.Actor, error)
}

// Router registers API routes on a mux and remembers them for the OpenAPI
// document and the route × role test.
type Router struct {
	mux    *http.ServeMux
	auth   Authenticator
	mu     sync.Mutex
	routes []Route

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewRouter returns a router that mounts on mux. reg may be nil.
func NewRouter(mux *http.ServeMux, auth Authenticator, reg prometheus.Registerer) *Router {
	rt := &Router{
		mux:  mux,
		auth: auth,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rounds_http_requests_total", Help: "API requests by route and status class.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rounds_http_request_duration_seconds", Help: "API request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	if reg != nil {
		reg.MustRegister(rt.requests, rt.duration)
	}
	return rt
}

// Handle registers a route. Registering the same method and path twice panics
// (a programming error found at start-up).
func (rt *Router) Handle(r Route) {
	if r.Summary == "" || r.Tag == "" {
		panic(fmt.Sprintf("httpapi: route %s %s needs a summary and a tag", r.Method, r.Path))
	}
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	rt.mu.Lock()
	rt.routes = append(rt.routes, r)
	rt.mu.Unlock()
	pattern := r.Method + " " + r.Path
	name := pattern
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		rt.serve(sw, req, r)
		rt.requests.WithLabelValues(name, fmt.Sprintf("%dxx", sw.Status()/100)).Inc()
		rt.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

func (rt *Router) serve(w http.ResponseWriter, req *http.Request, r Route) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // a deliberate abort (a failed streaming export): let net/http drop the connection
			}
			slog.ErrorContext(req.Context(), "panic in handler", "route", r.Path, "panic", p, "stack", string(debug.Stack()))
			WriteError(w, req, core.Errorf(core.EInternal, "internal error"))
		}
	}()
	max := r.MaxBody
	if max == 0 {
		max = MaxBodyBytes
	}
	req.Body = http.MaxBytesReader(w, req.Body, max+1)
	if r.Access != Public {
		if rt.auth == nil {
			WriteError(w, req, core.Errorf(core.EUnauthenticated, "sign in first"))
			return
		}
		actor, err := rt.auth.Authenticate(req)
		if err != nil {
			WriteError(w, req, err)
			return
		}
		req = req.WithContext(core.WithActor(req.Context(), actor))
		traceActor(req, actor)
	}
	if err := r.Handler(w, req); err != nil {
		WriteError(w, req, err)
	}
}

// traceActor adds the actor's organisation and kind to the request's span
// when the request is traced (core/tracing). The organisation id is not
// personal data; the person's id, name, login and IP stay out of traces.
func traceActor(req *http.Request, a core.Actor) {
	span := trace.SpanFromContext(req.Context())
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("rounds.actor_kind", string(a.Kind)))
	if a.OrgID != "" {
		span.SetAttributes(attribute.String("rounds.org_id", a.OrgID))
	}
}

// Routes returns the registered routes sorted by path and method.
func (rt *Router) Routes() []Route {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := append([]Route(nil), rt.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// StatusWriter remembers the status a handler answered with, for metrics
// and traces; Code is 0 until something is written.
type StatusWriter struct {
	http.ResponseWriter
	Code int
}

func (s *StatusWriter) WriteHeader(code int) {
	if s.Code == 0 {
		s.Code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.Code == 0 {
		s.Code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Status is the status answered, 200 when the handler wrote nothing.
func (s *StatusWriter) Status() int {
	if s.Code == 0 {
		return http.StatusOK
	}
	return s.Code
}

// Unwrap lets http.ResponseController reach the underlying writer (for
// hijacking and flushing).
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Middleware wraps the whole server: request ids, security headers.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 || strings.ContainsAny(id, "\r\n") {
			id = core.RandomToken(9)
		}
		w.Header().Set("X-Request-ID", id)
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r.WithContext(core.WithRequestID(r.Context(), id)))
	})
}

// PathID reads a path value that must be a Rounds id.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !core.ValidID(v) {
		return "", core.Invalid(name, "%s is not a valid id", name)
	}
	return v, nil
}

// PathIDs reads several path values that must all be Rounds ids, in order.
func PathIDs(r *http.Request, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := PathID(r, n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Actor returns the authenticated actor of the request.
func Actor(r *http.Request) core.Actor {
	a, _ := core.ActorFrom(r.Context())
	return a
}

// Ctx is a shorthand for r.Context().
func Ctx(r *http.Request) context.Context { return r.Context() }
