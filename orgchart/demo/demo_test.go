package demo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/orgchart"
	"github.com/roundshq/rounds/orgchart/demo"
	"github.com/roundshq/rounds/orgchart/orgcharttest"
	"github.com/roundshq/rounds/orgchart/sqlstore"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := demo.Generate(1), demo.Generate(1), demo.Generate(2)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different datasets")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same dataset")
	}
	people, depts := 0, 0
	for _, h := range a.Hospitals {
		people += len(h.Roster.People)
		depts += len(h.Roster.Departments)
	}
	if people < 500 || people > 700 || depts < 35 || depts > 45 {
		t.Fatalf("%d people in %d departments", people, depts)
	}
}

func TestLoad(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		accounts := orgcharttest.NewAccounts()
		svc, err := orgchart.New(orgchart.Config{Store: sqlstore.New(db), Accounts: accounts})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		loaded, err := demo.Load(ctx, svc, demo.Generate(42))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loaded %d accounts in %v", len(loaded.Accounts), time.Since(start))
		if len(loaded.Orgs) != 2 || len(loaded.Group.Members) != 2 || len(loaded.Accounts) < 500 {
			t.Fatalf("loaded %d orgs, %d accounts, group %+v", len(loaded.Orgs), len(loaded.Accounts), loaded.Group)
		}
		jcyy, qsxy := loaded.Orgs[0], loaded.Orgs[1]
		t.Run("every department has a head and every ward a 护士长", func(t *testing.T) {
			var walk func(nodes []orgchart.TreeNode)
			walk = func(nodes []orgchart.TreeNode) {
				for _, n := range nodes {
					heads, _ := svc.HeadsOf(ctx, n.OrgID, n.ID)
					if len(heads) == 0 {
						t.Errorf("%s has no head", n.Path)
					}
					if len(heads) > 0 && len([]rune(n.Name)) > 2 && string([]rune(n.Name)[len([]rune(n.Name))-2:]) == "病区" {
						p, _ := svc.Person(ctx, n.OrgID, heads[0])
						if p.Title != "护士长" {
							t.Errorf("head of %s is %s %s", n.Path, p.Name, p.Title)
						}
					}
					walk(n.Children)
				}
			}
			for _, o := range loaded.Orgs {
				tree, err := svc.Tree(ctx, core.SystemActor, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				walk(tree)
			}
		})
		t.Run("duty roles and an admin per hospital", func(t *testing.T) {
			for _, o := range loaded.Orgs {
				for _, role := range []string{"院长", "护理部主任"} {
					if h, err := svc.RoleHolders(ctx, o.ID, role); err != nil || len(h) != 1 {
						t.Errorf("%s %s = %v %v", o.Code, role, h, err)
					}
				}
			}
			admins := 0
			for _, a := range loaded.Accounts {
				if a.SuggestedRole == authz.RoleOrgAdmin {
					admins++
				}
				if accounts.LoginOf(a.UserID) != a.Login {
					t.Fatalf("account %s not created", a.Login)
				}
			}
			if admins != 2 {
				t.Fatalf("%d admins", admins)
			}
		})
		t.Run("every chain of managers ends at the president", func(t *testing.T) {
			president, _ := svc.RoleHolders(ctx, jcyy.ID, "院长")
			for _, a := range loaded.Accounts {
				if a.OrgID != jcyy.ID || a.UserID == president[0] {
					continue
				}
				var last []string
				for level := 1; level < 10; level++ {
					m, err := svc.ManagerOf(ctx, a.OrgID, a.UserID, level)
					if err != nil {
						t.Fatal(err)
					}
					if len(m) == 0 {
						break
					}
					last = m
				}
				if len(last) != 1 || last[0] != president[0] {
					t.Fatalf("chain of %s (%s) ends at %v", a.Name, a.Department, last)
				}
			}
		})
		t.Run("the county sees part of the flagship", func(t *testing.T) {
			someone := loaded.Accounts[len(loaded.Accounts)-1]
			a := core.Actor{Kind: core.ActorUser, UserID: someone.UserID, OrgID: qsxy.ID}
			tree, err := svc.Tree(ctx, a, jcyy.ID)
			if err != nil || len(tree) != 4 {
				t.Fatalf("shared tree = %d nodes, %v", len(tree), err)
			}
		})
		t.Run("loading again changes nothing", func(t *testing.T) {
			again, err := demo.Load(ctx, svc, demo.Generate(42))
			if err != nil || again.Group.ID != loaded.Group.ID || again.Accounts[0].UserID != loaded.Accounts[0].UserID {
				t.Fatalf("again: %v", err)
			}
		})
	})
}
