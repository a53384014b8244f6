package im

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/audit"
)

// ExportFormat is the shape of an export: JSON lines (one ExportRecord per
// line, the verbatim record) or CSV (the same fields flattened, for a
// spreadsheet).
type ExportFormat string

const (
	ExportJSONL ExportFormat = "jsonl"
	ExportCSV   ExportFormat = "csv"
)

// ExportRequest selects what to export for a legal hold: one conversation
// (ConversationID) or every message a person sent or received (UserID) in
// the organisation, optionally limited to [From, To).
type ExportRequest struct {
	ConversationID string       `json:"conversation_id,omitempty"`
	UserID         string       `json:"user_id,omitempty"`
	From           time.Time    `json:"from,omitzero"`
	To             time.Time    `json:"to,omitzero"`
	Format         ExportFormat `json:"format,omitempty"` // default jsonl
}

// ExportedFile is the reference to a file a message carried; the bytes are
// fetched separately (GET /api/v1/im/files/{id}) or from the file store.
type ExportedFile struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// ExportRecord is one exported message. Senders are user ids (the org
// chart resolves names). A recalled or purged message appears with its
// seq and no content, so gaps in the record are explained.
type ExportRecord struct {
	MessageID      string        `json:"message_id"`
	ConversationID string        `json:"conversation_id"`
	Seq            int64         `json:"seq"`
	SenderID       string        `json:"sender_id"`
	Kind           MessageKind   `json:"kind"`
	Text           string        `json:"text"`
	Mentions       []string      `json:"mentions,omitempty"`
	MentionAll     bool          `json:"mention_all,omitempty"`
	ReplyToID      string        `json:"reply_to_id,omitempty"`
	Urgent         bool          `json:"urgent,omitempty"`
	File           *ExportedFile `json:"file,omitempty"`
	Reactions      []Reaction    `json:"reactions,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	EditedAt       time.Time     `json:"edited_at,omitzero"`
	// Removed is "" for a message with its content, "recalled" or "purged"
	// (by retention) otherwise.
	Removed   string    `json:"removed,omitempty"`
	RemovedAt time.Time `json:"removed_at,omitzero"`
}

var csvHeader = []string{"message_id", "conversation_id", "seq", "sender_id", "kind", "text", "mentions", "mention_all", "reply_to_id", "urgent",
	"file_id", "file_name", "file_content_type", "file_size", "file_sha256", "created_at", "edited_at", "removed", "removed_at"}

const exportPage = 500

// Export streams the selected messages of orgID to w, oldest first (by seq
// for a conversation, by time for a person), and returns how many it wrote.
// Org admins only ("im.export" "export"). The export is audited before the
// first byte is written (im.export.conversation or im.export.person) and
// refused with EUnavailable when the audit log cannot take the entry: no
// unaudited copy of chat content leaves Rounds. Nothing is written when
// Export returns an error before streaming begins; an error during
// streaming is audited as failed with the count written so far.
func (s *Service) Export(ctx context.Context, a core.Actor, orgID string, req ExportRequest, w io.Writer) (int, error) {
	action, objType, objID := "im.export.person", "user", req.UserID
	if req.ConversationID != "" {
		action, objType, objID = "im.export.conversation", "im_conversation", req.ConversationID
	}
	if err := s.orgAdmin(ctx, a, orgID, "im.export", "export"); err != nil {
		return 0, s.denied(ctx, a, orgID, action, objType, objID, err)
	}
	switch {
	case req.ConversationID != "" && req.UserID != "":
		return 0, core.Invalid("user_id", "export a conversation or a person, not both")
	case req.ConversationID == "" && req.UserID == "":
		return 0, core.Invalid("conversation_id", "name the conversation_id or the user_id to export")
	case req.ConversationID != "" && !core.ValidID(req.ConversationID):
		return 0, core.Invalid("conversation_id", "conversation_id is not a valid id")
	case req.UserID != "" && !core.ValidID(req.UserID):
		return 0, core.Invalid("user_id", "user_id is not a valid id")
	case !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To):
		return 0, core.Invalid("to", "to must be after from")
	}
	switch req.Format {
	case "":
		req.Format = ExportJSONL
	case ExportJSONL, ExportCSV:
	default:
		return 0, core.Invalid("format", "format must be jsonl or csv")
	}
	rs, err := s.retentionStore()
	if err != nil {
		return 0, err
	}
	if req.ConversationID != "" {
		c, err := s.store.Conversation(ctx, req.ConversationID)
		if err == nil && c.OrgID != orgID {
			err = core.Errorf(core.ENotFound, "conversation not found")
		}
		if err != nil {
			return 0, err
		}
	}
	details := map[string]any{"format": string(req.Format)}
	if !req.From.IsZero() {
		details["from"] = req.From.UTC().Format(time.RFC3339)
	}
	if !req.To.IsZero() {
		details["to"] = req.To.UTC().Format(time.RFC3339)
	}
	if err := s.recordStrict(ctx, a, orgID, action, objType, objID, audit.ResultOK, details); err != nil {
		s.log.Error("im: export refused, audit entry not written", "action", action, "object_id", objID, "err", err)
		return 0, core.Errorf(core.EUnavailable, "the audit log is unavailable; exports are refused until it is back")
	}
	n, err := s.streamExport(ctx, rs, orgID, req, w)
	if err != nil {
		details["written"], details["error"] = n, err.Error()
		s.record(ctx, a, orgID, action, objType, objID, audit.ResultFailed, details)
	}
	return n, err
}

func (s *Service) streamExport(ctx context.Context, rs RetentionStore, orgID string, req ExportRequest, w io.Writer) (int, error) {
	var enc *json.Encoder
	var cw *csv.Writer
	if req.Format == ExportCSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return 0, err
		}
	} else {
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false)
	}
	n := 0
	var afterSeq int64
	afterID := ""
	for {
		var page []Message
		var err error
		if req.ConversationID != "" {
			page, err = rs.ConversationMessages(ctx, req.ConversationID, req.From, req.To, afterSeq, exportPage)
		} else {
			page, err = rs.PersonMessages(ctx, orgID, req.UserID, req.From, req.To, afterID, exportPage)
		}
		if err != nil {
			return n, err
		}
		for _, m := range page {
			rec, err := s.exportRecord(ctx, m)
			if err != nil {
				return n, err
			}
			if cw != nil {
				err = cw.Write(csvRow(rec))
			} else {
				err = enc.Encode(rec)
			}
			if err != nil {
				return n, err
			}
			n++
		}
		if cw != nil {
			if cw.Flush(); cw.Error() != nil {
				return n, cw.Error()
			}
		}
		if len(page) < exportPage {
			return n, nil
		}
		afterSeq, afterID = page[len(page)-1].Seq, page[len(page)-1].ID
	}
}

func (s *Service) exportRecord(ctx context.Context, m Message) (ExportRecord, error) {
	r := ExportRecord{MessageID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, SenderID: m.SenderID, Kind: m.Kind, Text: m.Text,
		Mentions: m.Mentions, MentionAll: m.MentionAll, ReplyToID: m.ReplyToID, Urgent: m.Urgent, Reactions: m.Reactions,
		CreatedAt: m.CreatedAt, EditedAt: m.EditedAt}
	if m.Recalled() {
		// The store blanked the content at recall or purge; blank it here
		// as well so an export can never carry it.
		r.Text, r.Mentions, r.MentionAll, r.Reactions, r.Removed, r.RemovedAt = "", nil, false, nil, "recalled", m.RecalledAt
		if m.Purged() {
			r.Removed = "purged"
		}
		return r, nil
	}
	if m.FileID != "" {
		f, err := s.store.File(ctx, m.FileID)
		switch {
		case err == nil:
			r.File = &ExportedFile{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256}
		case core.IsCode(err, core.ENotFound):
			r.File = &ExportedFile{ID: m.FileID} // the record went; the reference stays
		default:
			return r, err
		}
	}
	return r, nil
}

func csvRow(r ExportRecord) []string {
	var f ExportedFile
	if r.File != nil {
		f = *r.File
	}
	size := ""
	if f.ID != "" {
		size = strconv.FormatInt(f.Size, 10)
	}
	return []string{r.MessageID, r.ConversationID, strconv.FormatInt(r.Seq, 10), r.SenderID, string(r.Kind), csvSafe(r.Text),
		strings.Join(r.Mentions, " "), strconv.FormatBool(r.MentionAll), r.ReplyToID, strconv.FormatBool(r.Urgent),
		f.ID, csvSafe(f.Name), f.ContentType, size, f.SHA256, csvTime(r.CreatedAt), csvTime(r.EditedAt), r.Removed, csvTime(r.RemovedAt)}
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvSafe keeps a spreadsheet from running a cell as a formula (a message
// text "=HYPERLINK(…)" is data, not a command) by prefixing a quote. The
// JSON lines export carries the text unchanged.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
