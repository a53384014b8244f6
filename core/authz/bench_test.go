package authz_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// BenchmarkAuthorize decides for a user holding a custom role in one of 50
// organisations with 10 custom roles each and 20 users per role (10,000
// assignments, 5,000 stored rules) besides the built-in policy.
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	db := sqldbtest.OpenSQLite(b, sqldbtest.Migration{Area: authz.Area, FS: authz.Migrations}, sqldbtest.Migration{Area: audit.Area, FS: audit.Migrations})
	// Load the policy with a plain casbin batch through the adapter: far
	// faster than 10,000 audited assignments.
	ad, err := authz.NewAdapter(db)
	if err != nil {
		b.Fatal(err)
	}
	var p, g [][]string
	var someone string
	for o := 0; o < 50; o++ {
		org := fmt.Sprintf("hospital-%d", o)
		for r := 0; r < 10; r++ {
			role := fmt.Sprintf("role_%d", r)
			p = append(p, []string{role, org, "roster.roster", "write", "allow"}, []string{role, org, "apps.*", "*", "deny"})
			for i := 0; i < 20; i++ {
				u := core.NewID()
				g = append(g, []string{"user:" + u, role, org})
				if o == 25 && r == 5 && i == 0 {
					someone = u
				}
			}
			g = append(g, []string{role, "staff", org})
		}
	}
	for i := 0; i < len(p); i += 500 {
		if err := ad.AddPolicies("p", "p", p[i:min(i+500, len(p))]); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < len(g); i += 500 {
		if err := ad.AddPolicies("g", "g", g[i:min(i+500, len(g))]); err != nil {
			b.Fatal(err)
		}
	}
	e, err := authz.New(ctx, db, authz.Options{Recorder: audit.New(db, audit.Options{})})
	if err != nil {
		b.Fatal(err)
	}
	a := core.Actor{UserID: someone, OrgID: "hospital-25", Kind: core.ActorUser}
	cases := []struct{ name, org, obj, act string }{
		{"allowed by own rule", "hospital-25", "roster.roster", "write"},
		{"allowed by inherited staff", "hospital-25", "im.message", "use"},
		{"denied by deny rule", "hospital-25", "apps.app", "open"},
		{"denied in another org", "hospital-3", "im.message", "use"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = e.Authorize(ctx, a, c.org, c.obj, c.act)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = e.Authorize(ctx, a, "hospital-25", "im.message", "use")
			}
		})
	})
}
