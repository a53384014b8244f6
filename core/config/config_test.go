package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core/config"
)

func TestNoFileGivesEmbeddedDefaults(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.PostgresDSN != "" || cfg.Bus.NATSURL != "" || cfg.Files.MinIO.Endpoint != "" || len(cfg.Search.Elasticsearch.Addresses) != 0 {
		t.Fatalf("defaults must be embedded: %+v", cfg)
	}
	if cfg.SQLitePath() != filepath.Join("rounds-data", "rounds.db") {
		t.Fatalf("sqlite path %s", cfg.SQLitePath())
	}
}

func TestEveryKeyIsDocumentedAndInTheExample(t *testing.T) {
	ex := config.Example()
	for key, doc := range config.Keys() {
		if strings.TrimSpace(doc) == "" {
			t.Errorf("%s has no documentation", key)
		}
		last := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(ex, last+":") {
			t.Errorf("example lacks %s", key)
		}
	}
	// The example must itself be a valid configuration.
	p := filepath.Join(t.TempDir(), "rounds.yaml")
	if err := os.WriteFile(p, []byte(ex), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(p, nil); err != nil {
		t.Fatalf("example does not load: %v", err)
	}
}

func TestFileAndEnvironment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rounds.yaml")
	os.WriteFile(p, []byte("server:\n  listen: 0.0.0.0:9000\nidentity:\n  lockout_duration: 30m\nsearch:\n  elasticsearch:\n    addresses: [http://es1:9200]\n"), 0o600)
	cfg, err := config.Load(p, []string{"ROUNDS_SERVER_LISTEN=127.0.0.1:9100", "ROUNDS_BUS_NATS_URL=nats://127.0.0.1:4222",
		"ROUNDS_SEARCH_ELASTICSEARCH_ADDRESSES=http://a:9200, http://b:9200", "ROUNDS_TEST_POSTGRES=x", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:9100" {
		t.Errorf("env must override the file: %s", cfg.Server.Listen)
	}
	if cfg.Identity.LockoutDuration.D() != 30*time.Minute {
		t.Errorf("lockout %s", cfg.Identity.LockoutDuration)
	}
	if cfg.Bus.NATSURL != "nats://127.0.0.1:4222" {
		t.Errorf("nats %q", cfg.Bus.NATSURL)
	}
	if got := cfg.Search.Elasticsearch.Addresses; len(got) != 2 || got[1] != "http://b:9200" {
		t.Errorf("addresses %v", got)
	}
}

func TestEveryBadKeyIsNamed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rounds.yaml")
	os.WriteFile(p, []byte(`server:
  listn: ":80"
  shutdown_timeout: soon
log:
  level: loud
database:
  max_open_conns: many
im:
  resume_window: 1m
colour: blue
`), 0o600)
	_, err := config.Load(p, []string{"ROUNDS_SERVER_LISTENN=x", "ROUNDS_IDENTITY_SECURE_COOKIES=maybe"})
	ps, ok := err.(config.Problems)
	if !ok {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{"server.listn", "server.shutdown_timeout", "log.level", "database.max_open_conns", "im.resume_window", "colour", "ROUNDS_SERVER_LISTENN", "ROUNDS_IDENTITY_SECURE_COOKIES"}
	got := map[string]string{}
	for _, p := range ps {
		got[p.Key] = p.Reason
	}
	for _, k := range want {
		if got[k] == "" {
			t.Errorf("problem for %s not reported; got %v", k, ps)
		}
	}
	if !strings.Contains(got["server.listn"], "did you mean") && !strings.Contains(got["server.listn"], "unknown key") {
		t.Errorf("reason for listn: %s", got["server.listn"])
	}
}

func TestProfilerOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "0.0.0.0:6060": false, ":6060": false, "10.2.3.4:6060": false, "6060": false} {
		_, err := config.Load("", []string{"ROUNDS_SERVER_DEBUG_LISTEN=" + addr})
		if ok && err != nil {
			t.Errorf("%s: refused: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "server.debug_listen")) {
			t.Errorf("%s: want a server.debug_listen problem, got %v", addr, err)
		}
	}
}

func TestPerUserRateLimit(t *testing.T) {
	d := config.Default()
	if d.Server.RateLimitPerUser != 100 || d.Server.RateLimitBurst != 200 {
		t.Errorf("defaults %d/s burst %d, want 100/s burst 200", d.Server.RateLimitPerUser, d.Server.RateLimitBurst)
	}
	for env, want := range map[string]string{
		"ROUNDS_SERVER_RATE_LIMIT_PER_USER=0":  "",
		"ROUNDS_SERVER_RATE_LIMIT_PER_USER=5":  "",
		"ROUNDS_SERVER_RATE_LIMIT_PER_USER=-1": "server.rate_limit_per_user",
		"ROUNDS_SERVER_RATE_LIMIT_BURST=0":     "server.rate_limit_burst",
	} {
		cfg, err := config.Load("", []string{env})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: refused: %v", env, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: want a %s problem, got %v", env, want, err)
		case env == "ROUNDS_SERVER_RATE_LIMIT_PER_USER=5" && cfg.Server.RateLimitPerUser != 5:
			t.Errorf("%s: read %d", env, cfg.Server.RateLimitPerUser)
		}
	}
	// Switched off, any burst will do.
	if _, err := config.Load("", []string{"ROUNDS_SERVER_RATE_LIMIT_PER_USER=0", "ROUNDS_SERVER_RATE_LIMIT_BURST=0"}); err != nil {
		t.Errorf("no limit with burst 0: %v", err)
	}
}

func TestTracingKeys(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tracing.OTLPEndpoint != "" || cfg.Tracing.SampleRatio != 0.1 || cfg.Tracing.ServiceName != "rounds" {
		t.Fatalf("tracing must be off by default with ratio 0.1: %+v", cfg.Tracing)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600)
	p := filepath.Join(t.TempDir(), "rounds.yaml")
	os.WriteFile(p, []byte("tracing:\n  otlp_endpoint: https://otel.hospital.lan:4318\n  sample_ratio: 0.25\n  ca_file: "+ca+"\n"), 0o600)
	cfg, err = config.Load(p, []string{"ROUNDS_TRACING_HEADERS=Authorization=Bearer abc, X-Scope-OrgID=jcyy", "ROUNDS_TRACING_SERVICE_NAME=rounds-jcyy"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tracing.SampleRatio != 0.25 || cfg.Tracing.ServiceName != "rounds-jcyy" || len(cfg.Tracing.Headers) != 2 || cfg.Tracing.Headers[1] != "X-Scope-OrgID=jcyy" {
		t.Fatalf("tracing %+v", cfg.Tracing)
	}

	for env, want := range map[string]string{
		"ROUNDS_TRACING_SAMPLE_RATIO=1.5":                       "tracing.sample_ratio",
		"ROUNDS_TRACING_SAMPLE_RATIO=NaN":                       "tracing.sample_ratio",
		"ROUNDS_TRACING_SAMPLE_RATIO=often":                     "must be a number",
		"ROUNDS_TRACING_OTLP_ENDPOINT=otel:4318":                "tracing.otlp_endpoint",
		"ROUNDS_TRACING_OTLP_ENDPOINT=grpc://otel:4317":         "tracing.otlp_endpoint",
		"ROUNDS_TRACING_OTLP_ENDPOINT=http://user:pw@otel:4318": "must not carry credentials",
		"ROUNDS_TRACING_SERVICE_NAME= ":                         "tracing.service_name",
		"ROUNDS_TRACING_HEADERS=Authorization: Bearer s3cret":   "tracing.headers",
		"ROUNDS_TRACING_CA_FILE=/no/such/ca.pem":                "tracing.ca_file",
	} {
		_, err := config.Load("", []string{env})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want a problem naming %s, got %v", env, want, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the problem shows a header's value: %v", env, err)
		}
	}
	// A CA file is for https only.
	_, err = config.Load("", []string{"ROUNDS_TRACING_OTLP_ENDPOINT=http://otel:4318", "ROUNDS_TRACING_CA_FILE=" + ca})
	if err == nil || !strings.Contains(err.Error(), "tracing.ca_file") {
		t.Errorf("a CA file with http: %v", err)
	}
}
