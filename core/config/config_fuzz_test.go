package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/roundshq/rounds/core/config"
)

// FuzzLoad: any YAML file (and any one environment variable) loads without
// panicking, and every problem names a key and says what is wrong.
func FuzzLoad(f *testing.F) {
	for _, seed := range []struct{ yaml, env string }{
		{"server:\n  listen: 127.0.0.1:8080\nlog:\n  level: info\n", ""},
		{"server:\n  listen: nowhere\nlog:\n  level: loud\n", ""},
		{"identity:\n  lockout_threshold: -1\n  idle_timeout: forever\n", "ROUNDS_IDENTITY_IP_WINDOW=5"},
		{"database: [1, 2]\n", "ROUNDS_DATABASE_MAX_OPEN_CONNS=lots"},
		{"search:\n  elasticsearch:\n    addresses: http://a:9200\n", "ROUNDS_SEARCH_ELASTICSEARCH_ADDRESSES=http://a,http://b"},
		{"a: &x [*x]\n", ""},
		{"server: !!binary aGVsbG8=\n", ""},
		{"? [a]\n: b\n", ""},
		{"files:\n  max_upload_bytes: 1e99\n", "ROUNDS_NO_SUCH=1"},
		{"\t", ""},
		{"---\n---\n", "NOT_ROUNDS=1"},
		{"server:\n  trusted_proxies: {a: b}\n", ""},
	} {
		f.Add(seed.yaml, seed.env)
	}
	f.Fuzz(func(t *testing.T, yaml, env string) {
		p := filepath.Join(t.TempDir(), "rounds.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(p, []string{env})
		if err == nil {
			return
		}
		ps, ok := err.(config.Problems)
		if !ok {
			t.Fatalf("not a list of problems: %v", err)
		}
		if len(ps) == 0 {
			t.Fatal("an error without problems")
		}
		for _, pr := range ps {
			if pr.Key == "" || pr.Reason == "" {
				t.Fatalf("a problem without a key or reason: %+v in %v", pr, err)
			}
		}
	})
}
