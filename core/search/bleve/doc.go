// Package blevesearch implements search.Index over Bleve, embedded in the
// Rounds process: the default for a single hospital server, needing no other
// service.
//
// Text is analysed with Bleve's CJK analyzer (Unicode word segmentation, width
// folding, lowercasing, CJK bigrams), so "胸痛" finds "患者胸痛三小时" and
// English words match case-insensitively; the English stop words that
// Elasticsearch's cjk analyzer drops ("the", "in", …) are dropped too, so
// both backends need the same words to match. Kind, OrgID, Scope and AuthorID are
// keyword fields matched exactly; At is a date field kept to the millisecond.
//
// The package owns the on-disk index layout and nothing else: it does not
// know what a message or a conversation is, nor who may see which scope —
// callers pass the scopes the searcher may see. The index is derived data; if
// it is lost, `rounds reindex` rebuilds it from the database.
package blevesearch
