package miniofiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
)

// Config says where the bucket is.
type Config struct {
	// Endpoint is host:port of the S3 service, without scheme.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Bucket is created when missing.
	Bucket string
	UseSSL bool
	// Region of the bucket (default "us-east-1", what MinIO uses).
	Region string
	// Prefix, when set, is a key-like path ("hospA" or "installs/hospA")
	// under which every key is stored.
	Prefix string
	// MaxRetries bounds retries of one request (default 3): a backend that
	// is down should turn into an unavailable error quickly, not after
	// minio-go's default ten attempts.
	MaxRetries int
}

// partSize bounds memory for uploads of unknown size: minio-go buffers one
// part at a time.
const partSize = 16 << 20

// Store is a files.Store over an S3 bucket.
type Store struct {
	c      *minio.Client
	core   minio.Core // the low-level calls of the same client
	bucket string
	prefix string // "" or "<Prefix>/"
}

var _ files.Store = (*Store)(nil)

// New connects to the service and makes sure the bucket exists.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Endpoint == "" || strings.Contains(cfg.Endpoint, "://") {
		return nil, core.Invalid("endpoint", "file store endpoint %q: want host:port without scheme", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, core.Invalid("bucket", "file store bucket is empty")
	}
	if cfg.Prefix != "" {
		if err := files.CheckKey(cfg.Prefix); err != nil {
			return nil, core.Invalid("prefix", "file store prefix %q is not a valid key path", cfg.Prefix)
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 3
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseSSL,
		Region:     cfg.Region,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, core.Invalid("endpoint", "file store endpoint %q: %v", cfg.Endpoint, err)
	}
	s := &Store{c: c, core: minio.Core{Client: c}, bucket: cfg.Bucket}
	if cfg.Prefix != "" {
		s.prefix = cfg.Prefix + "/"
	}
	exists, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, s.backendError(err, "", "check the file store bucket")
	}
	if !exists {
		err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil {
			// Another node may have created it meanwhile.
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return nil, s.backendError(err, "", "create the file store bucket")
			}
		}
	}
	return s, nil
}

// backendError maps an S3 client error. key is "" for bucket operations.
func (s *Store) backendError(err error, key, doing string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return &core.Error{Code: core.ENotFound, Field: "key", Message: fmt.Sprintf("file %q not found", key), Err: err}
	case "EntityTooLarge":
		return &core.Error{Code: core.ETooLarge, Message: "file is larger than the file store accepts", Err: err}
	case "XMinioParentIsObject", "XMinioObjectExistsAsDirectory":
		return &core.Error{Code: core.EConflict, Field: "key", Message: fmt.Sprintf("file %q clashes with an existing file's path", key), Err: err}
	}
	// Down, unreachable, refusing our credentials, out of space: whatever it
	// is, the file store cannot serve this now and an operator must look.
	return &core.Error{Code: core.EUnavailable, Message: "file store cannot " + doing, Err: err}
}

// countingReader remembers how the caller's reader ended, to tell a short or
// failing upload (the caller's fault) from a backend error.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	switch {
	case err == io.EOF:
		c.eof = true
	case err != nil:
		c.err = err
	}
	return n, err
}

// Put implements files.Store. S3 makes an object visible only when its
// upload completed, so readers never see a part.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := files.CheckKey(key); err != nil {
		return err
	}
	if size < -1 {
		return core.Invalid("size", "size %d is negative", size)
	}
	if contentType == "" {
		contentType = files.DefaultContentType
	}
	if err := s.checkClash(ctx, key); err != nil {
		return err
	}
	cr := &countingReader{r: r}
	src := io.Reader(cr)
	if size >= 0 {
		src = io.LimitReader(cr, size)
	}
	_, err := s.c.PutObject(ctx, s.bucket, s.prefix+key, src, size, minio.PutObjectOptions{ContentType: contentType, PartSize: partSize})
	if err == nil {
		return nil
	}
	switch {
	case cr.err != nil:
		return cr.err
	case size >= 0 && cr.eof && cr.n < size:
		return &core.Error{Code: core.EInvalid, Field: "size", Message: fmt.Sprintf("the file ended after %d bytes, %d were announced", cr.n, size), Err: err}
	}
	return s.backendError(err, key, "store the file")
}

// checkClash refuses a key whose parent is an object or which is the parent
// of objects (see files.Store): MinIO would accept both and then hide the
// children from listings.
func (s *Store) checkClash(ctx context.Context, key string) error {
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		_, err := s.c.StatObject(ctx, s.bucket, s.prefix+key[:i], minio.StatObjectOptions{})
		if err == nil {
			return clash(key, key[:i])
		}
		if minio.ToErrorResponse(err).Code != minio.NoSuchKey {
			return s.backendError(err, key, "check the file's path")
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	oi, found := <-s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + key + "/", Recursive: true, MaxKeys: 1})
	switch {
	case !found:
		return nil
	case oi.Err != nil:
		return s.backendError(oi.Err, key, "check the file's path")
	}
	return clash(key, strings.TrimPrefix(oi.Key, s.prefix))
}

func clash(key, other string) error {
	return &core.Error{Code: core.EConflict, Field: "key", Message: fmt.Sprintf("file %q cannot be stored: %q exists and one would be the folder of the other", key, other)}
}

// Get implements files.Store. Bytes and Info come from one GET response, so
// they belong together even while the object is being replaced.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, files.Info, error) {
	if err := files.CheckKey(key); err != nil {
		return nil, files.Info{}, err
	}
	body, oi, _, err := s.core.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, files.Info{}, s.backendError(err, key, "read the file")
	}
	return body, s.info(key, oi), nil
}

func (s *Store) info(key string, oi minio.ObjectInfo) files.Info {
	return files.Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}
}

// Stat implements files.Store.
func (s *Store) Stat(ctx context.Context, key string) (files.Info, error) {
	if err := files.CheckKey(key); err != nil {
		return files.Info{}, err
	}
	oi, err := s.c.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return files.Info{}, s.backendError(err, key, "read the file's details")
	}
	return s.info(key, oi), nil
}

// Delete implements files.Store (S3 deletes of a missing key succeed).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := files.CheckKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return s.backendError(err, key, "delete the file")
	}
	return nil
}

// List implements files.Store. S3 lists keys in UTF-8 byte order, which is
// key order. MinIO returns content types with the listing; other services
// may not, and their objects are looked up one by one.
func (s *Store) List(ctx context.Context, prefix string) ([]files.Info, error) {
	if err := files.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []files.Info
	for oi := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true, WithMetadata: true}) {
		if oi.Err != nil {
			return nil, s.backendError(oi.Err, "", "list files")
		}
		key := strings.TrimPrefix(oi.Key, s.prefix)
		if files.CheckKey(key) != nil {
			continue // written by someone else into our bucket
		}
		in := s.info(key, oi)
		if in.ContentType == "" {
			in.ContentType = metadataContentType(oi)
		}
		if in.ContentType == "" {
			st, err := s.Stat(ctx, key)
			if core.IsCode(err, core.ENotFound) {
				continue // deleted while we listed
			}
			if err != nil {
				return nil, err
			}
			in = st
		}
		out = append(out, in)
	}
	return out, nil
}

func metadataContentType(oi minio.ObjectInfo) string {
	for k, v := range oi.UserMetadata {
		if strings.EqualFold(k, "content-type") {
			return v
		}
	}
	return ""
}

// Ping implements files.Store: the bucket must answer.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.backendError(err, "", "reach its bucket")
	}
	if !ok {
		return core.Errorf(core.EUnavailable, "file store bucket %q is gone", s.bucket)
	}
	return nil
}
