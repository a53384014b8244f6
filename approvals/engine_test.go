package approvals_test

import (
	"slices"
	"testing"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

func users(ids ...string) approvals.Node {
	return approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverUsers, UserIDs: ids}
}

func named(n approvals.Node, id string) approvals.Node { n.ID = id; return n }

func TestApproverKinds(t *testing.T) {
	cases := []struct {
		name string
		node approvals.Node
		by   string
		want []string
	}{
		{"named people", users(doctor), nurse, []string{doctor}},
		{"direct manager", approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1}, nurse, []string{wardHead}},
		{"head two levels up", approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 2}, nurse, []string{cardioHead}},
		{"a head's manager is the head above", approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1}, wardHead, []string{cardioHead}},
		{"head of department X", approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverDeptHead, DeptID: deptNursing}, nurse, []string{nursingHd}},
		{"role holders (countersign)", approvals.Node{Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: "hr", Mode: approvals.Countersign}, nurse, []string{hr1, hr2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(named(c.node, "a"))})
			req := e.submit(c.by, "t", map[string]any{"reason": "x"})
			if got := e.pending(req); !slices.Equal(got, sorted(c.want...)) {
				t.Fatalf("pending = %v, want %v", got, c.want)
			}
		})
	}
}

func TestChosenBySubmitter(t *testing.T) {
	e := newEnv(t)
	e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema,
		Flow: flowOf(approvals.Node{ID: "pick", Kind: approvals.NodeApprove, Approver: approvals.ApproverSubmitter, Mode: approvals.OrSign, Empty: approvals.EmptyToAdmin})})
	_, err := e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: aid(), TemplateCode: "t", Form: []byte(`{}`)})
	wantCode(t, err, core.EInvalid)
	out, err := e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: aid(), TemplateCode: "t", Form: []byte(`{}`),
		Chosen: map[string][]string{"pick": {doctor, doctor2}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.pending(out.RequestID); !slices.Equal(got, sorted(doctor, doctor2)) {
		t.Fatalf("pending = %v", got)
	}
	_, err = e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: aid(), TemplateCode: "t", Form: []byte(`{}`),
		Chosen: map[string][]string{"nope": {doctor}}})
	wantCode(t, err, core.EInvalid)
}

func TestSignModes(t *testing.T) {
	t.Run("sequential goes one by one in order", func(t *testing.T) {
		e := newEnv(t)
		n := users(doctor, doctor2)
		n.ID, n.Mode = "a", approvals.Sequential
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		req := e.submit(nurse, "t", map[string]any{})
		if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
			t.Fatalf("first = %v", got)
		}
		_, err := e.svc.Approve(as(doctor2), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EForbidden)
		e.approve(doctor, req)
		if got := e.pending(req); !slices.Equal(got, []string{doctor2}) {
			t.Fatalf("second = %v", got)
		}
		e.approve(doctor2, req)
		if e.status(req) != approvals.StatusApproved {
			t.Fatal("not approved")
		}
	})
	t.Run("countersign needs everyone", func(t *testing.T) {
		e := newEnv(t)
		n := users(doctor, doctor2, hr1)
		n.ID, n.Mode = "a", approvals.Countersign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		req := e.submit(nurse, "t", map[string]any{})
		e.approve(doctor, req)
		e.approve(hr1, req)
		if e.status(req) != approvals.StatusPending || !slices.Equal(e.pending(req), []string{doctor2}) {
			t.Fatalf("after two of three: %s %v", e.status(req), e.pending(req))
		}
		e.approve(doctor2, req)
		if e.status(req) != approvals.StatusApproved {
			t.Fatal("not approved")
		}
	})
	t.Run("countersign: one rejection rejects", func(t *testing.T) {
		e := newEnv(t)
		n := users(doctor, doctor2)
		n.ID, n.Mode = "a", approvals.Countersign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
		req := e.submit(nurse, "t", map[string]any{})
		if _, err := e.svc.Reject(as(doctor2), req, approvals.RejectInput{ActionInput: approvals.ActionInput{ActionID: aid(), Comment: "no"}}); err != nil {
			t.Fatal(err)
		}
		if e.status(req) != approvals.StatusRejected || len(e.pending(req)) != 0 {
			t.Fatalf("status %s pending %v", e.status(req), e.pending(req))
		}
	})
	t.Run("or-sign: the first decides", func(t *testing.T) {
		e := newEnv(t)
		n := users(doctor, doctor2)
		n.ID, n.Mode = "a", approvals.OrSign
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n, named(users(hr1), "b"))})
		req := e.submit(nurse, "t", map[string]any{})
		e.approve(doctor2, req)
		if got := e.pending(req); !slices.Equal(got, []string{hr1}) {
			t.Fatalf("pending = %v", got)
		}
		_, err := e.svc.Approve(as(doctor), req, approvals.ActionInput{ActionID: aid()})
		wantCode(t, err, core.EConflict)
	})
}

func TestBranches(t *testing.T) {
	flow := approvals.Flow{Admins: []string{admin}, Nodes: []approvals.Node{
		{ID: "start", Kind: approvals.NodeStart, Next: "mgr"},
		{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1, Next: "b"},
		{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{
			{Condition: "amount > 10000", Next: "vp"},
			{Condition: `days_off > 3 || submitter_department in ["` + deptNursing + `"]`, Next: "head"},
		}},
		{ID: "vp", Kind: approvals.NodeApprove, Approver: approvals.ApproverUsers, UserIDs: []string{president}, Next: "end"},
		{ID: "head", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 2, Next: "end"},
		{ID: "end", Kind: approvals.NodeEnd},
	}}
	cases := []struct {
		name  string
		by    string
		form  map[string]any
		route []string
	}{
		{"small amount, short leave", nurse, map[string]any{"amount": 500, "period": map[string]string{"start": "2026-03-02", "end": "2026-03-03"}}, []string{"mgr"}},
		{"large amount goes to the president", nurse, map[string]any{"amount": 10000.01}, []string{"mgr", "vp"}},
		{"exactly 10000 does not", nurse, map[string]any{"amount": 10000}, []string{"mgr"}},
		{"more than 3 days goes up two levels", nurse, map[string]any{"period": map[string]string{"start": "2026-03-02", "end": "2026-03-05"}}, []string{"mgr", "head"}},
		{"3 days does not", nurse, map[string]any{"period": map[string]string{"start": "2026-03-02", "end": "2026-03-04"}}, []string{"mgr"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flow})
			req := e.submit(c.by, "t", c.form)
			var got []string
			for _, s := range e.view(req).Request.Route {
				got = append(got, s.Node)
			}
			if !slices.Equal(got, c.route) {
				t.Fatalf("route = %v, want %v", got, c.route)
			}
		})
	}
}

func TestCCAndEmptySlots(t *testing.T) {
	t.Run("cc copies and does not wait", func(t *testing.T) {
		e := newEnv(t)
		cc := approvals.Node{ID: "cc", Kind: approvals.NodeCC, Approver: approvals.ApproverRole, Role: "hr"}
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(cc, named(users(doctor), "a"))})
		req := e.submit(nurse, "t", map[string]any{})
		v := e.view(req)
		if !slices.Equal(sorted(v.CC...), sorted(hr1, hr2)) || !slices.Equal(e.pending(req), []string{doctor}) {
			t.Fatalf("cc %v pending %v", v.CC, e.pending(req))
		}
		if _, err := e.svc.Get(as(hr1), req); err != nil {
			t.Fatalf("cc'd person cannot read: %v", err)
		}
		if len(e.notes.find("update", "cc")) != 1 {
			t.Fatal("cc'd people were not told")
		}
	})
	for _, c := range []struct {
		rule    approvals.EmptyRule
		action  string
		pending []string
		status  approvals.Status
	}{
		{approvals.EmptySkip, approvals.ActSkip, nil, approvals.StatusApproved},
		{approvals.EmptyAutoApprove, approvals.ActAutoApprove, nil, approvals.StatusApproved},
		{approvals.EmptyToAdmin, approvals.ActApprove, []string{admin}, approvals.StatusPending},
	} {
		t.Run("empty slot "+string(c.rule), func(t *testing.T) {
			e := newEnv(t)
			n := approvals.Node{ID: "a", Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: "nobody", Empty: c.rule}
			e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(n)})
			req := e.submit(nurse, "t", map[string]any{})
			if got := e.pending(req); !slices.Equal(got, c.pending) {
				t.Fatalf("pending = %v want %v", got, c.pending)
			}
			if e.status(req) != c.status {
				t.Fatalf("status = %s", e.status(req))
			}
			if c.rule != approvals.EmptyToAdmin && !slices.Contains(e.actions(req), c.action) {
				t.Fatalf("timeline %v lacks %s", e.actions(req), c.action)
			}
		})
	}
	t.Run("inactive people are not assigned", func(t *testing.T) {
		e := newEnv(t)
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(named(users(doctor, doctor2), "a"))})
		e.dir.inactive[doctor] = true
		req := e.submit(nurse, "t", map[string]any{})
		if got := e.pending(req); !slices.Equal(got, []string{doctor2}) {
			t.Fatalf("pending = %v", got)
		}
	})
}

func TestDirectoryAnswers(t *testing.T) {
	e := newEnv(t)
	e.dir.undefined["matron"] = true
	role := func(r string) approvals.Flow {
		return flowOf(approvals.Node{ID: "r", Kind: approvals.NodeApprove, Approver: approvals.ApproverRole, Role: r})
	}
	_, err := e.svc.SaveTemplate(as(admin), approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: role("matron")})
	if ce, ok := err.(*core.Error); !ok || ce.Code != core.EInvalid || ce.Field != "flow.nodes[1].role" {
		t.Fatalf("unknown role saved: %v", err)
	}
	_, err = e.svc.SaveTemplate(as(admin), approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(named(users(id(999)), "a"))})
	if ce, ok := err.(*core.Error); !ok || ce.Code != core.EInvalid || ce.Field != "flow.nodes[1].user_ids" {
		t.Fatalf("unknown person saved: %v", err)
	}
	// A role removed after the flow was saved is an empty slot, not an error.
	e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: role("hr")})
	e.dir.undefined["hr"] = true
	req := e.submit(nurse, "t", map[string]any{})
	if e.status(req) != approvals.StatusApproved || !slices.Contains(e.actions(req), approvals.ActSkip) {
		t.Fatalf("status %s, timeline %v", e.status(req), e.actions(req))
	}
	// Someone the org chart does not know cannot submit.
	_, err = e.svc.Submit(as(id(998)), approvals.SubmitInput{ActionID: aid(), TemplateCode: "t", Form: []byte(`{}`)})
	wantCode(t, err, core.EForbidden)
}

func TestSameApproverTwiceApprovesOnce(t *testing.T) {
	e := newEnv(t)
	mgr := approvals.Node{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1}
	again := named(users(wardHead), "again")
	both := named(users(wardHead, doctor), "both")
	both.Mode = approvals.Countersign
	e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: flowOf(mgr, again, both)})
	req := e.submit(nurse, "t", map[string]any{})
	e.approve(wardHead, req)
	// "again" is passed over; "both" keeps only the doctor.
	if got := e.pending(req); !slices.Equal(got, []string{doctor}) {
		t.Fatalf("pending = %v", got)
	}
	if !slices.Contains(e.actions(req), approvals.ActDedupApprove) {
		t.Fatalf("timeline %v", e.actions(req))
	}
	e.approve(doctor, req)
	if e.status(req) != approvals.StatusApproved {
		t.Fatal("not approved")
	}
}

func TestFlowValidation(t *testing.T) {
	base := func() approvals.Flow { return flowOf(named(users(doctor), "a")) }
	cases := []struct {
		name  string
		mod   func(f *approvals.Flow)
		field string
	}{
		{"condition does not parse", func(f *approvals.Flow) {
			f.Nodes = append(f.Nodes, approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{{Condition: "amount >>> 3", Next: "end"}}})
			f.Nodes[0].Next = "b"
		}, "flow.nodes[3].branches[0].condition"},
		{"condition is not boolean", func(f *approvals.Flow) {
			f.Nodes = append(f.Nodes, approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{{Condition: "amount + 1", Next: "end"}}})
			f.Nodes[0].Next = "b"
		}, "flow.nodes[3].branches[0].condition"},
		{"condition names an unknown field", func(f *approvals.Flow) {
			f.Nodes = append(f.Nodes, approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{{Condition: "salary > 3", Next: "end"}}})
			f.Nodes[0].Next = "b"
		}, "flow.nodes[3].branches[0].condition"},
		{"condition compares text with a number", func(f *approvals.Flow) {
			f.Nodes = append(f.Nodes, approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "end", Branches: []approvals.Branch{{Condition: "reason > 3", Next: "end"}}})
			f.Nodes[0].Next = "b"
		}, "flow.nodes[3].branches[0].condition"},
		{"unreachable node", func(f *approvals.Flow) {
			f.Nodes = append(f.Nodes, approvals.Node{ID: "lost", Kind: approvals.NodeApprove, Approver: approvals.ApproverUsers, UserIDs: []string{doctor}, Next: "end"})
		}, "flow.nodes[3]"},
		{"no end", func(f *approvals.Flow) { f.Nodes = f.Nodes[:2]; f.Nodes[1].Next = "" }, "flow.nodes[1].next"},
		{"next to nowhere", func(f *approvals.Flow) { f.Nodes[1].Next = "ghost" }, "flow.nodes[1].next"},
		{"cycle", func(f *approvals.Flow) { f.Nodes[1].Next = "a" }, "flow.nodes"},
		{"no start", func(f *approvals.Flow) { f.Nodes = f.Nodes[1:] }, "flow.nodes"},
		{"bad mode", func(f *approvals.Flow) { f.Nodes[1].Mode = "all" }, "flow.nodes[1].mode"},
		{"bad approver", func(f *approvals.Flow) { f.Nodes[1].Approver = "boss" }, "flow.nodes[1].approver"},
		{"manager levels", func(f *approvals.Flow) { f.Nodes[1].Approver = approvals.ApproverManager }, "flow.nodes[1].levels"},
		{"duplicate id", func(f *approvals.Flow) { f.Nodes[1].ID = "start" }, "flow.nodes[1].id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: base()})
			f := base()
			c.mod(&f)
			_, err := e.svc.SaveFlow(as(admin), "t", f)
			var ce *core.Error
			if !core.IsCode(err, core.EInvalid) {
				t.Fatalf("want invalid, got %v", err)
			}
			ce = err.(*core.Error)
			if ce.Field != c.field {
				t.Fatalf("field = %q, want %q (%v)", ce.Field, c.field, err)
			}
			tm, _ := e.svc.Template(as(admin), "t", 0)
			if tm.Version != 1 {
				t.Fatal("a bad flow created a version")
			}
		})
	}
	t.Run("non-admins cannot save flows", func(t *testing.T) {
		e := newEnv(t)
		e.template(approvals.TemplateInput{Code: "t", Name: "T", Schema: simpleSchema, Flow: base()})
		_, err := e.svc.SaveFlow(as(nurse), "t", base())
		wantCode(t, err, core.EForbidden)
		if len(e.audit.entries) != 2 || e.audit.entries[1].Result != "denied" {
			t.Fatalf("audit = %+v", e.audit.entries)
		}
	})
}
