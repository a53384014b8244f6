package core

import (
	"encoding/base64"
	"encoding/json"
)

// PageRequest asks for one page of a list. Cursor is opaque to clients.
type PageRequest struct {
	Cursor string
	Limit  int
}

// MaxPageLimit caps every list.
const MaxPageLimit = 200

// Normalize applies the default and maximum page sizes.
func (p PageRequest) Normalize(def int) PageRequest {
	if p.Limit <= 0 {
		p.Limit = def
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

// EncodeCursor turns a position into an opaque cursor.
func EncodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor into v. An empty cursor
// leaves v untouched.
func DecodeCursor(s string, v any) error {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return Invalid("cursor", "the cursor is not one Rounds issued")
	}
	return nil
}
