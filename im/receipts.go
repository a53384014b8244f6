package im

import (
	"context"
	"sort"
	"time"

	"github.com/roundshq/rounds/core"
)

// MarkRead moves the actor's read position in a conversation forward to seq
// (a position beyond the last message is clamped; going back is ignored).
// The actor's other devices get a personal read.position event at once; the
// other members get the change in a receipts event batched over the
// receipt window.
func (s *Service) MarkRead(ctx context.Context, a core.Actor, convID string, seq int64) (ReadPosition, error) {
	uid, err := actorUser(a)
	if err != nil {
		return ReadPosition{}, err
	}
	if seq < 1 {
		return ReadPosition{}, core.Invalid("seq", "seq must be a message seq (1 or more)")
	}
	var rp ReadPosition
	var evs []Event
	var receiptsOn, changed bool
	err = s.store.InTx(ctx, func(tx Tx) error {
		c, _, err := membership(ctx, tx, convID, uid)
		if err != nil {
			return err
		}
		if seq > c.LastSeq {
			seq = c.LastSeq
		}
		receiptsOn = !c.ReceiptsOff
		if changed, err = tx.AdvanceRead(ctx, convID, uid, seq); err != nil {
			return err
		}
		m, err := tx.Member(ctx, convID, uid)
		if err != nil {
			return err
		}
		receiptsOn = receiptsOn && !m.IsBot() // a bot is no reader
		rp = ReadPosition{ConversationID: convID, ReadSeq: m.ReadSeq}
		if rp.Unread, err = tx.Unread(ctx, convID, uid); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		evs, err = tx.Append(ctx, Event{Type: EvReadPosition, ConversationID: convID, UserID: uid, Data: mustJSON(rp)})
		return err
	})
	if err != nil {
		return ReadPosition{}, err
	}
	s.notify(ctx, evs)
	if changed && receiptsOn {
		s.queueReceipt(convID, uid, rp.ReadSeq)
	}
	return rp, nil
}

// queueReceipt coalesces read-position changes per conversation. The first
// change starts the window; what arrives within it — and while its batch is
// being written — leaves together, so there is at most one receipts event
// per conversation per window however many members read.
func (s *Service) queueReceipt(convID, userID string, seq int64) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.closed {
		return
	}
	byUser := s.pending[convID]
	if byUser == nil {
		byUser = map[string]int64{}
		s.pending[convID] = byUser
	}
	if seq > byUser[userID] {
		byUser[userID] = seq
	}
	if !s.scheduled {
		s.scheduleLocked()
	}
}

func (s *Service) scheduleLocked() {
	s.scheduled = true
	s.inflight.Add(1)
	s.timer = time.AfterFunc(s.cfg.ReceiptWindow, s.timerFlush)
}

func (s *Service) timerFlush() {
	defer s.inflight.Done()
	s.FlushReceipts(context.Background())
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.scheduled = false
	if len(s.pending) > 0 && !s.closed {
		s.scheduleLocked()
	}
}

// Close flushes pending receipt batches and stops taking new ones; call it
// before closing the database.
func (s *Service) Close(ctx context.Context) {
	s.rmu.Lock()
	s.closed = true
	if s.timer != nil && s.timer.Stop() {
		s.inflight.Done() // the stopped timer's flush will never run
	}
	s.rmu.Unlock()
	s.inflight.Wait() // a flush already running finishes first
	s.FlushReceipts(ctx)
}

// FlushReceipts writes the pending receipt batches now (one event per
// conversation). The window timer calls it; tests and shutdown may too.
func (s *Service) FlushReceipts(ctx context.Context) {
	s.rmu.Lock()
	pending := s.pending
	s.pending = map[string]map[string]int64{}
	s.rmu.Unlock()
	for convID, byUser := range pending {
		rc := ReceiptsChange{ConversationID: convID}
		for uid, seq := range byUser {
			rc.Readers = append(rc.Readers, ReadState{UserID: uid, ReadSeq: seq})
		}
		sort.Slice(rc.Readers, func(i, j int) bool { return rc.Readers[i].UserID < rc.Readers[j].UserID })
		var evs []Event
		err := s.store.InTx(ctx, func(tx Tx) error {
			c, err := tx.Conversation(ctx, convID)
			if err != nil || c.ReceiptsOff {
				return err
			}
			evs, err = tx.Append(ctx, Event{Type: EvReceipts, ConversationID: convID, Data: mustJSON(rc)})
			return err
		})
		if err != nil {
			// Receipt events are a convenience: positions are in the
			// database and Receipt answers from them.
			s.log.Warn("im: writing a receipts event failed", "conversation_id", convID, "err", err)
			continue
		}
		s.notify(ctx, evs)
	}
}

// Receipt tells who has and has not read a message. Members who joined after
// the message are in neither list; the sender and bots are in neither.
func (s *Service) Receipt(ctx context.Context, a core.Actor, messageID string) (Receipt, error) {
	uid, err := actorUser(a)
	if err != nil {
		return Receipt{}, err
	}
	if !core.ValidID(messageID) {
		return Receipt{}, core.Invalid("message_id", "message_id is not a valid id")
	}
	m, err := s.store.Message(ctx, messageID)
	if err != nil {
		return Receipt{}, err
	}
	c, _, err := membership(ctx, s.store, m.ConversationID, uid)
	if err != nil {
		return Receipt{}, err
	}
	if c.ReceiptsOff {
		return Receipt{}, core.Errorf(core.EForbidden, "read receipts are turned off for this conversation")
	}
	read, unread, err := s.store.ReadStates(ctx, c.ID, m.Seq, m.SenderID)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{MessageID: m.ID, Seq: m.Seq, ReadCount: len(read), Read: read, Unread: unread}, nil
}
