// Package approvalstest is the contract suite every approvals.Store passes.
// It takes only the interface, so SQLite, PostgreSQL and any future store
// meet the same guarantees.
package approvalstest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

// Run runs the suite; open returns an empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) approvals.Store) {
	ctx := context.Background()
	org := core.NewID()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

	tmpl := func(t *testing.T, s approvals.Store, code string) *approvals.Template {
		t.Helper()
		tp := &approvals.Template{ID: core.NewID(), OrgID: org, Code: code, Name: "Leave",
			Schema:    approvals.Schema{Fields: []approvals.Field{{Key: "reason", Label: "Reason", Type: approvals.FieldText}}},
			Flow:      approvals.Flow{Nodes: []approvals.Node{{ID: "start", Kind: approvals.NodeStart, Next: "end"}, {ID: "end", Kind: approvals.NodeEnd}}},
			CreatedAt: t0}
		if err := s.CreateTemplate(ctx, tp); err != nil {
			t.Fatal(err)
		}
		return tp
	}
	request := func(t *testing.T, s approvals.Store, tp *approvals.Template, submitter string, at time.Time, reason string) *approvals.Request {
		t.Helper()
		r := &approvals.Request{ID: core.NewID(), OrgID: org, TemplateID: tp.ID, TemplateCode: tp.Code, TemplateVersion: tp.Version,
			Title: tp.Name, SubmitterID: submitter, DeptID: "d1", Status: approvals.StatusPending, Form: approvals.Values{"reason": reason},
			Route: []approvals.Step{{Node: "a"}}, Round: 1, Version: 1, CreatedAt: at, UpdatedAt: at}
		if err := s.Update(ctx, func(tx approvals.Tx) error { return tx.InsertRequest(ctx, r) }); err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("templates are versioned per code", func(t *testing.T) {
		s := open(t)
		a1 := tmpl(t, s, "leave")
		a2 := tmpl(t, s, "leave")
		b1 := tmpl(t, s, "buy")
		if a1.Version != 1 || a2.Version != 2 || b1.Version != 1 {
			t.Fatalf("versions %d %d %d", a1.Version, a2.Version, b1.Version)
		}
		latest, err := s.LatestTemplate(ctx, org, "leave")
		if err != nil || latest.ID != a2.ID || latest.Schema.Fields[0].Key != "reason" || latest.Flow.Nodes[0].Next != "end" {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		got, err := s.Template(ctx, org, a1.ID)
		if err != nil || got.Version != 1 || !got.CreatedAt.Equal(t0) {
			t.Fatalf("by id = %+v, %v", got, err)
		}
		all, err := s.Templates(ctx, org)
		if err != nil || len(all) != 2 || all[0].Code != "buy" || all[1].Version != 2 {
			t.Fatalf("templates = %+v, %v", all, err)
		}
		vs, err := s.TemplateVersions(ctx, org, "leave")
		if err != nil || len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
		if _, err := s.Template(ctx, core.NewID(), a1.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("another org's template: %v", err)
		}
		if _, err := s.LatestTemplate(ctx, org, "nope"); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("missing code: %v", err)
		}
	})

	t.Run("requests round-trip and claims are compare-and-swap", func(t *testing.T) {
		s := open(t)
		tp := tmpl(t, s, "leave")
		r := request(t, s, tp, "u1", t0, "flu")
		got, err := s.Request(ctx, org, r.ID)
		if err != nil || got.Form["reason"] != "flu" || got.Route[0].Node != "a" || got.Version != 1 || !got.CreatedAt.Equal(t0) {
			t.Fatalf("got %+v, %v", got, err)
		}
		if _, err := s.Request(ctx, core.NewID(), r.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("other org: %v", err)
		}
		err = s.Update(ctx, func(tx approvals.Tx) error {
			c, err := tx.ClaimRequest(ctx, org, r.ID)
			if err != nil {
				return err
			}
			if c.Version != 2 {
				t.Errorf("claimed version %d", c.Version)
			}
			c.Status, c.Cursor, c.Seq, c.FinishedAt = approvals.StatusApproved, 1, 3, t0.Add(time.Hour)
			c.LastApprovers = []string{"u2"}
			return tx.SaveRequest(ctx, c)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.Request(ctx, org, r.ID)
		if got.Status != approvals.StatusApproved || got.Cursor != 1 || got.Seq != 3 || got.Version != 2 || !slices.Equal(got.LastApprovers, []string{"u2"}) || !got.FinishedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after save: %+v", got)
		}
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = s.Update(ctx, func(tx approvals.Tx) error {
			c, err := tx.ClaimRequest(ctx, org, r.ID)
			if err != nil {
				return err
			}
			c.Status = approvals.StatusRejected
			if err := tx.SaveRequest(ctx, c); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, _ := s.Request(ctx, org, r.ID); got.Status != approvals.StatusApproved || got.Version != 2 {
			t.Fatalf("rolled back change survived: %+v", got)
		}
	})

	t.Run("concurrent claims: exactly one wins each version", func(t *testing.T) {
		s := open(t)
		tp := tmpl(t, s, "leave")
		r := request(t, s, tp, "u1", t0, "x")
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, stale := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Update(ctx, func(tx approvals.Tx) error {
					c, err := tx.ClaimRequest(ctx, org, r.ID)
					if err != nil {
						return err
					}
					return tx.SaveRequest(ctx, c)
				})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, approvals.ErrStale):
					stale++
				default:
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		got, _ := s.Request(ctx, org, r.ID)
		if int(got.Version) != 1+won || won+stale != 8 || won == 0 {
			t.Fatalf("version %d after %d wins, %d stale", got.Version, won, stale)
		}
	})

	t.Run("tasks, timeline, cc, outcomes", func(t *testing.T) {
		s := open(t)
		tp := tmpl(t, s, "leave")
		r := request(t, s, tp, "u1", t0, "x")
		task := &approvals.Task{ID: core.NewID(), OrgID: org, RequestID: r.ID, Node: "a", Activation: 1, AssigneeID: "u2", State: approvals.TaskPending, CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		waiting := &approvals.Task{ID: core.NewID(), OrgID: org, RequestID: r.ID, Node: "a", Activation: 1, Order: 1, AssigneeID: "u3", State: approvals.TaskWaiting, CreatedAt: t0}
		err := s.Update(ctx, func(tx approvals.Tx) error {
			for _, k := range []*approvals.Task{task, waiting} {
				if err := tx.InsertTask(ctx, k); err != nil {
					return err
				}
			}
			for i := 1; i <= 2; i++ {
				if err := tx.AppendTimeline(ctx, approvals.Entry{ID: core.NewID(), RequestID: r.ID, Seq: i, At: t0, ActorID: "u1", Action: "submit",
					Comment: "c", Attachments: []string{"f"}, Details: map[string]any{"n": i}}); err != nil {
					return err
				}
			}
			if err := tx.AddCC(ctx, org, r.ID, []string{"u5", "u4"}, t0); err != nil {
				return err
			}
			if err := tx.AddCC(ctx, org, r.ID, []string{"u4"}, t0); err != nil {
				return err
			}
			return tx.SaveOutcome(ctx, org, "u1", approvals.Outcome{ActionID: "a1", RequestID: r.ID, Action: "submit", Status: approvals.StatusPending, Version: 1}, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := s.Tasks(ctx, r.ID)
		if err != nil || len(tasks) != 2 || tasks[0].AssigneeID != "u2" || !tasks[0].DueAt.Equal(t0.Add(time.Hour)) || tasks[1].State != approvals.TaskWaiting {
			t.Fatalf("tasks = %+v, %v", tasks, err)
		}
		open, err := s.OpenTasksOf(ctx, org, "u3")
		if err != nil || len(open) != 1 || open[0].ID != waiting.ID {
			t.Fatalf("open tasks = %+v, %v", open, err)
		}
		due, err := s.DueTasks(ctx, t0.Add(time.Hour), 10)
		if err != nil || len(due) != 1 || due[0].ID != task.ID {
			t.Fatalf("due = %+v, %v", due, err)
		}
		if due, _ := s.DueTasks(ctx, t0.Add(time.Minute), 10); len(due) != 0 {
			t.Fatalf("not yet due: %+v", due)
		}
		err = s.Update(ctx, func(tx approvals.Tx) error {
			task.State, task.ActedAt, task.DueAt, task.Comment = approvals.TaskApproved, t0.Add(time.Minute), time.Time{}, "ok"
			return tx.UpdateTask(ctx, task)
		})
		if err != nil {
			t.Fatal(err)
		}
		tasks, _ = s.Tasks(ctx, r.ID)
		if tasks[0].State != approvals.TaskApproved || tasks[0].Comment != "ok" || !tasks[0].DueAt.IsZero() {
			t.Fatalf("updated task = %+v", tasks[0])
		}
		tl, err := s.Timeline(ctx, r.ID)
		if err != nil || len(tl) != 2 || tl[1].Seq != 2 || tl[0].Attachments[0] != "f" || tl[1].Details["n"] != float64(2) {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
		// A second writer of the same seq loses: the timeline never forks.
		err = s.Update(ctx, func(tx approvals.Tx) error {
			return tx.AppendTimeline(ctx, approvals.Entry{ID: core.NewID(), RequestID: r.ID, Seq: 2, At: t0, Action: "approve"})
		})
		if !errors.Is(err, approvals.ErrStale) {
			t.Fatalf("duplicate seq: %v", err)
		}
		cc, err := s.CCs(ctx, r.ID)
		if err != nil || !slices.Equal(cc, []string{"u4", "u5"}) {
			t.Fatalf("cc = %v, %v", cc, err)
		}
		if o, err := s.Outcome(ctx, org, "u1", "a1"); err != nil || o == nil || o.Action != "submit" {
			t.Fatalf("outcome outside a transaction = %+v, %v", o, err)
		}
		if o, err := s.Outcome(ctx, org, "u1", "nope"); err != nil || o != nil {
			t.Fatalf("unknown action id = %+v, %v", o, err)
		}
		err = s.Update(ctx, func(tx approvals.Tx) error {
			o, err := tx.Outcome(ctx, org, "u1", "a1")
			if err != nil || o == nil || o.RequestID != r.ID {
				t.Errorf("outcome = %+v, %v", o, err)
			}
			if o, err := tx.Outcome(ctx, org, "u2", "a1"); err != nil || o != nil {
				t.Errorf("another actor's id: %+v, %v", o, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("delegations", func(t *testing.T) {
		s := open(t)
		d := approvals.Delegation{ID: core.NewID(), OrgID: org, UserID: "u1", DelegateID: "u2", Start: t0, End: t0.Add(24 * time.Hour), CreatedAt: t0}
		if err := s.PutDelegation(ctx, d); err != nil {
			t.Fatal(err)
		}
		check := func(at time.Time, want string) {
			t.Helper()
			_ = s.Update(ctx, func(tx approvals.Tx) error {
				got, err := tx.ActiveDelegate(ctx, org, "u1", at)
				if err != nil || got != want {
					t.Errorf("delegate at %v = %q, %v; want %q", at, got, err, want)
				}
				return nil
			})
		}
		check(t0.Add(-time.Minute), "")
		check(t0, "u2")
		check(t0.Add(24*time.Hour), "")
		list, err := s.Delegations(ctx, org, "u1")
		if err != nil || len(list) != 1 || !list[0].End.Equal(d.End) {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if err := s.DeleteDelegation(ctx, org, "u2", d.ID); !core.IsCode(err, core.ENotFound) {
			t.Fatalf("someone else's delegation: %v", err)
		}
		if err := s.DeleteDelegation(ctx, org, "u1", d.ID); err != nil {
			t.Fatal(err)
		}
		check(t0.Add(time.Hour), "")
	})

	t.Run("lists filter and page", func(t *testing.T) {
		s := open(t)
		tp := tmpl(t, s, "leave")
		var all []*approvals.Request
		for i := 0; i < 7; i++ {
			who := "u1"
			if i%2 == 1 {
				who = "u2"
			}
			// Two requests share a millisecond to exercise the id tie-break.
			at := t0.Add(time.Duration(i/2*2) * time.Second)
			all = append(all, request(t, s, tp, who, at, []string{"Fever", "ECG leads 100%"}[i%2]))
		}
		task := &approvals.Task{ID: core.NewID(), OrgID: org, RequestID: all[3].ID, Node: "a", Activation: 1, AssigneeID: "boss", State: approvals.TaskPending, CreatedAt: t0}
		_ = s.Update(ctx, func(tx approvals.Tx) error {
			if err := tx.InsertTask(ctx, task); err != nil {
				return err
			}
			return tx.AddCC(ctx, org, all[4].ID, []string{"boss"}, t0)
		})
		page := func(user string, kind approvals.ListKind, f approvals.Filter) []approvals.ListItem {
			t.Helper()
			var out []approvals.ListItem
			cur := ""
			for {
				items, next, err := s.List(ctx, org, user, kind, f, core.PageRequest{Limit: 2, Cursor: cur})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, items...)
				if next == "" {
					return out
				}
				cur = next
			}
		}
		org := page("", approvals.ListOrg, approvals.Filter{})
		if len(org) != 7 {
			t.Fatalf("org list has %d", len(org))
		}
		for i := 1; i < len(org); i++ {
			a, b := org[i-1], org[i]
			if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID) {
				t.Fatalf("not newest first at %d", i)
			}
		}
		if got := page("u1", approvals.ListSubmitted, approvals.Filter{}); len(got) != 4 {
			t.Fatalf("u1 submitted %d", len(got))
		}
		if got := page("boss", approvals.ListPending, approvals.Filter{}); len(got) != 1 || got[0].ID != all[3].ID || got[0].TaskID != task.ID {
			t.Fatalf("pending = %+v", got)
		}
		if got := page("boss", approvals.ListCC, approvals.Filter{}); len(got) != 1 || got[0].ID != all[4].ID {
			t.Fatalf("cc = %+v", got)
		}
		if got := page("", approvals.ListOrg, approvals.Filter{Query: "ecg leads 100%"}); len(got) != 3 {
			t.Fatalf("search found %d", len(got))
		}
		if got := page("", approvals.ListOrg, approvals.Filter{Query: "0%"}); len(got) != 3 {
			t.Fatalf("search with %% found %d", len(got))
		}
		if got := page("", approvals.ListOrg, approvals.Filter{From: t0.Add(2 * time.Second), To: t0.Add(4 * time.Second)}); len(got) != 2 {
			t.Fatalf("time window found %d", len(got))
		}
		if got := page("", approvals.ListOrg, approvals.Filter{DeptIDs: []string{"d1", "d9"}, Status: approvals.StatusPending, TemplateCode: "leave"}); len(got) != 7 {
			t.Fatalf("dept+status+template found %d", len(got))
		}
		if got := page("", approvals.ListOrg, approvals.Filter{Status: approvals.StatusApproved}); len(got) != 0 {
			t.Fatalf("status filter found %d", len(got))
		}
		if _, _, err := s.List(ctx, "", "", approvals.ListOrg, approvals.Filter{}, core.PageRequest{Cursor: "garbage!"}); !core.IsCode(err, core.EInvalid) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}
