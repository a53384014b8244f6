package tracing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/core/tracing"
	"github.com/roundshq/rounds/core/tracing/tracingtest"
)

const (
	proxyTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	proxySpan  = "00f067aa0ba902b7"
	noteText   = "7床患者对青霉素过敏"
)

// ward is a tiny service behind the tracing middleware: a route that writes
// a note to a real SQLite database in a transaction.
// postgresDSN, when given, puts it on PostgreSQL instead of SQLite.
func ward(t *testing.T, tr *tracing.Tracing, postgresDSN ...string) *httptest.Server {
	t.Helper()
	cfg := sqldb.Config{SQLitePath: filepath.Join(t.TempDir(), "ward.db"), Synchronous: "normal", Tracer: tr.Provider()}
	if len(postgresDSN) > 0 {
		cfg.PostgresDSN = postgresDSN[0]
	}
	db, err := sqldb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE notes (ward TEXT, body TEXT)"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wards/{ward}/notes", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := db.InTx(r.Context(), func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(r.Context(), "INSERT INTO notes (ward, body) VALUES (?, ?)", r.PathValue("ward"), string(body))
			return err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(tr.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv
}

func postNote(t *testing.T, srv *httptest.Server, traceparent string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/wards/ward-5/notes?bed=7", strings.NewReader(noteText))
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post note: %d", resp.StatusCode)
	}
}

func shutdown(t *testing.T, tr *tracing.Tracing) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// A request that continues a proxy's trace gives a server span named after
// the route pattern, child of the proxy's span, with the transaction as its
// child; shutdown flushes them to the collector, with the configured headers,
// gzip-compressed, and nothing of the path's values, query or body.
func TestRequestSpanContinuesTheProxyTraceWithTheTransactionAsChild(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { requestSpan(t, "sqlite", nil) })
	t.Run("postgres", func(t *testing.T) { requestSpan(t, "postgresql", []string{sqldbtest.PostgresDSN(t)}) })
}

func requestSpan(t *testing.T, system string, postgresDSN []string) {
	rc := tracingtest.Start(t)
	tr, err := tracing.Start(tracing.Config{Endpoint: rc.URL(), SampleRatio: 1, ServiceName: "rounds-ward", ServiceVersion: "1.2.3",
		Headers: []string{"X-Scope-OrgID=jcyy"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.On() {
		t.Fatal("tracing must be on with an endpoint")
	}
	srv := ward(t, tr, postgresDSN...)
	postNote(t, srv, "00-"+proxyTrace+"-"+proxySpan+"-01")
	shutdown(t, tr) // flushes: nothing was sent before (batch timeout 5s)

	servers := rc.Named("POST /wards/{ward}/notes")
	if len(servers) != 1 {
		t.Fatalf("server spans %v, all %+v", servers, rc.Spans())
	}
	s := servers[0]
	if s.TraceID != proxyTrace || s.ParentSpanID != proxySpan {
		t.Errorf("the proxy's trace must continue: trace %s parent %s", s.TraceID, s.ParentSpanID)
	}
	if s.Attrs["http.route"] != "/wards/{ward}/notes" || s.Attrs["http.request.method"] != "POST" || s.Attrs["http.response.status_code"] != int64(201) {
		t.Errorf("server span attributes %v", s.Attrs)
	}
	if s.Resource["service.name"] != "rounds-ward" || s.Resource["service.version"] != "1.2.3" {
		t.Errorf("resource %v", s.Resource)
	}
	kids := rc.ChildrenOf(s)
	if len(kids) != 1 || kids[0].Name != "sqldb.InTx" {
		t.Fatalf("children %+v", kids)
	}
	tx := kids[0]
	if tx.Attrs["db.system.name"] != system || tx.Attrs["rounds.db.attempts"] != int64(1) {
		t.Errorf("transaction attributes %v", tx.Attrs)
	}
	if _, grouped := tx.Attrs["rounds.db.group_size"]; grouped != (system == "sqlite") {
		t.Errorf("group commit size is SQLite's alone: %v", tx.Attrs)
	}
	if fn, _ := tx.Attrs["code.function.name"].(string); !strings.Contains(fn, "tracing_test.ward") {
		t.Errorf("the transaction must name the function that ran it, got %q", fn)
	}
	if tx.Start.Before(s.Start) || tx.End.After(s.End) {
		t.Errorf("the transaction must lie within the request")
	}
	for _, sp := range rc.Spans() {
		for k, v := range sp.Attrs {
			if str, ok := v.(string); ok && (strings.Contains(str, "ward-5") || strings.Contains(str, "bed=7") || strings.Contains(str, noteText)) {
				t.Errorf("span %s attribute %s=%q carries request data", sp.Name, k, str)
			}
		}
	}
	hs := rc.Headers()
	if len(hs) == 0 || hs[0].Get("X-Scope-OrgID") != "jcyy" || hs[0].Get("Content-Encoding") != "gzip" {
		t.Errorf("export headers %v", hs)
	}
}

// Sampling: with ratio 0 only requests whose traceparent says sampled are
// traced; a transaction outside a traced request makes no span of its own.
func TestSamplingFollowsTheProxyDecision(t *testing.T) {
	rc := tracingtest.Start(t)
	tr, err := tracing.Start(tracing.Config{Endpoint: rc.URL(), SampleRatio: 0, ServiceName: "rounds", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := ward(t, tr)
	postNote(t, srv, "")
	postNote(t, srv, "00-"+proxyTrace+"-"+proxySpan+"-00") // the proxy chose not to sample
	postNote(t, srv, "00-"+proxyTrace+"-"+proxySpan+"-01")
	shutdown(t, tr)
	spans := rc.Spans()
	if len(spans) != 2 {
		t.Fatalf("want the sampled request and its transaction, got %+v", spans)
	}
	for _, s := range spans {
		if s.TraceID != proxyTrace {
			t.Errorf("span %s in trace %s", s.Name, s.TraceID)
		}
	}
}

// syncBuffer is a log destination shared with the exporter's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An endpoint where nothing listens: requests are answered as ever, the
// failure is logged once however many batches fail, and shutdown is quick.
func TestRefusedCollectorIsLoggedOnceAndChangesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var logs syncBuffer
	tr, err := tracing.Start(tracing.Config{Endpoint: "http://" + addr, SampleRatio: 1, ServiceName: "rounds",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), BatchTimeout: 20 * time.Millisecond, ExportTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := ward(t, tr)
	for range 5 {
		start := time.Now()
		postNote(t, srv, "")
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a request took %s", d)
		}
		time.Sleep(60 * time.Millisecond) // let a batch fail between requests
	}
	start := time.Now()
	shutdown(t, tr)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if n := strings.Count(logs.String(), "collector cannot be reached"); n != 1 {
		t.Errorf("the failure must be logged once, got %d:\n%s", n, logs.String())
	}
}

// A collector that accepts connections and never answers: requests still
// take no longer than without tracing, and shutdown ends at its deadline.
func TestHangingCollectorNeverBlocksRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	tr, err := tracing.Start(tracing.Config{Endpoint: "http://" + ln.Addr().String(), SampleRatio: 1, ServiceName: "rounds",
		Logger: slog.New(slog.DiscardHandler), BatchTimeout: 5 * time.Millisecond, ExportTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := ward(t, tr)
	start := time.Now()
	for range 200 {
		postNote(t, srv, "")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("200 requests took %s with a hanging collector", d)
	}
	mu.Lock()
	tried := len(held)
	mu.Unlock()
	if tried == 0 {
		t.Fatal("the exporter never reached the hanging collector: the test proves nothing")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	_ = tr.Shutdown(ctx) // the collector never answers: the deadline ends it
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s past its deadline", d)
	}
}

func TestOffRecordsNothing(t *testing.T) {
	tr, err := tracing.Start(tracing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.On() {
		t.Fatal("no endpoint must mean off")
	}
	srv := ward(t, tr)
	postNote(t, srv, "00-"+proxyTrace+"-"+proxySpan+"-01")
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestEndpointURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://otel:4318":             "http://otel:4318/v1/traces",
		"https://otel.lan:4318/":       "https://otel.lan:4318/v1/traces",
		"http://gw.lan/otlp/v1/traces": "http://gw.lan/otlp/v1/traces",
	} {
		if got, err := tracing.EndpointURL(in); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"otel:4318", "grpc://otel:4317", ""} {
		if _, err := tracing.EndpointURL(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}
