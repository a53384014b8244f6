package blevesearch_test

import (
	"testing"

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
