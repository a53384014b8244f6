package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// approvalOutcome is the part of approvals.Outcome the tool reads.
type approvalOutcome struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Replayed  bool   `json:"replayed"`
}

// approvalsScenario makes load user LB00000 head of 压测科, so the built-in
// overtime flow ("direct manager") routes every other load user's request
// to them, then at rate submits an overtime request from a random load user
// and has the head approve it, both with action ids. It reports submit,
// approve and end-to-end latency; every approve must end the request
// approved.
func approvalsScenario(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts
	if len(accs) < 2 {
		return fmt.Errorf("approvals needs at least 2 users")
	}
	admin := cache.Admin.Token
	dept, err := loadDepartment(ctx, c, admin, cache.OrgID)
	if err != nil {
		return err
	}
	head := accs[0]
	if err := c.Do(ctx, admin, "PATCH", "/api/v1/orgs/"+cache.OrgID+"/staff/"+head.ID, map[string]any{"head_of": []string{dept}}, nil); err != nil {
		return fmt.Errorf("make %s head of 压测科: %w", head.Login, err)
	}
	form := map[string]any{"day": time.Now().Format("2006-01-02"), "from": "18:00", "to": "20:00", "hours": 2, "compensation": "pay", "reason": "压测 加班"}
	run := time.Now().Format("0102-150405")
	var mu sync.Mutex
	var subLat, aprLat, e2e []float64
	var ok, errs atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	if o.submitRate > 0 {
		return approvalsMix(ctx, c, o, accs, head, form, run, summary)
	}
	start := time.Now()
	issued := pacer(ctx, o.rate, o.duration, o.senders, func(i int) {
		who := accs[1+rand.IntN(len(accs)-1)]
		t := time.Now()
		var sub approvalOutcome
		if err := c.Do(ctx, who.Token, "POST", "/api/v1/approvals/requests", map[string]any{
			"action_id": fmt.Sprintf("lb-sub-%s-%d", run, i), "template_code": "overtime", "form": form}, &sub); err != nil {
			fail(err)
			return
		}
		t2 := time.Now()
		var apr approvalOutcome
		if err := c.Do(ctx, head.Token, "POST", "/api/v1/approvals/requests/"+sub.RequestID+"/approve", map[string]any{
			"action_id": fmt.Sprintf("lb-apr-%s-%d", run, i), "comment": "同意"}, &apr); err != nil {
			fail(fmt.Errorf("approve %s: %w", sub.RequestID, err))
			return
		}
		t3 := time.Now()
		if apr.Status != "approved" {
			fail(fmt.Errorf("request %s is %s after the head's approval", sub.RequestID, apr.Status))
			return
		}
		ok.Add(1)
		mu.Lock()
		subLat = append(subLat, float64(t2.Sub(t).Microseconds())/1000)
		aprLat = append(aprLat, float64(t3.Sub(t2).Microseconds())/1000)
		e2e = append(e2e, float64(t3.Sub(t).Microseconds())/1000)
		mu.Unlock()
	})
	wall := time.Since(start)
	summary["rate"] = o.rate
	summary["duration_s"] = o.duration.Seconds()
	summary["issued"] = issued
	summary["approved"] = ok.Load()
	summary["errors"] = errs.Load()
	summary["approved_per_s"] = round(float64(ok.Load()) / wall.Seconds())
	summary["submit_latency_ms"] = summarize(subLat)
	summary["approve_latency_ms"] = summarize(aprLat)
	summary["submit_to_approved_ms"] = summarize(e2e)
	if e := firstErr.Load(); e != nil {
		summary["first_error"] = e
		return fmt.Errorf("%d of %d approvals failed: %v", errs.Load(), issued, e)
	}
	return nil
}

// approvalsMix: the head first has rate × duration requests waiting
// (submitted before the clock starts, not measured); then, for duration,
// staff submit at submitRate while the head approves the backlog at rate,
// both at once — the mix of issue #5's target (300 submissions and 1,000
// approvals a second).
func approvalsMix(ctx context.Context, c *client.Client, o options, accs []account, head account, form map[string]any, run string, summary map[string]any) error {
	n := int(o.rate * o.duration.Seconds())
	backlog := make([]string, n)
	var setupErr atomic.Value
	logf("submitting a backlog of %d requests for the head", n)
	next := make(chan int)
	var setup sync.WaitGroup
	for range o.senders {
		setup.Add(1)
		go func() {
			defer setup.Done()
			for i := range next {
				who := accs[1+rand.IntN(len(accs)-1)]
				var sub approvalOutcome
				if err := c.Do(ctx, who.Token, "POST", "/api/v1/approvals/requests", map[string]any{
					"action_id": fmt.Sprintf("lb-bl-%s-%d", run, i), "template_code": "overtime", "form": form}, &sub); err != nil {
					setupErr.CompareAndSwap(nil, err.Error())
					continue
				}
				backlog[i] = sub.RequestID
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	setup.Wait()
	if e := setupErr.Load(); e != nil {
		return fmt.Errorf("backlog: %v", e)
	}
	var mu sync.Mutex
	var subLat, aprLat []float64
	var subOK, aprOK, errs atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	start := time.Now()
	var wg sync.WaitGroup
	var subIssued, aprIssued int64
	wg.Add(2)
	go func() {
		defer wg.Done()
		subIssued = pacer(ctx, o.submitRate, o.duration, o.senders/2, func(i int) {
			who := accs[1+rand.IntN(len(accs)-1)]
			t := time.Now()
			if err := c.Do(ctx, who.Token, "POST", "/api/v1/approvals/requests", map[string]any{
				"action_id": fmt.Sprintf("lb-sub-%s-%d", run, i), "template_code": "overtime", "form": form}, nil); err != nil {
				fail(err)
				return
			}
			subOK.Add(1)
			mu.Lock()
			subLat = append(subLat, float64(time.Since(t).Microseconds())/1000)
			mu.Unlock()
		})
	}()
	go func() {
		defer wg.Done()
		aprIssued = pacer(ctx, o.rate, o.duration, o.senders/2, func(i int) {
			if i >= len(backlog) {
				return
			}
			t := time.Now()
			var apr approvalOutcome
			if err := c.Do(ctx, head.Token, "POST", "/api/v1/approvals/requests/"+backlog[i]+"/approve", map[string]any{
				"action_id": fmt.Sprintf("lb-apr-%s-%d", run, i), "comment": "同意"}, &apr); err != nil {
				fail(fmt.Errorf("approve %s: %w", backlog[i], err))
				return
			}
			if apr.Status != "approved" {
				fail(fmt.Errorf("request %s is %s after the head's approval", backlog[i], apr.Status))
				return
			}
			aprOK.Add(1)
			mu.Lock()
			aprLat = append(aprLat, float64(time.Since(t).Microseconds())/1000)
			mu.Unlock()
		})
	}()
	wg.Wait()
	wall := time.Since(start)
	summary["rate"] = o.rate
	summary["submit_rate"] = o.submitRate
	summary["duration_s"] = o.duration.Seconds()
	summary["backlog"] = n
	summary["issued"] = subIssued + aprIssued
	summary["submitted"] = subOK.Load()
	summary["approved"] = aprOK.Load()
	summary["errors"] = errs.Load()
	summary["submitted_per_s"] = round(float64(subOK.Load()) / wall.Seconds())
	summary["approved_per_s"] = round(float64(aprOK.Load()) / wall.Seconds())
	summary["actions_per_s"] = round(float64(subOK.Load()+aprOK.Load()) / wall.Seconds())
	summary["submit_latency_ms"] = summarize(subLat)
	summary["approve_latency_ms"] = summarize(aprLat)
	if e := firstErr.Load(); e != nil {
		summary["first_error"] = e
		return fmt.Errorf("%d actions failed: %v", errs.Load(), e)
	}
	return nil
}
