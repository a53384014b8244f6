package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins/sqlstore"
)

func TestStorageContract(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.New(db)
		t.Run("set get overwrite delete", func(t *testing.T) {
			if err := s.Set(ctx, "i1", "k", []byte{0, 1, 2, 255}); err != nil {
				t.Fatal(err)
			}
			if err := s.Set(ctx, "i1", "k", []byte("日报")); err != nil {
				t.Fatal(err)
			}
			v, ok, err := s.Get(ctx, "i1", "k")
			if err != nil || !ok || string(v) != "日报" {
				t.Fatalf("get = %q %v %v", v, ok, err)
			}
			if err := s.Delete(ctx, "i1", "k"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(ctx, "i1", "k"); ok {
				t.Fatal("deleted key still there")
			}
			if err := s.Delete(ctx, "i1", "missing"); err != nil {
				t.Fatalf("deleting a missing key: %v", err)
			}
		})
		t.Run("installs never see each other's keys", func(t *testing.T) {
			_ = s.Set(ctx, "a", "secret", []byte("a's"))
			_ = s.Set(ctx, "b", "secret", []byte("b's"))
			v, _, _ := s.Get(ctx, "b", "secret")
			if string(v) != "b's" {
				t.Fatalf("b read %q", v)
			}
			keys, _ := s.Keys(ctx, "c", "", 10)
			if len(keys) != 0 {
				t.Fatalf("c listed %v", keys)
			}
		})
		t.Run("keys by prefix in order, wildcards literal", func(t *testing.T) {
			for i := 3; i >= 0; i-- {
				_ = s.Set(ctx, "p", fmt.Sprintf("report/%d", i), []byte("x"))
			}
			_ = s.Set(ctx, "p", "report%x", []byte("x"))
			_ = s.Set(ctx, "p", "other", []byte("x"))
			keys, err := s.Keys(ctx, "p", "report/", 3)
			if err != nil || !slices.Equal(keys, []string{"report/0", "report/1", "report/2"}) {
				t.Fatalf("keys = %v %v", keys, err)
			}
			keys, _ = s.Keys(ctx, "p", "report%", 10)
			if !slices.Equal(keys, []string{"report%x"}) {
				t.Fatalf("keys = %v", keys)
			}
		})
	})
}
