package essearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

// DefaultIndexName is used when Config.IndexName is empty.
const DefaultIndexName = "rounds-search"

// bulkChunk is how many docs go into one _bulk request: large enough to
// amortise the refresh wait, small enough to stay far below
// http.max_content_length (100 MB) with long messages.
const bulkChunk = 500

// Config says how to reach Elasticsearch.
type Config struct {
	Addresses []string // e.g. "https://es1.hospital.local:9200"; required
	Username  string   // basic auth, optional
	Password  string
	APIKey    string // base64 API key; overrides Username/Password
	CACert    []byte // PEM CA for a private TLS certificate, optional
	IndexName string // DefaultIndexName when empty
	// SetupTimeout bounds New's calls (reaching the cluster, creating the
	// index). Default 30s.
	SetupTimeout time.Duration
	// Transport replaces the HTTP transport (tests, custom TLS).
	Transport http.RoundTripper
}

// Index is an Elasticsearch-backed search.Index. Safe for concurrent use.
type Index struct {
	es     *elasticsearch.Client
	name   string
	closed atomic.Bool
}

var _ search.Index = (*Index)(nil)

// Index names Elasticsearch accepts: lowercase, no path or wildcard
// characters, not starting with -, _ or +.
var indexName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,254}$`)

// New connects to Elasticsearch and creates the index if it is missing.
// Errors: core.EInvalid for a bad Config, core.EUnavailable when the cluster
// cannot be reached or refuses the credentials.
func New(cfg Config) (*Index, error) {
	if len(cfg.Addresses) == 0 {
		return nil, core.Invalid("addresses", "at least one Elasticsearch address is required")
	}
	if cfg.IndexName == "" {
		cfg.IndexName = DefaultIndexName
	}
	if !indexName.MatchString(cfg.IndexName) || cfg.IndexName == "." || cfg.IndexName == ".." {
		return nil, core.Invalid("index_name", "index name %q is not a valid Elasticsearch index name (lowercase letters, digits, '.', '_', '-')", cfg.IndexName)
	}
	if cfg.SetupTimeout <= 0 {
		cfg.SetupTimeout = 30 * time.Second
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: cfg.Addresses,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		CACert:    cfg.CACert,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, core.Invalid("addresses", "elasticsearch client: %v", err)
	}
	x := &Index{es: es, name: cfg.IndexName}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.SetupTimeout)
	defer cancel()
	if err := x.ensureIndex(ctx); err != nil {
		return nil, err
	}
	return x, nil
}

// Field names in the Elasticsearch index.
const (
	fID       = "id"
	fKind     = "kind"
	fOrgID    = "org_id"
	fScope    = "scope"
	fAuthorID = "author_id"
	fText     = "text"
	fAt       = "at"
)

// indexBody is the create-index request. The text is left out of _source:
// it may hold patient details, the database has it, and hits do not need it.
// "id" duplicates _id as a keyword so results can be tie-broken by id
// (sorting on _id is discouraged in Elasticsearch 8).
func indexBody() map[string]any {
	keyword := map[string]any{"type": "keyword"}
	return map[string]any{
		"settings": map[string]any{
			"index": map[string]any{"number_of_shards": 1},
		},
		"mappings": map[string]any{
			"dynamic": "strict",
			"_source": map[string]any{"excludes": []string{fText}},
			"properties": map[string]any{
				fID:       keyword,
				fKind:     keyword,
				fOrgID:    keyword,
				fScope:    keyword,
				fAuthorID: keyword,
				fText:     map[string]any{"type": "text", "analyzer": "cjk"},
				fAt:       map[string]any{"type": "date", "format": "epoch_millis"},
			},
		},
	}
}

func (x *Index) ensureIndex(ctx context.Context) error {
	res, err := esapi.IndicesExistsRequest{Index: []string{x.name}}.Do(ctx, x.es)
	if err != nil {
		return x.transportErr(err, "reach Elasticsearch")
	}
	drain(res)
	switch {
	case res.StatusCode == http.StatusOK:
		return nil
	case res.StatusCode != http.StatusNotFound:
		return statusErr(res.StatusCode, nil, "check index "+x.name)
	}
	body, _ := json.Marshal(indexBody())
	res, err = esapi.IndicesCreateRequest{Index: x.name, Body: bytes.NewReader(body)}.Do(ctx, x.es)
	if err != nil {
		return x.transportErr(err, "create index "+x.name)
	}
	defer drain(res)
	if res.IsError() {
		e := readError(res)
		// Another Rounds node created it between our check and create.
		if e.Error.Type == "resource_already_exists_exception" {
			return nil
		}
		return statusErr(res.StatusCode, &e, "create index "+x.name)
	}
	return nil
}

// source is one doc as stored in Elasticsearch.
type source struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	OrgID    string `json:"org_id"`
	Scope    string `json:"scope"`
	AuthorID string `json:"author_id"`
	Text     string `json:"text"`
	At       int64  `json:"at"` // Unix ms
}

type bulkAction struct {
	Index  *bulkMeta `json:"index,omitempty"`
	Delete *bulkMeta `json:"delete,omitempty"`
}

type bulkMeta struct {
	ID string `json:"_id"`
}

// Put indexes docs with the _bulk API, refresh=wait_for. Invalid docs fail
// the call before anything is sent. Elasticsearch applies a bulk request item
// by item: when it rejects some items the error names them and the others
// are indexed; retrying the whole Put is safe (it is an upsert).
func (x *Index) Put(ctx context.Context, docs ...search.Doc) error {
	if err := search.CheckDocs(docs); err != nil {
		return err
	}
	for start := 0; start < len(docs); start += bulkChunk {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for _, d := range docs[start:min(start+bulkChunk, len(docs))] {
			_ = enc.Encode(bulkAction{Index: &bulkMeta{ID: d.ID}})
			_ = enc.Encode(source{ID: d.ID, Kind: d.Kind, OrgID: d.OrgID, Scope: d.Scope, AuthorID: d.AuthorID, Text: d.Text, At: search.Millis(d.At)})
		}
		if err := x.bulk(ctx, &buf, "index docs"); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes docs with bulk deletes, refresh=wait_for; ids that are not
// in the index (404 not_found items) are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	if err := search.CheckIDs(ids); err != nil {
		return err
	}
	for start := 0; start < len(ids); start += bulkChunk {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for _, id := range ids[start:min(start+bulkChunk, len(ids))] {
			_ = enc.Encode(bulkAction{Delete: &bulkMeta{ID: id}})
		}
		if err := x.bulk(ctx, &buf, "delete docs"); err != nil {
			return err
		}
	}
	return nil
}

// bulkResponse is the documented _bulk response: one item per action, in
// order, each keyed by its action name.
type bulkResponse struct {
	Errors bool                      `json:"errors"`
	Items  []map[string]bulkItemResp `json:"items"`
}

type bulkItemResp struct {
	ID     string    `json:"_id"`
	Status int       `json:"status"`
	Result string    `json:"result"`
	Error  *errorObj `json:"error"`
}

func (x *Index) bulk(ctx context.Context, body *bytes.Buffer, what string) error {
	if x.closed.Load() {
		return errClosed
	}
	res, err := esapi.BulkRequest{
		Index:   x.name,
		Body:    body,
		Refresh: "wait_for",
		Header:  http.Header{"Content-Type": {"application/x-ndjson"}},
	}.Do(ctx, x.es)
	if err != nil {
		return x.transportErr(err, what)
	}
	defer drain(res)
	if res.IsError() {
		e := readError(res)
		return statusErr(res.StatusCode, &e, what)
	}
	var br bulkResponse
	if err := json.NewDecoder(res.Body).Decode(&br); err != nil {
		return &core.Error{Code: core.EInternal, Message: "elasticsearch: unreadable _bulk response", Err: err}
	}
	if !br.Errors {
		return nil
	}
	var failed []string
	var first *errorObj
	code := core.EInternal
	for _, item := range br.Items {
		for action, r := range item {
			if r.Error == nil || (action == "delete" && r.Status == http.StatusNotFound) {
				continue
			}
			failed = append(failed, r.ID)
			if first == nil {
				first = r.Error
				// Overload and shard trouble pass; anything else means we
				// sent something the mapping refuses — a bug here.
				if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
					code = core.EUnavailable
				}
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &core.Error{
		Code:    code,
		Message: fmt.Sprintf("elasticsearch refused %d of the docs (first: %s: %s)", len(failed), first.Type, first.Reason),
		Details: map[string]any{"ids": failed},
	}
}

// searchBody builds the documented _search request for a normalised query.
func searchBody(q search.Query) map[string]any {
	filter := []any{
		map[string]any{"term": map[string]any{fKind: q.Kind}},
		map[string]any{"term": map[string]any{fOrgID: q.OrgID}},
		map[string]any{"terms": map[string]any{fScope: q.Scopes}},
	}
	if q.AuthorID != "" {
		filter = append(filter, map[string]any{"term": map[string]any{fAuthorID: q.AuthorID}})
	}
	if from, to, hasFrom, hasTo := q.AtBounds(); hasFrom || hasTo {
		r := map[string]any{"format": "epoch_millis"}
		if hasFrom {
			r["gte"] = from
		}
		if hasTo {
			r["lte"] = to
		}
		filter = append(filter, map[string]any{"range": map[string]any{fAt: r}})
	}
	boolQ := map[string]any{"filter": filter}
	if q.Text != "" {
		boolQ["must"] = []any{map[string]any{"match": map[string]any{fText: map[string]any{"query": q.Text, "operator": "and"}}}}
	}
	return map[string]any{
		"from":             q.Offset,
		"size":             q.Limit,
		"track_total_hits": true,
		"track_scores":     true,
		"query":            map[string]any{"bool": boolQ},
		"sort": []any{
			map[string]any{"_score": map[string]any{"order": "desc"}},
			map[string]any{fAt: map[string]any{"order": "desc"}},
			map[string]any{fID: map[string]any{"order": "asc"}},
		},
		"_source": []string{fScope, fAuthorID, fAt},
	}
}

type searchResponse struct {
	Hits struct {
		Total *struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []struct {
			ID     string   `json:"_id"`
			Score  *float64 `json:"_score"`
			Source *struct {
				Scope    string `json:"scope"`
				AuthorID string `json:"author_id"`
				At       *int64 `json:"at"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// Search runs q as one bool query. See search.Query.Normalize for what is
// refused.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	q, err := q.Normalize()
	if err != nil {
		return search.Result{}, err
	}
	if len(q.Scopes) == 0 {
		return search.Result{Hits: []search.Hit{}}, nil
	}
	if x.closed.Load() {
		return search.Result{}, errClosed
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(searchBody(q))
	res, err := esapi.SearchRequest{Index: []string{x.name}, Body: &buf}.Do(ctx, x.es)
	if err != nil {
		return search.Result{}, x.transportErr(err, "search")
	}
	defer drain(res)
	if res.IsError() {
		e := readError(res)
		return search.Result{}, statusErr(res.StatusCode, &e, "search")
	}
	var sr searchResponse
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		return search.Result{}, &core.Error{Code: core.EInternal, Message: "elasticsearch: unreadable _search response", Err: err}
	}
	if sr.Hits.Total == nil {
		return search.Result{}, core.Errorf(core.EInternal, "elasticsearch: _search response without hits.total")
	}
	out := search.Result{Total: sr.Hits.Total.Value, Hits: make([]search.Hit, 0, len(sr.Hits.Hits))}
	for _, h := range sr.Hits.Hits {
		if h.Source == nil || h.Source.At == nil {
			return search.Result{}, core.Errorf(core.EInternal, "elasticsearch: hit %s without _source.at", h.ID)
		}
		hit := search.Hit{ID: h.ID, Scope: h.Source.Scope, AuthorID: h.Source.AuthorID, At: time.UnixMilli(*h.Source.At).UTC()}
		if h.Score != nil {
			hit.Score = *h.Score
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

// Ping asks the cluster for its info (GET /).
func (x *Index) Ping(ctx context.Context) error {
	if x.closed.Load() {
		return errClosed
	}
	res, err := esapi.InfoRequest{}.Do(ctx, x.es)
	if err != nil {
		return x.transportErr(err, "ping")
	}
	defer drain(res)
	if res.IsError() {
		e := readError(res)
		return statusErr(res.StatusCode, &e, "ping")
	}
	return nil
}

// Close stops using the cluster; it does not touch the index.
func (x *Index) Close() error {
	if x.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := x.es.Close(ctx); err != nil && !errors.Is(err, elasticsearch.ErrClosed) {
		return core.Wrap(err, "close elasticsearch client")
	}
	return nil
}

var errClosed = core.Errorf(core.EUnavailable, "search index is closed")

// errorObj is the documented error object of Elasticsearch responses.
type errorObj struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type errorResponse struct {
	Error  errorObj `json:"error"`
	Status int      `json:"status"`
}

func readError(res *esapi.Response) errorResponse {
	var e errorResponse
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Error.Type == "" {
		e.Error.Type = http.StatusText(res.StatusCode)
		e.Error.Reason = strings.TrimSpace(string(b))
	}
	return e
}

// statusErr maps an error status to a core error: the cluster being down,
// overloaded or refusing us is EUnavailable (retry later, /readyz fails);
// anything else means Rounds sent something wrong, a bug.
func statusErr(status int, e *errorResponse, what string) error {
	msg := "elasticsearch: " + what + ": " + http.StatusText(status)
	if e != nil && e.Error.Type != "" {
		msg = fmt.Sprintf("elasticsearch: %s: %s: %s", what, e.Error.Type, e.Error.Reason)
	}
	code := core.EInternal
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		msg += " (check the Elasticsearch credentials)"
		code = core.EUnavailable
	case status == http.StatusNotFound:
		msg += " (the index is missing: restart Rounds to recreate it, then run `rounds reindex`)"
		code = core.EUnavailable
	case status == http.StatusTooManyRequests || status >= 500:
		code = core.EUnavailable
	}
	return &core.Error{Code: code, Message: msg, Details: map[string]any{"status": status}}
}

// transportErr maps a failure to get any response: the cluster is not
// reachable (or is not Elasticsearch).
func (x *Index) transportErr(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if x.closed.Load() || errors.Is(err, elasticsearch.ErrClosed) {
		return errClosed
	}
	msg := "elasticsearch: " + what + ": cluster unreachable"
	if strings.Contains(err.Error(), "not Elasticsearch") {
		msg = "elasticsearch: " + what + ": the server is not Elasticsearch (no X-Elastic-Product header)"
	}
	return &core.Error{Code: core.EUnavailable, Message: msg, Err: err}
}

// drain lets the HTTP connection be reused.
func drain(res *esapi.Response) {
	if res != nil && res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		_ = res.Body.Close()
	}
}
