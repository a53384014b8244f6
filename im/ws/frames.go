package imws

import (
	"encoding/json"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/im"
)

// clientFrame is every client → server frame; which fields matter depends
// on Type. Unknown fields are refused.
type clientFrame struct {
	Type  string `json:"type"`
	ReqID string `json:"req_id,omitempty"`

	ConversationID string          `json:"conversation_id,omitempty"`
	ClientMsgID    string          `json:"client_msg_id,omitempty"`
	Kind           im.MessageKind  `json:"kind,omitempty"`
	Text           string          `json:"text,omitempty"`
	Mentions       []string        `json:"mentions,omitempty"`
	MentionAll     bool            `json:"mention_all,omitempty"`
	ReplyToID      string          `json:"reply_to_id,omitempty"`
	FileID         string          `json:"file_id,omitempty"`
	MessageID      string          `json:"message_id,omitempty"`
	Emoji          string          `json:"emoji,omitempty"`
	Remove         bool            `json:"remove,omitempty"`
	Seq            int64           `json:"seq,omitempty"`
	UserIDs        []string        `json:"user_ids,omitempty"`
	Ding           *im.DingRequest `json:"ding,omitempty"`
}

// errorBody is the error shape in reply and error frames.
type errorBody struct {
	Code    core.Code      `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

func errBody(err error) *errorBody {
	b := &errorBody{Code: core.ErrorCode(err), Message: core.ErrorMessage(err)}
	if e, ok := err.(*core.Error); ok && e.Code != core.EInternal {
		if len(e.Details) > 0 || e.Field != "" {
			b.Details = map[string]any{}
			for k, v := range e.Details {
				b.Details[k] = v
			}
			if e.Field != "" {
				b.Details["field"] = e.Field
			}
		}
	}
	return b
}

type replyFrame struct {
	Type  string     `json:"type"` // "reply"
	ReqID string     `json:"req_id"`
	OK    bool       `json:"ok"`
	Data  any        `json:"data,omitempty"`
	Error *errorBody `json:"error,omitempty"`
}

type errorFrame struct {
	Type  string     `json:"type"` // "error"
	Error *errorBody `json:"error"`
}

// eventFrame is how a log event goes on the wire.
type eventFrame struct {
	Type           string          `json:"type"` // "event"
	Pos            int64           `json:"pos"`
	Event          string          `json:"event"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Data           json.RawMessage `json:"data"`
	At             int64           `json:"at"` // Unix milliseconds
}

func encodeEvent(e im.Event) []byte {
	b, _ := json.Marshal(eventFrame{Type: "event", Pos: e.Pos, Event: e.Type, ConversationID: e.ConversationID, Data: e.Data, At: e.At.UnixMilli()})
	return b
}

type simpleFrame struct {
	Type string `json:"type"`
	Pos  int64  `json:"pos"`
}

type typingFrame struct {
	Type           string `json:"type"` // "typing"
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
}

type presenceFrame struct {
	Type   string          `json:"type"` // "presence"
	Online map[string]bool `json:"online"`
}
