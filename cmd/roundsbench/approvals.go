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
