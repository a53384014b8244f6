package bundle_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/roundshq/rounds/marketplace/bundle"
)

// BenchmarkUnpack measures verifying and unpacking a bundle with a 16 MiB
// program for each of two platforms (random bytes, so gzip cannot shrink
// it: the worst case for the limits and the hashing).
func BenchmarkUnpack(b *testing.B) {
	dir := b.TempDir()
	prog := make([]byte, 16<<20)
	rand.Read(prog)
	for p, c := range map[string][]byte{
		"manifest.json":         []byte(manifest),
		"bin/linux-amd64/daily": prog,
		"bin/linux-arm64/daily": prog,
		"web/index.html":        []byte("<h1>日报</h1>"),
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), c, 0o644)
	}
	pub, priv, _ := bundle.GenerateKey()
	var unsigned, signed bytes.Buffer
	if err := bundle.Pack(dir, &unsigned); err != nil {
		b.Fatal(err)
	}
	if err := bundle.Sign(&unsigned, &signed, priv); err != nil {
		b.Fatal(err)
	}
	data := signed.Bytes()
	root := b.TempDir()
	b.SetBytes(int64(2 * len(prog)))
	b.ResetTimer()
	for b.Loop() {
		dest := filepath.Join(root, "app")
		if _, err := bundle.Unpack(bytes.NewReader(data), dest, bundle.Limits{}, []bundle.PublicKey{pub}); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(dest)
	}
}
