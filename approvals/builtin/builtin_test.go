package builtin_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/approvalstest"
	"github.com/roundshq/rounds/approvals/builtin"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func TestBuiltinTemplates(t *testing.T) {
	ins := builtin.Templates()
	if len(ins) != 8 {
		t.Fatalf("%d templates", len(ins))
	}
	for _, in := range ins {
		t.Run(in.Code, func(t *testing.T) {
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBuiltinRoutes(t *testing.T) {
	org := core.NewID()
	hosp, med, ward := core.NewID(), core.NewID(), core.NewID()
	pres, medHead, wardHead, nurse, nurse2, vp, fin1, fin2, equip, ma := core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID(), core.NewID()
	dir := approvalstest.NewDirectory()
	dir.Department(hosp, "", pres)
	dir.Department(med, hosp, medHead)
	dir.Department(ward, med, wardHead)
	for _, p := range []string{pres, vp, fin1, fin2, equip, ma} {
		dir.Person(p, hosp)
	}
	dir.Person(medHead, med)
	dir.Person(wardHead, ward)
	dir.Person(nurse, ward)
	dir.Person(nurse2, ward)
	dir.Role(builtin.RoleVicePresident, vp)
	dir.Role(builtin.RoleFinance, fin1, fin2)
	dir.Role(builtin.RoleEquipment, equip)
	dir.Role(builtin.RoleMedicalAffairs, ma)
	db := sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()}, sqldbtest.Migration{Area: sqlstore.GuardArea, FS: sqlstore.GuardMigrations(sqldb.SQLite)})
	svc, err := approvals.New(approvals.Options{Store: sqlstore.New(db), Directory: dir, Authorizer: &approvalstest.Authorizer{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := svc.InstallTemplates(ctx, org, builtin.Templates())
	if err != nil || n != 8 {
		t.Fatalf("installed %d: %v", n, err)
	}
	if n, err := svc.InstallTemplates(ctx, org, builtin.Templates()); err != nil || n != 0 {
		t.Fatalf("second install added %d: %v", n, err)
	}
	as := func(u string) context.Context {
		return core.WithActor(ctx, core.Actor{UserID: u, OrgID: org, Kind: core.ActorUser})
	}
	route := func(code string, form any) []string {
		t.Helper()
		b, _ := json.Marshal(form)
		out, err := svc.Submit(as(nurse), approvals.SubmitInput{ActionID: core.NewID(), TemplateCode: code, Form: b})
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		v, err := svc.Get(as(nurse), out.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		var nodes []string
		for _, s := range v.Request.Route {
			nodes = append(nodes, s.Node)
		}
		return nodes
	}
	cases := []struct {
		code string
		form any
		want []string
	}{
		{builtin.Leave, map[string]any{"leave_type": "sick", "period": map[string]string{"start": "2026-03-02", "end": "2026-03-03"}, "reason": "flu"}, []string{"mgr", "hr"}},
		{builtin.Leave, map[string]any{"leave_type": "annual", "period": map[string]string{"start": "2026-03-02", "end": "2026-03-06"}, "reason": "trip"}, []string{"mgr", "head2", "hr"}},
		{builtin.Purchase, map[string]any{"items": []map[string]any{{"name": "gloves", "quantity": 100, "amount": 800}}, "reason": "stock"}, []string{"mgr", "equip", "fin"}},
		{builtin.Purchase, map[string]any{"items": []map[string]any{{"name": "monitor", "quantity": 1, "amount": 9000}, {"name": "cart", "quantity": 1, "amount": 1500}}, "reason": "ICU"}, []string{"mgr", "equip", "vp", "fin"}},
		{builtin.Referral, map[string]any{"patient_name": "Li", "record_no": "A1", "urgency": "critical", "target_hospital": "City No.1", "diagnosis": "STEMI", "reason": "PCI"}, []string{"green"}},
		{builtin.Trip, map[string]any{"destination": "Beijing", "period": map[string]string{"start": "2026-04-01", "end": "2026-04-03"}, "estimated_cost": 6000, "purpose": "congress"}, []string{"mgr", "vp", "fin"}},
		{builtin.Overtime, map[string]any{"day": "2026-03-01", "from": "16:00", "to": "20:00", "hours": 4, "compensation": "time_off", "reason": "emergency"}, []string{"mgr", "hr"}},
		{builtin.ShiftSwap, map[string]any{"swap_with": nurse2, "my_shift_date": "2026-03-03", "my_shift": "N", "their_shift_date": "2026-03-05", "their_shift": "A"}, []string{"colleague", "mgr"}},
		{builtin.MakeUp, map[string]any{"day": "2026-03-01", "at": "07:58", "kind": "in", "reason": "phone died"}, []string{"mgr"}},
		{builtin.Circulation, map[string]any{"title": "Infection control notice", "summary": "…", "files": []string{core.NewID()}}, []string{"office", "leaders", "president"}},
	}
	for _, c := range cases {
		if got := route(c.code, c.form); !slices.Equal(got, c.want) {
			t.Errorf("%s route = %v, want %v", c.code, got, c.want)
		}
	}
	// Shift swap: the colleague decides first.
	items, _, err := svc.List(as(nurse2), approvals.ListPending, approvals.Filter{}, core.PageRequest{})
	if err != nil || len(items) != 1 || items[0].TemplateCode != builtin.ShiftSwap {
		t.Fatalf("colleague's pending = %+v, %v", items, err)
	}
}

func TestEventReaders(t *testing.T) {
	ev := func(code string, st approvals.Status, form string) approvals.Event {
		return approvals.Event{TemplateCode: code, Status: st, Form: json.RawMessage(form)}
	}
	typ, start, end, days, ok := builtin.LeaveOf(ev(builtin.Leave, approvals.StatusApproved, `{"leave_type":"sick","period":{"start":"2026-03-02","end":"2026-03-04"},"leave_days":3}`))
	if !ok || typ != "sick" || start != "2026-03-02" || end != "2026-03-04" || days != 3 {
		t.Fatalf("leave = %s %s %s %v %v", typ, start, end, days, ok)
	}
	if _, _, _, _, ok := builtin.LeaveOf(ev(builtin.Leave, approvals.StatusRejected, `{"period":{"start":"2026-03-02","end":"2026-03-04"}}`)); ok {
		t.Fatal("a rejected leave was read")
	}
	date, mins, ok := builtin.OvertimeOf(ev(builtin.Overtime, approvals.StatusApproved, `{"day":"2026-03-01","hours":2.5}`))
	if !ok || date != "2026-03-01" || mins != 150 {
		t.Fatalf("overtime = %s %d %v", date, mins, ok)
	}
	if _, _, ok := builtin.OvertimeOf(ev(builtin.Leave, approvals.StatusApproved, `{"day":"2026-03-01","hours":2.5}`)); ok {
		t.Fatal("another template was read as overtime")
	}
	kind, day, clock, ok := builtin.MakeUpOf(ev(builtin.MakeUp, approvals.StatusApproved, `{"day":"2026-03-01","at":"07:58","kind":"in"}`))
	if !ok || kind != "in" || day != "2026-03-01" || clock != "07:58" {
		t.Fatalf("make-up = %s %s %s %v", kind, day, clock, ok)
	}
}
