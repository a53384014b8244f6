package blevesearch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/datetime/timestamp/milliseconds"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

// Field names inside the Bleve index.
const (
	fKind     = "kind"
	fOrgID    = "org_id"
	fScope    = "scope"
	fAuthorID = "author_id"
	fText     = "text"
	fAt       = "at"
	fAtKey    = "at_key" // sort key: zero-padded ms since minSortAt
)

// minSortAt is below every valid Doc.At (search.CheckDocs), so at_key is
// never negative and sorts as a string in time order.
var minSortAt = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

func atKey(ms int64) string { return fmt.Sprintf("%015d", ms-minSortAt) }

// mappingVersion is recorded in the index. Opening an index written with
// another mapping fails with a message asking for `rounds reindex`, instead
// of silently searching fields that are analysed differently.
const mappingVersion = "rounds-search-2"

var mappingKey = []byte("rounds_mapping_version")

// Index is a Bleve index. Safe for concurrent use.
type Index struct {
	idx    bleve.Index
	closed atomic.Bool
}

var _ search.Index = (*Index)(nil)

// Open opens the index in dir, creating it (and dir) when it does not exist
// yet. An existing directory that holds something other than a Rounds index
// is refused rather than overwritten.
func Open(dir string) (*Index, error) {
	if dir == "" {
		return nil, core.Invalid("dir", "search index directory is required")
	}
	_, err := os.Stat(filepath.Join(dir, "index_meta.json"))
	switch {
	case err == nil:
		idx, err := bleve.Open(dir)
		if err != nil {
			return nil, core.Wrap(err, "open search index %s", dir)
		}
		v, err := idx.GetInternal(mappingKey)
		if err != nil || string(v) != mappingVersion {
			_ = idx.Close()
			return nil, core.Errorf(core.EConflict,
				"search index %s was written by another version of Rounds (mapping %q, want %q); move it away and run `rounds reindex`",
				dir, v, mappingVersion)
		}
		return &Index{idx: idx}, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, core.Wrap(err, "open search index %s", dir)
	}
	// Bleve insists on creating the directory itself; an empty one left by
	// an installer is fine to replace.
	if entries, err := os.ReadDir(dir); err == nil {
		if len(entries) > 0 {
			return nil, core.Errorf(core.EConflict, "directory %s is not empty and holds no search index", dir)
		}
		if err := os.Remove(dir); err != nil {
			return nil, core.Wrap(err, "prepare search index %s", dir)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return nil, core.Wrap(err, "create search index parent of %s", dir)
	}
	idx, err := bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, core.Wrap(err, "create search index %s", dir)
	}
	return initIndex(idx)
}

// OpenMem returns an index held only in memory (for tests and demos). It
// uses the same engine (scorch) as Open.
func OpenMem() (*Index, error) {
	idx, err := bleve.NewUsing("", newMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, core.Wrap(err, "create in-memory search index")
	}
	return initIndex(idx)
}

func initIndex(idx bleve.Index) (*Index, error) {
	if err := idx.SetInternal(mappingKey, []byte(mappingVersion)); err != nil {
		_ = idx.Close()
		return nil, core.Wrap(err, "record search mapping version")
	}
	return &Index{idx: idx}, nil
}

// textAnalyzer is Bleve's cjk analyzer (Unicode word segmentation, CJK width
// folding, lowercasing, CJK bigrams) followed by the English stop words of
// Lucene's CJKAnalyzer, which Elasticsearch's built-in cjk analyzer applies.
// Without them "bed 12 in ward 5" would require "in" on Bleve but not on
// Elasticsearch, because every query word must match.
const (
	textAnalyzer = "rounds_cjk"
	stopMap      = "rounds_cjk_stop"
)

var englishStopWords = []any{"a", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
	"is", "it", "no", "not", "of", "on", "or", "s", "such", "t", "that", "the", "their", "then", "there",
	"these", "they", "this", "to", "was", "will", "with", "www"}

// newMapping indexes exactly the fields of search.Doc and nothing dynamic:
// only what filters and hits need is stored (not the text, which may hold
// patient details and lives in the database already).
func newMapping() mapping.IndexMapping {
	keyword := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	text := bleve.NewTextFieldMapping()
	text.Analyzer = textAnalyzer
	text.Store = false
	text.IncludeInAll = false
	text.IncludeTermVectors = false
	text.DocValues = false

	at := bleve.NewDateTimeFieldMapping()
	at.DateFormat = milliseconds.Name // stored and returned as exact Unix ms
	at.Store = true
	at.IncludeInAll = false
	// A date field indexes 16 prefix-coded terms per value for range
	// queries; sorting on its doc values decodes them all for every hit.
	// Sorting on a one-term keyword is several times cheaper.
	at.DocValues = false
	atSort := keyword(false)
	atSort.DocValues = true

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fKind, keyword(false))
	doc.AddFieldMappingsAt(fOrgID, keyword(false))
	doc.AddFieldMappingsAt(fScope, keyword(true))
	doc.AddFieldMappingsAt(fAuthorID, keyword(true))
	doc.AddFieldMappingsAt(fText, text)
	doc.AddFieldMappingsAt(fAt, at)
	doc.AddFieldMappingsAt(fAtKey, atSort)

	m := bleve.NewIndexMapping()
	// Errors are impossible here: the configuration is fixed and only
	// names components registered by the imports above.
	_ = m.AddCustomTokenMap(stopMap, map[string]any{"type": tokenmap.Name, "tokens": englishStopWords})
	_ = m.AddCustomTokenFilter(stopMap, map[string]any{"type": stop.Name, "stop_token_map": stopMap})
	_ = m.AddCustomAnalyzer(textAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{cjk.WidthName, lowercase.Name, cjk.BigramName, stopMap},
	})
	m.DefaultMapping = doc
	m.DefaultAnalyzer = textAnalyzer
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	return m
}

// Put adds or replaces docs in one batch. Invalid docs fail the whole call
// before anything is written.
func (x *Index) Put(ctx context.Context, docs ...search.Doc) error {
	if err := search.CheckDocs(docs); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := x.idx.NewBatch()
	for _, d := range docs {
		err := b.Index(d.ID, map[string]any{
			fKind:     d.Kind,
			fOrgID:    d.OrgID,
			fScope:    d.Scope,
			fAuthorID: d.AuthorID,
			fText:     d.Text,
			fAt:       strconv.FormatInt(search.Millis(d.At), 10),
			fAtKey:    atKey(search.Millis(d.At)),
		})
		if err != nil {
			return core.Wrap(err, "index doc %s", d.ID)
		}
	}
	return x.fail(x.idx.Batch(b), "index docs")
}

// Delete removes docs by id; ids not in the index are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	if err := search.CheckIDs(ids); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := x.idx.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	return x.fail(x.idx.Batch(b), "delete docs")
}

// Search runs q. See search.Query for its meaning and search.Query.Normalize
// for what is refused.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	q, err := q.Normalize()
	if err != nil {
		return search.Result{}, err
	}
	if len(q.Scopes) == 0 {
		return search.Result{Hits: []search.Hit{}}, nil
	}

	filters := []query.Query{term(fKind, q.Kind), term(fOrgID, q.OrgID)}
	if len(q.Scopes) == 1 {
		filters = append(filters, term(fScope, q.Scopes[0]))
	} else {
		scopes := make([]query.Query, len(q.Scopes))
		for i, s := range q.Scopes {
			scopes[i] = term(fScope, s)
		}
		filters = append(filters, query.NewDisjunctionQuery(scopes))
	}
	if q.AuthorID != "" {
		filters = append(filters, term(fAuthorID, q.AuthorID))
	}
	if from, to, hasFrom, hasTo := q.AtBounds(); hasFrom || hasTo {
		var start, end time.Time
		if hasFrom {
			start = time.UnixMilli(from)
		}
		if hasTo {
			end = time.UnixMilli(to)
		}
		inclusive := true
		r := query.NewDateRangeInclusiveQuery(start, end, &inclusive, &inclusive)
		r.SetField(fAt)
		filters = append(filters, r)
	}

	bq := query.NewBooleanQuery(nil, nil, nil)
	var req *bleve.SearchRequest
	if q.Text == "" {
		// Without words every hit scores the same; skip scoring and let the
		// filters drive the search (cheaper than scanning everything).
		bq.AddMust(filters...)
		req = bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
		req.Score = bleve.ScoreNone
	} else {
		// Words that analyse to nothing (punctuation only) match nothing, as
		// Elasticsearch's match query does; Bleve would otherwise drop the
		// empty clause and return every doc that passes the filters.
		if !x.hasTerms(q.Text) {
			return search.Result{Hits: []search.Hit{}}, nil
		}
		mq := query.NewMatchQuery(q.Text)
		mq.SetField(fText)
		mq.SetOperator(query.MatchQueryOperatorAnd)
		bq.AddMust(mq)
		// Filters go in the filter clause so that they narrow the hits
		// without adding to the score (a rare scope would otherwise lift
		// its docs above better matches).
		bq.AddFilter(query.NewConjunctionQuery(filters))
		req = bleve.NewSearchRequestOptions(bq, q.Limit, q.Offset, false)
	}
	req.SortByCustom(bsearch.SortOrder{
		&bsearch.SortScore{Desc: true},
		&bsearch.SortField{Field: fAtKey, Desc: true, Type: bsearch.SortFieldAsString},
		&bsearch.SortDocID{},
	})
	req.Fields = []string{fScope, fAuthorID, fAt}

	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return search.Result{}, x.fail(err, "search")
	}
	out := search.Result{Total: int(res.Total), Hits: make([]search.Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		hit := search.Hit{ID: h.ID, Score: h.Score}
		hit.Scope, _ = h.Fields[fScope].(string)
		hit.AuthorID, _ = h.Fields[fAuthorID].(string)
		if s, ok := h.Fields[fAt].(string); ok {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return search.Result{}, core.Wrap(err, "read time of doc %s", h.ID)
			}
			hit.At = time.UnixMilli(ms).UTC()
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

func (x *Index) hasTerms(text string) bool {
	a := x.idx.Mapping().AnalyzerNamed(textAnalyzer)
	return a == nil || len(a.Analyze([]byte(text))) > 0
}

func term(field, value string) query.Query {
	t := query.NewTermQuery(value)
	t.SetField(field)
	return t
}

// Ping reports whether the index is open and readable.
func (x *Index) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := x.idx.DocCount()
	return x.fail(err, "read search index")
}

// Stats returns Bleve's statistics of the index (segment counts, merge and
// persist progress, bytes on disk), for metrics and diagnostics.
func (x *Index) Stats() map[string]any { return x.idx.StatsMap() }

// Close closes the index. Later calls fail with core.EUnavailable; closing
// twice is harmless.
func (x *Index) Close() error {
	if x.closed.Swap(true) {
		return nil
	}
	return x.idx.Close()
}

// fail maps Bleve errors to core errors.
func (x *Index) fail(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if x.closed.Load() || errors.Is(err, bleve.ErrorIndexClosed) {
		return &core.Error{Code: core.EUnavailable, Message: "search index is closed", Err: err}
	}
	return core.Wrap(err, "%s", fmt.Sprintf("search index: %s", what))
}
