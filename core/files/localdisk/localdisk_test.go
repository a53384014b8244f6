package localdisk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/files"
	"github.com/roundshq/rounds/core/files/filestest"
	"github.com/roundshq/rounds/core/files/localdisk"
)

func TestContract(t *testing.T) {
	filestest.Run(t, func(t *testing.T) files.Store {
		s, err := localdisk.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNothingEscapesTheRoot(t *testing.T) {
	parent := t.TempDir()
	s, err := localdisk.New(filepath.Join(parent, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range filestest.BadKeys {
		_ = s.Put(ctx, key, strings.NewReader("x"), 1, "")
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "store" {
		t.Fatalf("files appeared beside the store root: %v", entries)
	}
	var inside []string
	_ = filepath.WalkDir(s.Root(), func(p string, d os.DirEntry, err error) error {
		if p != s.Root() {
			inside = append(inside, p)
		}
		return nil
	})
	if len(inside) != 0 {
		t.Fatalf("refused keys left files: %v", inside)
	}
}

func TestReplacedDataIsRemoved(t *testing.T) {
	s, err := localdisk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, v := range []string{"one", "two", "three"} {
		if err := s.Put(ctx, "org1/f", strings.NewReader(v), -1, "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.Root(), "org1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("after three puts the directory holds %v, want one metadata and one data file", names)
	}
	if err := s.Delete(ctx, "org1/f"); err != nil {
		t.Fatal(err)
	}
	if entries, _ = os.ReadDir(filepath.Join(s.Root(), "org1")); len(entries) != 0 {
		t.Fatalf("after Delete the directory holds %d entries", len(entries))
	}
}

func TestUnwritableRootFailsPing(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes through permission bits; use a root that vanished.
		dir := filepath.Join(t.TempDir(), "store")
		s, err := localdisk.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(context.Background()); !core.IsCode(err, core.EUnavailable) {
			t.Fatalf("Ping = %v, want unavailable", err)
		}
		return
	}
	dir := t.TempDir()
	s, err := localdisk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := s.Ping(context.Background()); !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("Ping = %v, want unavailable", err)
	}
}
