package approvals_test

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// three steps: ward head, doctor, hr (or-sign)
func threeSteps(e *env) {
	hr := approvals.Node{ID: "hr", Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: "hr", Mode: approvals.OrSign}
	e.template(approvals.TemplateInput{Code: "t", Name: "Leave", Schema: simpleSchema,
		Flow: flowOf(approvals.Node{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1}, named(users(doctor), "doc"), hr)})
}

func reject(e *env, user, req, to string) error {
	_, err := e.svc.Reject(as(user), req, approvals.RejectInput{ActionInput: approvals.ActionInput{ActionID: aid(), Comment: "please fix"}, To: to})
	return err
}

func TestRejectAndResubmit(t *testing.T) {
	t.Run("back to the submitter, then resubmit", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{"reason": "flu"})
		e.approve(wardHead, req)
		if err := reject(e, doctor, req, ""); err != nil {
			t.Fatal(err)
		}
		if e.status(req) != approvals.StatusRejected {
			t.Fatal("not rejected")
		}
		if fin := e.events(approvals.SubjectFinished); len(fin) != 1 || fin[0].Status != approvals.StatusRejected {
			t.Fatalf("finished events = %+v", fin)
		}
		// Only the submitter may resubmit.
		_, err := e.svc.Resubmit(as(doctor), req, approvals.ResubmitInput{ActionID: aid()})
		wantCode(t, err, core.EForbidden)
		// A corrected form is validated.
		_, err = e.svc.Resubmit(as(nurse), req, approvals.ResubmitInput{ActionID: aid(), Form: []byte(`{"amount": "lots"}`)})
		wantCode(t, err, core.EInvalid)
		// The nurse moved to nursing meanwhile: the request follows her.
		e.dir.depts[nurse] = []string{deptNursing}
		if _, err := e.svc.Resubmit(as(nurse), req, approvals.ResubmitInput{ActionID: aid(), Form: []byte(`{"reason": "flu, with note"}`)}); err != nil {
			t.Fatal(err)
		}
		if v := e.view(req); v.Request.DeptID != deptNursing {
			t.Fatalf("dept after the move = %s", v.Request.DeptID)
		}
		v := e.view(req)
		if v.Request.Status != approvals.StatusPending || v.Request.Round != 2 || v.Request.Form["reason"] != "flu, with note" {
			t.Fatalf("after resubmit: %+v", v.Request)
		}
		// Her manager is now the head of nursing.
		if got := e.pending(req); !slices.Equal(got, []string{nursingHd}) {
			t.Fatalf("pending = %v", got)
		}
		e.approve(nursingHd, req)
		e.approve(doctor, req)
		e.approve(hr2, req)
		if e.status(req) != approvals.StatusApproved {
			t.Fatal("not approved after resubmit")
		}
	})
	t.Run("back to the previous step", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		wantCode(t, reject(e, wardHead, req, approvals.RejectToPrevious), core.EInvalid)
		e.approve(wardHead, req)
		if err := reject(e, doctor, req, approvals.RejectToPrevious); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(req); !slices.Equal(got, []string{wardHead}) || e.status(req) != approvals.StatusPending {
			t.Fatalf("pending = %v status %s", got, e.status(req))
		}
		e.approve(wardHead, req)
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
	})
	t.Run("a reason is required", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		_, err := e.svc.Reject(as(wardHead), req, approvals.RejectInput{ActionInput: approvals.ActionInput{ActionID: aid()}})
		wantCode(t, err, core.EInvalid)
	})
}

func TestTransferAddSignerWithdraw(t *testing.T) {
	t.Run("transfer", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		_, err := e.svc.Transfer(as(wardHead), req, approvals.TransferInput{ActionInput: approvals.ActionInput{ActionID: aid()}, To: id(999)})
		wantCode(t, err, core.EInvalid)
		if _, err := e.svc.Transfer(as(wardHead), req, approvals.TransferInput{ActionInput: approvals.ActionInput{ActionID: aid(), Comment: "on leave"}, To: nurse2}); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(req); !slices.Equal(got, []string{nurse2}) {
			t.Fatalf("pending = %v", got)
		}
		_, err = e.svc.Approve(as(wardHead), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EForbidden)
		e.approve(nurse2, req)
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
	})
	t.Run("add signer before", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		if _, err := e.svc.AddSigner(as(wardHead), req, approvals.AddSignerInput{ActionInput: approvals.ActionInput{ActionID: aid()}, UserID: nursingHd, Position: approvals.Before}); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(req); !slices.Equal(got, []string{nursingHd}) {
			t.Fatalf("pending = %v", got)
		}
		e.approve(nursingHd, req)
		if got := e.pending(req); !slices.Equal(got, []string{wardHead}) {
			t.Fatalf("back to the ward head: %v", got)
		}
		e.approve(wardHead, req)
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
	})
	t.Run("add signer after", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		if _, err := e.svc.AddSigner(as(wardHead), req, approvals.AddSignerInput{ActionInput: approvals.ActionInput{ActionID: aid()}, UserID: nursingHd, Position: approvals.After}); err != nil {
			t.Fatal(err)
		}
		if got := e.pending(req); !slices.Equal(got, []string{wardHead}) {
			t.Fatalf("pending = %v", got)
		}
		e.approve(wardHead, req)
		if got := e.pending(req); !slices.Equal(got, []string{nursingHd}) {
			t.Fatalf("pending = %v", got)
		}
		e.approve(nursingHd, req)
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
	})
	t.Run("withdraw while pending, only by the submitter", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		_, err := e.svc.Withdraw(as(wardHead), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EForbidden)
		if _, err := e.svc.Withdraw(as(nurse), req, approvals.ActionInput{ActionID: aid()}); err != nil {
			t.Fatal(err)
		}
		if e.status(req) != approvals.StatusWithdrawn || len(e.pending(req)) != 0 {
			t.Fatal("not withdrawn")
		}
		_, err = e.svc.Withdraw(as(nurse), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EConflict)
		_, err = e.svc.Approve(as(wardHead), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EConflict)
	})
}

func TestCommentUrgeAndReading(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	req := e.submit(nurse, "t", map[string]any{})
	file := core.NewID()
	if _, err := e.svc.Comment(as(wardHead), req, approvals.ActionInput{ActionID: aid(), Comment: "see scan", Attachments: []string{file}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Comment(as(doctor2), req, approvals.ActionInput{ActionID: aid(), Comment: "me too"})
	wantCode(t, err, core.ENotFound)
	tl := e.view(req).Timeline
	last := tl[len(tl)-1]
	if last.Action != approvals.ActComment || last.ActorID != wardHead || !slices.Equal(last.Attachments, []string{file}) {
		t.Fatalf("last entry = %+v", last)
	}
	// Urge: submitter only, rate-limited.
	_, err = e.svc.Urge(as(doctor), req, approvals.ActionInput{ActionID: aid()})
	wantCode(t, err, core.EForbidden)
	if _, err := e.svc.Urge(as(nurse), req, approvals.ActionInput{ActionID: aid()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Urge(as(nurse), req, approvals.ActionInput{ActionID: aid()})
	wantCode(t, err, core.ERateLimited)
	if ce := err.(*core.Error); ce.Details["retry_after"] != 601 {
		t.Fatalf("retry_after = %v", ce.Details["retry_after"])
	}
	e.clock.Add(11 * time.Minute)
	if _, err := e.svc.Urge(as(nurse), req, approvals.ActionInput{ActionID: aid()}); err != nil {
		t.Fatal(err)
	}
	if u := e.notes.find("task", "urge"); len(u) != 2 || !slices.Equal(u[0].who, []string{wardHead}) {
		t.Fatalf("urge notes = %+v", u)
	}
	// Readers: submitter, assignees, heads over the department, admins.
	for _, c := range []struct {
		who  string
		want core.Code
	}{{nurse, ""}, {wardHead, ""}, {cardioHead, ""}, {president, ""}, {admin, ""}, {nursingHd, core.ENotFound}, {doctor2, core.ENotFound}} {
		_, err := e.svc.Get(as(c.who), req)
		if core.ErrorCode(err) != c.want {
			t.Errorf("%s reading: %v", c.who, err)
		}
	}
}

func TestIdempotentRetry(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	sub := approvals.SubmitInput{ActionID: "submit-1", TemplateCode: "t", Form: json.RawMessage(`{"reason":"x"}`)}
	first, err := e.svc.Submit(as(nurse), sub)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Submit(as(nurse), sub)
	if err != nil || again.RequestID != first.RequestID || !again.Replayed {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	list, _, _ := e.svc.List(as(nurse), approvals.ListSubmitted, approvals.Filter{}, core.PageRequest{})
	if len(list) != 1 {
		t.Fatalf("a retried submit made %d requests", len(list))
	}
	// A retry after the template changed still gets the first outcome.
	if _, err := e.svc.SaveFlow(as(admin), "t", flowOf(named(users(doctor), "only"))); err != nil {
		t.Fatal(err)
	}
	sub.Form = json.RawMessage(`{"reason": 5}`)
	again, err = e.svc.Submit(as(nurse), sub)
	if err != nil || again.RequestID != first.RequestID || !again.Replayed {
		t.Fatalf("late retry = %+v, %v", again, err)
	}
	in := approvals.ActionInput{ActionID: "approve-1"}
	a1, err := e.svc.Approve(as(wardHead), first.RequestID, in)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.svc.Approve(as(wardHead), first.RequestID, in)
	if err != nil || !a2.Replayed || a2.Version != a1.Version {
		t.Fatalf("retry = %+v, %v", a2, err)
	}
	n := 0
	for _, a := range e.actions(first.RequestID) {
		if a == approvals.ActApprove {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d approvals in the timeline", n)
	}
	// The same id for a different action is refused.
	_, err = e.svc.Withdraw(as(wardHead), first.RequestID, in)
	wantCode(t, err, core.EInvalid)
}

func TestConcurrentOrSign(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnvDB(t, db)
		var people []string
		for i := 0; i < 12; i++ {
			p := id(200 + i)
			e.dir.depts[p] = []string{deptHosp}
			people = append(people, p)
		}
		n := named(users(people...), "any")
		n.Mode = approvals.OrSign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n, named(users(doctor), "next"))})
		req := e.submit(nurse, "t", map[string]any{})
		var wg sync.WaitGroup
		errs := make([]error, len(people))
		start := make(chan struct{})
		for i, p := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = e.svc.Approve(as(p), req, approvals.ActionInput{ActionID: aid()})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case core.IsCode(err, core.EConflict):
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d approvals succeeded, want exactly 1", ok)
		}
		v := e.view(req)
		approved := 0
		for _, tk := range v.Tasks {
			if tk.State == approvals.TaskApproved {
				approved++
			}
		}
		if approved != 1 || !slices.Equal(e.pending(req), []string{doctor}) {
			t.Fatalf("approved tasks %d, pending %v", approved, e.pending(req))
		}
		steps := 0
		for i, x := range v.Timeline {
			if x.Action == approvals.ActApprove {
				steps++
			}
			if x.Seq != i+1 {
				t.Fatalf("timeline seq gap: %+v", v.Timeline)
			}
		}
		if steps != 1 {
			t.Fatalf("%d approve entries", steps)
		}
	})
}

func TestCountersignConcurrent(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnvDB(t, db)
		var people []string
		for i := 0; i < 8; i++ {
			p := id(300 + i)
			e.dir.depts[p] = []string{deptHosp}
			people = append(people, p)
		}
		n := named(users(people...), "all")
		n.Mode = approvals.Countersign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		req := e.submit(nurse, "t", map[string]any{})
		var wg sync.WaitGroup
		for _, p := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.svc.Approve(as(p), req, approvals.ActionInput{ActionID: aid()}); err != nil {
					t.Errorf("approve: %v", err)
				}
			}()
		}
		wg.Wait()
		if e.status(req) != approvals.StatusApproved {
			t.Fatalf("status %s", e.status(req))
		}
		if fin := e.events(approvals.SubjectFinished); len(fin) != 1 {
			t.Fatalf("%d finished events", len(fin))
		}
	})
}

func TestDelegationHandOverAndTick(t *testing.T) {
	t.Run("delegation while on leave", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		now := e.clock.Now()
		_, err := e.svc.SetDelegation(as(wardHead), approvals.DelegationInput{DelegateID: wardHead, Start: now, End: now.Add(time.Hour)})
		wantCode(t, err, core.EInvalid)
		if _, err := e.svc.SetDelegation(as(wardHead), approvals.DelegationInput{DelegateID: nurse2, Start: now.Add(-time.Hour), End: now.Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		req := e.submit(nurse, "t", map[string]any{})
		if got := e.pending(req); !slices.Equal(got, []string{nurse2}) {
			t.Fatalf("pending = %v", got)
		}
		if !slices.Contains(e.actions(req), approvals.ActDelegate) {
			t.Fatal("timeline does not say delegated")
		}
		// The absent head can still read it.
		if _, err := e.svc.Get(as(wardHead), req); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(72 * time.Hour)
		req2 := e.submit(nurse, "t", map[string]any{})
		if got := e.pending(req2); !slices.Equal(got, []string{wardHead}) {
			t.Fatalf("after the leave: %v", got)
		}
	})
	t.Run("a delegate already in the step decides once", func(t *testing.T) {
		e := newEnv(t)
		n := named(users(doctor, doctor2), "both")
		n.Mode = approvals.Countersign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		now := e.clock.Now()
		if _, err := e.svc.SetDelegation(as(doctor), approvals.DelegationInput{DelegateID: doctor2, Start: now.Add(-time.Hour), End: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		req := e.submit(nurse, "t", map[string]any{})
		if got := e.pending(req); !slices.Equal(got, []string{doctor2}) {
			t.Fatalf("pending = %v", got)
		}
		e.approve(doctor2, req)
		if e.status(req) != approvals.StatusApproved {
			t.Fatal("not approved")
		}
	})
	t.Run("a leaver's tasks go to their manager", func(t *testing.T) {
		e := newEnv(t)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		req2 := e.submit(nurse2, "t", map[string]any{})
		e.dir.inactive[wardHead] = true
		n, err := e.svc.HandOver(as(admin), org, wardHead)
		if err != nil || n != 2 {
			t.Fatalf("handed over %d: %v", n, err)
		}
		for _, r := range []string{req, req2} {
			if got := e.pending(r); !slices.Equal(got, []string{cardioHead}) {
				t.Fatalf("pending = %v", got)
			}
		}
		if n, err := e.svc.HandOver(as(admin), org, wardHead); err != nil || n != 0 {
			t.Fatalf("second run moved %d: %v", n, err)
		}
		// The same through the bus, as the org chart announces a leaver.
		req3 := e.submit(nurse, "t", map[string]any{}) // the departed ward head's step is skipped
		if got := e.pending(req3); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
		sub, err := e.bus.Subscribe("orgchart.staff.left", e.svc.OnStaffLeft)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()
		e.dir.inactive[doctor] = true
		if err := e.bus.Publish(bg(), "orgchart.staff.left", []byte(`{"org_id":"`+org+`","user_id":"`+doctor+`","status":"left"}`)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for !slices.Equal(e.pending(req3), []string{cardioHead}) {
			if time.Now().After(deadline) {
				t.Fatalf("after the staff-left event: pending %v", e.pending(req3))
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("reminder then escalation on the time limit", func(t *testing.T) {
		e := newEnv(t)
		n := named(users(doctor), "doc")
		n.TimeLimitMins, n.OnTimeout = 60, approvals.TimeoutEscalate
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		req := e.submit(nurse, "t", map[string]any{})
		if n, err := e.svc.Tick(bg(), e.clock.Now().Add(59*time.Minute)); err != nil || n != 0 {
			t.Fatalf("early tick handled %d: %v", n, err)
		}
		if n, err := e.svc.Tick(bg(), e.clock.Now().Add(61*time.Minute)); err != nil || n != 1 {
			t.Fatalf("tick handled %d: %v", n, err)
		}
		if len(e.notes.find("task", "remind")) != 1 || !slices.Equal(e.pending(req), []string{doctor}) {
			t.Fatal("not reminded")
		}
		if n, _ := e.svc.Tick(bg(), e.clock.Now().Add(90*time.Minute)); n != 0 {
			t.Fatal("reminded twice")
		}
		if n, err := e.svc.Tick(bg(), e.clock.Now().Add(122*time.Minute)); err != nil || n != 1 {
			t.Fatalf("escalation tick handled %d: %v", n, err)
		}
		if got := e.pending(req); !slices.Equal(got, []string{cardioHead}) {
			t.Fatalf("escalated to %v", got)
		}
		if !slices.Contains(e.actions(req), approvals.ActEscalate) {
			t.Fatal("timeline lacks escalate")
		}
	})
}

// A refused action leaves the request, its tasks and its timeline as they
// were.
func TestRefusedActionsChangeNothing(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	req := e.submit(nurse, "t", map[string]any{})
	before := e.view(req)
	attempts := []func() error{
		func() error {
			_, err := e.svc.Approve(as(doctor), req, approvals.ActionInput{ActionID: aid()})
			return err
		},
		func() error { return reject(e, wardHead, req, approvals.RejectToPrevious) },
		func() error {
			_, err := e.svc.Transfer(as(wardHead), req, approvals.TransferInput{ActionInput: approvals.ActionInput{ActionID: aid()}, To: id(999)})
			return err
		},
		func() error {
			_, err := e.svc.AddSigner(as(wardHead), req, approvals.AddSignerInput{ActionInput: approvals.ActionInput{ActionID: aid()}, UserID: wardHead, Position: approvals.Before})
			return err
		},
		func() error {
			_, err := e.svc.Withdraw(as(doctor), req, approvals.ActionInput{ActionID: aid()})
			return err
		},
		func() error {
			_, err := e.svc.Resubmit(as(nurse), req, approvals.ResubmitInput{ActionID: aid()})
			return err
		},
		func() error {
			_, err := e.svc.Comment(as(nurse), req, approvals.ActionInput{ActionID: aid(), Comment: "x", Attachments: []string{"nope"}})
			return err
		},
	}
	for i, try := range attempts {
		if err := try(); err == nil {
			t.Fatalf("attempt %d succeeded", i)
		}
	}
	after := e.view(req)
	if len(after.Timeline) != len(before.Timeline) || len(after.Tasks) != len(before.Tasks) || after.Request.Version != before.Request.Version {
		t.Fatalf("a refused action changed the request: %d→%d entries, %d→%d tasks, version %d→%d",
			len(before.Timeline), len(after.Timeline), len(before.Tasks), len(after.Tasks), before.Request.Version, after.Request.Version)
	}
}

// The same action sent twice at the same moment (a client retrying before
// the first answer) acts once; both get the same outcome.
func TestConcurrentRetrySameActionID(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		e := newEnvDB(t, db)
		threeSteps(e)
		req := e.submit(nurse, "t", map[string]any{})
		outs := make([]approvals.Outcome, 6)
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = e.svc.Approve(as(wardHead), req, approvals.ActionInput{ActionID: "tap-1"})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := range outs {
			if errs[i] != nil {
				t.Fatalf("retry %d: %v", i, errs[i])
			}
			if outs[i].Version != outs[0].Version {
				t.Fatalf("outcomes differ: %+v vs %+v", outs[i], outs[0])
			}
			if !outs[i].Replayed {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("%d of the retries acted", fresh)
		}
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("pending = %v", got)
		}
	})
}
