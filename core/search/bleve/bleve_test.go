package blevesearch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
	blevesearch "github.com/roundshq/rounds/core/search/bleve"
	"github.com/roundshq/rounds/core/search/searchtest"
)

func TestContractMem(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := blevesearch.OpenMem()
		if err != nil {
			t.Fatalf("OpenMem: %v", err)
		}
		return idx
	})
}

func TestContractDisk(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		idx, err := blevesearch.Open(t.TempDir() + "/index")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return idx
	})
}

func TestOpenKeepsDocsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/search"
	idx, err := blevesearch.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := idx.Put(ctx, search.Doc{ID: "m1", Kind: "message", OrgID: "o", Scope: "s", Text: "夜班交接", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err = blevesearch.Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer idx.Close()
	res, err := idx.Search(ctx, search.Query{Kind: "message", OrgID: "o", Scopes: []string{"s"}, Text: "交接"})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != "m1" || !res.Hits[0].At.Equal(at) {
		t.Fatalf("after reopen: %+v, %v", res, err)
	}
}

func TestOpenDirectories(t *testing.T) {
	t.Run("empty directory is taken", func(t *testing.T) {
		dir := t.TempDir()
		idx, err := blevesearch.Open(dir)
		if err != nil {
			t.Fatalf("Open(empty dir): %v", err)
		}
		_ = idx.Close()
	})
	t.Run("directory with other files is refused", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := blevesearch.Open(dir)
		if !core.IsCode(err, core.EConflict) {
			t.Fatalf("Open(foreign dir) = %v, want %s", err, core.EConflict)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "x" {
			t.Error("foreign file was touched")
		}
	})
	t.Run("index written by something else", func(t *testing.T) {
		dir := t.TempDir() + "/other"
		other, err := bleve.New(dir, bleve.NewIndexMapping())
		if err != nil {
			t.Fatal(err)
		}
		_ = other.Close()
		if _, err := blevesearch.Open(dir); !core.IsCode(err, core.EConflict) {
			t.Fatalf("Open(other index) = %v, want %s", err, core.EConflict)
		}
	})
	t.Run("no directory", func(t *testing.T) {
		if _, err := blevesearch.Open(""); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("Open(\"\") = %v, want %s", err, core.EInvalid)
		}
	})
}

func TestClosedIndexIsUnavailable(t *testing.T) {
	ctx := context.Background()
	idx, err := blevesearch.OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	d := search.Doc{ID: "m1", Kind: "message", OrgID: "o", Scope: "s", At: time.Now()}
	_, searchErr := idx.Search(ctx, search.Query{Kind: "message", OrgID: "o", Scopes: []string{"s"}})
	for name, err := range map[string]error{
		"Ping":   idx.Ping(ctx),
		"Put":    idx.Put(ctx, d),
		"Delete": idx.Delete(ctx, "m1"),
		"Search": searchErr,
	} {
		if !core.IsCode(err, core.EUnavailable) {
			t.Errorf("%s after Close = %v, want %s", name, err, core.EUnavailable)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	idx, err := blevesearch.OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := search.Doc{ID: "m1", Kind: "message", OrgID: "o", Scope: "s", At: time.Now()}
	if err := idx.Put(ctx, d); !errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want context.Canceled", err)
	}
	res, err := idx.Search(context.Background(), search.Query{Kind: "message", OrgID: "o", Scopes: []string{"s"}})
	if err != nil || res.Total != 0 {
		t.Errorf("canceled Put wrote something: %+v, %v", res, err)
	}
}
