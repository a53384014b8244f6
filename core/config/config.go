// Package config reads Rounds' one configuration file (YAML) and the
// ROUNDS_* environment variables that override it. Every key is documented
// in its `doc` tag; `rounds config example` prints them all as a commented
// file and `rounds config check` names each bad key and why.
//
// With no file at all Rounds runs on its embedded defaults — SQLite, the
// in-process bus, Bleve and local disk — with all data under DataDir.
package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. Field tags: yaml gives the key, doc
// the documentation shown in the example file.
type Config struct {
	DataDir     string      `yaml:"data_dir" doc:"Directory for all embedded data: the SQLite database, the Bleve index, uploaded files and app bundles."`
	Server      Server      `yaml:"server" doc:"The HTTP server."`
	Log         Log         `yaml:"log" doc:"Logging."`
	Database    Database    `yaml:"database" doc:"The database. SQLite under data_dir unless postgres_dsn is set."`
	Bus         Bus         `yaml:"bus" doc:"Events between server nodes. In-process unless nats_url is set."`
	Files       Files       `yaml:"files" doc:"Uploaded files and app bundles. Local disk under data_dir unless minio.endpoint is set."`
	Search      Search      `yaml:"search" doc:"Message search. Bleve under data_dir unless elasticsearch.addresses is set."`
	Identity    Identity    `yaml:"identity" doc:"Sign-in, sessions and lockout."`
	IM          IM          `yaml:"im" doc:"Chat."`
	Approvals   Approvals   `yaml:"approvals" doc:"Approval flows."`
	Marketplace Marketplace `yaml:"marketplace" doc:"The app center."`
	Tracing     Tracing     `yaml:"tracing" doc:"OpenTelemetry traces sent to a collector on the hospital network. Off unless otlp_endpoint is set."`
}

// Tracing configures the optional OpenTelemetry traces (core/tracing).
type Tracing struct {
	OTLPEndpoint string   `yaml:"otlp_endpoint" doc:"URL of the collector's OTLP/HTTP receiver, like http://otel-collector:4318 (/v1/traces is added when the URL has no path). https:// uses TLS. Empty (the default): no traces."`
	SampleRatio  float64  `yaml:"sample_ratio" doc:"Share of requests traced when no upstream proxy decided, from 0 to 1. A request whose traceparent says sampled is always traced; 0 traces only those."`
	ServiceName  string   `yaml:"service_name" doc:"service.name of the spans; give each installation its own when several send to one collector."`
	CAFile       string   `yaml:"ca_file" doc:"PEM file of the certificate authority that signed the collector's certificate (https only). Empty: the system's roots."`
	Headers      []string `yaml:"headers" doc:"Extra HTTP headers for the collector, as Name=value (an access token, a tenant). Comma-separated in the environment; prefer ROUNDS_TRACING_HEADERS for secrets."`
}

// Marketplace configures where apps come from.
type Marketplace struct {
	Catalog string `yaml:"catalog" doc:"The app catalog on the hospital's network: a folder, or an http(s) URL of its index.json. Empty: no catalog to browse."`
}

// Server configures the listener.
type Server struct {
	Listen           string   `yaml:"listen" doc:"Address to listen on, host:port. Use :8080 to listen on every interface."`
	PublicURL        string   `yaml:"public_url" doc:"The URL staff open, used in links and printed at start. Empty: derived from listen."`
	TLSCertFile      string   `yaml:"tls_cert_file" doc:"PEM certificate file; with tls_key_file Rounds serves HTTPS itself (secure cookies, HSTS)."`
	TLSKeyFile       string   `yaml:"tls_key_file" doc:"PEM private key file for tls_cert_file."`
	TrustedProxies   []string `yaml:"trusted_proxies" doc:"Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed for client IPs. Comma-separated in the environment."`
	ShutdownTimeout  Duration `yaml:"shutdown_timeout" doc:"How long a graceful shutdown waits for in-flight requests."`
	DebugListen      string   `yaml:"debug_listen" doc:"Loopback host:port serving Go's profiler (/debug/pprof/) for performance work. Empty (the default): off. Never expose it."`
	RateLimitPerUser int      `yaml:"rate_limit_per_user" doc:"API requests a second one person may make on one node, all their sessions and tokens together (a bot counts as its own person); more are answered 429 rate_limited with Retry-After. 0: no limit."`
	RateLimitBurst   int      `yaml:"rate_limit_burst" doc:"Requests one person may make at once above rate_limit_per_user (a page loading many things)."`
}

// Log configures log/slog.
type Log struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error."`
	Format string `yaml:"format" doc:"text or json."`
}

// Database configures SQL storage.
type Database struct {
	PostgresDSN       string `yaml:"postgres_dsn" doc:"PostgreSQL connection string (postgres://user:pass@host:5432/db?sslmode=disable). Empty: SQLite in data_dir."`
	SQLiteSynchronous string `yaml:"sqlite_synchronous" doc:"full (survives power loss) or normal (survives a killed process; faster)."`
	MaxOpenConns      int    `yaml:"max_open_conns" doc:"Largest PostgreSQL connection pool per node."`
}

// Bus configures the event bus between nodes.
type Bus struct {
	NATSURL       string `yaml:"nats_url" doc:"NATS server URL (nats://host:4222). Empty: in-process bus, one node only."`
	SubjectPrefix string `yaml:"subject_prefix" doc:"Prefix of every NATS subject, so several installs can share one NATS."`
}

// Files configures the file store.
type Files struct {
	MaxUploadBytes int64 `yaml:"max_upload_bytes" doc:"Largest single upload in bytes."`
	MinIO          MinIO `yaml:"minio" doc:"MinIO or any S3-compatible store."`
}

// MinIO configures the S3 file store.
type MinIO struct {
	Endpoint  string `yaml:"endpoint" doc:"host:port of MinIO/S3. Empty: local disk."`
	AccessKey string `yaml:"access_key" doc:"Access key."`
	SecretKey string `yaml:"secret_key" doc:"Secret key. Prefer the ROUNDS_FILES_MINIO_SECRET_KEY environment variable."`
	Bucket    string `yaml:"bucket" doc:"Bucket name; created when missing."`
	UseSSL    bool   `yaml:"use_ssl" doc:"Use HTTPS to reach MinIO."`
	Region    string `yaml:"region" doc:"Region, if the store needs one."`
}

// Search configures the message index.
type Search struct {
	Elasticsearch Elasticsearch `yaml:"elasticsearch" doc:"Elasticsearch 8."`
}

// Elasticsearch configures the scale search backend.
type Elasticsearch struct {
	Addresses []string `yaml:"addresses" doc:"Node URLs (http://host:9200). Empty: Bleve in data_dir. Comma-separated in the environment."`
	Username  string   `yaml:"username" doc:"User name."`
	Password  string   `yaml:"password" doc:"Password. Prefer the ROUNDS_SEARCH_ELASTICSEARCH_PASSWORD environment variable."`
	Index     string   `yaml:"index" doc:"Index name."`
}

// Identity configures sign-in.
type Identity struct {
	SessionLifetime  Duration `yaml:"session_lifetime" doc:"Absolute lifetime of a session."`
	IdleTimeout      Duration `yaml:"idle_timeout" doc:"A session unused this long ends."`
	LockoutThreshold int      `yaml:"lockout_threshold" doc:"Failed sign-ins in a row that lock an account."`
	LockoutDuration  Duration `yaml:"lockout_duration" doc:"How long a locked account stays locked."`
	IPAttempts       int      `yaml:"ip_attempts" doc:"Sign-in attempts allowed from one IP address per ip_window."`
	IPWindow         Duration `yaml:"ip_window" doc:"Window for ip_attempts."`
	SecureCookies    bool     `yaml:"secure_cookies" doc:"Mark cookies Secure even without built-in TLS (set it behind an HTTPS proxy)."`
}

// Approvals configures approval flows.
type Approvals struct {
	NoticeRetryAfter Duration `yaml:"notice_retry_after" doc:"How long an approval card or notice that was not posted to chat after its action (the node stopped, chat refused) waits in the outbox before any node posts it again. Posting twice never makes two messages."`
}

// IM configures chat.
type IM struct {
	RecallWindow Duration `yaml:"recall_window" doc:"How long a sender may recall their own message."`
	ResumeWindow Duration `yaml:"resume_window" doc:"How long a disconnected client can resume and receive exactly what it missed (at least 10m)."`
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		DataDir:  "rounds-data",
		Server:   Server{Listen: "127.0.0.1:8080", ShutdownTimeout: Duration(15 * time.Second), RateLimitPerUser: 100, RateLimitBurst: 200},
		Log:      Log{Level: "info", Format: "text"},
		Database: Database{SQLiteSynchronous: "full", MaxOpenConns: 20},
		Bus:      Bus{SubjectPrefix: "rounds"},
		Files:    Files{MaxUploadBytes: 100 << 20, MinIO: MinIO{Bucket: "rounds"}},
		Search:   Search{Elasticsearch: Elasticsearch{Index: "rounds-messages"}},
		Identity: Identity{
			SessionLifetime: Duration(30 * 24 * time.Hour), IdleTimeout: Duration(12 * time.Hour),
			LockoutThreshold: 5, LockoutDuration: Duration(15 * time.Minute), IPAttempts: 30, IPWindow: Duration(5 * time.Minute),
		},
		IM:        IM{RecallWindow: Duration(24 * time.Hour), ResumeWindow: Duration(7 * 24 * time.Hour)},
		Approvals: Approvals{NoticeRetryAfter: Duration(time.Minute)},
		Tracing:   Tracing{SampleRatio: 0.1, ServiceName: "rounds"},
	}
}

// Duration is a time.Duration written as "15m", "12h".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Problem is one bad key.
type Problem struct {
	Key    string // dotted key, e.g. server.listen
	Reason string
}

func (p Problem) String() string { return p.Key + ": " + p.Reason }

// Problems is returned by Load when keys are bad; it lists every one.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "bad configuration:\n  " + strings.Join(s, "\n  ")
}

// Load reads path (empty: no file) over the defaults, then the environment
// (ROUNDS_SERVER_LISTEN overrides server.listen and so on), and validates.
// Every bad key is reported, not just the first.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	var problems Problems
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return cfg, Problems{{Key: "(file)", Reason: err.Error()}}
		}
		if len(root.Content) > 0 {
			problems = append(problems, decodeNode(root.Content[0], reflect.ValueOf(&cfg).Elem(), "")...)
		}
	}
	problems = append(problems, applyEnv(&cfg, environ)...)
	problems = append(problems, cfg.Validate()...)
	if len(problems) > 0 {
		return cfg, problems
	}
	return cfg, nil
}

func decodeNode(n *yaml.Node, v reflect.Value, prefix string) Problems {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(Duration(0)) {
		if n.Kind != yaml.MappingNode {
			return Problems{{Key: keyOr(prefix), Reason: "must be a mapping of keys"}}
		}
		var ps Problems
		fields := fieldsByKey(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if kn := n.Content[i]; kn.Kind != yaml.ScalarNode || k == "" {
				// A list, mapping or empty key would give a problem naming
				// nothing: name the mapping it sits in and the line.
				ps = append(ps, Problem{Key: keyOr(prefix), Reason: fmt.Sprintf("line %d: a key must be a plain name", kn.Line)})
				continue
			}
			key := join(prefix, k)
			idx, ok := fields[k]
			if !ok {
				ps = append(ps, Problem{Key: key, Reason: "unknown key" + suggest(k, fields)})
				continue
			}
			ps = append(ps, decodeNode(n.Content[i+1], v.Field(idx), key)...)
		}
		return ps
	}
	if err := setValue(v, n); err != nil {
		return Problems{{Key: keyOr(prefix), Reason: err.Error()}}
	}
	return nil
}

func setValue(v reflect.Value, n *yaml.Node) error {
	switch v.Interface().(type) {
	case Duration:
		d, err := time.ParseDuration(n.Value)
		if err != nil || n.Kind != yaml.ScalarNode {
			return fmt.Errorf("must be a duration like 90s, 15m or 12h, not %q", n.Value)
		}
		v.Set(reflect.ValueOf(Duration(d)))
		return nil
	case []string:
		var s []string
		if n.Kind == yaml.ScalarNode {
			s = splitList(n.Value)
		} else if err := n.Decode(&s); err != nil {
			return fmt.Errorf("must be a list of strings")
		}
		v.Set(reflect.ValueOf(s))
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a single value")
	}
	return setScalar(v, n.Value)
}

func setScalar(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("must be true or false, not %q", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(Duration(0)) {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("must be a duration like 90s, 15m or 12h, not %q", s)
			}
			v.SetInt(int64(d))
			return nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("must be a whole number, not %q", s)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("must be a number, not %q", s)
		}
		v.SetFloat(f)
	case reflect.Slice:
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return fmt.Errorf("unsupported type %s", v.Kind())
	}
	return nil
}

func applyEnv(cfg *Config, environ []string) Problems {
	known := map[string]reflect.Value{}
	walk(reflect.ValueOf(cfg).Elem(), "", func(key string, v reflect.Value, _ reflect.StructField) {
		known[EnvName(key)] = v
	})
	var ps Problems
	var names []string
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "ROUNDS_") || isReservedEnv(name) {
			continue
		}
		v, ok := known[name]
		if !ok {
			names = append(names, name)
			continue
		}
		if err := setScalar(v, val); err != nil {
			ps = append(ps, Problem{Key: name, Reason: err.Error()})
		}
	}
	sort.Strings(names)
	for _, n := range names {
		ps = append(ps, Problem{Key: n, Reason: "unknown environment variable (no such configuration key)"})
	}
	return ps
}

// isReservedEnv lists ROUNDS_* variables that are not configuration keys.
func isReservedEnv(name string) bool {
	return name == "ROUNDS_CONFIG" || strings.HasPrefix(name, "ROUNDS_TEST_")
}

// EnvName is the environment variable overriding a dotted key.
func EnvName(key string) string {
	return "ROUNDS_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Validate checks values that parse but make no sense.
func (c Config) Validate() Problems {
	var ps Problems
	add := func(k, f string, a ...any) { ps = append(ps, Problem{Key: k, Reason: fmt.Sprintf(f, a...)}) }
	if c.DataDir == "" {
		add("data_dir", "must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		add("server.listen", "must be host:port, like 127.0.0.1:8080 or :8080 (%v)", err)
	}
	if c.Server.DebugListen != "" {
		if h, _, err := net.SplitHostPort(c.Server.DebugListen); err != nil {
			add("server.debug_listen", "must be host:port, like 127.0.0.1:6060 (%v)", err)
		} else if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			add("server.debug_listen", "must be a loopback address (127.0.0.1 or ::1): the profiler is not for the network")
		}
	}
	if c.Server.PublicURL != "" {
		if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("server.public_url", "must be an http or https URL")
		}
	}
	if (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == "") {
		add("server.tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	for _, f := range []struct{ k, p string }{{"server.tls_cert_file", c.Server.TLSCertFile}, {"server.tls_key_file", c.Server.TLSKeyFile}} {
		if f.p != "" {
			if _, err := os.Stat(f.p); err != nil {
				add(f.k, "cannot read %s: %v", f.p, err)
			}
		}
	}
	for _, p := range c.Server.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				add("server.trusted_proxies", "%q is neither an IP address nor a CIDR", p)
			}
		}
	}
	if c.Server.ShutdownTimeout <= 0 {
		add("server.shutdown_timeout", "must be positive")
	}
	if c.Server.RateLimitPerUser < 0 {
		add("server.rate_limit_per_user", "must be 0 (no limit) or a number of requests a second")
	}
	if c.Server.RateLimitPerUser > 0 && c.Server.RateLimitBurst < 1 {
		add("server.rate_limit_burst", "must be at least 1 while server.rate_limit_per_user is set")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		add("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if d := c.Database.PostgresDSN; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") && !strings.Contains(d, "=") {
		add("database.postgres_dsn", "must be a postgres:// URL or key=value connection string")
	}
	if s := strings.ToLower(c.Database.SQLiteSynchronous); s != "full" && s != "normal" {
		add("database.sqlite_synchronous", "must be full or normal, not %q", c.Database.SQLiteSynchronous)
	}
	if c.Database.MaxOpenConns < 1 {
		add("database.max_open_conns", "must be at least 1")
	}
	if u := c.Bus.NATSURL; u != "" && !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
		add("bus.nats_url", "must start with nats:// or tls://")
	}
	if c.Files.MaxUploadBytes < 1 {
		add("files.max_upload_bytes", "must be positive")
	}
	if m := c.Files.MinIO; m.Endpoint != "" {
		if strings.Contains(m.Endpoint, "://") {
			add("files.minio.endpoint", "must be host:port without a scheme (set use_ssl for HTTPS)")
		}
		if m.AccessKey == "" || m.SecretKey == "" {
			add("files.minio.access_key", "access_key and secret_key are needed with an endpoint")
		}
		if m.Bucket == "" {
			add("files.minio.bucket", "must not be empty")
		}
	}
	for _, a := range c.Search.Elasticsearch.Addresses {
		if u, err := url.Parse(a); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			add("search.elasticsearch.addresses", "%q must be an http or https URL", a)
		}
	}
	if c.Identity.LockoutThreshold < 1 {
		add("identity.lockout_threshold", "must be at least 1")
	}
	if c.Identity.IPAttempts < 1 {
		add("identity.ip_attempts", "must be at least 1")
	}
	for _, d := range []struct {
		k string
		v Duration
	}{{"identity.session_lifetime", c.Identity.SessionLifetime}, {"identity.idle_timeout", c.Identity.IdleTimeout},
		{"identity.lockout_duration", c.Identity.LockoutDuration}, {"identity.ip_window", c.Identity.IPWindow}, {"im.recall_window", c.IM.RecallWindow},
		{"approvals.notice_retry_after", c.Approvals.NoticeRetryAfter}} {
		if d.v <= 0 {
			add(d.k, "must be positive")
		}
	}
	if cat := c.Marketplace.Catalog; cat != "" && strings.Contains(cat, "://") && !strings.HasPrefix(cat, "http://") && !strings.HasPrefix(cat, "https://") {
		add("marketplace.catalog", "must be a folder or an http(s) URL")
	}
	if c.IM.ResumeWindow.D() < 10*time.Minute {
		add("im.resume_window", "must be at least 10m")
	}
	ps = append(ps, c.Tracing.validate()...)
	return ps
}

func (t Tracing) validate() Problems {
	var ps Problems
	add := func(k, f string, a ...any) {
		ps = append(ps, Problem{Key: "tracing." + k, Reason: fmt.Sprintf(f, a...)})
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 || math.IsNaN(t.SampleRatio) {
		add("sample_ratio", "must be between 0 and 1 (0.1 traces one request in ten), not %v", t.SampleRatio)
	}
	if strings.TrimSpace(t.ServiceName) == "" {
		add("service_name", "must not be empty")
	}
	https := false
	if e := t.OTLPEndpoint; e != "" {
		u, err := url.Parse(e)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			add("otlp_endpoint", "must be an http or https URL of the collector's OTLP/HTTP receiver, like http://otel-collector:4318")
		case u.User != nil:
			add("otlp_endpoint", "must not carry credentials: put them in tracing.headers")
		case u.RawQuery != "" || u.Fragment != "":
			add("otlp_endpoint", "must not have a query or fragment")
		default:
			https = u.Scheme == "https"
		}
	}
	if t.CAFile != "" {
		if _, err := os.Stat(t.CAFile); err != nil {
			add("ca_file", "cannot read %s: %v", t.CAFile, err)
		} else if t.OTLPEndpoint != "" && !https {
			add("ca_file", "is for an https:// otlp_endpoint")
		}
	}
	for i, h := range t.Headers {
		name, _, ok := strings.Cut(h, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n:") || strings.ContainsAny(h, "\r\n") {
			// Not quoted: a malformed header is likely a token.
			add("headers", "header %d must be Name=value, like Authorization=Bearer … (not Name: value)", i+1)
		}
	}
	return ps
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "rounds.db") }

// Example renders every key with its documentation and default value.
func Example() string {
	var b strings.Builder
	b.WriteString("# Rounds configuration. Every key is optional; shown are the defaults.\n")
	b.WriteString("# Each key can be overridden by an environment variable: server.listen -> ROUNDS_SERVER_LISTEN.\n")
	writeExample(&b, reflect.ValueOf(Default()), 0)
	return b.String()
}

func writeExample(b *strings.Builder, v reflect.Value, depth int) {
	t := v.Type()
	ind := strings.Repeat("  ", depth)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("yaml")
		fmt.Fprintf(b, "%s# %s\n", ind, f.Tag.Get("doc"))
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			fmt.Fprintf(b, "%s%s:\n", ind, key)
			writeExample(b, fv, depth+1)
			continue
		}
		fmt.Fprintf(b, "%s%s: %s\n", ind, key, yamlScalar(fv))
	}
}

func yamlScalar(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return x.String()
	case []string:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + strings.Join(x, ", ") + "]"
	case string:
		if x == "" {
			return `""`
		}
		return strconv.Quote(x)
	}
	return fmt.Sprint(v.Interface())
}

// Keys lists every dotted key with its documentation, for tests and docs.
func Keys() map[string]string {
	out := map[string]string{}
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value, f reflect.StructField) {
		out[key] = f.Tag.Get("doc")
	})
	return out
}

func walk(v reflect.Value, prefix string, fn func(key string, v reflect.Value, f reflect.StructField)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := join(prefix, f.Tag.Get("yaml"))
		if f.Type.Kind() == reflect.Struct {
			walk(v.Field(i), key, fn)
			continue
		}
		fn(key, v.Field(i), f)
	}
}

func fieldsByKey(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		m[t.Field(i).Tag.Get("yaml")] = i
	}
	return m
}

func suggest(k string, fields map[string]int) string {
	for f := range fields {
		if strings.EqualFold(strings.ReplaceAll(f, "_", ""), strings.ReplaceAll(strings.ReplaceAll(k, "-", ""), "_", "")) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	return ""
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func keyOr(k string) string {
	if k == "" {
		return "(file)"
	}
	return k
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
