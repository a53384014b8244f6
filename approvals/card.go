package approvals

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/roundshq/rounds/core"
)

// Card is what the approvals bot shows in chat for one request and one
// reader: the key fields, the status, and the actions open to that reader.
// The bot calls Approve or Reject with the reader as actor when a button is
// pressed (with an action id derived from the card and the button, so a
// double tap acts once).
type Card struct {
	RequestID    string       `json:"request_id"`
	Title        string       `json:"title"`
	TemplateCode string       `json:"template_code"`
	SubmitterID  string       `json:"submitter_id"`
	Status       Status       `json:"status"`
	Fields       []CardField  `json:"fields"`
	Actions      []CardAction `json:"actions,omitempty"`
	// Step names the current step ("Direct manager"), empty when finished.
	Step string `json:"step,omitempty"`
}

// CardField is one label and value; person and department values are ids
// for the bot to show as names.
type CardField struct {
	Key   string    `json:"key"`
	Label string    `json:"label"`
	Type  FieldType `json:"type"`
	Value string    `json:"value"`
}

// CardAction is a button. Reject needs a reason, so the bot asks for one.
type CardAction struct {
	Action      string `json:"action"` // approve, reject
	NeedsReason bool   `json:"needs_reason,omitempty"`
}

// maxCardFields keeps a card short enough for a phone.
const maxCardFields = 6

// CardFor builds the card of a request for one reader (a user id of the
// request's org). The reader must be allowed to read the request.
func (s *Service) CardFor(ctx context.Context, orgID, requestID, readerID string) (*Card, error) {
	ctx = core.WithActor(ctx, core.Actor{UserID: readerID, OrgID: orgID, Kind: core.ActorUser})
	v, err := s.Get(ctx, requestID)
	if err != nil {
		return nil, err
	}
	ct, err := s.compiled(ctx, orgID, v.Request.TemplateID)
	if err != nil {
		return nil, err
	}
	r := v.Request
	c := &Card{RequestID: r.ID, Title: r.Title, TemplateCode: r.TemplateCode, SubmitterID: r.SubmitterID, Status: r.Status, Fields: []CardField{}}
	for _, f := range ct.t.Schema.Fields {
		val, ok := r.Form[f.Key]
		if !ok || len(c.Fields) == maxCardFields {
			continue
		}
		c.Fields = append(c.Fields, CardField{Key: f.Key, Label: f.Label, Type: f.Type, Value: cardValue(f, val)})
	}
	if r.Status == StatusPending && r.Cursor < len(r.Route) {
		if st := r.Route[r.Cursor]; st.Node != "" {
			if n := ct.flow.Node(st.Node); n != nil {
				c.Step = n.Name
			}
		}
	}
	if v.MyTaskID != "" {
		c.Actions = []CardAction{{Action: ActApprove}, {Action: ActReject, NeedsReason: true}}
	}
	return c, nil
}

func cardValue(f Field, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if f.Type == FieldMoney {
			return strconv.FormatFloat(x, 'f', 2, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		switch f.Type {
		case FieldAttachment:
			return fmt.Sprintf("%d files", len(x))
		case FieldDetail:
			return fmt.Sprintf("%d rows", len(x))
		}
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, "、")
	case map[string]any:
		return fmt.Sprintf("%v – %v", x["start"], x["end"])
	}
	return fmt.Sprint(v)
}
