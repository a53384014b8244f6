package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/roster"
	"github.com/roundshq/rounds/roster/sqlstore"
)

const org, ward = "org-1", "ward-5"

// directory is a ward of six nurses headed by "head".
type directory struct{}

func (directory) DepartmentMembers(ctx context.Context, orgID, deptID string, subtree bool) ([]string, error) {
	return []string{"n1", "n2", "n3", "n4", "n5", "n6"}, nil
}
func (directory) HeadsOf(ctx context.Context, orgID, deptID string) ([]string, error) {
	return []string{"head"}, nil
}
func (directory) DepartmentsOf(ctx context.Context, orgID, userID string) (string, []string, error) {
	return ward, []string{ward}, nil
}
func (directory) IsInSubtree(ctx context.Context, orgID, root, dept string) (bool, error) {
	return root == dept, nil
}

// authz: "admin" may everything, "head" may edit rosters, everyone reads.
type authz struct{}

func (authz) Authorize(ctx context.Context, a core.Actor, orgID, object, action string) error {
	switch {
	case a.IsSystem() || a.UserID == "admin":
		return nil
	case action == "read":
		return nil
	case object == "roster.roster" && a.UserID == "head":
		return nil
	}
	return core.Errorf(core.EForbidden, "no")
}

type notes struct {
	mu    sync.Mutex
	calls [][]string
}

func (n *notes) RosterPublished(ctx context.Context, r roster.Roster, shifts map[string]roster.Shift, people []string, reason string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, people)
	return nil
}

func (n *notes) last() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.calls) == 0 {
		return nil
	}
	return n.calls[len(n.calls)-1]
}

var (
	admin = core.Actor{UserID: "admin", OrgID: org, Kind: core.ActorUser}
	head  = core.Actor{UserID: "head", OrgID: org, Kind: core.ActorUser}
	nurse = core.Actor{UserID: "n3", OrgID: org, Kind: core.ActorUser}
)

func date(s string) roster.Date { d, _ := roster.ParseDate(s); return d }

func TestRosterLifecycle(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		n := &notes{}
		svc := roster.New(sqlstore.New(db), directory{}, authz{}, nil, n, nil, nil)
		shifts, err := svc.ApplyPattern(ctx, admin, org, "three_shift")
		if err != nil || len(shifts) != 3 {
			t.Fatalf("pattern: %v %d", err, len(shifts))
		}
		again, _ := svc.ApplyPattern(ctx, admin, org, "three_shift")
		if len(again) != 3 {
			t.Fatalf("applying a pattern twice must not duplicate shifts: %d", len(again))
		}
		if _, err := svc.ApplyPattern(ctx, nurse, org, "apn"); !core.IsCode(err, core.EForbidden) {
			t.Fatalf("a nurse may not change shifts: %v", err)
		}
		code := map[string]string{}
		for _, s := range shifts {
			code[s.Code] = s.ID
		}
		if err := svc.SetRules(ctx, head, org, ward, roster.RuleSet{
			MinStaff: []roster.MinStaff{{ShiftCode: "大", Min: 1, Severity: roster.Hard}},
			SkillMix: []roster.SkillMix{{Skill: "senior_nurse", Min: 1, Severity: roster.Hard}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetProfile(ctx, head, org, roster.Person{UserID: "n1", Skills: []string{"senior_nurse"}}); err != nil {
			t.Fatal(err)
		}

		c, err := svc.CreateRoster(ctx, head, org, ward, date("2026-12-01"), date("2026-12-02"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Violations) != 2 { // nobody on 大 on either day
			t.Fatalf("empty roster violations %+v", c.Violations)
		}
		if _, err := svc.CreateRoster(ctx, head, org, ward, date("2026-12-02"), date("2026-12-05")); !core.IsCode(err, core.EConflict) {
			t.Fatalf("overlapping roster: %v", err)
		}
		id := c.Roster.ID

		// A nurse without the senior skill on both nights: skill mix fails.
		as := []roster.Assignment{{UserID: "n2", Date: date("2026-12-01"), ShiftID: code["大"]}, {UserID: "n2", Date: date("2026-12-02"), ShiftID: code["大"]}}
		c, err = svc.Save(ctx, head, id, 1, as, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Violations) != 2 || c.Violations[0].Rule != roster.RuleSkillMix {
			t.Fatalf("violations %+v", c.Violations)
		}
		if _, err := svc.Publish(ctx, head, id, c.Roster.Version); !core.IsCode(err, core.EConflict) {
			t.Fatalf("hard violations must block publishing: %v", err)
		}
		// Overlap is refused outright and changes nothing.
		bad := append(as, roster.Assignment{UserID: "n2", Date: date("2026-12-01"), ShiftID: code["白"]}, roster.Assignment{UserID: "n2", Date: date("2026-12-01"), ShiftID: code["白"]})
		if _, err := svc.Save(ctx, head, id, 2, bad, ""); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("overlap: %v", err)
		}
		if _, err := svc.Save(ctx, head, id, 1, as, ""); !core.IsCode(err, core.EConflict) {
			t.Fatalf("stale version: %v", err)
		}
		as[1].UserID = "n1"
		as[0].UserID = "n1"
		as = append(as, roster.Assignment{UserID: "n4", Date: date("2026-12-01"), ShiftID: code["白"]})
		c, err = svc.Save(ctx, head, id, 2, as, "")
		if err != nil || len(c.Violations) != 0 {
			t.Fatalf("clean save: %v %+v", err, c.Violations)
		}
		if _, err := svc.Get(ctx, nurse, id, 0); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("staff must not see a draft: %v", err)
		}
		c, err = svc.Publish(ctx, head, id, 3)
		if err != nil || c.Roster.Status != roster.StatusPublished || c.Roster.Version != 4 {
			t.Fatalf("publish: %v %+v", err, c.Roster)
		}
		if got := n.last(); fmt.Sprint(got) != "[n1 n4]" {
			t.Fatalf("published notice to %v", got)
		}
		if _, err := svc.Get(ctx, nurse, id, 0); err != nil {
			t.Fatalf("staff read the published roster: %v", err)
		}

		shanghai, _ := time.LoadLocation("Asia/Shanghai")
		night := time.Date(2026, 12, 2, 3, 0, 0, 0, shanghai)
		duty, err := svc.OnDuty(ctx, org, ward, night)
		if err != nil || fmt.Sprint(duty.OnDuty) != "[n1]" {
			t.Fatalf("on duty %v %+v", err, duty)
		}
		who, tier, err := svc.Reach(ctx, org, ward, night)
		if err != nil || tier != "head" || who[0] != "head" {
			t.Fatalf("reach with nobody on call falls back to the head: %v %s %v", who, tier, err)
		}

		// Amending a published roster needs a reason and tells only those affected.
		as2 := append([]roster.Assignment(nil), as...)
		as2[2].UserID = "n5"
		if _, err := svc.Save(ctx, head, id, 4, as2, ""); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("amend without reason: %v", err)
		}
		c, err = svc.Save(ctx, head, id, 4, as2, "n4 病假")
		if err != nil || c.Roster.Version != 5 || c.Roster.Status != roster.StatusPublished {
			t.Fatalf("amend: %v %+v", err, c.Roster)
		}
		if got := n.last(); fmt.Sprint(got) != "[n4 n5]" {
			t.Fatalf("amend notice to %v", got)
		}
		day := time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)
		if duty, _ := svc.OnDuty(ctx, org, ward, day); fmt.Sprint(duty.OnDuty) != "[n5]" {
			t.Fatalf("on duty after amendment %+v", duty)
		}

		// An approved swap moves the shifts and keeps every version.
		if _, err := svc.Swap(ctx, org, ward, "n5", date("2026-12-01"), "n6", date("2026-12-01"), "调班审批 #1"); err != nil {
			t.Fatal(err)
		}
		if duty, _ := svc.OnDuty(ctx, org, ward, day); fmt.Sprint(duty.OnDuty) != "[n6]" {
			t.Fatalf("on duty after swap %+v", duty)
		}
		vs, err := svc.Versions(ctx, head, id)
		if err != nil || len(vs) != 6 {
			t.Fatalf("versions %d %v", len(vs), err)
		}
		old, err := svc.Get(ctx, head, id, 3)
		if err != nil || old.Roster.Status != roster.StatusDraft || len(old.Roster.Assignments) != 3 {
			t.Fatalf("old version kept: %v %+v", err, old.Roster)
		}
	})
}

func TestLeaveCountsInRules(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := roster.New(sqlstore.New(db), directory{}, authz{}, nil, nil, nil, nil)
		shifts, _ := svc.ApplyPattern(ctx, admin, org, "three_shift")
		if err := svc.RecordLeave(ctx, org, "n2", date("2026-12-03"), date("2026-12-04"), "approval:1"); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetRules(ctx, head, org, ward, roster.RuleSet{LeaveSeverity: roster.Hard}); err != nil {
			t.Fatal(err)
		}
		c, _ := svc.CreateRoster(ctx, head, org, ward, date("2026-12-01"), date("2026-12-07"))
		c, err := svc.Save(ctx, head, c.Roster.ID, 1, []roster.Assignment{{UserID: "n2", Date: date("2026-12-04"), ShiftID: shifts[0].ID}}, "")
		if err != nil || len(c.Violations) != 1 || c.Violations[0].Rule != roster.RuleLeave || c.Violations[0].UserID != "n2" {
			t.Fatalf("%v %+v", err, c.Violations)
		}
	})
}

// Two people on the same day trade their shifts: each ends with the other's.
func TestSwapSameDay(t *testing.T) {
	sqldbtest.Each(t, []sqldbtest.Migration{{Area: sqlstore.Area, FS: sqlstore.Migrations()}}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := roster.New(sqlstore.New(db), directory{}, authz{}, nil, nil, nil, nil)
		shifts, err := svc.ApplyPattern(ctx, admin, org, "three_shift")
		if err != nil {
			t.Fatal(err)
		}
		code := map[string]string{}
		for _, s := range shifts {
			code[s.Code] = s.ID
		}
		if err := svc.SetRules(ctx, head, org, ward, roster.RuleSet{}); err != nil {
			t.Fatal(err)
		}
		c, err := svc.CreateRoster(ctx, head, org, ward, date("2026-12-01"), date("2026-12-02"))
		if err != nil {
			t.Fatal(err)
		}
		as := []roster.Assignment{
			{UserID: "n1", Date: date("2026-12-01"), ShiftID: code["白"]},
			{UserID: "n2", Date: date("2026-12-01"), ShiftID: code["小"]},
			{UserID: "n3", Date: date("2026-12-02"), ShiftID: code["白"]},
		}
		if c, err = svc.Save(ctx, head, c.Roster.ID, 1, as, ""); err != nil {
			t.Fatal(err)
		}
		if c, err = svc.Publish(ctx, head, c.Roster.ID, c.Roster.Version); err != nil {
			t.Fatal(err)
		}
		c, err = svc.Swap(ctx, org, ward, "n1", date("2026-12-01"), "n2", date("2026-12-01"), "调班审批 #2")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range c.Roster.Assignments {
			got[a.UserID+"@"+a.Date.String()] += a.ShiftID + " "
		}
		want := map[string]string{
			"n1@2026-12-01": code["小"] + " ",
			"n2@2026-12-01": code["白"] + " ",
			"n3@2026-12-02": code["白"] + " ",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after a same-day swap\n got %v\nwant %v", got, want)
		}
		// The same approval's swap asked again (redone after a crash)
		// changes nothing: swapping twice would swap back.
		again, err := svc.Swap(ctx, org, ward, "n1", date("2026-12-01"), "n2", date("2026-12-01"), "调班审批 #2")
		if err != nil {
			t.Fatal(err)
		}
		if again.Roster.Version != c.Roster.Version {
			t.Fatalf("the repeated swap made version %d (was %d)", again.Roster.Version, c.Roster.Version)
		}
		// Someone without a shift that day cannot be swapped; nothing changes.
		if _, err := svc.Swap(ctx, org, ward, "n4", date("2026-12-01"), "n1", date("2026-12-01"), "x"); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("swap without a shift: %v", err)
		}
	})
}
