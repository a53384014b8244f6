package im

import (
	"context"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

// SearchRequest searches the messages the actor may see.
type SearchRequest struct {
	Text           string    `json:"text"`
	SenderID       string    `json:"sender_id,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
	From           time.Time `json:"from,omitzero"`
	To             time.Time `json:"to,omitzero"`
	Limit          int       `json:"limit,omitempty"`
	Offset         int       `json:"offset,omitempty"`
}

// SearchResult is one page of found messages, best first.
type SearchResult struct {
	Total    int       `json:"total"`
	Messages []Message `json:"messages"`
}

// Search finds messages by text (Chinese included: the index tokenises CJK),
// sender, conversation and date range, among the conversations the actor is
// a member of. Hits are re-read from the store, so a message recalled a
// moment ago never shows even if the index lags.
func (s *Service) Search(ctx context.Context, a core.Actor, req SearchRequest) (SearchResult, error) {
	uid, err := actorUser(a)
	if err != nil {
		return SearchResult{}, err
	}
	if s.index == nil {
		return SearchResult{}, core.Errorf(core.EUnavailable, "search is not configured")
	}
	if req.SenderID != "" && !core.ValidID(req.SenderID) {
		return SearchResult{}, core.Invalid("sender_id", "sender_id is not a valid id")
	}
	var scopes []string
	orgID := a.OrgID
	if req.ConversationID != "" {
		c, _, err := membership(ctx, s.store, req.ConversationID, uid)
		if err != nil {
			return SearchResult{}, err
		}
		scopes, orgID = []string{c.ID}, c.OrgID
	} else if scopes, err = s.store.ConversationIDsOf(ctx, uid); err != nil {
		return SearchResult{}, err
	}
	res := SearchResult{Messages: []Message{}}
	if len(scopes) == 0 {
		return res, nil
	}
	q := search.Query{Kind: "message", OrgID: orgID, Scopes: scopes, Text: strings.TrimSpace(req.Text), AuthorID: req.SenderID,
		From: req.From, To: req.To, Limit: req.Limit, Offset: req.Offset}
	r, err := s.index.Search(ctx, q)
	if err != nil {
		return SearchResult{}, err
	}
	res.Total = r.Total
	for _, h := range r.Hits {
		m, err := s.store.Message(ctx, h.ID)
		if core.IsCode(err, core.ENotFound) {
			continue
		}
		if err != nil {
			return SearchResult{}, err
		}
		if m.Recalled() {
			res.Total--
			continue
		}
		res.Messages = append(res.Messages, m)
	}
	return res, nil
}

// Reindex rebuilds the search index from the database (`rounds reindex`):
// every message is put again and recalled ones are removed. It returns how
// many messages it indexed.
func (s *Service) Reindex(ctx context.Context) (int, error) {
	if s.index == nil {
		return 0, core.Errorf(core.EUnavailable, "search is not configured")
	}
	n := 0
	after := ""
	for {
		batch, err := s.store.MessagesForIndex(ctx, after, 500)
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		var docs []search.Doc
		var gone []string
		for _, x := range batch {
			m := x.Message
			if m.Recalled() || strings.TrimSpace(m.Text) == "" {
				gone = append(gone, m.ID)
				continue
			}
			docs = append(docs, messageDoc(x.OrgID, m))
		}
		if len(docs) > 0 {
			if err := s.index.Put(ctx, docs...); err != nil {
				return n, err
			}
		}
		if len(gone) > 0 {
			if err := s.index.Delete(ctx, gone...); err != nil {
				return n, err
			}
		}
		n += len(docs)
		after = batch[len(batch)-1].Message.ID
	}
}

// IndexedMessage is a message with its organisation, for reindexing.
type IndexedMessage struct {
	Message Message
	OrgID   string
}
