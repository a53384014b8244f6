package im

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// RetentionPolicy is how long an organisation keeps chat content. Zero days
// means forever. Files may be kept for a shorter (or longer) time than
// message text: a file older than FileDays loses its bytes while the
// message's caption stays.
type RetentionPolicy struct {
	OrgID       string    `json:"org_id"`
	MessageDays int       `json:"message_days"`
	FileDays    int       `json:"file_days"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	UpdatedBy   string    `json:"updated_by,omitempty"`
}

// Forever reports whether the policy never purges anything.
func (p RetentionPolicy) Forever() bool { return p.MessageDays == 0 && p.FileDays == 0 }

// LegalHold keeps a conversation's messages, or every message a person sent
// or received (in conversations they are a member of), out of retention
// until it is released. Exactly one of ConversationID and UserID is set.
type LegalHold struct {
	ID             string    `json:"id"`
	OrgID          string    `json:"org_id"`
	ConversationID string    `json:"conversation_id,omitempty"`
	UserID         string    `json:"user_id,omitempty"`
	Reason         string    `json:"reason"`
	CaseNumber     string    `json:"case_number"`
	PlacedBy       string    `json:"placed_by"`
	PlacedAt       time.Time `json:"placed_at"`
	ReleasedBy     string    `json:"released_by,omitempty"`
	ReleasedAt     time.Time `json:"released_at,omitzero"`
}

// Active reports whether the hold still applies.
func (h LegalHold) Active() bool { return h.ReleasedAt.IsZero() }

// PurgedBy is the RecalledBy of a message whose content retention removed.
// A purge is a recall by the system: the row keeps its id and seq (so
// sequences stay gapless and everyone's order is unchanged) and loses its
// text, mentions, quote, file and reactions.
const PurgedBy = "retention"

// Purged reports whether retention (rather than a person) removed the
// message's content.
func (m Message) Purged() bool { return m.Recalled() && m.RecalledBy == PurgedBy }

// PurgeResult is what one purge batch removed: the messages (for the search
// index) and the files whose bytes the caller deletes.
type PurgeResult struct {
	MessageIDs []string
	Files      []File
	// LastSeq is the seq of the last purged message (0 when none).
	LastSeq int64
}

// RetentionStore keeps policies and holds and carries out purges. The SQL
// store implements it next to Store; imtest.RunRetention is its contract.
//
// Errors: core.ENotFound for a missing hold; core.EUnavailable when the
// database is down.
type RetentionStore interface {
	// RetentionPolicy returns orgID's policy (forever, with zero UpdatedAt,
	// when none was set).
	RetentionPolicy(ctx context.Context, orgID string) (RetentionPolicy, error)
	// RetentionPolicies lists every policy that purges something.
	RetentionPolicies(ctx context.Context) ([]RetentionPolicy, error)
	// SetRetentionPolicy writes p (insert or replace).
	SetRetentionPolicy(ctx context.Context, p RetentionPolicy) error
	// PlaceHold inserts h.
	PlaceHold(ctx context.Context, h LegalHold) error
	// ReleaseHold sets released_by and released_at of an active hold and
	// returns it; ENotFound when the hold does not exist, EConflict when it
	// was already released.
	ReleaseHold(ctx context.Context, id, by string, at time.Time) (LegalHold, error)
	// Hold returns one hold.
	Hold(ctx context.Context, id string) (LegalHold, error)
	// Holds lists orgID's holds, newest first; only active ones unless
	// released is true.
	Holds(ctx context.Context, orgID string, released bool) ([]LegalHold, error)
	// ExpiredConversations lists up to limit conversations of orgID
	// created before cutoff with id > afterID, in id order, leaving out
	// those under an active hold (the conversation is held, or a held
	// person is a member of it).
	ExpiredConversations(ctx context.Context, orgID string, cutoff time.Time, afterID string, limit int) ([]string, error)
	// PurgeMessages removes the content of up to limit messages of convID
	// with seq > afterSeq, created before cutoff and not yet recalled, in
	// seq order, skipping every message under an active hold of the
	// conversation's organisation (its conversation is held, its sender is
	// held, or a held person is a member of its conversation; checked
	// again here, inside the purging transaction). In one transaction it
	// blanks the rows (RecalledBy = PurgedBy, RecalledAt = at), deletes
	// their reactions and file records, and blanks quotes of them in
	// replies. LastSeq of the result is the cursor for the next batch.
	PurgeMessages(ctx context.Context, convID string, cutoff, at time.Time, afterSeq int64, limit int) (PurgeResult, error)
	// PurgeFiles deletes up to limit file records of orgID created before
	// cutoff, skipping held ones as PurgeMessages does, and clears file_id
	// on the messages that carried them.
	PurgeFiles(ctx context.Context, orgID string, cutoff time.Time, limit int) ([]File, error)
	// PersonMessages returns up to limit messages of orgID's conversations
	// that userID sent or that were posted in a conversation userID is a
	// member of, created in [from, to) (zero bounds are open), with id >
	// afterID, in id order (ids are time-ordered), reactions filled in.
	PersonMessages(ctx context.Context, orgID, userID string, from, to time.Time, afterID string, limit int) ([]Message, error)
	// ConversationMessages returns up to limit messages of convID created
	// in [from, to) (zero bounds are open) with seq > afterSeq, in seq
	// order, reactions filled in.
	ConversationMessages(ctx context.Context, convID string, from, to time.Time, afterSeq int64, limit int) ([]Message, error)
}

const (
	maxRetentionDays = 36500 // a hundred years is forever enough
	maxHoldText      = 500
	maxCaseNumber    = 100
	purgeBatch       = 500
)

func (s *Service) retentionStore() (RetentionStore, error) {
	rs, ok := s.store.(RetentionStore)
	if !ok {
		return nil, core.Errorf(core.EUnavailable, "retention is not supported by this store")
	}
	return rs, nil
}

// orgAdmin checks that the actor may act on orgID's retention or export.
// Only people (and the system) do; the organisation must be the actor's own
// unless the Authorizer says otherwise for "*" admins.
func (s *Service) orgAdmin(ctx context.Context, a core.Actor, orgID, object, action string) error {
	if a.UserID == "" && !a.IsSystem() {
		return core.Errorf(core.EUnauthenticated, "sign in first")
	}
	if orgID == "" {
		return core.Invalid("org_id", "org_id is required")
	}
	if s.authz == nil {
		// Without an Authorizer nobody but the system manages retention:
		// failing closed is the only safe default for patient data.
		if a.IsSystem() {
			return nil
		}
		return core.Errorf(core.EForbidden, "retention and export need an authorizer")
	}
	return s.authz.Authorize(ctx, a, orgID, object, action)
}

// record writes an audit entry; failures are logged (the action has
// committed already). Callers that must not proceed unaudited use
// recordStrict.
func (s *Service) record(ctx context.Context, a core.Actor, orgID, action, objType, objID, result string, details map[string]any) {
	if err := s.recordStrict(ctx, a, orgID, action, objType, objID, result, details); err != nil {
		s.log.Error("im: audit entry not written", "action", action, "object_id", objID, "err", err)
	}
}

func (s *Service) recordStrict(ctx context.Context, a core.Actor, orgID, action, objType, objID, result string, details map[string]any) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(context.WithoutCancel(ctx), audit.Entry{OrgID: orgID, ActorID: a.UserID, ActorKind: string(a.Kind), AppID: a.AppID, IP: a.IP,
		Action: action, ObjectType: objType, ObjectID: objID, Result: result, Details: details})
}

// denied audits a refused attempt and returns err unchanged.
func (s *Service) denied(ctx context.Context, a core.Actor, orgID, action, objType, objID string, err error) error {
	if core.IsCode(err, core.EForbidden) {
		s.record(ctx, a, orgID, action, objType, objID, audit.ResultDenied, nil)
	}
	return err
}

// RetentionPolicy returns orgID's policy. Org admins only.
func (s *Service) RetentionPolicy(ctx context.Context, a core.Actor, orgID string) (RetentionPolicy, error) {
	if err := s.orgAdmin(ctx, a, orgID, "im.retention", "admin"); err != nil {
		return RetentionPolicy{}, err
	}
	rs, err := s.retentionStore()
	if err != nil {
		return RetentionPolicy{}, err
	}
	return rs.RetentionPolicy(ctx, orgID)
}

// SetRetentionPolicy sets how long orgID keeps messages and files (days, 0
// = forever). Org admins only; audited as im.retention.set with the old and
// new values.
func (s *Service) SetRetentionPolicy(ctx context.Context, a core.Actor, orgID string, messageDays, fileDays int) (RetentionPolicy, error) {
	if err := s.orgAdmin(ctx, a, orgID, "im.retention", "admin"); err != nil {
		return RetentionPolicy{}, s.denied(ctx, a, orgID, "im.retention.set", "im_retention", orgID, err)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"message_days", messageDays}, {"file_days", fileDays}} {
		if f.v < 0 || f.v > maxRetentionDays {
			return RetentionPolicy{}, core.Invalid(f.name, "%s must be 0 (keep forever) to %d", f.name, maxRetentionDays)
		}
	}
	rs, err := s.retentionStore()
	if err != nil {
		return RetentionPolicy{}, err
	}
	old, err := rs.RetentionPolicy(ctx, orgID)
	if err != nil {
		return RetentionPolicy{}, err
	}
	p := RetentionPolicy{OrgID: orgID, MessageDays: messageDays, FileDays: fileDays, UpdatedAt: s.clock.Now(), UpdatedBy: a.UserID}
	if err := rs.SetRetentionPolicy(ctx, p); err != nil {
		return RetentionPolicy{}, err
	}
	s.record(ctx, a, orgID, "im.retention.set", "im_retention", orgID, audit.ResultOK, map[string]any{
		"message_days": messageDays, "file_days": fileDays, "old_message_days": old.MessageDays, "old_file_days": old.FileDays})
	return p, nil
}

// HoldRequest places a legal hold on a conversation or on a person.
type HoldRequest struct {
	ConversationID string `json:"conversation_id,omitempty"`
	UserID         string `json:"user_id,omitempty"`
	Reason         string `json:"reason"`
	CaseNumber     string `json:"case_number"`
}

func validHoldText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", core.Invalid(field, "%s is required", field)
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return "", core.Invalid(field, "%s must be valid text of at most %d characters", field, max)
	}
	return v, nil
}

// PlaceHold puts a conversation, or everything a person sent or received in
// orgID, under legal hold: retention skips it until the hold is released.
// Org admins only; audited as im.hold.place.
func (s *Service) PlaceHold(ctx context.Context, a core.Actor, orgID string, req HoldRequest) (LegalHold, error) {
	if err := s.orgAdmin(ctx, a, orgID, "im.retention", "admin"); err != nil {
		return LegalHold{}, s.denied(ctx, a, orgID, "im.hold.place", "im_hold", "", err)
	}
	switch {
	case req.ConversationID != "" && req.UserID != "":
		return LegalHold{}, core.Invalid("user_id", "hold a conversation or a person, not both")
	case req.ConversationID == "" && req.UserID == "":
		return LegalHold{}, core.Invalid("conversation_id", "name the conversation_id or the user_id to hold")
	case req.ConversationID != "" && !core.ValidID(req.ConversationID):
		return LegalHold{}, core.Invalid("conversation_id", "conversation_id is not a valid id")
	case req.UserID != "" && !core.ValidID(req.UserID):
		return LegalHold{}, core.Invalid("user_id", "user_id is not a valid id")
	}
	reason, err := validHoldText("reason", req.Reason, maxHoldText)
	if err != nil {
		return LegalHold{}, err
	}
	caseNo, err := validHoldText("case_number", req.CaseNumber, maxCaseNumber)
	if err != nil {
		return LegalHold{}, err
	}
	if req.ConversationID != "" {
		c, err := s.store.Conversation(ctx, req.ConversationID)
		if err == nil && c.OrgID != orgID {
			err = core.Errorf(core.ENotFound, "conversation not found")
		}
		if err != nil {
			return LegalHold{}, err
		}
	}
	rs, err := s.retentionStore()
	if err != nil {
		return LegalHold{}, err
	}
	h := LegalHold{ID: core.NewID(), OrgID: orgID, ConversationID: req.ConversationID, UserID: req.UserID, Reason: reason, CaseNumber: caseNo,
		PlacedBy: a.UserID, PlacedAt: s.clock.Now()}
	if err := rs.PlaceHold(ctx, h); err != nil {
		return LegalHold{}, err
	}
	s.record(ctx, a, orgID, "im.hold.place", "im_hold", h.ID, audit.ResultOK, map[string]any{
		"conversation_id": h.ConversationID, "user_id": h.UserID, "reason": h.Reason, "case_number": h.CaseNumber})
	return h, nil
}

// ReleaseHold ends a hold of orgID. Org admins only; audited as
// im.hold.release. Releasing twice is EConflict.
func (s *Service) ReleaseHold(ctx context.Context, a core.Actor, orgID, holdID string) (LegalHold, error) {
	if err := s.orgAdmin(ctx, a, orgID, "im.retention", "admin"); err != nil {
		return LegalHold{}, s.denied(ctx, a, orgID, "im.hold.release", "im_hold", holdID, err)
	}
	if !core.ValidID(holdID) {
		return LegalHold{}, core.Invalid("id", "id is not a valid id")
	}
	rs, err := s.retentionStore()
	if err != nil {
		return LegalHold{}, err
	}
	h, err := rs.Hold(ctx, holdID)
	if err == nil && h.OrgID != orgID {
		err = core.Errorf(core.ENotFound, "hold not found")
	}
	if err != nil {
		return LegalHold{}, err
	}
	if h, err = rs.ReleaseHold(ctx, holdID, a.UserID, s.clock.Now()); err != nil {
		return LegalHold{}, err
	}
	s.record(ctx, a, orgID, "im.hold.release", "im_hold", h.ID, audit.ResultOK, map[string]any{
		"conversation_id": h.ConversationID, "user_id": h.UserID, "case_number": h.CaseNumber})
	return h, nil
}

// Holds lists orgID's holds (released ones too when released is true).
// Org admins only.
func (s *Service) Holds(ctx context.Context, a core.Actor, orgID string, released bool) ([]LegalHold, error) {
	if err := s.orgAdmin(ctx, a, orgID, "im.retention", "admin"); err != nil {
		return nil, err
	}
	rs, err := s.retentionStore()
	if err != nil {
		return nil, err
	}
	return rs.Holds(ctx, orgID, released)
}

// ApplyRetention purges, for every organisation with a policy, the content
// of messages and files older than the policy allows and not under legal
// hold. Purged messages keep their rows and seqs (like a recall) and leave
// the search index; file bytes are deleted from the file store. It returns
// how many messages and files it purged. Purges write no events: the
// content is days old, and one event per purged message would flood every
// client's stream on the first run over years of history; clients see the
// blanked rows when they next load that history.
func (s *Service) ApplyRetention(ctx context.Context, now time.Time) (purged int, err error) {
	rs, err := s.retentionStore()
	if err != nil {
		return 0, err
	}
	policies, err := rs.RetentionPolicies(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	// The event log carries message content too (message.posted data).
	// It normally keeps a week for resume; an organisation that keeps
	// messages for less shortens it for the installation, so no copy
	// outlives the policy (clients that fall behind it resync).
	shortest := time.Duration(0)
	for _, p := range policies {
		if d := time.Duration(p.MessageDays) * 24 * time.Hour; p.MessageDays > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	if shortest > 0 && shortest < s.cfg.EventRetention {
		if _, err := s.store.PruneEvents(ctx, now.Add(-shortest)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range policies {
		n, err := s.applyPolicy(ctx, rs, p, now)
		purged += n
		if n > 0 || err != nil {
			result, details := audit.ResultOK, map[string]any{"purged": n, "message_days": p.MessageDays, "file_days": p.FileDays}
			if err != nil {
				result, details["error"] = audit.ResultFailed, err.Error()
			}
			s.record(ctx, core.SystemActor, p.OrgID, "im.retention.purge", "im_retention", p.OrgID, result, details)
		}
		if err != nil {
			if ctx.Err() != nil {
				return purged, err
			}
			errs = append(errs, err) // one organisation's failure does not stop the others
		}
	}
	return purged, errors.Join(errs...)
}

func (s *Service) applyPolicy(ctx context.Context, rs RetentionStore, p RetentionPolicy, now time.Time) (int, error) {
	n := 0
	if p.MessageDays > 0 {
		// Conversation by conversation, walking each one's seq index from a
		// cursor: every message is looked at once per run however long
		// the history, and the hold check is per conversation.
		cutoff := now.Add(-time.Duration(p.MessageDays) * 24 * time.Hour)
		after := ""
		for {
			convs, err := rs.ExpiredConversations(ctx, p.OrgID, cutoff, after, purgeBatch)
			if err != nil {
				return n, err
			}
			for _, c := range convs {
				var seq int64
				for {
					res, err := rs.PurgeMessages(ctx, c, cutoff, now, seq, purgeBatch)
					if err != nil {
						return n, err
					}
					n += len(res.MessageIDs)
					s.forget(ctx, res.MessageIDs, res.Files)
					if len(res.MessageIDs) < purgeBatch {
						break
					}
					seq = res.LastSeq
				}
			}
			if len(convs) < purgeBatch {
				break
			}
			after = convs[len(convs)-1]
		}
	}
	if p.FileDays > 0 {
		cutoff := now.Add(-time.Duration(p.FileDays) * 24 * time.Hour)
		for {
			fs, err := rs.PurgeFiles(ctx, p.OrgID, cutoff, purgeBatch)
			if err != nil {
				return n, err
			}
			n += len(fs)
			s.forget(ctx, nil, fs)
			if len(fs) < purgeBatch {
				break
			}
		}
	}
	return n, nil
}

// forget removes purged content outside the database: search entries and
// file bytes. Failures are logged; `rounds reindex` drops stale index
// entries, and search re-checks hits against the store anyway.
func (s *Service) forget(ctx context.Context, msgIDs []string, fs []File) {
	if s.index != nil && len(msgIDs) > 0 {
		if err := s.index.Delete(context.WithoutCancel(ctx), msgIDs...); err != nil {
			s.log.Warn("im: removing purged messages from search failed", "count", len(msgIDs), "err", err)
		}
	}
	if s.files != nil {
		for _, f := range fs {
			s.dropBlobs(ctx, f)
		}
	}
}
