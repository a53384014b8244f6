package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roundshq/rounds/core/config"
	"github.com/roundshq/rounds/core/httpapi"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/tracing"
	"github.com/roundshq/rounds/web"
)

// App is one running Rounds node: every service wired from the
// configuration, and the HTTP handler in front of them.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	db      *sqldb.DB
	reg     *prometheus.Registry
	metrics *nodeMetrics
	mux     *http.ServeMux
	router  *httpapi.Router
	core    *coreParts
	areas   *areas
	roles   roleSync
	bots    *systemBots
	checks  []readyCheck
	closers []func() error
	bg      sync.WaitGroup
	stopBg  context.CancelFunc
	bgCtx   context.Context
	handler http.Handler
	tracing *tracing.Tracing
}

type readyCheck struct {
	name  string
	check func(ctx context.Context) error
}

// NewLogger builds the slog logger from the configuration.
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redactSecrets}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redactSecrets keeps passwords, tokens and DSN credentials out of logs
// whatever a caller passes.
func redactSecrets(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range []string{"password", "secret", "token", "authorization", "cookie"} {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	if k == "dsn" {
		return slog.String(a.Key, redactDSN(a.Value.String()))
	}
	return a
}

func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user := rest[:at]
			if c := strings.Index(user, ":"); c >= 0 {
				user = user[:c] + ":***"
			}
			return dsn[:i+3] + user + rest[at:]
		}
	}
	return dsn
}

// Build wires a node from cfg. It opens and migrates the database and
// connects every configured backend; an unreachable backend is an error that
// names it.
func Build(ctx context.Context, cfg config.Config, logw io.Writer) (*App, error) {
	a := &App{cfg: cfg, log: NewLogger(cfg.Log, logw), reg: prometheus.NewRegistry(), mux: http.NewServeMux()}
	slog.SetDefault(a.log)
	a.bgCtx, a.stopBg = context.WithCancel(context.Background())
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = newNodeMetrics(a.reg)
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := a.startTracing(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	db, err := sqldb.Open(ctx, sqldb.Config{
		PostgresDSN: cfg.Database.PostgresDSN, SQLitePath: cfg.SQLitePath(),
		Synchronous: cfg.Database.SQLiteSynchronous, MaxOpenConns: cfg.Database.MaxOpenConns,
		Tracer: a.tracing.Provider(),
	})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	a.db = db
	a.closers = append(a.closers, db.Close)
	a.checks = append(a.checks, readyCheck{"database", db.Ping})
	a.reg.MustRegister(collectors.NewDBStatsCollector(db.Pool(), string(db.Dialect)))

	if err := a.wire(ctx); err != nil {
		return nil, err
	}
	a.registerAreaMetrics()
	a.mountOps()
	// The tracing middleware sits right on the mux, which names the span.
	a.handler = httpapi.Middleware(a.tracing.Middleware(a.mux, untracedPaths...))
	ok = true
	return a, nil
}

// mountOps adds health, readiness, metrics, the OpenAPI document and the web
// client.
func (a *App) mountOps() {
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": Version})
	})
	a.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		status, body := a.Ready(r.Context())
		httpapi.WriteJSON(w, status, body)
	})
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	doc := a.router.OpenAPI(Version)
	a.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, doc)
	})
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, r, notFoundRoute(r))
	})
	a.mux.Handle("/", web.Handler())
}

// ReadyReport is the /readyz body.
type ReadyReport struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Ready checks every configured backend in parallel.
func (a *App) Ready(ctx context.Context) (int, ReadyReport) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rep := ReadyReport{Status: "ready", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range a.checks {
		wg.Add(1)
		go func(c readyCheck) {
			defer wg.Done()
			res := "ok"
			if err := c.check(ctx); err != nil {
				res = "failing: " + err.Error()
			}
			mu.Lock()
			rep.Checks[c.name] = res
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	for _, v := range rep.Checks {
		if v != "ok" {
			rep.Status = "not ready"
			return http.StatusServiceUnavailable, rep
		}
	}
	return http.StatusOK, rep
}

// Handler is the whole HTTP surface of the node.
func (a *App) Handler() http.Handler { return a.handler }

// Serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to the configured timeout),
// closes WebSockets with a going-away frame and releases every backend.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	if a.cfg.Server.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.Server.TLSCertFile, a.cfg.Server.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		srv.Handler = hsts(a.handler)
	}
	if a.cfg.Server.DebugListen != "" {
		stop, err := serveDebug(a.cfg.Server.DebugListen, a.log)
		if err != nil {
			return err
		}
		defer stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout.D())
	defer cancel()
	a.beforeShutdown()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("shutdown timed out; closing remaining connections")
		srv.Close()
	}
	return nil
}

func hsts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		h.ServeHTTP(w, r)
	})
}

// Close stops background jobs and releases every backend, newest first.
func (a *App) Close() error {
	if a.stopBg != nil {
		a.stopBg()
	}
	a.bg.Wait()
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// goBackground runs a job until the app closes.
func (a *App) goBackground(name string, fn func(ctx context.Context)) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("background job panicked", "job", name, "panic", p)
			}
		}()
		fn(a.bgCtx)
	}()
}

// CheckNames lists the readiness checks (for tests and docs).
func (a *App) CheckNames() []string {
	var out []string
	for _, c := range a.checks {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}
