// Package files stores uploaded files and app bundles. Local disk
// (files/localdisk) is the default; MinIO or any S3 service (files/minio)
// serves several nodes. Both pass the contract suite in files/filestest.
package files

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
)

// DefaultContentType is stored when Put is given no content type.
const DefaultContentType = "application/octet-stream"

// MaxKeyLen bounds a key in bytes (S3's limit); MaxSegmentLen bounds one
// segment, leaving room for a local file system's bookkeeping suffixes within
// its 255-byte names.
const (
	MaxKeyLen     = 1024
	MaxSegmentLen = 200
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Store keeps objects by key. Keys are slash-separated paths of
// [A-Za-z0-9._-] segments, with no "." or ".." segment, no empty segment and
// no leading or trailing slash, at most MaxKeyLen bytes and MaxSegmentLen per
// segment; anything else is refused with core.EInvalid (see CheckKey).
//
// A key is never both an object and the parent of other objects, since S3
// services cannot hold "a" beside "a/b": Put of "a/b" while "a" exists, or of
// "a" while "a/b" exists, is refused with core.EConflict. (Two such Puts
// racing each other are not caught.)
//
// Errors: core.ENotFound for a missing key; core.EUnavailable when the
// backend cannot be reached; core.EInvalid for a bad key.
type Store interface {
	// Put writes the object atomically: readers see the old object or the
	// whole new one, never a part. size may be -1 when unknown; otherwise it
	// is the exact length: a reader that ends early stores nothing and the
	// error is core.EInvalid (field "size"), and bytes past size are not
	// read. A failing reader stores nothing either. An empty contentType is
	// stored as DefaultContentType.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object; the caller closes it. The Info returned belongs
	// to the bytes being read.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat returns the object's Info.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, in key order
	// (byte order of the keys). The prefix is a plain string prefix, not a
	// directory: "ward1" lists "ward1/x" and "ward10". A prefix with
	// characters no key can hold is refused with core.EInvalid.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Ping reports whether the backend is usable (for /readyz).
	Ping(ctx context.Context) error
}

// CheckKey returns nil for a valid key and otherwise a *core.Error with code
// invalid and field "key" saying what is wrong.
func CheckKey(key string) error {
	if key == "" {
		return core.Invalid("key", "file key is empty")
	}
	if len(key) > MaxKeyLen {
		return core.Invalid("key", "file key is longer than %d bytes", MaxKeyLen)
	}
	if key[0] == '/' {
		return core.Invalid("key", "file key %q must not start with a slash", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return core.Invalid("key", "file key %q has an empty segment", key)
	case seg == "." || seg == "..":
		return core.Invalid("key", "file key %q has a %q segment", key, seg)
	case len(seg) > MaxSegmentLen:
		return core.Invalid("key", "file key %q has a segment longer than %d bytes", key, MaxSegmentLen)
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			return core.Invalid("key", "file key %q has character %s; allowed are A-Z a-z 0-9 . _ - and / between segments", key, quoteByte(seg[i]))
		}
	}
	return nil
}

// CheckPrefix returns nil when prefix could begin a valid key (or is empty),
// and otherwise a *core.Error with code invalid and field "prefix".
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen || prefix[0] == '/' || strings.Contains(prefix, "//") {
		return core.Invalid("prefix", "list prefix %q cannot begin any file key", prefix)
	}
	segs := strings.Split(prefix, "/")
	// Every segment but the last is complete and must be valid; the last may
	// be the start of one ("." can begin ".x").
	for i, seg := range segs {
		if i == len(segs)-1 {
			for j := 0; j < len(seg); j++ {
				if !keyByte(seg[j]) {
					return core.Invalid("prefix", "list prefix %q has character %s", prefix, quoteByte(seg[j]))
				}
			}
			continue
		}
		if err := checkSegment(prefix, seg); err != nil {
			return core.Invalid("prefix", "list prefix %q cannot begin any file key", prefix)
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("0x%02x", c)
	}
	return fmt.Sprintf("%q", string(c))
}
