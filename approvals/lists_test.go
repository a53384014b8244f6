package approvals_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

func ids(items []approvals.ListItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestLists(t *testing.T) {
	e := newEnv(t)
	cc := approvals.Node{ID: "cc", Kind: approvals.NodeCC, Approver: approvals.ApproverUsers, UserIDs: []string{hr1}}
	e.template(approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: simpleSchema,
		Flow: flowOf(approvals.Node{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1}, cc)})
	e.template(approvals.TemplateInput{Code: "buy", Name: "Purchase", Schema: simpleSchema, Flow: flowOf(named(users(finance1), "fin"))})
	var nurseReqs []string
	for i := 0; i < 5; i++ {
		nurseReqs = append(nurseReqs, e.submit(nurse, "leave", map[string]any{"reason": "family wedding"}))
		e.clock.Add(time.Minute)
	}
	buy := e.submit(nurse, "buy", map[string]any{"reason": "ECG electrodes", "amount": 300})
	e.clock.Add(time.Minute)
	docReq := e.submit(doctor, "leave", map[string]any{"reason": "conference"})
	e.approve(wardHead, nurseReqs[0])

	list := func(user string, kind approvals.ListKind, f approvals.Filter) []string {
		t.Helper()
		items, _, err := e.svc.List(as(user), kind, f, core.PageRequest{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return ids(items)
	}
	rev := func(s []string) []string { c := slices.Clone(s); slices.Reverse(c); return c }

	if got := list(wardHead, approvals.ListPending, approvals.Filter{}); !slices.Equal(got, rev(nurseReqs[1:])) {
		t.Fatalf("ward head pending = %v", got)
	}
	if got := list(wardHead, approvals.ListDone, approvals.Filter{}); !slices.Equal(got, nurseReqs[:1]) {
		t.Fatalf("ward head done = %v", got)
	}
	if got := list(nurse, approvals.ListSubmitted, approvals.Filter{}); len(got) != 6 || got[0] != buy {
		t.Fatalf("submitted = %v", got)
	}
	if got := list(nurse, approvals.ListSubmitted, approvals.Filter{TemplateCode: "buy"}); !slices.Equal(got, []string{buy}) {
		t.Fatalf("filtered by template = %v", got)
	}
	if got := list(nurse, approvals.ListSubmitted, approvals.Filter{Status: approvals.StatusApproved}); !slices.Equal(got, nurseReqs[:1]) {
		t.Fatalf("filtered by status = %v", got)
	}
	if got := list(nurse, approvals.ListSubmitted, approvals.Filter{Query: "ecg"}); !slices.Equal(got, []string{buy}) {
		t.Fatalf("search = %v", got)
	}
	if got := list(nurse, approvals.ListSubmitted, approvals.Filter{Query: "100%"}); len(got) != 0 {
		t.Fatalf("a %% in a search is literal: %v", got)
	}
	if got := list(hr1, approvals.ListCC, approvals.Filter{}); !slices.Equal(got, nurseReqs[:1]) {
		t.Fatalf("cc = %v", got)
	}
	// Org list: admins see everything; the cardiology head sees cardiology
	// and the ward below it; the ward head only the ward.
	if got := list(admin, approvals.ListOrg, approvals.Filter{}); len(got) != 7 {
		t.Fatalf("admin sees %d", len(got))
	}
	if got := list(cardioHead, approvals.ListOrg, approvals.Filter{}); len(got) != 7 {
		t.Fatalf("cardiology head sees %d", len(got))
	}
	if got := list(wardHead, approvals.ListOrg, approvals.Filter{}); len(got) != 6 || slices.Contains(got, docReq) {
		t.Fatalf("ward head sees %v", got)
	}
	_, _, err := e.svc.List(as(nurse), approvals.ListOrg, approvals.Filter{}, core.PageRequest{})
	wantCode(t, err, core.EForbidden)
	_, _, err = e.svc.List(as(nurse), approvals.ListSubmitted, approvals.Filter{Status: "lost"}, core.PageRequest{})
	wantCode(t, err, core.EInvalid)

	// Cursor pagination walks every item once.
	var walked []string
	cursor := ""
	for {
		items, next, err := e.svc.List(as(nurse), approvals.ListSubmitted, approvals.Filter{}, core.PageRequest{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(items)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(walked) != 6 {
		t.Fatalf("walked %v", walked)
	}
	// Ward head's subtree list paginates as well.
	items, next, err := e.svc.List(as(wardHead), approvals.ListOrg, approvals.Filter{}, core.PageRequest{Limit: 4})
	if err != nil || len(items) != 4 || next == "" {
		t.Fatalf("subtree page 1: %d %q %v", len(items), next, err)
	}
	items, next, err = e.svc.List(as(wardHead), approvals.ListOrg, approvals.Filter{}, core.PageRequest{Limit: 4, Cursor: next})
	if err != nil || len(items) != 2 || next != "" {
		t.Fatalf("subtree page 2: %d %q %v", len(items), next, err)
	}
}

func TestEventsAndNotifications(t *testing.T) {
	e := newEnv(t)
	e.template(approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: simpleSchema, Flow: flowOf(named(users(wardHead), "mgr"))})
	req := e.submit(nurse, "leave", map[string]any{"period": map[string]string{"start": "2026-03-02", "end": "2026-03-03"}})
	if sub := e.events(approvals.SubjectSubmitted); len(sub) != 1 || sub[0].RequestID != req {
		t.Fatalf("submitted = %+v", sub)
	}
	if as := e.events(approvals.SubjectAssigned); len(as) != 1 || !slices.Equal(as[0].Assignees, []string{wardHead}) {
		t.Fatalf("assigned = %+v", as)
	}
	if n := e.notes.find("task", "assigned"); len(n) != 1 || !slices.Equal(n[0].who, []string{wardHead}) {
		t.Fatalf("task notes = %+v", n)
	}
	e.approve(wardHead, req)
	fin := e.events(approvals.SubjectFinished)
	if len(fin) != 1 || fin[0].Status != approvals.StatusApproved || fin[0].TemplateCode != "leave" || fin[0].DeptID != deptWard {
		t.Fatalf("finished = %+v", fin)
	}
	if string(fin[0].Form) != `{"days_off":2,"period":{"end":"2026-03-03","start":"2026-03-02"}}` {
		t.Fatalf("form in event = %s", fin[0].Form)
	}
	if n := e.notes.find("update", "approved"); len(n) != 1 || !slices.Equal(n[0].who, []string{nurse}) {
		t.Fatalf("submitter not told: %+v", n)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	e.template(approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: simpleSchema, Flow: flowOf(named(users(wardHead), "mgr"))})
	e.submit(nurse, "leave", map[string]any{"reason": "=HYPERLINK(\"x\")"})
	e.submit(nurse2, "leave", map[string]any{"reason": "flu"})
	var buf bytes.Buffer
	wantCode(t, e.svc.Export(as(nurse), approvals.Filter{}, "csv", &buf), core.EForbidden)
	wantCode(t, e.svc.Export(as(admin), approvals.Filter{}, "pdf", &buf), core.EInvalid)
	if err := e.svc.Export(as(admin), approvals.Filter{}, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" || rows[1][6] != "pending" {
		t.Fatalf("csv = %v, %v", rows, err)
	}
	buf.Reset()
	if err := e.svc.Export(as(admin), approvals.Filter{}, "xlsx", &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	xr, _ := x.GetRows("Sheet1")
	if len(xr) != 3 || xr[0][1] != "template" || xr[2][1] != "leave" {
		t.Fatalf("xlsx rows = %v", xr)
	}
	n := 0
	for _, a := range e.audit.entries {
		if a.Action == "approvals.request.export" {
			n++
		}
	}
	if n != 3 { // one denied, two ok
		t.Fatalf("export audit entries = %d", n)
	}
}

func TestCard(t *testing.T) {
	e := newEnv(t)
	mgr := named(users(wardHead), "mgr")
	mgr.Name = "Ward head"
	e.template(approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: simpleSchema, Flow: flowOf(mgr)})
	req := e.submit(nurse, "leave", map[string]any{"reason": "flu", "amount": 12, "period": map[string]string{"start": "2026-03-02", "end": "2026-03-04"}})
	c, err := e.svc.CardFor(bg(), org, req, wardHead)
	if err != nil {
		t.Fatal(err)
	}
	want := []approvals.CardField{
		{Key: "reason", Label: "Reason", Type: approvals.FieldText, Value: "flu"},
		{Key: "amount", Label: "Amount", Type: approvals.FieldMoney, Value: "12.00"},
		{Key: "period", Label: "Period", Type: approvals.FieldDateRange, Value: "2026-03-02 – 2026-03-04"},
		{Key: "days_off", Label: "Days", Type: approvals.FieldComputed, Value: "3"},
	}
	if !slices.Equal(c.Fields, want) || c.Step != "Ward head" || len(c.Actions) != 2 || !c.Actions[1].NeedsReason {
		t.Fatalf("card = %+v", c)
	}
	c, err = e.svc.CardFor(bg(), org, req, nurse)
	if err != nil || len(c.Actions) != 0 {
		t.Fatalf("submitter's card = %+v, %v", c, err)
	}
	_, err = e.svc.CardFor(bg(), org, req, doctor2)
	wantCode(t, err, core.ENotFound)
}
