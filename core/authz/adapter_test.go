package authz_test

import (
	"context"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

const testModel = `
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act, eft
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && keyMatch(r.obj, p.obj) && keyMatch(r.act, p.act)
`

func newCasbin(t *testing.T, db *sqldb.DB) (*casbin.Enforcer, *authz.Adapter) {
	t.Helper()
	m, err := model.NewModelFromString(testModel)
	if err != nil {
		t.Fatal(err)
	}
	ad, err := authz.NewAdapter(db)
	if err != nil {
		t.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m, ad)
	if err != nil {
		t.Fatal(err)
	}
	return e, ad
}

func storedRules(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM authz_rules`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The adapter through plain casbin: auto-save of single and batch changes,
// filtered removal, reload, and the built-in policy served but never stored.
func TestAdapterContract(t *testing.T) {
	sqldbtest.Each(t, migrations, func(t *testing.T, db *sqldb.DB) {
		e, ad := newCasbin(t, db)
		if ok, _ := e.Enforce("org_admin", "h1", "audit.log", "read"); !ok {
			t.Fatal("built-in policy not loaded")
		}
		if n := storedRules(t, db); n != 0 {
			t.Fatalf("built-in policy stored: %d rows", n)
		}
		steps := []struct {
			name  string
			do    func() error
			rows  int
			check func() bool
		}{
			{"add policy", func() error { _, err := e.AddPolicy("pharmacist", "h1", "roster.roster", "read", "allow"); return err }, 1,
				func() bool { ok, _ := e.Enforce("pharmacist", "h1", "roster.roster", "read"); return ok }},
			{"add policies in a batch", func() error {
				_, err := e.AddPolicies([][]string{{"pharmacist", "h1", "im.*", "use", "allow"}, {"pharmacist", "h1", "apps.app", "open", "deny"}})
				return err
			}, 3, func() bool { ok, _ := e.Enforce("pharmacist", "h1", "im.message", "use"); return ok }},
			{"add grouping policy", func() error { _, err := e.AddGroupingPolicy("user:1", "pharmacist", "h1"); return err }, 4,
				func() bool { ok, _ := e.Enforce("user:1", "h1", "im.message", "use"); return ok }},
			{"remove policy", func() error { _, err := e.RemovePolicy("pharmacist", "h1", "im.*", "use", "allow"); return err }, 3,
				func() bool { ok, _ := e.Enforce("user:1", "h1", "im.message", "use"); return !ok }},
			{"remove filtered", func() error { _, err := e.RemoveFilteredPolicy(0, "pharmacist", "h1"); return err }, 1,
				func() bool { ok, _ := e.Enforce("user:1", "h1", "roster.roster", "read"); return !ok }},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				if err := s.do(); err != nil {
					t.Fatal(err)
				}
				if n := storedRules(t, db); n != s.rows {
					t.Fatalf("stored rows = %d, want %d", n, s.rows)
				}
				if !s.check() {
					t.Fatal("decision did not change")
				}
				e2, _ := newCasbin(t, db)
				p1, _ := e.GetPolicy()
				p2, _ := e2.GetPolicy()
				g1, _ := e.GetGroupingPolicy()
				g2, _ := e2.GetGroupingPolicy()
				if len(p1) != len(p2) || len(g1) != len(g2) {
					t.Fatalf("reloaded %d p and %d g rules, memory has %d and %d", len(p2), len(g2), len(p1), len(g1))
				}
			})
		}
		t.Run("save policy keeps built-ins out of the database", func(t *testing.T) {
			if err := e.SavePolicy(); err != nil {
				t.Fatal(err)
			}
			if n := storedRules(t, db); n != 1 {
				t.Fatalf("stored rows after save = %d, want 1", n)
			}
		})
		t.Run("built-in rules cannot be removed", func(t *testing.T) {
			if _, err := e.RemovePolicy("staff", "*", "im.*", "use", "allow"); err == nil {
				t.Fatal("removed a built-in rule")
			}
			if err := ad.RemovePolicy("p", "p", []string{"staff", "*", "im.*", "use", "allow"}); err == nil {
				t.Fatal("adapter removed a built-in rule")
			}
		})
	})
}
