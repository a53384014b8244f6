package bundle_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/marketplace/bundle"
)

// fuzzKey is fixed so the committed seed corpus (real signed bundles) stays
// verifiable: the fuzzer mutates bundles that otherwise pass.
const fuzzKey = "ed25519-priv:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

// FuzzUnpack feeds arbitrary archives to Unpack. Whatever the input, it
// must not panic, must write nothing outside dest, and must leave dest
// either verified or gone. Seed corpus: testdata/fuzz/FuzzUnpack.
func FuzzUnpack(f *testing.F) {
	priv, err := bundle.ParsePrivateKey(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed(f, priv))
	lim := bundle.Limits{MaxFiles: 50, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20, MaxCompressed: 1 << 20, MaxRatio: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dest := filepath.Join(root, "app")
		v, err := bundle.Unpack(bytes.NewReader(data), dest, lim, []bundle.PublicKey{priv.Public()})
		entries, _ := os.ReadDir(root)
		if err != nil {
			if len(entries) != 0 {
				t.Fatalf("refused bundle left %v in %s", entries, root)
			}
			return
		}
		if len(entries) != 1 || v.Dir != dest {
			t.Fatalf("unpacked outside dest: %v", entries)
		}
		filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && !info.Mode().IsRegular() {
				t.Fatalf("%s is not a regular file", p)
			}
			if !strings.HasPrefix(p, dest) {
				t.Fatalf("%s escapes %s", p, dest)
			}
			return nil
		})
	})
}
