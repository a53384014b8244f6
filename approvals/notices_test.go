package approvals_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
)

func (e *env) outbox() []approvals.Notice {
	e.t.Helper()
	ns, err := e.store.Notices(context.Background(), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

func (e *env) setChat(err error) {
	e.notes.mu.Lock()
	e.notes.down = err
	e.notes.mu.Unlock()
}

func TestNoticesArePostedOnceAndForgotten(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	req := e.submit(nurse, "t", map[string]any{})
	if got := e.notes.find("task", "assigned"); len(got) != 1 || got[0].request != req || !slices.Equal(got[0].who, []string{wardHead}) {
		t.Fatalf("task notices = %+v", got)
	}
	if ns := e.outbox(); len(ns) != 1 || !ns[0].Task || ns[0].Reason != "assigned" {
		t.Fatalf("outbox before the sweep = %+v", ns)
	}
	n, err := e.svc.SweepNotices(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("sweep: posted again %d, %v", n, err)
	}
	if ns := e.outbox(); len(ns) != 0 {
		t.Fatalf("outbox after the sweep = %+v", ns)
	}
	e.clock.Add(time.Hour)
	if n, err := e.svc.SweepNotices(context.Background()); err != nil || n != 0 {
		t.Fatalf("a later sweep posted %d again, %v", n, err)
	}
	for id, k := range e.notes.ids {
		if k != 1 {
			t.Fatalf("notice %s posted %d times", id, k)
		}
	}
}

func TestNoticeNotPostedIsPostedLater(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	e.setChat(core.Errorf(core.EUnavailable, "chat is down"))
	req := e.submit(nurse, "t", map[string]any{}) // the action itself succeeds
	if e.status(req) != approvals.StatusPending || len(e.notes.find("task", "assigned")) != 0 {
		t.Fatalf("status %s, notices %+v", e.status(req), e.notes.notes)
	}
	e.setChat(nil)
	// Too young: the node that wrote it may still be posting it.
	if n, err := e.svc.SweepNotices(context.Background()); err != nil || n != 0 {
		t.Fatalf("young notice posted by the sweep: %d, %v", n, err)
	}
	e.clock.Add(approvals.DefaultNoticeRetryAfter + time.Second)
	n, err := e.svc.SweepNotices(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep posted %d, %v; want 1", n, err)
	}
	if got := e.notes.find("task", "assigned"); len(got) != 1 || got[0].request != req || !slices.Equal(got[0].who, []string{wardHead}) {
		t.Fatalf("task notices = %+v", got)
	}
	if ns := e.outbox(); len(ns) != 0 {
		t.Fatalf("outbox after posting = %+v", ns)
	}
}

func TestFailedActionLeavesNoNotice(t *testing.T) {
	e := newEnv(t)
	threeSteps(e)
	req := e.submit(nurse, "t", map[string]any{})
	before := len(e.outbox())
	// doctor2 is no assignee: refused, nothing written.
	_, err := e.svc.Approve(as(doctor2), req, approvals.ActionInput{ActionID: aid()})
	wantCode(t, err, core.EForbidden)
	if after := len(e.outbox()); after != before {
		t.Fatalf("outbox %d → %d after a refused action", before, after)
	}
}

type recFinisher struct {
	mu       sync.Mutex
	down     error
	attempts int
	calls    map[string][]approvals.Status // request → statuses it was called with
}

func (f *recFinisher) RequestFinished(_ context.Context, ev approvals.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.down != nil {
		return f.down
	}
	f.calls[ev.RequestID] = append(f.calls[ev.RequestID], ev.Status)
	return nil
}

// callsFor waits up to wait (the Finisher runs off the acting request)
// until the request has n calls, and returns them.
func (f *recFinisher) callsFor(t *testing.T, req string, n int, wait time.Duration) []approvals.Status {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		got := slices.Clone(f.calls[req])
		f.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
	}
}

func TestFinisherIsCalledOnceAndRedoneWhenItFailed(t *testing.T) {
	e := newEnv(t)
	fin := &recFinisher{calls: map[string][]approvals.Status{}}
	svc, err := approvals.New(approvals.Options{Store: e.store, Directory: e.dir, Authorizer: e.authz, Notifier: e.notes,
		Finisher: fin, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.template(approvals.TemplateInput{Code: "one", Name: "One step", Schema: simpleSchema,
		Flow: flowOf(approvals.Node{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1})})

	// Finishing calls it once, after commit; a sweep does not call it again.
	req := e.submit(nurse, "one", map[string]any{})
	if len(fin.calls) != 0 {
		t.Fatalf("called before the request finished: %v", fin.calls)
	}
	e.approve(wardHead, req)
	if got := fin.callsFor(t, req, 1, 5*time.Second); !slices.Equal(got, []approvals.Status{approvals.StatusApproved}) {
		t.Fatalf("calls for %s = %v", req, got)
	}
	e.clock.Add(time.Hour)
	if _, err := svc.SweepNotices(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fin.callsFor(t, req, 2, 200*time.Millisecond); len(got) != 1 {
		t.Fatalf("a sweep called it again: %v", got)
	}

	// The roster refuses at first: the approval stands, the sweep redoes it.
	fin.mu.Lock()
	fin.down = core.Errorf(core.EUnavailable, "the roster is busy")
	fin.mu.Unlock()
	req2 := e.submit(nurse, "one", map[string]any{})
	if out := e.approve(wardHead, req2); out.Status != approvals.StatusApproved {
		t.Fatalf("approve answered %+v", out)
	}
	// The refused call runs off the request: wait until it was made.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		fin.mu.Lock()
		n := fin.attempts
		fin.mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if got := fin.callsFor(t, req2, 1, 0); len(got) != 0 {
		t.Fatalf("a refused call counted: %v", got)
	}
	fin.mu.Lock()
	fin.down = nil
	fin.mu.Unlock()
	e.clock.Add(approvals.DefaultNoticeRetryAfter + time.Second)
	if _, err := svc.SweepNotices(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fin.callsFor(t, req2, 1, 5*time.Second); !slices.Equal(got, []approvals.Status{approvals.StatusApproved}) {
		t.Fatalf("calls for %s after the sweep = %v", req2, got)
	}
	if ns := e.outbox(); len(ns) != 0 {
		t.Fatalf("outbox after the sweep = %+v", ns)
	}
}
