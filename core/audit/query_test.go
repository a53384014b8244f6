package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/authz"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var withAuthz = []sqldbtest.Migration{{Area: audit.Area, FS: audit.Migrations}, {Area: authz.Area, FS: authz.Migrations}}

type world struct {
	log                        *audit.Log
	clk                        *clock
	sys, adminA, adminB, nurse core.Actor
	start                      time.Time
}

func newWorld(t *testing.T, db *sqldb.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{clk: &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}}
	w.start = w.clk.Now()
	w.log = audit.New(db, audit.Options{Clock: w.clk})
	e, err := authz.New(ctx, db, authz.Options{Recorder: w.log})
	if err != nil {
		t.Fatal(err)
	}
	w.log.SetAuthorizer(e)
	mk := func(org, role string) core.Actor {
		a := core.Actor{UserID: core.NewID(), OrgID: org, Kind: core.ActorUser}
		dom := org
		if role == authz.RoleSystemAdmin {
			dom = authz.AllOrgs
		}
		if err := e.AssignRole(ctx, core.SystemActor, dom, a.UserID, role); err != nil {
			t.Fatal(err)
		}
		return a
	}
	w.sys = mk("", authz.RoleSystemAdmin)
	w.adminA = mk("hospital-a", authz.RoleOrgAdmin)
	w.adminB = mk("hospital-b", authz.RoleOrgAdmin)
	w.nurse = mk("hospital-a", authz.RoleStaff)
	return w
}

// seed writes a known set of entries an hour apart (seq 5-9), after the
// four role assignments of newWorld (seq 1 system-wide, 2 and 4 in
// hospital-a, 3 in hospital-b, at the start time).
func (w *world) seed(t *testing.T) {
	t.Helper()
	for _, e := range []audit.Entry{
		{OrgID: "hospital-a", ActorID: w.nurse.UserID, Action: "session.login", ObjectType: "user", ObjectID: w.nurse.UserID},
		{OrgID: "hospital-a", ActorID: w.adminA.UserID, Action: "orgchart.staff.deactivate", ObjectType: "user", ObjectID: "u-17"},
		{OrgID: "hospital-b", ActorID: w.adminB.UserID, Action: "orgchart.department.create", ObjectType: "department", ObjectID: "d-3"},
		{OrgID: "hospital-a", ActorID: w.nurse.UserID, Action: "session.login_failed", ObjectType: "user", ObjectID: w.nurse.UserID, Result: audit.ResultFailed},
		{OrgID: "hospital-a", ActorID: w.adminA.UserID, Action: "marketplace.app.install", ObjectType: "app", ObjectID: "=HYPERLINK(\"http://x\")", Details: map[string]any{"name": "IT helpdesk"}},
	} {
		w.clk.Add(time.Hour)
		if err := w.log.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(es []audit.Entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func TestListFiltersAndPages(t *testing.T) {
	sqldbtest.Each(t, withAuthz, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(t)
		h := func(n int) time.Time { return w.start.Add(time.Duration(n) * time.Hour) }
		cases := []struct {
			name string
			who  core.Actor
			f    audit.Filter
			want []int64
		}{
			{"whole installation, newest first", w.sys, audit.Filter{}, []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{"one organisation", w.adminA, audit.Filter{OrgID: "hospital-a"}, []int64{9, 8, 6, 5, 4, 2}},
			{"by actor", w.adminA, audit.Filter{OrgID: "hospital-a", ActorID: w.nurse.UserID}, []int64{8, 5}},
			{"by action prefix", w.adminA, audit.Filter{OrgID: "hospital-a", Action: "session."}, []int64{8, 5}},
			{"by exact action", w.adminA, audit.Filter{OrgID: "hospital-a", Action: "session.login_failed"}, []int64{8}},
			{"action prefix is case sensitive", w.adminA, audit.Filter{OrgID: "hospital-a", Action: "SESSION."}, nil},
			{"by object type", w.adminA, audit.Filter{OrgID: "hospital-a", ObjectType: "app"}, []int64{9}},
			{"by object", w.adminA, audit.Filter{OrgID: "hospital-a", ObjectType: "user", ObjectID: "u-17"}, []int64{6}},
			{"from inclusive", w.adminA, audit.Filter{OrgID: "hospital-a", From: h(4)}, []int64{9, 8}}, // seq 8 is at h(4)
			{"time window", w.sys, audit.Filter{From: h(2), To: h(4)}, []int64{7, 6}},
			{"other organisation", w.adminB, audit.Filter{OrgID: "hospital-b"}, []int64{7, 3}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, next, err := w.log.List(ctx, c.who, c.f, core.PageRequest{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(seqs(got), c.want) || next != "" {
					t.Fatalf("got %v (next %q), want %v", seqs(got), next, c.want)
				}
			})
		}
		t.Run("entries come back as written", func(t *testing.T) {
			got, _, err := w.log.List(ctx, w.adminA, audit.Filter{OrgID: "hospital-a", ObjectType: "app"}, core.PageRequest{})
			if err != nil || len(got) != 1 {
				t.Fatal(got, err)
			}
			e := got[0]
			if e.Action != "marketplace.app.install" || e.ActorID != w.adminA.UserID || e.Result != audit.ResultOK ||
				!e.At.Equal(h(5)) || e.Details["name"] != "IT helpdesk" || e.Hash == "" || e.PrevHash == "" || !core.ValidID(e.ID) {
				t.Fatalf("entry = %+v", e)
			}
		})
		t.Run("pages", func(t *testing.T) {
			var all []int64
			cursor := ""
			for pages := 0; ; pages++ {
				got, next, err := w.log.List(ctx, w.sys, audit.Filter{}, core.PageRequest{Cursor: cursor, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) > 2 || pages > 5 {
					t.Fatalf("page of %d, %d pages", len(got), pages)
				}
				all = append(all, seqs(got)...)
				if next == "" {
					break
				}
				cursor = next
			}
			if !slices.Equal(all, []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}) {
				t.Fatalf("paged = %v", all)
			}
		})
		t.Run("bad input", func(t *testing.T) {
			for _, c := range []struct {
				name  string
				f     audit.Filter
				p     core.PageRequest
				field string
			}{
				{"forged cursor", audit.Filter{}, core.PageRequest{Cursor: "!!"}, "cursor"},
				{"window backwards", audit.Filter{From: h(3), To: h(2)}, core.PageRequest{}, "from"},
			} {
				_, _, err := w.log.List(ctx, w.sys, c.f, c.p)
				var ce *core.Error
				if !core.IsCode(err, core.EInvalid) || !asErr(err, &ce) || ce.Field != c.field {
					t.Errorf("%s: want invalid %s, got %v", c.name, c.field, err)
				}
			}
		})
	})
}

func TestReadingNeedsTheRightRole(t *testing.T) {
	sqldbtest.Each(t, withAuthz, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(t)
		cases := []struct {
			name string
			who  core.Actor
			org  string
		}{
			{"staff cannot read their hospital's log", w.nurse, "hospital-a"},
			{"org admin of A cannot read B", w.adminA, "hospital-b"},
			{"org admin cannot read across organisations", w.adminA, ""},
			{"no identity", core.Actor{Kind: core.ActorUser}, "hospital-a"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if _, _, err := w.log.List(ctx, c.who, audit.Filter{OrgID: c.org}, core.PageRequest{}); !core.IsCode(err, core.EForbidden) {
					t.Fatalf("list: want forbidden, got %v", err)
				}
				var buf bytes.Buffer
				if err := w.log.Export(ctx, c.who, audit.Filter{OrgID: c.org}, &buf, audit.FormatCSV); !core.IsCode(err, core.EForbidden) || buf.Len() != 0 {
					t.Fatalf("export: want forbidden and nothing written, got %v and %d bytes", err, buf.Len())
				}
			})
		}
		if _, err := w.log.VerifyAs(ctx, w.adminA); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("org admin verifying: %v", err)
		}
		if rep, err := w.log.VerifyAs(ctx, w.sys); err != nil || !rep.OK {
			t.Fatalf("system admin verifying: %+v %v", rep, err)
		}
		denied, _, err := w.log.List(ctx, w.sys, audit.Filter{Action: "audit.export"}, core.PageRequest{})
		if err != nil || len(denied) != len(cases) || denied[0].Result != audit.ResultDenied {
			t.Fatalf("refused exports recorded: %+v %v", denied, err)
		}
		noAuth := audit.New(db, audit.Options{})
		if _, _, err := noAuth.List(ctx, w.sys, audit.Filter{}, core.PageRequest{}); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("without an authorizer: %v", err)
		}
	})
}

func TestExport(t *testing.T) {
	sqldbtest.Each(t, withAuthz, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.seed(t)
		t.Run("csv", func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.log.Export(ctx, w.adminA, audit.Filter{OrgID: "hospital-a", Action: "session."}, &buf, audit.FormatCSV); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 3 || !slices.Equal(recs[0], audit.CSVHeader) {
				t.Fatalf("csv = %v", recs)
			}
			// Oldest first; fields in header order.
			if recs[1][0] != "5" || recs[2][0] != "8" || recs[1][8] != "session.login" || recs[2][11] != "failed" || recs[1][4] != w.nurse.UserID {
				t.Fatalf("rows = %v", recs[1:])
			}
			if _, err := time.Parse(time.RFC3339Nano, recs[1][2]); err != nil {
				t.Fatalf("at = %q", recs[1][2])
			}
		})
		t.Run("csv cells never run as formulas", func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.log.Export(ctx, w.adminA, audit.Filter{OrgID: "hospital-a", ObjectType: "app"}, &buf, audit.FormatCSV); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(recs) != 2 || recs[1][10] != `'=HYPERLINK("http://x")` {
				t.Fatalf("csv = %v %v", recs, err)
			}
		})
		t.Run("jsonl", func(t *testing.T) {
			var buf bytes.Buffer
			if err := w.log.Export(ctx, w.sys, audit.Filter{}, &buf, audit.FormatJSONL); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&buf)
			var got []audit.Entry
			for sc.Scan() {
				var e audit.Entry
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				got = append(got, e)
			}
			// Nine seeded entries, the two csv exports' records, and this export's own.
			if len(got) != 12 || got[0].Seq != 1 || got[11].Action != "audit.export" || got[11].ActorID != w.sys.UserID {
				t.Fatalf("got %d entries: first %+v last %+v", len(got), got[0], got[len(got)-1])
			}
			for i := 1; i < len(got); i++ {
				if got[i].PrevHash != got[i-1].Hash {
					t.Fatalf("exported chain broken at %d", got[i].Seq)
				}
			}
		})
		t.Run("exports are audited", func(t *testing.T) {
			es, _, err := w.log.List(ctx, w.adminA, audit.Filter{OrgID: "hospital-a", Action: "audit.export"}, core.PageRequest{})
			if err != nil || len(es) != 2 || es[1].ActorID != w.adminA.UserID || es[1].Details["format"] != "csv" || es[1].Details["action"] != "session." {
				t.Fatalf("export records = %+v %v", es, err)
			}
		})
		t.Run("unknown format", func(t *testing.T) {
			var buf bytes.Buffer
			err := w.log.Export(ctx, w.sys, audit.Filter{}, &buf, "xlsx")
			var ce *core.Error
			if !asErr(err, &ce) || ce.Code != core.EInvalid || ce.Field != "format" || buf.Len() != 0 {
				t.Fatalf("got %v", err)
			}
		})
	})
}
