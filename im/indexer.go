package im

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/search"
)

// IndexCursor remembers how far the search indexer has followed the event
// log. It lives beside the index it describes (a file in Bleve's folder, say),
// so an index restored, rebuilt or lost takes its cursor with it.
type IndexCursor interface {
	// Load returns the saved position; ok is false when none was saved yet.
	Load(ctx context.Context) (pos int64, ok bool, err error)
	// Save records pos durably.
	Save(ctx context.Context, pos int64) error
}

// indexBatch is how many log events one index write takes at most.
const indexBatch = 1000

// FollowIndex keeps the search index in step with the durable event log
// until ctx ends: posts and edits are put, recalls removed, in log order, in
// batches (one index write for many messages instead of one per send, so a
// busy group does not make every send wait for the index). From its first
// call, Send, Edit and Recall stop writing the index themselves.
//
// The cursor is saved only after the index has taken a batch, so after a
// crash the indexer repeats at most one batch (puts and deletes are
// idempotent) and misses nothing. With no cursor saved it starts at the log's
// head: earlier messages were indexed by the sends themselves or by
// `rounds reindex`. Every node follows the whole log, so each node's own
// Bleve index holds every node's messages.
//
// wakeEvery bounds the lag when no bus notification arrives (another node's
// send over a lost bus message); the bus wakes it at once otherwise.
func (s *Service) FollowIndex(ctx context.Context, cur IndexCursor, wakeEvery time.Duration) error {
	if s.index == nil {
		return nil
	}
	pos, ok, err := cur.Load(ctx)
	if err != nil {
		return err
	}
	head, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if !ok || pos > head {
		if ok {
			// The database is older than the index (a restored backup):
			// follow from its head; `rounds reindex` rebuilds the rest.
			s.log.Warn("im: the search index is ahead of the event log (a restored database?); run rounds reindex", "cursor", pos, "head", head)
		}
		pos = head
		if err := cur.Save(ctx, pos); err != nil {
			return err
		}
	}
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	if s.bus != nil {
		sub, err := s.bus.Subscribe(SubjectEvents, func(bus.Event) { poke() })
		if err != nil {
			return err
		}
		defer sub.Stop()
	}
	s.indexFollowed.Store(true)
	t := time.NewTicker(wakeEvery)
	defer t.Stop()
	orgOf := map[string]string{} // conversation → organisation; conversations never move
	for {
		for ctx.Err() == nil {
			n, next, err := s.indexAfter(ctx, pos, orgOf)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("im: following the log into the search index failed; retrying", "pos", pos, "err", err)
				}
				break
			}
			if next > pos {
				if err := cur.Save(ctx, next); err != nil {
					s.log.Warn("im: saving the search index cursor failed", "err", err)
					break
				}
				pos = next
			}
			if n < indexBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

// indexAfter reads one batch of the log after pos and writes what it means
// to the index. It returns how many events it read and the position reached.
func (s *Service) indexAfter(ctx context.Context, pos int64, orgOf map[string]string) (int, int64, error) {
	evs, err := s.store.EventsAfter(ctx, pos, indexBatch)
	if err != nil || len(evs) == 0 {
		return 0, pos, err
	}
	// The last word on each message wins: a post then a recall in the same
	// batch leaves nothing behind.
	put := map[string]search.Doc{}
	del := map[string]bool{}
	for _, e := range evs {
		if e.Personal() {
			continue
		}
		switch e.Type {
		case EvMessagePosted, EvMessageEdited, EvMessageRecalled:
		default:
			continue
		}
		var m Message
		if json.Unmarshal(e.Data, &m) != nil || m.ID == "" {
			continue
		}
		if e.Type == EvMessageRecalled || !searchable(m) {
			delete(put, m.ID)
			del[m.ID] = true
			continue
		}
		org, ok := orgOf[m.ConversationID]
		if !ok {
			c, err := s.store.Conversation(ctx, m.ConversationID)
			if core.IsCode(err, core.ENotFound) {
				// Gone since (retention): nothing of it belongs in the index.
				delete(put, m.ID)
				del[m.ID] = true
				continue
			}
			if err != nil {
				return 0, pos, err
			}
			org = c.OrgID
			orgOf[m.ConversationID] = org
		}
		delete(del, m.ID)
		put[m.ID] = messageDoc(org, m)
	}
	if len(put) > 0 {
		docs := make([]search.Doc, 0, len(put))
		for _, d := range put {
			docs = append(docs, d)
		}
		if err := s.index.Put(ctx, docs...); err != nil {
			return 0, pos, err
		}
	}
	if len(del) > 0 {
		ids := make([]string, 0, len(del))
		for id := range del {
			ids = append(ids, id)
		}
		if err := s.index.Delete(ctx, ids...); err != nil {
			return 0, pos, err
		}
	}
	return len(evs), evs[len(evs)-1].Pos, nil
}
