package durability_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

func TestApprovalsSurviveSIGKILL(t *testing.T) {
	cycles := enabled(t)
	bin := buildServer(t)
	for _, name := range []string{"sqlite", "postgres"} {
		env, ok := backends(t)[name]
		t.Run(name, func(t *testing.T) {
			if !ok {
				t.Skip("ROUNDS_TEST_POSTGRES is not set")
			}
			// Notices left unposted by a kill are posted again after 2 s
			// (the default minute would make the test wait).
			approvalsDurability(t, newServer(t, bin, append(env(t), "ROUNDS_APPROVALS_NOTICE_RETRY_AFTER=2s")...), cycles)
		})
	}
}

type approvalView struct {
	Request struct {
		ID          string `json:"id"`
		SubmitterID string `json:"submitter_id"`
		Status      string `json:"status"`
	} `json:"request"`
	Tasks []struct {
		AssigneeID string `json:"assignee_id"`
		State      string `json:"state"`
	} `json:"tasks"`
	Timeline []struct {
		ActorID string `json:"actor_id"`
		Action  string `json:"action"`
	} `json:"timeline"`
}

type outcome struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Replayed  bool   `json:"replayed"`
}

// approvalsDurability: a nurse of 心内一病区 (jcyy.10067) submits overtime
// requests and her head nurse (jcyy.10065), the flow's one approver,
// approves each, every action with an action id, retried with the same id
// until acknowledged while the server is killed. Afterwards every
// acknowledged submit is one request, approved once, and there are no
// others; and each request's chat cards reached both of them exactly once —
// the task card the head nurse, the approved card the nurse — although the
// server was killed between committing actions and posting their cards;
// and attendance counts each request's overtime once.
func approvalsDurability(t *testing.T, srv *server, cycles int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	srv.start(ctx)
	c := client.New(srv.base())
	nurse, nurseUser, err := c.SignIn(ctx, "jcyy.10067", demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	head, headUser, err := c.SignIn(ctx, "jcyy.10065", demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	form := map[string]any{"day": "2026-11-26", "from": "18:00", "to": "20:00", "hours": 2, "compensation": "pay", "reason": "抢救加班"}

	// act retries one action with its id until the server answers.
	act := func(token, path string, body map[string]any) (outcome, error) {
		for {
			var out outcome
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.Do(sctx, token, "POST", path, body, &out)
			scancel()
			if err == nil {
				return out, nil
			}
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && apiErr.Status < 500 && apiErr.Status != 429 {
				return out, err
			}
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	const workers = 8
	var mu sync.Mutex
	submitted := map[string]string{} // submit action id → request id
	approved := map[string]bool{}    // request id → approval acknowledged
	var replays atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				sid := fmt.Sprintf("sub-%d-%d", w, n)
				out, err := act(nurse, "/api/v1/approvals/requests", map[string]any{"action_id": sid, "template_code": "overtime", "form": form})
				if err != nil {
					t.Errorf("submit %s: %v", sid, err)
					return
				}
				mu.Lock()
				submitted[sid] = out.RequestID
				mu.Unlock()
				aid := fmt.Sprintf("apr-%d-%d", w, n)
				out2, err := act(head, "/api/v1/approvals/requests/"+out.RequestID+"/approve", map[string]any{"action_id": aid, "comment": "同意"})
				if err != nil {
					t.Errorf("approve %s (%s): %v", aid, out.RequestID, err)
					return
				}
				if out2.Replayed {
					replays.Add(1)
				}
				if out2.Status != "approved" || out2.RequestID != out.RequestID {
					t.Errorf("approve %s answered %+v", aid, out2)
				}
				mu.Lock()
				approved[out.RequestID] = true
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	killCycles(ctx, t, srv, cycles, func() int { mu.Lock(); defer mu.Unlock(); return len(approved) })
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}

	// One request per acknowledged submit.
	byRequest := map[string]string{}
	for sid, rid := range submitted {
		if other, dup := byRequest[rid]; dup {
			t.Errorf("submits %s and %s answered the same request %s", sid, other, rid)
		}
		byRequest[rid] = sid
	}
	// The nurse's submitted list holds exactly those requests: a retry
	// that created a second request would show here.
	listed := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := c.Do(ctx, nurse, "GET", "/api/v1/approvals/me/submitted?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if listed[it.ID] {
				t.Errorf("request %s listed twice", it.ID)
			}
			listed[it.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(listed) != len(submitted) {
		t.Errorf("%d submits acknowledged, %d requests exist", len(submitted), len(listed))
	}
	for rid := range listed {
		if _, ok := byRequest[rid]; !ok {
			t.Errorf("request %s exists but no submit was acknowledged for it", rid)
		}
	}
	// Each is approved, with exactly one approve by the head nurse.
	for rid := range byRequest {
		var v approvalView
		if err := c.Do(ctx, nurse, "GET", "/api/v1/approvals/requests/"+rid, nil, &v); err != nil {
			t.Fatalf("request %s: %v", rid, err)
		}
		if v.Request.Status != "approved" || v.Request.SubmitterID != nurseUser.ID {
			t.Errorf("request %s: status %s, submitter %s", rid, v.Request.Status, v.Request.SubmitterID)
		}
		approves, submits := 0, 0
		for _, e := range v.Timeline {
			switch e.Action {
			case "approve":
				approves++
				if e.ActorID != headUser.ID {
					t.Errorf("request %s approved by %s", rid, e.ActorID)
				}
			case "submit":
				submits++
			}
		}
		if approves != 1 || submits != 1 {
			t.Errorf("request %s: timeline has %d submits and %d approves, want 1 and 1", rid, submits, approves)
		}
	}
	t.Logf("%d kills in %s: %d requests submitted and approved (%.0f/s), %d approvals answered as replays",
		cycles, elapsed.Round(time.Millisecond), len(submitted), float64(len(submitted))/elapsed.Seconds(), replays.Load())

	// The cards: posted after each commit, or by a later sweep when a kill
	// came in between; never twice.
	want := func(cards map[string]int, reason string) (missing, doubled []string) {
		for rid := range byRequest {
			switch n := cards[rid+"/"+reason]; {
			case n == 0:
				missing = append(missing, rid)
			case n > 1:
				doubled = append(doubled, fmt.Sprintf("%s ×%d", rid, n))
			}
		}
		return missing, doubled
	}
	var headMissing, nurseMissing, headDoubled, nurseDoubled []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		headMissing, headDoubled = want(approvalCards(ctx, t, c, head), "assigned")
		nurseMissing, nurseDoubled = want(approvalCards(ctx, t, c, nurse), "approved")
		if len(headMissing)+len(nurseMissing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(headMissing)+len(nurseMissing)+len(headDoubled)+len(nurseDoubled) > 0 {
		t.Errorf("task cards missing for %d requests %v, doubled %v; approved cards missing for %d %v, doubled %v",
			len(headMissing), headMissing, headDoubled, len(nurseMissing), nurseMissing, nurseDoubled)
	}
	t.Logf("cards: %d task cards to the head nurse and %d approved cards to the nurse, none missing or doubled", len(byRequest), len(byRequest))

	// Each approved request's overtime counted in attendance exactly once
	// (two hours each), although effects too were cut off by the kills.
	want2 := 120 * len(byRequest)
	var month struct {
		Summary struct {
			OvertimeMinutes int `json:"overtime_minutes"`
		} `json:"summary"`
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		if err := c.Do(ctx, nurse, "GET", "/api/v1/me/attendance/2026-11", nil, &month); err != nil {
			t.Fatalf("attendance: %v", err)
		}
		if month.Summary.OvertimeMinutes >= want2 || time.Now().After(deadline) {
			break
		}
	}
	if month.Summary.OvertimeMinutes != want2 {
		t.Errorf("attendance counts %d overtime minutes, want %d (120 for each of %d approved requests)", month.Summary.OvertimeMinutes, want2, len(byRequest))
	}
}

// approvalCards counts the approval cards a person received in chat, by
// request id and reason ("<request>/<reason>").
func approvalCards(ctx context.Context, t *testing.T, c *client.Client, token string) map[string]int {
	t.Helper()
	var convs struct {
		Items []client.Conversation `json:"items"`
	}
	if err := c.Do(ctx, token, "GET", "/api/v1/im/conversations?limit=200", nil, &convs); err != nil {
		t.Fatalf("conversations: %v", err)
	}
	out := map[string]int{}
	for _, conv := range convs.Items {
		if conv.Kind != "direct" {
			continue
		}
		msgs, err := c.History(ctx, token, conv.ID)
		if err != nil {
			t.Fatalf("history of %s: %v", conv.ID, err)
		}
		for _, m := range msgs {
			var card struct {
				Type      string `json:"type"`
				RequestID string `json:"request_id"`
				Reason    string `json:"reason"`
			}
			if json.Unmarshal([]byte(m.Text), &card) == nil && card.Type == "approval" {
				out[card.RequestID+"/"+card.Reason]++
			}
		}
	}
	return out
}
