package miniofiles_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/filestest"
	miniofiles "github.com/roundshq/rounds/core/files/minio"
	"github.com/roundshq/rounds/core/files/minio/miniotest"
)

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func TestContract(t *testing.T) {
	cfg := miniotest.Start(t)
	filestest.Run(t, func(t *testing.T) files.Store {
		c := cfg
		// One server, a fresh key space per test.
		c.Prefix = "t/" + unsafe.ReplaceAllString(t.Name(), "_")
		s, err := miniofiles.New(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBadConfig(t *testing.T) {
	good := miniofiles.Config{Endpoint: "127.0.0.1:9", AccessKey: "a", SecretKey: "b", Bucket: "rounds"}
	cases := []struct {
		name  string
		edit  func(*miniofiles.Config)
		field string
	}{
		{"empty endpoint", func(c *miniofiles.Config) { c.Endpoint = "" }, "endpoint"},
		{"endpoint with scheme", func(c *miniofiles.Config) { c.Endpoint = "http://127.0.0.1:9000" }, "endpoint"},
		{"empty bucket", func(c *miniofiles.Config) { c.Bucket = "" }, "bucket"},
		{"bad prefix", func(c *miniofiles.Config) { c.Prefix = "../up" }, "prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			_, err := miniofiles.New(context.Background(), cfg)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != core.EInvalid || ce.Field != c.field {
				t.Fatalf("New = %v, want invalid naming %s", err, c.field)
			}
		})
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = miniofiles.New(ctx, miniofiles.Config{Endpoint: addr, AccessKey: "a", SecretKey: "b", Bucket: "rounds", MaxRetries: 1})
	if !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("New = %v, want unavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("unavailable took %v to report", d)
	}
}

// TestServerGoneIsUnavailable stops a store's MinIO under it.
func TestServerGoneIsUnavailable(t *testing.T) {
	srv := miniotest.StartServer(t)
	ctx := context.Background()
	s, err := miniofiles.New(ctx, srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "org1/f", strings.NewReader("x"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := s.Ping(ctx); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Ping = %v, want unavailable", err)
	}
	if _, err := s.Stat(ctx, "org1/f"); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Stat = %v, want unavailable", err)
	}
	if err := s.Put(ctx, "org1/g", strings.NewReader("x"), 1, "text/plain"); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Put = %v, want unavailable", err)
	}
	if _, err := s.List(ctx, ""); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("List = %v, want unavailable", err)
	}
}

func TestBucketAndPrefixes(t *testing.T) {
	cfg := miniotest.Start(t)
	ctx := context.Background()
	cfg.Bucket = "rounds-other"
	hospA, hospB := cfg, cfg
	hospA.Prefix, hospB.Prefix = "installs/hospA", "installs/hospB"
	a, err := miniofiles.New(ctx, hospA)
	if err != nil {
		t.Fatalf("New creating the bucket: %v", err)
	}
	b, err := miniofiles.New(ctx, hospB)
	if err != nil {
		t.Fatalf("New with an existing bucket: %v", err)
	}
	if err := a.Put(ctx, "org1/f", strings.NewReader("a"), 1, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.List(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("another install lists %v (%v)", got, err)
	}
	if _, err := b.Stat(ctx, "org1/f"); !core.IsCode(err, core.ENotFound) {
		t.Fatalf("another install's Stat = %v, want not_found", err)
	}
	got, err := a.List(ctx, "")
	if err != nil || len(got) != 1 || got[0].Key != "org1/f" {
		t.Fatalf("List = %v (%v), want the key without the prefix", got, err)
	}
}
