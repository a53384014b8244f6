// Package search indexes text that staff search: chat messages first, and
// anything else an area wants findable. Bleve (search/bleve) is the embedded
// default; Elasticsearch (search/elasticsearch) serves larger installs. Both
// tokenise Chinese (CJK bigrams: "胸痛" finds "患者胸痛三小时"), lowercase
// English words, and pass the contract suite in search/searchtest.
//
// The index is derived data: the database is the truth and `rounds reindex`
// rebuilds the index from it.
package search

import (
	"context"
	"time"
)

// Doc is one indexed item. ID, Kind, OrgID, Scope and At are required (see
// CheckDocs); At is kept to the millisecond.
type Doc struct {
	ID       string    // unique across the index
	Kind     string    // "message", …
	OrgID    string    // organisation the item belongs to
	Scope    string    // visibility key, e.g. the conversation id; searchers pass the scopes they may see
	AuthorID string    // sender or author
	Text     string    // the searchable text
	At       time.Time // when it was written
}

// Query asks for docs. Kind and OrgID are required. Scopes limits results to
// the listed scopes; an empty list means nothing is visible and the result is
// empty (callers always pass what the searcher may see).
//
// Text is analysed like the indexed text and every resulting term must
// appear in a doc (AND); text that analyses to nothing (punctuation only)
// finds nothing. Kind, OrgID, Scopes and AuthorID match exactly.
//
// A bad query is refused with core.EInvalid naming the field rather than
// silently repaired: see Query.Normalize (Limit above MaxLimit is refused,
// not clamped).
type Query struct {
	Kind     string
	OrgID    string
	Scopes   []string
	Text     string // words; empty matches everything
	AuthorID string
	From, To time.Time // inclusive bounds on At when not zero, to the millisecond
	Limit    int       // default 20, at most 200
	Offset   int       // Offset+Limit at most MaxWindow
}

// Hit is one result, best first (by relevance, then newest).
type Hit struct {
	ID       string
	Scope    string
	AuthorID string
	At       time.Time // to the millisecond, in UTC
	// Score is the backend's relevance (TF-IDF on Bleve, BM25 on
	// Elasticsearch): comparable only within one result, 0 without Text.
	Score float64
}

// Result is one page of hits.
type Result struct {
	Total int
	Hits  []Hit
}

// Index stores and searches docs. Safe for concurrent use.
//
// Errors: core.EInvalid for a bad query or doc (nothing is written),
// core.EUnavailable when the backend cannot be reached or the index is
// closed.
type Index interface {
	// Put adds or replaces docs by ID. After Put returns, the docs are
	// searchable.
	Put(ctx context.Context, docs ...Doc) error
	// Delete removes docs by ID; missing ids are ignored. After Delete
	// returns, they are no longer found.
	Delete(ctx context.Context, ids ...string) error
	// Search runs q.
	Search(ctx context.Context, q Query) (Result, error)
	// Ping reports whether the backend is usable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the index.
	Close() error
}
