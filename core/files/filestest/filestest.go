// Package filestest is the contract suite every files.Store implementation
// passes. It takes only the interface: an implementation's test calls Run
// with a factory returning a fresh, empty store, and the suite checks round
// trips, overwrites, deletes, key validation, listing, large objects and
// concurrent writers. It knows nothing of disks or S3.
package filestest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
)

// Factory returns a fresh, empty store for one test.
type Factory func(t *testing.T) files.Store

// Run runs the contract suite as subtests of t.
func Run(t *testing.T, newStore Factory) {
	t.Run("round trip", func(t *testing.T) { roundTrip(t, newStore(t)) })
	t.Run("unknown size", func(t *testing.T) { unknownSize(t, newStore(t)) })
	t.Run("overwrite", func(t *testing.T) { overwrite(t, newStore(t)) })
	t.Run("delete", func(t *testing.T) { deleteIdempotent(t, newStore(t)) })
	t.Run("missing key", func(t *testing.T) { missing(t, newStore(t)) })
	t.Run("bad keys", func(t *testing.T) { badKeys(t, newStore(t)) })
	t.Run("failed put changes nothing", func(t *testing.T) { failedPut(t, newStore(t)) })
	t.Run("list by prefix", func(t *testing.T) { list(t, newStore(t)) })
	t.Run("object and parent clash", func(t *testing.T) { parentClash(t, newStore(t)) })
	t.Run("large object", func(t *testing.T) { large(t, newStore(t)) })
	t.Run("concurrent puts", func(t *testing.T) { concurrent(t, newStore(t)) })
	t.Run("ping", func(t *testing.T) {
		if err := newStore(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

var ctx = context.Background()

func put(t *testing.T, s files.Store, key string, data []byte, size int64, ct string) {
	t.Helper()
	if err := s.Put(ctx, key, bytes.NewReader(data), size, ct); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s files.Store, key string) ([]byte, files.Info) {
	t.Helper()
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, info
}

func checkInfo(t *testing.T, what string, got files.Info, key string, size int64, ct string) {
	t.Helper()
	if got.Key != key || got.Size != size || got.ContentType != ct {
		t.Errorf("%s = {Key:%q Size:%d ContentType:%q}, want {%q %d %q}", what, got.Key, got.Size, got.ContentType, key, size, ct)
	}
	if d := time.Since(got.ModTime); d < -time.Minute || d > time.Minute {
		t.Errorf("%s ModTime = %v, want about now", what, got.ModTime)
	}
}

func roundTrip(t *testing.T, s files.Store) {
	cases := []struct {
		name, key, ct, wantCT string
		data                  []byte
	}{
		{"text", "org1/chat/c1/notice.txt", "text/plain; charset=utf-8", "text/plain; charset=utf-8", []byte("查房 08:00, ward 5")},
		{"binary", "org1/chat/c1/scan.png", "image/png", "image/png", []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}},
		{"empty object", "org1/empty", "text/plain", "text/plain", []byte{}},
		{"default content type", "org1/apps/bundle-1.0.zip", "", files.DefaultContentType, []byte("PK")},
		{"single segment", "readme", "text/markdown", "text/markdown", []byte("# hi")},
		{"dots dashes underscores", "a.b/.hidden/x_y-z..v1", "text/plain", "text/plain", []byte("ok")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			put(t, s, c.key, c.data, int64(len(c.data)), c.ct)
			b, info := get(t, s, c.key)
			if !bytes.Equal(b, c.data) {
				t.Errorf("Get bytes = %q, want %q", b, c.data)
			}
			checkInfo(t, "Get info", info, c.key, int64(len(c.data)), c.wantCT)
			st, err := s.Stat(ctx, c.key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			checkInfo(t, "Stat", st, c.key, int64(len(c.data)), c.wantCT)
		})
	}
}

func unknownSize(t *testing.T, s files.Store) {
	data := []byte(strings.Repeat("duty roster ", 1000))
	// A reader that is not a *bytes.Reader, so no implementation can peek
	// at the length.
	if err := s.Put(ctx, "org1/roster.csv", io.MultiReader(bytes.NewReader(data)), -1, "text/csv"); err != nil {
		t.Fatalf("Put with size -1: %v", err)
	}
	b, info := get(t, s, "org1/roster.csv")
	if !bytes.Equal(b, data) {
		t.Fatalf("read back %d bytes, want %d", len(b), len(data))
	}
	checkInfo(t, "Get info", info, "org1/roster.csv", int64(len(data)), "text/csv")
	st, err := s.Stat(ctx, "org1/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Stat", st, "org1/roster.csv", int64(len(data)), "text/csv")
}

func overwrite(t *testing.T, s files.Store) {
	put(t, s, "org1/report.pdf", []byte("version one, longer"), -1, "application/pdf")
	put(t, s, "org1/report.pdf", []byte("v2"), 2, "text/plain")
	b, info := get(t, s, "org1/report.pdf")
	if string(b) != "v2" {
		t.Fatalf("after overwrite read %q", b)
	}
	checkInfo(t, "Get info", info, "org1/report.pdf", 2, "text/plain")
	got, err := s.List(ctx, "org1/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("List after overwrite = %v, want one object", keys(got))
	}
}

func deleteIdempotent(t *testing.T, s files.Store) {
	put(t, s, "org1/a", []byte("a"), 1, "text/plain")
	put(t, s, "org1/a-b", []byte("b"), 1, "text/plain")
	for i := range 2 {
		if err := s.Delete(ctx, "org1/a"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if err := s.Delete(ctx, "never/was/here"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if _, err := s.Stat(ctx, "org1/a"); !core.IsCode(err, core.ENotFound) {
		t.Fatalf("Stat after Delete = %v, want not_found", err)
	}
	if b, _ := get(t, s, "org1/a-b"); string(b) != "b" {
		t.Fatalf("sibling read %q", b)
	}
	if got, err := s.List(ctx, ""); err != nil || !slices.Equal(keys(got), []string{"org1/a-b"}) {
		t.Fatalf("List after Delete = %v, %v", keys(got), err)
	}
}

func missing(t *testing.T, s files.Store) {
	put(t, s, "org1/x", []byte("x"), 1, "")
	for _, key := range []string{"org1/y", "org2/x", "org1/x/y", "org1"} {
		t.Run(key, func(t *testing.T) {
			if rc, _, err := s.Get(ctx, key); !core.IsCode(err, core.ENotFound) {
				if rc != nil {
					rc.Close()
				}
				t.Errorf("Get = %v, want not_found", err)
			}
			if _, err := s.Stat(ctx, key); !core.IsCode(err, core.ENotFound) {
				t.Errorf("Stat = %v, want not_found", err)
			}
		})
	}
}

// BadKeys are keys every store refuses.
var BadKeys = []string{"", "../x", "/abs", "a//b", "a/./b", "a/../b", ".", "..", "a/", "a/..", "a b", "a\\b", "a\x00b", "病历.pdf", "a~meta", "a:b", strings.Repeat("x", files.MaxKeyLen+1), "a/" + strings.Repeat("s", files.MaxSegmentLen+1)}

func badKeys(t *testing.T, s files.Store) {
	for _, key := range BadKeys {
		name := fmt.Sprintf("%q", key)
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			want := func(op string, err error) {
				t.Helper()
				var ce *core.Error
				if !errors.As(err, &ce) || ce.Code != core.EInvalid || ce.Field != "key" {
					t.Errorf("%s(%q) = %v, want invalid naming field key", op, key, err)
				}
			}
			want("Put", s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"))
			rc, _, err := s.Get(ctx, key)
			if rc != nil {
				rc.Close()
			}
			want("Get", err)
			_, err = s.Stat(ctx, key)
			want("Stat", err)
			want("Delete", s.Delete(ctx, key))
		})
	}
	for _, prefix := range []string{"/a", "a//", "../", "a/./", "a b", "病"} {
		t.Run("list "+prefix, func(t *testing.T) {
			if _, err := s.List(ctx, prefix); !core.IsCode(err, core.EInvalid) {
				t.Errorf("List(%q) = %v, want invalid", prefix, err)
			}
		})
	}
	if got, err := s.List(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("refused puts stored %v (%v)", keys(got), err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("upload connection reset")
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'z'
	}
	r.n -= k
	return k, nil
}

func failedPut(t *testing.T, s files.Store) {
	put(t, s, "org1/kept", []byte("original"), 8, "text/plain")
	cases := []struct {
		name string
		r    io.Reader
		size int64
		code core.Code
	}{
		{"reader shorter than size", strings.NewReader("short"), 100, core.EInvalid},
		{"reader fails midway", &failingReader{n: 4096}, -1, ""},
		{"reader fails midway with size", &failingReader{n: 4096}, 10000, ""},
		{"negative size", strings.NewReader("x"), -2, core.EInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, key := range []string{"org1/kept", "org1/new"} {
				err := s.Put(ctx, key, c.r, c.size, "application/zip")
				if err == nil {
					t.Fatalf("Put(%q) succeeded", key)
				}
				if c.code != "" && !core.IsCode(err, c.code) {
					t.Errorf("Put(%q) = %v, want %s", key, err, c.code)
				}
			}
			b, info := get(t, s, "org1/kept")
			if string(b) != "original" || info.ContentType != "text/plain" {
				t.Errorf("failed overwrite changed the object: %q %q", b, info.ContentType)
			}
			if _, err := s.Stat(ctx, "org1/new"); !core.IsCode(err, core.ENotFound) {
				t.Errorf("failed Put left an object: %v", err)
			}
		})
	}
	t.Run("request cancelled during upload", func(t *testing.T) {
		for _, key := range []string{"org1/kept", "org1/new"} {
			cctx, cancel := context.WithCancel(ctx)
			r := &cancellingReader{n: 1 << 20, cancel: cancel}
			err := s.Put(cctx, key, r, -1, "application/zip")
			cancel()
			if err == nil {
				t.Fatalf("Put(%q) with a cancelled request succeeded", key)
			}
		}
		b, _ := get(t, s, "org1/kept")
		if string(b) != "original" {
			t.Errorf("cancelled overwrite changed the object to %d bytes", len(b))
		}
		if _, err := s.Stat(ctx, "org1/new"); !core.IsCode(err, core.ENotFound) {
			t.Errorf("cancelled Put left an object: %v", err)
		}
	})
	if got, err := s.List(ctx, ""); err != nil || !slices.Equal(keys(got), []string{"org1/kept"}) {
		t.Fatalf("List = %v, %v", keys(got), err)
	}
}

// cancellingReader cancels the request after its first chunk, as a client
// going away mid-upload does, then keeps yielding bytes.
type cancellingReader struct {
	n      int
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	r.cancel()
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, 32<<10)
	r.n -= k
	// Give the store's transport a moment to notice.
	time.Sleep(time.Millisecond)
	return k, nil
}

func keys(infos []files.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Key
	}
	return out
}

func list(t *testing.T, s files.Store) {
	all := []string{"ward2/y", "ward1/b/c", "ward1.txt", "ward10/x", "ward1-x", "ward1/a", "a.b", "ward1/b/c2", "Ward1/upper"}
	for i, k := range all {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i+1), int64(i+1), "text/plain")
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", sorted},
		{"ward1", []string{"ward1-x", "ward1.txt", "ward1/a", "ward1/b/c", "ward1/b/c2", "ward10/x"}},
		{"ward1.", []string{"ward1.txt"}},
		{"ward1/", []string{"ward1/a", "ward1/b/c", "ward1/b/c2"}},
		{"ward1/b/c", []string{"ward1/b/c", "ward1/b/c2"}},
		{"ward1/b/", []string{"ward1/b/c", "ward1/b/c2"}},
		{"ward1/a", []string{"ward1/a"}},
		{"ward1/a/", nil},
		{"ward3", nil},
		{"nothing/here/", nil},
		{"W", []string{"Ward1/upper"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q", c.prefix), func(t *testing.T) {
			got, err := s.List(ctx, c.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(keys(got), c.want) {
				t.Fatalf("List(%q) = %v, want %v", c.prefix, keys(got), c.want)
			}
			for _, in := range got {
				i := slices.Index(all, in.Key)
				checkInfo(t, "List item", in, in.Key, int64(i+1), "text/plain")
			}
		})
	}
}

func parentClash(t *testing.T, s files.Store) {
	put(t, s, "org1/chat/c1", []byte("an object"), -1, "text/plain")
	put(t, s, "org1/dept/d1/photo.jpg", []byte("jpg"), -1, "image/jpeg")
	for _, key := range []string{"org1/chat/c1/f.png", "org1/chat/c1/x/y", "org1/dept/d1", "org1/dept", "org1"} {
		t.Run(key, func(t *testing.T) {
			err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain")
			if !core.IsCode(err, core.EConflict) {
				t.Fatalf("Put(%q) = %v, want conflict", key, err)
			}
		})
	}
	// Neighbours whose names only start alike do not clash.
	put(t, s, "org1/chat/c10/f.png", []byte("x"), 1, "image/png")
	put(t, s, "org1/dept/d1.txt", []byte("x"), 1, "text/plain")
	// Once the object is gone its name can become a folder.
	if err := s.Delete(ctx, "org1/chat/c1"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "org1/chat/c1/f.png", []byte("x"), 1, "image/png")
	got, err := s.List(ctx, "org1/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"org1/chat/c1/f.png", "org1/chat/c10/f.png", "org1/dept/d1.txt", "org1/dept/d1/photo.jpg"}
	if !slices.Equal(keys(got), want) {
		t.Fatalf("List = %v, want %v", keys(got), want)
	}
}

func large(t *testing.T, s files.Store) {
	data := make([]byte, 8<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{int64(len(data)), -1} {
		t.Run(fmt.Sprintf("size %d", size), func(t *testing.T) {
			key := fmt.Sprintf("org1/imaging/ct-%d.dcm", size+1)
			if err := s.Put(ctx, key, io.MultiReader(bytes.NewReader(data)), size, "application/dicom"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			b, info := get(t, s, key)
			if !bytes.Equal(b, data) {
				t.Fatalf("read back %d bytes that differ from the %d written", len(b), len(data))
			}
			checkInfo(t, "Get info", info, key, int64(len(data)), "application/dicom")
		})
	}
}

func concurrent(t *testing.T, s files.Store) {
	const writers, rounds = 6, 5
	payload := func(w int) []byte { return bytes.Repeat([]byte{byte('a' + w)}, 64<<10+w) }
	put(t, s, "org1/shared", payload(0), -1, "text/plain")
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				if err := s.Put(ctx, fmt.Sprintf("org1/own/%d-%d", w, r), bytes.NewReader(payload(w)), -1, "text/plain"); err != nil {
					errs <- err
				}
				if err := s.Put(ctx, "org1/shared", bytes.NewReader(payload(w)), int64(len(payload(w))), "text/plain"); err != nil {
					errs <- err
				}
			}
		})
	}
	// Readers see one writer's whole object, never a mix or a part.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rc, info, err := s.Get(ctx, "org1/shared")
				if err != nil {
					if !core.IsCode(err, core.EConflict) {
						errs <- fmt.Errorf("get during writes: %w", err)
					}
					continue
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- err
					continue
				}
				w := int(b[0] - 'a')
				if w < 0 || w >= writers || !bytes.Equal(b, payload(w)) || info.Size != int64(len(b)) {
					errs <- fmt.Errorf("read a torn object: %d bytes starting %q, info size %d", len(b), b[:1], info.Size)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.List(ctx, "org1/own/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*rounds {
		t.Fatalf("listed %d objects, want %d", len(got), writers*rounds)
	}
	for _, in := range got {
		var w, r int
		if _, err := fmt.Sscanf(in.Key, "org1/own/%d-%d", &w, &r); err != nil || in.Size != int64(len(payload(w))) {
			t.Errorf("object %q has size %d", in.Key, in.Size)
		}
	}
}
