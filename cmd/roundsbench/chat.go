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

type group struct {
	conv    client.Conversation
	members []int // indexes into the accounts
	mu      sync.Mutex
	acked   []int64 // seqs the server acknowledged
}

// chat runs fanout (one group of group-size) and mixed (users split into
// groups of group-size, random senders, 1 in 10 receivers moving their read
// position) and checks every acknowledged message reached every member once.
func chat(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts
	var groups []*group
	if o.scenario == "fanout" {
		g := &group{}
		for i := 0; i < o.groupSize; i++ {
			g.members = append(g.members, i)
		}
		groups = append(groups, g)
	} else {
		for start := 0; start+1 < len(accs); start += o.groupSize {
			g := &group{}
			for i := start; i < min(start+o.groupSize, len(accs)); i++ {
				g.members = append(g.members, i)
			}
			groups = append(groups, g)
		}
	}
	run := time.Now().Format("0102-150405")
	for gi, g := range groups {
		owner := accs[g.members[0]]
		var ids []string
		for _, m := range g.members[1:] {
			ids = append(ids, accs[m].ID)
		}
		conv, err := c.CreateGroup(ctx, owner.Token, fmt.Sprintf("压测 %s %s #%d", o.scenario, run, gi), ids)
		if err != nil {
			return fmt.Errorf("create group %d: %w", gi, err)
		}
		g.conv = conv
	}
	inGroups := map[int]bool{}
	for _, g := range groups {
		for _, m := range g.members {
			inGroups[m] = true
		}
	}
	var reads atomic.Int64
	var readErrs atomic.Int64
	readQ := make(chan func(), 4096)
	var rs []*receiver
	for i := range accs {
		if !inGroups[i] {
			continue
		}
		r := newReceiver(i, o.url, accs[i].Token, nil)
		if o.scenario == "mixed" {
			tok := accs[i].Token
			r.onPosted = func(m client.Message) {
				if m.Seq%10 != int64(r.idx%10) {
					return
				}
				select {
				case readQ <- func() {
					if err := c.Read(ctx, tok, m.ConversationID, m.Seq); err != nil {
						readErrs.Add(1)
					}
					reads.Add(1)
				}:
				default:
				}
			}
		}
		rs = append(rs, r)
	}
	rctx, cancelReceivers := context.WithCancel(ctx)
	defer cancelReceivers()
	t0 := time.Now()
	if err := connectAll(rctx, rs); err != nil {
		return err
	}
	logf("%d WebSockets ready in %s across %d groups", len(rs), time.Since(t0).Round(time.Millisecond), len(groups))
	var readWG sync.WaitGroup
	for w := 0; w < 8; w++ {
		readWG.Add(1)
		go func() {
			defer readWG.Done()
			for f := range readQ {
				f()
			}
		}()
	}

	var sent, acked, sendErrs atomic.Int64
	var ackLat []float64
	var ackMu sync.Mutex
	start := time.Now()
	issued := pacer(ctx, o.rate, o.duration, o.senders, func(i int) {
		g := groups[rand.IntN(len(groups))]
		from := accs[g.members[rand.IntN(len(g.members))]]
		t := time.Now()
		text := fmt.Sprintf("lb t=%d 第%d条 查房记录 load message", t.UnixNano(), i)
		sent.Add(1)
		m, err := c.Send(ctx, from.Token, g.conv.ID, fmt.Sprintf("lb-%s-%d", run, i), text)
		if err != nil {
			sendErrs.Add(1)
			return
		}
		acked.Add(1)
		g.mu.Lock()
		g.acked = append(g.acked, m.Seq)
		g.mu.Unlock()
		ackMu.Lock()
		ackLat = append(ackLat, float64(time.Since(t).Microseconds())/1000)
		ackMu.Unlock()
	})
	sendWall := time.Since(start)
	logf("sent %d (%d acked, %d errors) in %s; draining", sent.Load(), acked.Load(), sendErrs.Load(), sendWall.Round(time.Millisecond))

	// Wait for deliveries: until every member holds every acknowledged seq
	// or the drain time passes. Receivers' maps are read only after they
	// stop, so poll the expected total through the positions instead.
	expected := int64(0)
	for _, g := range groups {
		expected += int64(len(g.acked) * len(g.members))
	}
	deadline := time.Now().Add(o.drain)
	for time.Now().Before(deadline) {
		if deliveredSoFar(rs) >= expected {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancelReceivers()
	time.Sleep(200 * time.Millisecond) // let the read loops return
	close(readQ)
	readWG.Wait()

	lost, dup, delivered := int64(0), int64(0), int64(0)
	var lat []float64
	byIdx := map[int]*receiver{}
	for _, r := range rs {
		byIdx[r.idx] = r
		lat = append(lat, r.lat...)
		dup += r.sub.Repeats.Load()
	}
	for _, g := range groups {
		for _, mi := range g.members {
			r := byIdx[mi]
			s := r.seen[g.conv.ID]
			for _, seq := range g.acked {
				n := 0
				if seq < int64(len(s)) {
					n = int(s[seq])
				}
				if n == 0 {
					lost++
				}
				if n > 1 {
					dup += int64(n - 1)
				}
			}
			for _, n := range s {
				delivered += int64(n)
			}
		}
	}
	reconnects := int64(0)
	for _, r := range rs {
		reconnects += r.sub.Reconnects.Load()
	}
	summary["groups"] = len(groups)
	summary["group_size"] = o.groupSize
	summary["rate"] = o.rate
	summary["duration_s"] = o.duration.Seconds()
	summary["issued"] = issued
	summary["sent"] = sent.Load()
	summary["acked"] = acked.Load()
	summary["send_errors"] = sendErrs.Load()
	summary["send_rate"] = round(float64(acked.Load()) / sendWall.Seconds())
	summary["expected_deliveries"] = expected
	summary["delivered"] = delivered
	summary["lost"] = lost
	summary["duplicates"] = dup
	summary["reconnects"] = reconnects
	summary["deliveries_per_s"] = round(float64(delivered) / sendWall.Seconds())
	summary["fanout_latency_ms"] = summarize(lat)
	summary["send_ack_latency_ms"] = summarize(ackLat)
	if o.scenario == "mixed" {
		summary["reads"] = reads.Load()
		summary["read_errors"] = readErrs.Load()
	}
	if lost > 0 || dup > 0 {
		return fmt.Errorf("%d lost and %d doubled deliveries", lost, dup)
	}
	return nil
}

// deliveredSoFar counts message.posted events received by everyone.
func deliveredSoFar(_ []*receiver) int64 { return postedTotal.Load() }
