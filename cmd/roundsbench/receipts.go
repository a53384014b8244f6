package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// receipts runs read-receipt storms: the sender posts one message to a
// group of group-size, every other member reads it within one second, and
// the sender's WebSocket watches `receipts` events until its count of
// readers reaches everyone. Convergence is measured from the last read's
// acknowledgement to the moment the sender's count is complete.
func receipts(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts[:o.groupSize]
	sender := accs[0]
	var ids []string
	for _, a := range accs[1:] {
		ids = append(ids, a.ID)
	}
	conv, err := c.CreateGroup(ctx, sender.Token, "压测 已读风暴 "+time.Now().Format("0102-150405"), ids)
	if err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	var mu sync.Mutex
	readSeq := map[string]int64{}
	target := int64(-1)
	var converged time.Time
	others := len(accs) - 1
	count := func() int {
		n := 0
		for uid, s := range readSeq {
			if uid != sender.ID && s >= target {
				n++
			}
		}
		return n
	}
	var receiptEvents atomic.Int64
	var rs []*receiver
	for i, a := range accs {
		var on func(r *receiver, ev client.Event, at time.Time)
		if i == 0 {
			on = func(_ *receiver, ev client.Event, at time.Time) {
				if ev.Event != "receipts" || ev.ConversationID != conv.ID {
					return
				}
				receiptEvents.Add(1)
				var d struct {
					Readers []struct {
						UserID  string `json:"user_id"`
						ReadSeq int64  `json:"read_seq"`
					} `json:"readers"`
				}
				if json.Unmarshal(ev.Data, &d) != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range d.Readers {
					if r.ReadSeq > readSeq[r.UserID] {
						readSeq[r.UserID] = r.ReadSeq
					}
				}
				if target > 0 && converged.IsZero() && count() == others {
					converged = at
				}
			}
		}
		rs = append(rs, newReceiver(i, o.url, a.Token, on))
	}
	rctx, cancelReceivers := context.WithCancel(ctx)
	defer cancelReceivers()
	t0 := time.Now()
	if err := connectAll(rctx, rs); err != nil {
		return err
	}
	logf("%d WebSockets ready in %s", len(rs), time.Since(t0).Round(time.Millisecond))

	var convergeMs, fromStartMs, stormMs, readLat []float64
	var readErrs atomic.Int64
	unconverged := 0
	var failures []string
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		before := postedTotal.Load()
		m, err := c.Send(ctx, sender.Token, conv.ID, fmt.Sprintf("lb-rc-%d-%d", t0.UnixNano(), round),
			fmt.Sprintf("lb t=%d 第%d轮 请全员阅读 read-receipt storm", time.Now().UnixNano(), round))
		if err != nil {
			return fmt.Errorf("round %d send: %w", round, err)
		}
		for w := time.Now().Add(10 * time.Second); postedTotal.Load()-before < int64(len(rs)) && time.Now().Before(w); {
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		target, converged = m.Seq, time.Time{}
		mu.Unlock()
		// Every other member reads within one second, evenly spread.
		stormStart := time.Now()
		var lastAck atomic.Int64
		var wg sync.WaitGroup
		var latMu sync.Mutex
		for j, a := range accs[1:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := stormStart.Add(time.Duration(j) * time.Second / time.Duration(others))
				time.Sleep(time.Until(at))
				t := time.Now()
				if err := c.Read(ctx, a.Token, conv.ID, m.Seq); err != nil {
					readErrs.Add(1)
					return
				}
				done := time.Now()
				latMu.Lock()
				readLat = append(readLat, float64(done.Sub(t).Microseconds())/1000)
				if done.UnixNano() > lastAck.Load() {
					lastAck.Store(done.UnixNano())
				}
				latMu.Unlock()
			}()
		}
		wg.Wait()
		last := time.Unix(0, lastAck.Load())
		stormMs = append(stormMs, float64(last.Sub(stormStart).Microseconds())/1000)
		var conv time.Time
		for w := time.Now().Add(10 * time.Second); time.Now().Before(w); time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			conv = converged
			mu.Unlock()
			if !conv.IsZero() {
				break
			}
		}
		if conv.IsZero() {
			unconverged++
			mu.Lock()
			failures = append(failures, fmt.Sprintf("round %d: sender saw %d of %d readers", round, count(), others))
			mu.Unlock()
		} else {
			// Negative: the sender's count was complete before the last
			// read's HTTP answer came back.
			convergeMs = append(convergeMs, float64(conv.Sub(last).Microseconds())/1000)
			fromStartMs = append(fromStartMs, float64(conv.Sub(stormStart).Microseconds())/1000)
		}
		rc, err := c.Receipt(ctx, sender.Token, m.ID)
		if err != nil {
			return fmt.Errorf("round %d receipt: %w", round, err)
		}
		if rc.ReadCount != others {
			failures = append(failures, fmt.Sprintf("round %d: receipt read_count %d, want %d", round, rc.ReadCount, others))
		}
		logf("round %d: reads took %.0f ms, sender converged %v after the last read, receipt read_count %d",
			round, stormMs[len(stormMs)-1], conv.Sub(last).Round(time.Millisecond), rc.ReadCount)
	}
	cancelReceivers()
	summary["group_size"] = o.groupSize
	summary["rounds"] = o.rounds
	summary["read_storm_ms"] = summarize(stormMs)
	summary["convergence_after_last_read_ms"] = summarize(convergeMs)
	summary["convergence_after_storm_start_ms"] = summarize(fromStartMs)
	summary["read_ack_latency_ms"] = summarize(readLat)
	summary["read_errors"] = readErrs.Load()
	summary["unconverged_rounds"] = unconverged
	summary["receipt_events_at_sender"] = receiptEvents.Load()
	summary["failures"] = failures
	if len(failures) > 0 || readErrs.Load() > 0 {
		return fmt.Errorf("receipts: %v (%d read errors)", failures, readErrs.Load())
	}
	return nil
}
