package sqlstore_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/roundshq/rounds/attendance"
	"github.com/roundshq/rounds/attendance/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// schedule: nurse "n1" works nights 22:00–08:00 on Dec 30 and 31; "n2" is
// on leave on Dec 1; "office" is not rostered.
type schedule struct{}

func (schedule) Duties(ctx context.Context, orgID, userID string, from, to time.Time) ([]attendance.Duty, error) {
	if userID != "n1" {
		return nil, nil
	}
	var out []attendance.Duty
	for _, day := range []int{30, 31} {
		s := time.Date(2026, 12, day, 22, 0, 0, 0, shanghai)
		if !s.Before(from) && s.Before(to) {
			out = append(out, attendance.Duty{Date: s.Format("2006-01-02"), Name: "N", Start: s, End: s.Add(10 * time.Hour)})
		}
	}
	return out, nil
}
func (schedule) LeaveDates(ctx context.Context, orgID, userID string, from, to time.Time) ([]string, error) {
	if userID == "office" {
		return []string{"2026-12-01"}, nil
	}
	return nil, nil
}
func (schedule) Location(ctx context.Context, orgID string) (*time.Location, error) {
	return shanghai, nil
}

type dir struct{}

func (dir) DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error) {
	return []string{"n1", "office"}, nil
}
func (dir) HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error) {
	return []string{"head"}, nil
}
func (dir) DepartmentsOf(ctx context.Context, orgID, userID string) (string, []string, error) {
	return "ward", []string{"ward"}, nil
}
func (dir) IsInSubtree(ctx context.Context, orgID, root, dept string) (bool, error) {
	return root == dept, nil
}

type authz struct{}

func (authz) Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	switch {
	case a.UserID == "admin":
		return nil
	case action == "write_own":
		return nil
	case action == "read_subtree" && a.UserID == "head":
		return nil
	}
	return core.Errorf(core.EForbidden, "no")
}

func f(v float64) *float64 { return &v }

func TestClockInAndMonth(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 12, 30, 21, 50, 0, 0, shanghai)}
		svc := attendance.New(sqlstore.New(db), schedule{}, dir{}, authz{}, c)
		n1 := core.Actor{UserID: "n1", OrgID: "org", Kind: core.ActorUser, IP: "192.168.0.9"}
		admin := core.Actor{UserID: "admin", OrgID: "org", Kind: core.ActorUser}

		if _, err := svc.ClockIn(ctx, n1, attendance.Attempt{Kind: "in", Lat: f(30.5930), Lon: f(114.3056)}); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("no place configured yet: %v", err)
		}
		rules := attendance.DefaultRules()
		rules.Geofences = []attendance.Geofence{{Name: "总院", Lat: 30.5928, Lon: 114.3055, RadiusM: 300}}
		if err := svc.SetRules(ctx, n1, "org", rules); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("staff may not set rules: %v", err)
		}
		bad := rules
		bad.Geofences = []attendance.Geofence{{Name: "x", Lat: 95, Lon: 0, RadiusM: 100}}
		if err := svc.SetRules(ctx, admin, "org", bad); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("bad geofence: %v", err)
		}
		if err := svc.SetRules(ctx, admin, "org", rules); err != nil {
			t.Fatal(err)
		}
		// Night of the 30th: clocks in on time, out on the 31st.
		if _, err := svc.ClockIn(ctx, n1, attendance.Attempt{Kind: "in", Lat: f(30.5930), Lon: f(114.3056)}); err != nil {
			t.Fatal(err)
		}
		c.t = time.Date(2026, 12, 31, 8, 2, 0, 0, shanghai)
		if _, err := svc.ClockIn(ctx, n1, attendance.Attempt{Kind: "out", Lat: f(30.5930), Lon: f(114.3056)}); err != nil {
			t.Fatal(err)
		}
		// Night of the 31st into New Year: late in, and forgot to clock out.
		c.t = time.Date(2026, 12, 31, 22, 25, 0, 0, shanghai)
		if _, err := svc.ClockIn(ctx, n1, attendance.Attempt{Kind: "in", Lat: f(30.5930), Lon: f(114.3056)}); err != nil {
			t.Fatal(err)
		}
		c.t = time.Date(2027, 1, 1, 12, 0, 0, 0, shanghai)
		m, err := svc.MonthOf(ctx, n1, "org", "n1", "2026-12")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Results) != 2 || m.Results[0].Status[0] != "normal" || m.Summary.Late != 1 || m.Summary.MissingPunches != 1 || m.Summary.LateMinutes != 25 {
			t.Fatalf("month %+v", m.Summary)
		}
		// A make-up clock-out approved later fixes the missing punch, once.
		out := time.Date(2027, 1, 1, 8, 0, 0, 0, shanghai)
		for i := 0; i < 2; i++ {
			if err := svc.MakeUp(ctx, "org", "n1", "out", out, "approval-77"); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.RecordOvertime(ctx, "org", "n1", "2026-12-31", 120, "approval-78"); err != nil {
			t.Fatal(err)
		}
		m, _ = svc.MonthOf(ctx, n1, "org", "n1", "2026-12")
		if m.Summary.MissingPunches != 0 || m.Summary.Late != 1 || m.Summary.OvertimeMinutes != 120 || len(m.Punches) != 4 {
			t.Fatalf("after make-up %+v (%d punches)", m.Summary, len(m.Punches))
		}
		if _, err := svc.MonthOf(ctx, core.Actor{UserID: "office", OrgID: "org"}, "org", "n1", "2026-12"); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("a colleague may not read n1's records: %v", err)
		}
		// Office staff follow office hours; absent every weekday except the leave day.
		om, err := svc.MonthOf(ctx, admin, "org", "office", "2026-12")
		if err != nil {
			t.Fatal(err)
		}
		if om.Summary.Duties != 23 || om.Summary.OnLeave != 1 || om.Summary.Absent != 22 {
			t.Fatalf("office month %+v", om.Summary)
		}
		head := core.Actor{UserID: "head", OrgID: "org", Kind: core.ActorUser}
		rows, err := svc.DepartmentDay(ctx, head, "org", "ward", "2026-12-31")
		if err != nil || len(rows) != 2 || rows[0].UserID != "n1" || len(rows[0].Results) != 1 || rows[0].Results[0].Status[0] != "late" || len(rows[1].Results) != 1 || rows[1].Results[0].Status[0] != "absent" {
			t.Fatalf("day view %v %+v", err, rows)
		}
		if _, err := svc.DepartmentDay(ctx, n1, "org", "ward", "2026-12-31"); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("a nurse may not see the ward's day: %v", err)
		}
		if _, err := svc.DepartmentDay(ctx, head, "org", "ward", "31/12"); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("bad date: %v", err)
		}
		var buf bytes.Buffer
		sums, err := svc.DepartmentMonth(ctx, head, "org", "ward", "2026-12")
		if err != nil {
			t.Fatal(err)
		}
		if err := attendance.WriteXLSX("2026-12", sums, map[string]string{"n1": "李护士"}, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		sheet, _ := x.GetRows("考勤 2026-12")
		if len(sheet) != 3 || sheet[1][1] != "李护士" || sheet[1][4] != "1" {
			t.Fatalf("xlsx rows %v", sheet)
		}
	})
}
