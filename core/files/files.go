// Package files stores uploaded files and app bundles. Local disk
// (files/localdisk) is the default; MinIO or any S3 service (files/minio)
// serves several nodes. Both pass the contract suite in files/filestest.
package files

import (
	"context"
	"io"
	"time"
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Store keeps objects by key. Keys are slash-separated paths of
// [A-Za-z0-9._-] segments, with no "." or ".." segment and no leading slash;
// anything else is refused with core.EInvalid.
//
// Errors: core.ENotFound for a missing key; core.EUnavailable when the
// backend cannot be reached; core.EInvalid for a bad key.
type Store interface {
	// Put writes the object atomically: readers see the old object or the
	// whole new one, never a part. size may be -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat returns the object's Info.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Ping reports whether the backend is usable (for /readyz).
	Ping(ctx context.Context) error
}
