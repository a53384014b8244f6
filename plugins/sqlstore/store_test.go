package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/plugins"
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

func TestInstallsContract(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.New(db)
		inst := plugins.Install{ID: "i1", OrgID: "org1", AppID: "daily-report", BotUserID: "bot1", Dir: "/srv/apps/daily-report/1.0.0",
			Checksum: "ab", Grants: []plugins.Grant{{Scope: "orgchart:read", Subtree: "med"}}, Settings: map[string]string{"hour": "17"}}
		if err := s.SaveInstall(ctx, inst, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetInstall(ctx, "i1")
		if err != nil || !got.Enabled || got.Dir != inst.Dir || got.Install.Dir != inst.Dir || got.Grants[0] != inst.Grants[0] || got.Settings["hour"] != "17" {
			t.Fatalf("got %+v %v", got, err)
		}
		t.Run("one install per app and organisation", func(t *testing.T) {
			dup := inst
			dup.ID = "i2"
			if err := s.SaveInstall(ctx, dup, true); !core.IsCode(err, core.EConflict) {
				t.Fatalf("err = %v", err)
			}
			dup.OrgID = "org2"
			if err := s.SaveInstall(ctx, dup, false); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("list by organisation", func(t *testing.T) {
			all, _ := s.ListInstalls(ctx, "")
			org2, _ := s.ListInstalls(ctx, "org2")
			if len(all) != 2 || len(org2) != 1 || org2[0].ID != "i2" || org2[0].Enabled {
				t.Fatalf("all=%+v org2=%+v", all, org2)
			}
		})
		t.Run("enable and disable", func(t *testing.T) {
			if err := s.SetEnabled(ctx, "i1", false); err != nil {
				t.Fatal(err)
			}
			if r, _ := s.GetInstall(ctx, "i1"); r.Enabled {
				t.Fatal("still enabled")
			}
			if err := s.SetEnabled(ctx, "nope", true); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("delete removes the storage too", func(t *testing.T) {
			_ = s.Set(ctx, "i1", "k", []byte("v"))
			if err := s.DeleteInstall(ctx, "i1"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(ctx, "i1", "k"); ok {
				t.Fatal("storage kept")
			}
			if _, err := s.GetInstall(ctx, "i1"); !core.IsCode(err, core.ENotFound) {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

func TestHookClaims(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := sqlstore.New(db)
		t.Run("one claimer per install, hook and event", func(t *testing.T) {
			won := make(chan bool, 8)
			for range 8 {
				go func() {
					ok, err := s.Claim(ctx, "i1", "message_posted", "m1")
					if err != nil {
						t.Error(err)
					}
					won <- ok
				}()
			}
			n := 0
			for range 8 {
				if <-won {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d of 8 claims won, want 1", n)
			}
			// Another install, hook or event is its own claim.
			for _, c := range [][3]string{{"i2", "message_posted", "m1"}, {"i1", "jobs", "m1"}, {"i1", "message_posted", "m2"}} {
				if ok, err := s.Claim(ctx, c[0], c[1], c[2]); err != nil || !ok {
					t.Fatalf("claim %v = %v %v", c, ok, err)
				}
			}
		})
		t.Run("pruning forgets old claims only", func(t *testing.T) {
			if n, err := s.PruneClaims(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
				t.Fatalf("pruning before the claims = %d %v", n, err)
			}
			if ok, _ := s.Claim(ctx, "i1", "message_posted", "m1"); ok {
				t.Fatal("a kept claim was won again")
			}
			if n, err := s.PruneClaims(ctx, time.Now().Add(time.Second)); err != nil || n != 4 {
				t.Fatalf("pruning after the claims = %d %v, want 4", n, err)
			}
			if ok, err := s.Claim(ctx, "i1", "message_posted", "m1"); err != nil || !ok {
				t.Fatalf("a pruned claim = %v %v", ok, err)
			}
		})
	})
}
