// Package essearch implements search.Index over Elasticsearch 8, for
// installations that outgrow the embedded Bleve index or already run an
// Elasticsearch cluster on the hospital intranet.
//
// New creates the index when it is missing, with the built-in `cjk` analyzer
// (CJK bigrams, lowercased words, English stop words) on the text and keyword
// fields for everything else. Put and Delete use the _bulk API with
// refresh=wait_for, so docs are searchable (or gone) when the call returns.
// Search sends one bool query: exact filters (term, terms, range) that do not
// affect relevance, and a match query with operator "and" on the text.
// The index has one shard so that relevance statistics are index-wide and
// scores agree with Bleve's ordering contract (ties fall back to newest).
//
// Verification: no Elasticsearch server can run on the machines this package
// was written on. It is tested against Elasticsearch 8's documented request
// and response shapes — an in-test HTTP server that speaks the documented
// index, _bulk and _search API and evaluates the query DSL in memory — and
// the exact request bodies are asserted. It has not been run against a live
// Elasticsearch server; do that before relying on it in production.
//
// The package owns the index mapping and the wire format; it does not know
// what the docs are nor who may see which scope.
package essearch
