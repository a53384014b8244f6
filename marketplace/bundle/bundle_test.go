package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/marketplace/bundle"
)

const manifest = `{"id":"daily-report","name":"日报","version":"1.0.0","publisher":"Acme ISV","min_server_version":"0.1.0","executable":"daily","scopes":["orgchart:read","im:send"],"hooks":[]}`

// appDir writes an app's folder as a publisher has it before packing.
func appDir(t testing.TB) string {
	dir := t.TempDir()
	for p, c := range map[string]string{
		"manifest.json":          manifest,
		"bin/linux-amd64/daily":  "\x7fELF program for linux",
		"bin/darwin-arm64/daily": "mach-o program",
		"web/index.html":         "<h1>日报</h1>",
		"screenshots/1.png":      "png bytes",
		"README.md":              "not packed",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func signed(t testing.TB, key bundle.PrivateKey) []byte {
	var unsigned, out bytes.Buffer
	if err := bundle.Pack(appDir(t), &unsigned); err != nil {
		t.Fatal(err)
	}
	if err := bundle.Sign(&unsigned, &out, key); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

type entry struct {
	name string
	typ  byte
	body string
	link string
}

// craft writes a raw archive, for the attacks Pack never produces.
func craft(t testing.TB, entries []entry) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// entries reads a bundle back into entries so a test can change one.
func entries(t testing.TB, data []byte) []entry {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []entry
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		out = append(out, entry{name: h.Name, body: b.String()})
	}
	return out
}

func TestPackSignUnpack(t *testing.T) {
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	data := signed(t, priv)
	dest := filepath.Join(t.TempDir(), "x")
	v, err := bundle.Unpack(bytes.NewReader(data), dest, bundle.Limits{}, []bundle.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if v.Manifest.ID != "daily-report" || v.KeyID != pub.ID() {
		t.Fatalf("verified %+v", v)
	}
	exe, sum, err := v.Executable("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := bundle.FileSHA256(exe); got != sum {
		t.Fatalf("executable sum %s, signed %s", got, sum)
	}
	if _, _, err := v.Executable("windows", "amd64"); !core.IsCode(err, core.EInvalid) {
		t.Fatalf("missing platform: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "README.md")); err == nil {
		t.Fatal("README.md was packed")
	}
	if s := v.Screenshots(); len(s) != 1 || s[0] != "screenshots/1.png" {
		t.Fatalf("screenshots %v", s)
	}
	// Packing twice gives the same bytes, so a publisher can reproduce a build.
	var a, b bytes.Buffer
	dir := appDir(t)
	bundle.Pack(dir, &a)
	bundle.Pack(dir, &b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("pack is not deterministic")
	}
}

func TestKeysText(t *testing.T) {
	pub, priv, _ := bundle.GenerateKey()
	p2, err := bundle.ParsePublicKey(pub.String())
	if err != nil || p2.ID() != pub.ID() {
		t.Fatalf("public round trip: %v", err)
	}
	k2, err := bundle.ParsePrivateKey(priv.String())
	if err != nil || k2.Public().ID() != pub.ID() {
		t.Fatalf("private round trip: %v", err)
	}
	for _, bad := range []string{"", "ed25519-pub:!!", "ed25519-pub:AAAA", priv.String()} {
		if _, err := bundle.ParsePublicKey(bad); !core.IsCode(err, core.EInvalid) {
			t.Errorf("ParsePublicKey(%q) = %v", bad, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	pub, priv, _ := bundle.GenerateKey()
	other, otherPriv, _ := bundle.GenerateKey()
	good := signed(t, priv)
	ents := entries(t, good)
	with := func(change func([]entry) []entry) []byte {
		return craft(t, change(append([]entry(nil), ents...)))
	}
	replace := func(name, body string) []byte {
		return with(func(es []entry) []entry {
			for i := range es {
				if es[i].name == name {
					es[i].body = body
				}
			}
			return es
		})
	}
	add := func(e entry) []byte { return with(func(es []entry) []entry { return append(es, e) }) }
	var unsigned bytes.Buffer
	bundle.Pack(appDir(t), &unsigned)
	var bomb bytes.Buffer
	{
		zw := gzip.NewWriter(&bomb)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "web/zeros", Typeflag: tar.TypeReg, Size: 50 << 20, Mode: 0o644})
		tw.Write(make([]byte, 50<<20))
		tw.Close()
		zw.Close()
	}
	many := make([]entry, 0, 30)
	for i := 0; i < 30; i++ {
		many = append(many, entry{name: "web/f" + strings.Repeat("x", i), body: "x"})
	}
	cases := []struct {
		name    string
		data    []byte
		lim     bundle.Limits
		trusted []bundle.PublicKey
		code    core.Code
		refusal string
	}{
		{"unsigned", unsigned.Bytes(), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "signatures"},
		{"untrusted key", good, bundle.Limits{}, []bundle.PublicKey{other}, core.EForbidden, "key_id"},
		{"no trusted keys", good, bundle.Limits{}, nil, core.EForbidden, "key_id"},
		{"tampered binary", replace("bin/linux-amd64/daily", "evil program"), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "checksum"},
		{"tampered manifest", replace("manifest.json", strings.Replace(manifest, `"im:send"`, `"im:read"`, 1)), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "checksum"},
		{"file added after signing", add(entry{name: "web/extra.js", body: "alert(1)"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "checksum"},
		{"file removed after signing", with(func(es []entry) []entry {
			out := es[:0]
			for _, e := range es {
				if e.name != "web/index.html" {
					out = append(out, e)
				}
			}
			return out
		}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "checksum"},
		{"signature forged by another key under this key's id", replace(bundle.SignaturesFile, forge(t, ents, pub, otherPriv)), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "signature"},
		{"dot-dot path", add(entry{name: "web/../../etc/passwd", body: "x"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"absolute path", add(entry{name: "/etc/passwd", body: "x"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"unknown top-level", add(entry{name: "etc/passwd", body: "x"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"symlink", add(entry{name: "web/link", typ: tar.TypeSymlink, link: "/etc/passwd"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"hard link", add(entry{name: "web/link", typ: tar.TypeLink, link: "manifest.json"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"device file", add(entry{name: "web/dev", typ: tar.TypeChar}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"fifo", add(entry{name: "web/fifo", typ: tar.TypeFifo}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"duplicate entry", add(entry{name: "web/index.html", body: "again"}), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "path"},
		{"file too large", good, bundle.Limits{MaxFileSize: 10}, []bundle.PublicKey{pub}, core.ETooLarge, "size"},
		{"total too large", good, bundle.Limits{MaxTotalSize: 1024}, []bundle.PublicKey{pub}, core.ETooLarge, "size"},
		{"compressed too large", good, bundle.Limits{MaxCompressed: 100}, []bundle.PublicKey{pub}, core.ETooLarge, "size"},
		{"too many files", craft(t, many), bundle.Limits{MaxFiles: 10}, []bundle.PublicKey{pub}, core.ETooLarge, "files"},
		{"decompression bomb", bomb.Bytes(), bundle.Limits{}, []bundle.PublicKey{pub}, core.ETooLarge, "ratio"},
		{"not gzip", []byte("PK\x03\x04 a zip file"), bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "archive"},
		{"truncated", good[:len(good)/2], bundle.Limits{}, []bundle.PublicKey{pub}, core.EInvalid, "archive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "app")
			_, err := bundle.Unpack(bytes.NewReader(c.data), dest, c.lim, c.trusted)
			if !core.IsCode(err, c.code) {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			var ce *core.Error
			if !asCore(err, &ce) || ce.Details["refusal"] != c.refusal {
				t.Fatalf("refusal = %v, want %q (%v)", ce.Details, c.refusal, err)
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Fatalf("refused bundle left %s behind", dest)
			}
		})
	}
}

// forge signs the bundle's list with another key but claims pub's id.
func forge(t testing.TB, ents []entry, pub bundle.PublicKey, other bundle.PrivateKey) string {
	var s bundle.Signatures
	for _, e := range ents {
		if e.name == bundle.SignaturesFile {
			json.Unmarshal([]byte(e.body), &s)
		}
	}
	var b bytes.Buffer
	craftTo(t, &b, ents)
	var out bytes.Buffer
	if err := bundle.Sign(&b, &out, other); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries(t, out.Bytes()) {
		if e.name == bundle.SignaturesFile {
			var f bundle.Signatures
			json.Unmarshal([]byte(e.body), &f)
			f.KeyID = pub.ID()
			j, _ := json.Marshal(f)
			return string(j)
		}
	}
	t.Fatal("no signatures")
	return ""
}

func craftTo(t testing.TB, b *bytes.Buffer, ents []entry) { b.Write(craft(t, ents)) }

func asCore(err error, ce **core.Error) bool {
	e, ok := err.(*core.Error)
	*ce = e
	return ok
}

func TestPackRefusesLinks(t *testing.T) {
	dir := appDir(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "web", "passwd")); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := bundle.Pack(dir, &b); !core.IsCode(err, core.EInvalid) {
		t.Fatalf("pack with a symlink: %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"manifest.json": true, "bin/linux-amd64/daily": true, "web/a/b.js": true, "screenshots/1.png": true,
		"bin/daily": false, "bin/linux/daily": false, "bin/linux-amd64/x/y": false, "web": false, "./manifest.json": false,
		"web//a": false, "web/./a": false, `web\a`: false, "c:/x": false, "other.txt": false,
	} {
		if err := bundle.CheckPath(p); (err == nil) != ok {
			t.Errorf("CheckPath(%q) = %v", p, err)
		}
	}
}
