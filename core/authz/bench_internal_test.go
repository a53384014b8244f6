package authz

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/sqldb"
)

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, audit.Entry) error { return nil }

// BenchmarkDecideUncached measures one casbin decision on an organisation's
// view without the decision cache: the cost of the first check of a kind
// after a change. Same policy size as BenchmarkAuthorize.
func BenchmarkDecideUncached(b *testing.B) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{SQLitePath: b.TempDir() + "/r.db", Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, Area, Migrations); err != nil {
		b.Fatal(err)
	}
	ad, _ := NewAdapter(db)
	var p, g [][]string
	for o := 0; o < 50; o++ {
		org := fmt.Sprintf("hospital-%d", o)
		for r := 0; r < 10; r++ {
			role := fmt.Sprintf("role_%d", r)
			p = append(p, []string{role, org, "roster.roster", "write", "allow"}, []string{role, org, "apps.*", "*", "deny"})
			for i := 0; i < 20; i++ {
				g = append(g, []string{"user:" + fmt.Sprint(o, r, i), role, org})
			}
			g = append(g, []string{role, "staff", org})
		}
	}
	if err := ad.AddPolicies("p", "p", p); err != nil {
		b.Fatal(err)
	}
	if err := ad.AddPolicies("g", "g", g); err != nil {
		b.Fatal(err)
	}
	e, err := New(ctx, db, Options{Recorder: nopRecorder{}})
	if err != nil {
		b.Fatal(err)
	}
	v, err := e.viewLocked("hospital-25")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, obj, act string }{
		{"allowed by own rule", "roster.roster", "write"},
		{"allowed by inherited staff", "im.message", "use"},
		{"denied by deny rule", "apps.app", "open"},
		{"not granted", "audit.log", "read"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.ce.Enforce("user:"+fmt.Sprint(25, 5, 0), "hospital-25", c.obj, c.act); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = core.NewID
}
