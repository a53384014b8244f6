package localdisk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
)

const (
	metaSuffix = "~meta"
	dataMark   = "~v"
	tempMark   = "~t"
)

// Store is a files.Store on local disk.
type Store struct {
	root string
	// locks serialise Put and Delete of one key (striped by key hash) so
	// each replaced data file is removed by exactly one writer.
	locks [64]sync.Mutex
}

var _ files.Store = (*Store)(nil)

// New opens (creating if needed) a store rooted at dir.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, core.Invalid("dir", "file store directory is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, core.Invalid("dir", "bad file store directory %q: %v", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, unavailable(err, "cannot create the file store directory")
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute directory the store keeps its files in.
func (s *Store) Root() string { return s.root }

type meta struct {
	Version     string `json:"version"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	ModTimeNS   int64  `json:"mod_time_ns"`
}

// paths returns the directory of key and the base name of its files.
func (s *Store) paths(key string) (dir, base string) {
	d, b := path.Split(key)
	return filepath.Join(s.root, filepath.FromSlash(d)), b
}

func (s *Store) lock(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

// Put implements files.Store. An error from r is returned as it is, and
// nothing is stored.
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
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkClash(key); err != nil {
		return err
	}
	dir, base := s.paths(key)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return unavailable(err, "cannot create the directory for file "+key)
	}
	version := newVersion()
	dataPath := filepath.Join(dir, base+dataMark+version)
	n, err := writeSynced(dataPath, ctxReader{ctx, r}, size)
	if err != nil {
		_ = os.Remove(dataPath)
		return err
	}
	m := meta{Version: version, ContentType: contentType, Size: n, ModTimeNS: time.Now().UnixNano()}
	buf, err := json.Marshal(m)
	if err != nil {
		_ = os.Remove(dataPath)
		return core.Wrap(err, "encode file metadata")
	}
	tmp := filepath.Join(dir, base+tempMark+newVersion())
	if _, err := writeSynced(tmp, strings.NewReader(string(buf)), -1); err != nil {
		_ = os.Remove(dataPath)
		_ = os.Remove(tmp)
		return err
	}

	mu := s.lock(key)
	mu.Lock()
	old, oldErr := readMeta(filepath.Join(dir, base+metaSuffix))
	err = os.Rename(tmp, filepath.Join(dir, base+metaSuffix))
	if err == nil {
		err = syncDir(dir)
	}
	mu.Unlock()
	if err != nil {
		_ = os.Remove(tmp)
		_ = os.Remove(dataPath)
		return unavailable(err, "cannot store file")
	}
	if oldErr == nil && old.Version != version {
		_ = os.Remove(filepath.Join(dir, base+dataMark+old.Version))
	}
	return nil
}

// checkClash refuses a key whose parent is an object or which is the parent
// of objects (see files.Store).
func (s *Store) checkClash(key string) error {
	for i := 0; i < len(key); i++ {
		if key[i] != '/' {
			continue
		}
		_, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(key[:i])+metaSuffix))
		if err == nil {
			return clash(key, key[:i])
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return unavailable(err, "cannot check file path")
		}
	}
	var child string
	dir := filepath.Join(s.root, filepath.FromSlash(key))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), metaSuffix) {
			child = p
			return fs.SkipAll
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable(err, "cannot check file path")
	}
	if child != "" {
		rel, _ := filepath.Rel(s.root, child)
		return clash(key, strings.TrimSuffix(filepath.ToSlash(rel), metaSuffix))
	}
	return nil
}

func clash(key, other string) error {
	return &core.Error{Code: core.EConflict, Field: "key", Message: fmt.Sprintf("file %q cannot be stored: %q exists and one would be the folder of the other", key, other)}
}

// writeSynced writes r to a new file at p and syncs it. With size >= 0 it
// writes exactly size bytes or fails.
func writeSynced(p string, r io.Reader, size int64) (int64, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, unavailable(err, "cannot create file")
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size)
	}
	n, err := io.Copy(f, src)
	if err == nil && size >= 0 && n != size {
		err = core.Invalid("size", "the file ended after %d bytes, %d were announced", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return n, err
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return n, unavailable(err, "cannot write file")
		}
		// Anything else came from the caller's reader.
		return n, err
	}
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func readMeta(p string) (meta, error) {
	var m meta
	b, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("corrupt file metadata %s: %w", p, err)
	}
	return m, nil
}

func info(key string, m meta) files.Info {
	return files.Info{Key: key, Size: m.Size, ContentType: m.ContentType, ModTime: time.Unix(0, m.ModTimeNS)}
}

func (s *Store) stat(key string) (meta, error) {
	dir, base := s.paths(key)
	m, err := readMeta(filepath.Join(dir, base+metaSuffix))
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscallENOTDIR):
		return m, notFound(key)
	default:
		return m, unavailable(err, "cannot read file metadata")
	}
}

// Get implements files.Store. The returned reader is an *os.File (it also
// seeks, for range requests).
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, files.Info, error) {
	if err := files.CheckKey(key); err != nil {
		return nil, files.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, files.Info{}, err
	}
	dir, base := s.paths(key)
	// A concurrent Put may remove the data file between reading the metadata
	// and opening it; the metadata then names a newer one.
	for range 5 {
		m, err := s.stat(key)
		if err != nil {
			return nil, files.Info{}, err
		}
		f, err := os.Open(filepath.Join(dir, base+dataMark+m.Version))
		if err == nil {
			return f, info(key, m), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, files.Info{}, unavailable(err, "cannot open file")
		}
	}
	return nil, files.Info{}, core.Errorf(core.EConflict, "file %q is being replaced; try again", key)
}

// Stat implements files.Store.
func (s *Store) Stat(ctx context.Context, key string) (files.Info, error) {
	if err := files.CheckKey(key); err != nil {
		return files.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return files.Info{}, err
	}
	m, err := s.stat(key)
	if err != nil {
		return files.Info{}, err
	}
	return info(key, m), nil
}

// Delete implements files.Store. Emptied directories are left in place:
// removing them would race with a Put creating a file in them.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := files.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, base := s.paths(key)
	mu := s.lock(key)
	mu.Lock()
	m, err := s.stat(key)
	if core.IsCode(err, core.ENotFound) {
		mu.Unlock()
		return nil
	}
	if err == nil {
		err = os.Remove(filepath.Join(dir, base+metaSuffix))
		if err == nil {
			err = syncDir(dir)
		}
	}
	mu.Unlock()
	if err != nil {
		return unavailable(err, "cannot delete file")
	}
	_ = os.Remove(filepath.Join(dir, base+dataMark+m.Version))
	return nil
}

// List implements files.Store. It walks only the directory the prefix
// names, so listing one conversation's files does not read the whole store.
func (s *Store) List(ctx context.Context, prefix string) ([]files.Info, error) {
	if err := files.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(s.root, filepath.FromSlash(prefix[:i]))
	}
	var out []files.Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, metaSuffix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := strings.TrimSuffix(filepath.ToSlash(rel), metaSuffix)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		m, err := readMeta(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		out = append(out, info(key, m))
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		if errors.Is(err, syscallENOTDIR) {
			return nil, nil // the prefix's directory is an object's name: nothing under it
		}
		return nil, unavailable(err, "cannot list files")
	}
	slices.SortFunc(out, func(a, b files.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Ping implements files.Store: the root must exist and take a new file.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.root, ".ping"+tempMark+"*")
	if err != nil {
		return unavailable(err, "file store directory is not writable")
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func newVersion() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func notFound(key string) error {
	return &core.Error{Code: core.ENotFound, Field: "key", Message: fmt.Sprintf("file %q not found", key)}
}

func unavailable(err error, msg string) error {
	return &core.Error{Code: core.EUnavailable, Message: msg, Err: err}
}

// ctxReader stops a long copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
