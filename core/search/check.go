package search

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roundshq/rounds/core"
)

// Limits shared by every adapter, so that a query valid on Bleve is valid on
// Elasticsearch and the other way round.
const (
	// DefaultLimit is the page size when Query.Limit is 0.
	DefaultLimit = 20
	// MaxLimit is the largest page. A larger Limit is refused with EInvalid
	// rather than silently clamped, so a client never believes it saw
	// everything when it did not.
	MaxLimit = 200
	// MaxWindow bounds Offset+Limit. Elasticsearch refuses deeper pages
	// (index.max_result_window defaults to 10,000) and deep offsets are
	// costly on Bleve too; nobody pages that far through search results.
	MaxWindow = 10000
	// MaxScopes bounds Query.Scopes (Elasticsearch's index.max_terms_count
	// default for a terms query).
	MaxScopes = 65536
	// MaxTextRunes bounds Query.Text: every word becomes a required term.
	MaxTextRunes = 1000
	// MaxIDBytes bounds Doc.ID (Elasticsearch's limit for _id).
	MaxIDBytes = 512
)

// Doc times must lie in this window: both backends keep At as Unix
// milliseconds, and Bleve cannot represent times far from 1970.
var (
	minAt = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxAt = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Normalize checks q and returns it with defaults filled in: Limit 0 becomes
// DefaultLimit, Text is trimmed, Scopes are de-duplicated. A bad query yields
// a core.EInvalid error naming the field (kind, org_id, scopes, text, limit,
// offset, to). Adapters call it first; callers need not.
func (q Query) Normalize() (Query, error) {
	if strings.TrimSpace(q.Kind) == "" {
		return q, core.Invalid("kind", "kind is required")
	}
	if strings.TrimSpace(q.OrgID) == "" {
		return q, core.Invalid("org_id", "org_id is required")
	}
	if len(q.Scopes) > MaxScopes {
		return q, core.Invalid("scopes", "at most %d scopes may be searched at once", MaxScopes)
	}
	seen := make(map[string]bool, len(q.Scopes))
	scopes := make([]string, 0, len(q.Scopes))
	for i, s := range q.Scopes {
		if s == "" {
			return q, core.Invalid("scopes", "scope %d is empty", i)
		}
		if !seen[s] {
			seen[s] = true
			scopes = append(scopes, s)
		}
	}
	q.Scopes = scopes
	q.Text = strings.TrimSpace(q.Text)
	if !utf8.ValidString(q.Text) {
		return q, core.Invalid("text", "text is not valid UTF-8")
	}
	if utf8.RuneCountInString(q.Text) > MaxTextRunes {
		return q, core.Invalid("text", "text is longer than %d characters", MaxTextRunes)
	}
	switch {
	case q.Limit < 0:
		return q, core.Invalid("limit", "limit must not be negative")
	case q.Limit > MaxLimit:
		return q, core.Invalid("limit", "limit must be at most %d", MaxLimit)
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	if q.Offset < 0 {
		return q, core.Invalid("offset", "offset must not be negative")
	}
	if q.Offset+q.Limit > MaxWindow {
		return q, core.Invalid("offset", "offset+limit must be at most %d", MaxWindow)
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		return q, core.Invalid("to", "to is before from")
	}
	return q, nil
}

// CheckDocs validates docs before any of them is indexed, so that a Put with
// one bad doc changes nothing. The error is core.EInvalid with Field naming
// the doc ("docs[3].org_id").
func CheckDocs(docs []Doc) error {
	for i, d := range docs {
		field := func(name string) string { return "docs[" + strconv.Itoa(i) + "]." + name }
		switch {
		case d.ID == "":
			return core.Invalid(field("id"), "id is required")
		case len(d.ID) > MaxIDBytes:
			return core.Invalid(field("id"), "id is longer than %d bytes", MaxIDBytes)
		case strings.TrimSpace(d.Kind) == "":
			return core.Invalid(field("kind"), "kind is required")
		case strings.TrimSpace(d.OrgID) == "":
			return core.Invalid(field("org_id"), "org_id is required")
		case d.Scope == "":
			// A doc without a scope could never be found: searches only
			// return docs in the scopes the searcher may see.
			return core.Invalid(field("scope"), "scope is required")
		case d.At.IsZero():
			return core.Invalid(field("at"), "at is required")
		case d.At.Before(minAt) || !d.At.Before(maxAt):
			return core.Invalid(field("at"), "at must lie between 1900 and 2200")
		case !utf8.ValidString(d.Text):
			return core.Invalid(field("text"), "text is not valid UTF-8")
		}
	}
	return nil
}

// CheckIDs validates ids passed to Delete.
func CheckIDs(ids []string) error {
	for i, id := range ids {
		if id == "" {
			return core.Invalid("ids["+strconv.Itoa(i)+"]", "id is empty")
		}
	}
	return nil
}

// AtBounds returns the inclusive bounds on At in Unix milliseconds, the unit
// both adapters store At in: docs and bounds alike are truncated to the
// millisecond, so a doc is found by a range starting at its own At. A bound
// that is zero, or lies outside the window docs may have, is reported absent.
func (q Query) AtBounds() (from, to int64, hasFrom, hasTo bool) {
	if !q.From.IsZero() && q.From.After(minAt) {
		from, hasFrom = floorMillis(q.From), true
	}
	if !q.To.IsZero() && q.To.Before(maxAt) {
		to, hasTo = floorMillis(q.To), true
	}
	return from, to, hasFrom, hasTo
}

// Millis is t as Unix milliseconds rounded down, the way At is stored.
func Millis(t time.Time) int64 { return floorMillis(t) }

func floorMillis(t time.Time) int64 {
	return t.Unix()*1000 + int64(t.Nanosecond())/int64(time.Millisecond)
}
