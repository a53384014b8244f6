package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins/sdk"
)

// Verified is a bundle unpacked into Dir whose every file matched the
// signed list of a trusted key.
type Verified struct {
	Dir      string
	Manifest sdk.Manifest
	KeyID    string
	Files    []FileSum
}

// Executable returns the path and signed SHA-256 of the app's program for
// goos/goarch, or EInvalid (field "platform") when the bundle has none.
func (v *Verified) Executable(goos, goarch string) (path, sha string, err error) {
	want := "bin/" + goos + "-" + goarch + "/" + v.Manifest.Executable
	for _, f := range v.Files {
		if f.Path == want {
			return filepath.Join(v.Dir, filepath.FromSlash(want)), f.SHA256, nil
		}
	}
	return "", "", core.Invalid("platform", "app %s %s has no program for %s-%s", v.Manifest.ID, v.Manifest.Version, goos, goarch)
}

// Screenshots lists the screenshot paths of the bundle.
func (v *Verified) Screenshots() []string {
	var out []string
	for _, f := range v.Files {
		if strings.HasPrefix(f.Path, "screenshots/") {
			out = append(out, f.Path)
		}
	}
	return out
}

// Unpack reads a signed bundle into dest, which must not exist yet, and
// verifies it against trusted. Every file's SHA-256 is computed as it is
// written and compared with the signed list; a file missing from the list,
// listed but missing, or with another size or checksum fails the whole
// bundle. On any error dest is removed: nothing half-unpacked is left.
// Refusals are *core.Error with Details["refusal"] naming the reason
// (path, size, files, ratio, archive, signatures, key_id, signature,
// checksum, manifest, executable).
func Unpack(r io.Reader, dest string, lim Limits, trusted []PublicKey) (v *Verified, err error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, core.Wrap(err, "bundle folder")
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, core.Errorf(core.EConflict, "unpack folder %s already exists", dest)
		}
		return nil, core.Wrap(err, "bundle folder")
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dest)
		}
	}()
	got := map[string]FileSum{}
	var sigData []byte
	err = walk(r, lim, func(p string, size, mode int64, content io.Reader) error {
		if p == SignaturesFile {
			if size > maxSignatures {
				return refuse(core.ETooLarge, "signatures", "SIGNATURES.json is larger than %d bytes", maxSignatures)
			}
			b, err := io.ReadAll(content)
			sigData = b
			return err
		}
		target := filepath.Join(dest, filepath.FromSlash(p))
		// CheckPath already refused "..", but a second look costs nothing
		// and guards against a future change of CheckPath.
		if !strings.HasPrefix(target, filepath.Clean(dest)+string(filepath.Separator)) {
			return refuse(core.EInvalid, "path", "bundle entry %q escapes the bundle folder", p)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return refuse(core.EInvalid, "path", "bundle entry %q cannot be placed: %v", p, err)
		}
		perm := os.FileMode(0o644)
		if strings.HasPrefix(p, "bin/") {
			perm = 0o755
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return refuse(core.EInvalid, "path", "bundle entry %q cannot be written: %v", p, err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		got[p] = FileSum{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sigData == nil {
		return nil, refuse(core.EInvalid, "signatures", "the bundle is not signed (no %s)", SignaturesFile)
	}
	sigs, err := parseSignatures(sigData)
	if err != nil {
		return nil, err
	}
	if err := sigs.verify(trusted); err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, f := range sigs.Files {
		if listed[f.Path] {
			return nil, refuse(core.EInvalid, "signatures", "SIGNATURES.json lists %q twice", f.Path)
		}
		listed[f.Path] = true
		g, ok := got[f.Path]
		if !ok {
			return nil, refuse(core.EInvalid, "checksum", "signed file %q is missing from the bundle", f.Path)
		}
		if g.Size != f.Size || g.SHA256 != strings.ToLower(f.SHA256) {
			return nil, refuse(core.EInvalid, "checksum", "file %q does not match its signed checksum (tampered)", f.Path)
		}
	}
	for p := range got {
		if !listed[p] {
			return nil, refuse(core.EInvalid, "checksum", "file %q is not in the signed list (added after signing)", p)
		}
	}
	mdata, err := os.ReadFile(filepath.Join(dest, sdk.ManifestFile))
	if err != nil {
		return nil, refuse(core.EInvalid, "manifest", "the bundle has no %s", sdk.ManifestFile)
	}
	files := map[string][]byte{sdk.ManifestFile: mdata}
	for p := range got {
		if strings.HasPrefix(p, "bin/") {
			files[p] = nil
		}
	}
	m, err := checkContents(files)
	if err != nil {
		return nil, err
	}
	return &Verified{Dir: dest, Manifest: m, KeyID: sigs.KeyID, Files: sigs.Files}, nil
}

// FileSHA256 hashes a file; nodes use it to check an unpacked program again
// before handing it to the app host.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
