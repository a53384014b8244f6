package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Limits bound what unpacking a bundle may cost. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	MaxFiles      int   // regular files in the archive
	MaxFileSize   int64 // bytes of one file once unpacked
	MaxTotalSize  int64 // bytes of the whole archive once decompressed
	MaxCompressed int64 // bytes of the .tar.gz itself
	// MaxRatio is the largest decompressed/compressed ratio accepted once
	// more than a MiB has come out (a zip bomb gets past every size limit
	// slowly but not past this one quickly).
	MaxRatio int64
}

// DefaultLimits fit an app with binaries for a few platforms.
var DefaultLimits = Limits{MaxFiles: 2000, MaxFileSize: 128 << 20, MaxTotalSize: 512 << 20, MaxCompressed: 256 << 20, MaxRatio: 100}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultLimits.MaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = DefaultLimits.MaxCompressed
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultLimits.MaxRatio
	}
	return l
}

// maxSignatures bounds SIGNATURES.json, which is read into memory.
const maxSignatures = 4 << 20

// CheckPath reports whether p may appear in a bundle: a clean relative
// slash path of one of the known shapes (manifest.json, SIGNATURES.json,
// bin/<os>-<arch>/<file>, web/…, screenshots/…).
func CheckPath(p string) error {
	bad := func(format string, args ...any) error {
		return refuse(core.EInvalid, "path", "bundle entry %q "+format, append([]any{p}, args...)...)
	}
	if p == "" || len(p) > 255 || !utf8.ValidString(p) {
		return bad("is empty, too long or not UTF-8")
	}
	if strings.ContainsAny(p, "\\\x00\n\r:") {
		return bad("holds a backslash, colon, NUL or newline")
	}
	if strings.HasPrefix(p, "/") {
		return bad("is an absolute path")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return bad("escapes the bundle folder")
		}
		if seg == "" || seg == "." {
			return bad("is not a clean path")
		}
	}
	segs := strings.Split(p, "/")
	switch {
	case p == sdk.ManifestFile, p == SignaturesFile:
		return nil
	case segs[0] == "bin":
		if len(segs) != 3 || !platformOK(segs[1]) {
			return bad("must be bin/<os>-<arch>/<executable>")
		}
		return nil
	case segs[0] == "web", segs[0] == "screenshots":
		if len(segs) < 2 {
			return bad("must be a file under %s/", segs[0])
		}
		return nil
	}
	return bad("is not manifest.json, SIGNATURES.json, bin/, web/ or screenshots/")
}

func platformOK(s string) bool {
	goos, goarch, ok := strings.Cut(s, "-")
	if !ok || goos == "" || goarch == "" {
		return false
	}
	for _, c := range goos + goarch {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// countingReader counts bytes and refuses past a limit.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	err   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, c.err
	}
	return n, err
}

// walk reads a .tar.gz defensively and calls file for each regular file
// with a reader of exactly its bytes. Every refusal is a *core.Error.
func walk(r io.Reader, lim Limits, file func(p string, size int64, mode int64, content io.Reader) error) error {
	lim = lim.withDefaults()
	comp := &countingReader{r: r, limit: lim.MaxCompressed,
		err: refuse(core.ETooLarge, "size", "the bundle is larger than %d bytes", lim.MaxCompressed)}
	zr, err := gzip.NewReader(comp)
	if err != nil {
		if ce := (*core.Error)(nil); errors.As(err, &ce) {
			return ce
		}
		return refuse(core.EInvalid, "archive", "the bundle is not a gzip-compressed tar archive: %v", err)
	}
	defer zr.Close()
	plain := &countingReader{r: zr, limit: lim.MaxTotalSize,
		err: refuse(core.ETooLarge, "size", "the bundle unpacks to more than %d bytes", lim.MaxTotalSize)}
	ratio := func() error {
		if comp.n > comp.limit {
			return comp.err
		}
		if plain.n > 1<<20 && plain.n > lim.MaxRatio*comp.n {
			return refuse(core.ETooLarge, "ratio", "the bundle decompresses more than %d times (a decompression bomb?)", lim.MaxRatio)
		}
		return nil
	}
	// guarded checks the ratio on every read, so a bomb inside one file is
	// stopped part-way rather than after it has been written out.
	guarded := readerFunc(func(p []byte) (int, error) {
		n, err := plain.Read(p)
		if rerr := ratio(); rerr != nil {
			return n, rerr
		}
		return n, err
	})
	tr := tar.NewReader(guarded)
	seen := map[string]bool{}
	files := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// The tar end marker may come before the compressed stream
			// does; the size limit still holds for what was read.
			return ratio()
		}
		if err != nil {
			return archiveErr(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if err := CheckPath(name); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return refuse(core.EInvalid, "path", "bundle entry %q is a link; bundles hold regular files only", name)
		default:
			return refuse(core.EInvalid, "path", "bundle entry %q is not a regular file (type %q)", name, h.Typeflag)
		}
		if seen[name] {
			return refuse(core.EInvalid, "path", "bundle entry %q appears twice", name)
		}
		seen[name] = true
		if files++; files > lim.MaxFiles {
			return refuse(core.ETooLarge, "files", "the bundle holds more than %d files", lim.MaxFiles)
		}
		if h.Size < 0 || h.Size > lim.MaxFileSize {
			return refuse(core.ETooLarge, "size", "bundle entry %q is larger than %d bytes", name, lim.MaxFileSize)
		}
		if err := file(name, h.Size, h.Mode, tr); err != nil {
			return archiveErr(err)
		}
	}
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func archiveErr(err error) error {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce
	}
	return refuse(core.EInvalid, "archive", "the bundle archive is damaged: %v", err)
}

// Pack writes an unsigned bundle of the app in dir: manifest.json and
// everything under bin/, web/ and screenshots/ (other files are left out).
// Entries are sorted and carry no owner or time, so packing twice gives the
// same bytes.
func Pack(dir string, w io.Writer) error {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && !strings.Contains(rel, "/") && rel != "bin" && rel != "web" && rel != "screenshots" {
				return fs.SkipDir
			}
			return nil
		}
		if rel == SignaturesFile || (rel != sdk.ManifestFile && !strings.Contains(rel, "/")) {
			return nil
		}
		if !d.Type().IsRegular() {
			return core.Invalid("path", "%s is not a regular file (links are not packed)", rel)
		}
		if err := CheckPath(rel); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return archiveErr(err)
	}
	if _, err := checkContents(files); err != nil {
		return err
	}
	return writeArchive(w, files)
}

// Sign reads a bundle (signed or not), checks its contents and writes it
// again with a SIGNATURES.json made with key.
func Sign(r io.Reader, w io.Writer, key PrivateKey) error {
	files := map[string][]byte{}
	err := walk(r, Limits{}, func(p string, size, mode int64, content io.Reader) error {
		if p == SignaturesFile {
			return nil
		}
		b, err := io.ReadAll(content)
		files[p] = b
		return err
	})
	if err != nil {
		return err
	}
	if _, err := checkContents(files); err != nil {
		return err
	}
	sums := make([]FileSum, 0, len(files))
	for p, b := range files {
		s := sha256.Sum256(b)
		sums = append(sums, FileSum{Path: p, Size: int64(len(b)), SHA256: hex.EncodeToString(s[:])})
	}
	sig, err := json.MarshalIndent(sign(sums, key), "", "  ")
	if err != nil {
		return core.Wrap(err, "encode signatures")
	}
	files[SignaturesFile] = sig
	return writeArchive(w, files)
}

// checkContents checks the manifest and that the executable is there for
// at least one platform and nothing else is under bin/.
func checkContents(files map[string][]byte) (sdk.Manifest, error) {
	data, ok := files[sdk.ManifestFile]
	if !ok {
		return sdk.Manifest{}, refuse(core.EInvalid, "manifest", "the bundle has no %s", sdk.ManifestFile)
	}
	m, err := parseManifest(data)
	if err != nil {
		return m, err
	}
	n := 0
	for p := range files {
		if strings.HasPrefix(p, "bin/") {
			if path.Base(p) != m.Executable {
				return m, refuse(core.EInvalid, "path", "bundle entry %q: bin/ holds only the executable %q", p, m.Executable)
			}
			n++
		}
	}
	if n == 0 {
		return m, refuse(core.EInvalid, "executable", "the bundle has no bin/<os>-<arch>/%s", m.Executable)
	}
	return m, nil
}

func parseManifest(data []byte) (sdk.Manifest, error) {
	m, err := sdk.ParseManifest(data)
	if err != nil {
		var se *sdk.Error
		if errors.As(err, &se) {
			return m, &core.Error{Code: core.Code(se.Code), Field: "manifest." + se.Field, Message: se.Message, Details: map[string]any{"refusal": "manifest"}}
		}
		return m, refuse(core.EInvalid, "manifest", "manifest: %v", err)
	}
	return m, nil
}

func writeArchive(w io.Writer, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for _, p := range names {
		mode := int64(0o644)
		if strings.HasPrefix(p, "bin/") {
			mode = 0o755
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: p, Size: int64(len(files[p])), Mode: mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return core.Wrap(err, "write bundle")
		}
		if _, err := io.Copy(tw, bytes.NewReader(files[p])); err != nil {
			return core.Wrap(err, "write bundle")
		}
	}
	if err := tw.Close(); err != nil {
		return core.Wrap(err, "write bundle")
	}
	return core.Wrap(zw.Close(), "write bundle")
}
