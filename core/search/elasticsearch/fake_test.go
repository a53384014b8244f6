package essearch_test

// fakeES is an in-memory stand-in for an Elasticsearch 8 node, written from
// the documented REST API because no real server can run where these tests
// run. It implements only what the adapter uses, with the documented shapes:
//
//   - GET / (cluster info) and the X-Elastic-Product: Elasticsearch header on
//     every response, which go-elasticsearch v8 checks;
//   - HEAD /{index} (200 or 404), PUT /{index} with settings and mappings
//     (keyword, text with the cjk analyzer, date with epoch_millis;
//     dynamic: strict; _source excludes), resource_already_exists_exception;
//   - POST /{index}/_bulk with NDJSON index/create/delete actions, the
//     refresh parameter (docs become visible only on refresh), and the
//     documented response {took, errors, items:[{action:{_index,_id,status,
//     result,error}}]}, delete of a missing id giving 404 "not_found" without
//     an error;
//   - POST /{index}/_search with from, size, track_total_hits, track_scores,
//     sort, _source and the query DSL bool (filter/must), term, terms, range
//     (gte/gt/lte/lt), match (operator and/or), match_all; hits.total as
//     {value, relation}; the 10,000 result window;
//   - POST /{index}/_refresh;
//   - errors as {"error":{"root_cause":[…],"type","reason"},"status"}.
//
// Text is analysed like the built-in cjk analyzer: standard tokenisation
// (approximated: words of letters and digits, one token per CJK character),
// cjk_width folding, lowercasing, bigrams of adjacent CJK characters (a lone
// one stays a unigram) and the English stop words. Relevance is BM25
// (k1 1.2, b 0.75) with exact lengths; filters score nothing; a bool with
// only filters scores 0.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
)

type fakeReq struct {
	Method, Path, RawQuery, ContentType string
	Body                                []byte
}

type itemFault struct {
	status      int
	typ, reason string
}

type fakeES struct {
	srv *httptest.Server

	mu      sync.Mutex
	indices map[string]*fakeIndex
	reqs    []fakeReq
	// intercept, when set, may answer a request instead of the fake.
	intercept func(w http.ResponseWriter, r *http.Request, body []byte) bool
	// itemFaults makes bulk items for these ids fail.
	itemFaults map[string]itemFault
	// noProduct leaves out the X-Elastic-Product header.
	noProduct bool
}

type fieldDef struct{ Type, Analyzer, Format string }

type fakeDoc struct {
	id     string
	source map[string]any      // as stored (after _source excludes)
	values map[string]any      // all indexed values
	tokens map[string][]string // analysed text fields
}

type fakeIndex struct {
	name     string
	strict   bool
	excludes map[string]bool
	fields   map[string]fieldDef
	visible  map[string]*fakeDoc
	pending  map[string]*fakeDoc // nil value: deleted, not yet refreshed
	version  map[string]int
	seq      int
}

func newFakeES(t *testing.T) *fakeES {
	t.Helper()
	f := &fakeES{indices: map[string]*fakeIndex{}, itemFaults: map[string]itemFault{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeES) URL() string { return f.srv.URL }

// requests returns the recorded requests whose path ends with suffix.
func (f *fakeES) requests(method, suffix string) []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeReq
	for _, r := range f.reqs {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeReq{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body})
	intercept, noProduct := f.intercept, f.noProduct
	f.mu.Unlock()
	if !noProduct {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	if intercept != nil && intercept(w, r, body) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, 200, map[string]any{
			"name": "fake-node", "cluster_name": "fake", "cluster_uuid": "fake-uuid",
			"version": map[string]any{"number": "8.19.0", "build_flavor": "default", "lucene_version": "9.12.0",
				"minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0"},
			"tagline": "You Know, for Search",
		})
	case len(parts) == 1 && r.Method == http.MethodHead:
		if f.indices[parts[0]] == nil {
			w.WriteHeader(404)
			return
		}
		w.WriteHeader(200)
	case len(parts) == 1 && r.Method == http.MethodPut:
		f.createIndex(w, parts[0], body)
	case len(parts) == 2 && parts[1] == "_bulk" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		f.bulk(w, r, parts[0], body)
	case len(parts) == 2 && parts[1] == "_search" && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		f.search(w, parts[0], body)
	case len(parts) == 2 && parts[1] == "_refresh":
		ix := f.indices[parts[0]]
		if ix == nil {
			indexNotFound(w, parts[0])
			return
		}
		ix.refresh()
		writeJSON(w, 200, map[string]any{"_shards": map[string]any{"total": 2, "successful": 1, "failed": 0}})
	default:
		esError(w, 400, "illegal_argument_exception", fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.Path, r.Method))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func esError(w http.ResponseWriter, status int, typ, reason string) {
	cause := map[string]any{"type": typ, "reason": reason}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
}

func indexNotFound(w http.ResponseWriter, name string) {
	esError(w, 404, "index_not_found_exception", "no such index ["+name+"]")
}

func (f *fakeES) createIndex(w http.ResponseWriter, name string, body []byte) {
	if f.indices[name] != nil {
		esError(w, 400, "resource_already_exists_exception", "index ["+name+"/uuid] already exists")
		return
	}
	var req struct {
		Settings map[string]any `json:"settings"`
		Mappings struct {
			Dynamic string `json:"dynamic"`
			Source  struct {
				Excludes []string `json:"excludes"`
			} `json:"_source"`
			Properties map[string]fieldDef `json:"properties"`
		} `json:"mappings"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil && err != io.EOF {
		esError(w, 400, "mapper_parsing_exception", "failed to parse mapping: "+err.Error())
		return
	}
	for field, d := range req.Mappings.Properties {
		switch {
		case d.Type == "keyword":
		case d.Type == "text" && (d.Analyzer == "" || d.Analyzer == "cjk" || d.Analyzer == "standard"):
		case d.Type == "date" && (d.Format == "" || d.Format == "epoch_millis"):
		default:
			esError(w, 400, "mapper_parsing_exception", fmt.Sprintf("fake does not support field [%s] %+v", field, d))
			return
		}
	}
	ix := &fakeIndex{
		name: name, strict: req.Mappings.Dynamic == "strict",
		excludes: map[string]bool{}, fields: req.Mappings.Properties,
		visible: map[string]*fakeDoc{}, pending: map[string]*fakeDoc{}, version: map[string]int{},
	}
	for _, e := range req.Mappings.Source.Excludes {
		ix.excludes[e] = true
	}
	f.indices[name] = ix
	writeJSON(w, 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

func (ix *fakeIndex) refresh() {
	for id, d := range ix.pending {
		if d == nil {
			delete(ix.visible, id)
		} else {
			ix.visible[id] = d
		}
	}
	ix.pending = map[string]*fakeDoc{}
}

// latest is the doc as the next refresh will show it.
func (ix *fakeIndex) latest(id string) *fakeDoc {
	if d, ok := ix.pending[id]; ok {
		return d
	}
	return ix.visible[id]
}

func (f *fakeES) bulk(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	ix := f.indices[name]
	if ix == nil {
		indexNotFound(w, name)
		return
	}
	refresh := r.URL.Query().Get("refresh")
	switch refresh {
	case "", "true", "false", "wait_for":
	default:
		esError(w, 400, "illegal_argument_exception", "Unknown value for refresh: ["+refresh+"].")
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 100<<20)
	var items []any
	errorsSeen := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]struct {
			ID    string `json:"_id"`
			Index string `json:"_index"`
		}
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			esError(w, 400, "illegal_argument_exception", "Malformed action/metadata line")
			return
		}
		for op, meta := range action {
			item := map[string]any{"_index": name, "_id": meta.ID}
			var src map[string]any
			if op == "index" || op == "create" {
				if !sc.Scan() {
					esError(w, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
					return
				}
				if err := json.Unmarshal(sc.Bytes(), &src); err != nil {
					esError(w, 400, "x_content_parse_exception", "failed to parse source: "+err.Error())
					return
				}
			}
			if fault, ok := f.itemFaults[meta.ID]; ok {
				item["status"] = fault.status
				item["error"] = map[string]any{"type": fault.typ, "reason": fault.reason, "index": name}
				errorsSeen = true
				items = append(items, map[string]any{op: item})
				continue
			}
			switch op {
			case "index", "create":
				if meta.ID == "" {
					ix.seq++
					meta.ID = fmt.Sprintf("auto-%d", ix.seq)
					item["_id"] = meta.ID
				}
				doc, status, typ, reason := ix.parseDoc(meta.ID, src)
				if doc == nil {
					item["status"] = status
					item["error"] = map[string]any{"type": typ, "reason": reason, "index": name}
					errorsSeen = true
					break
				}
				exists := ix.latest(meta.ID) != nil
				if op == "create" && exists {
					item["status"] = 409
					item["error"] = map[string]any{"type": "version_conflict_engine_exception", "reason": "[" + meta.ID + "]: version conflict, document already exists", "index": name}
					errorsSeen = true
					break
				}
				ix.pending[meta.ID] = doc
				ix.version[meta.ID]++
				ix.seq++
				item["_version"], item["_seq_no"], item["_primary_term"] = ix.version[meta.ID], ix.seq, 1
				item["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
				if exists {
					item["result"], item["status"] = "updated", 200
				} else {
					item["result"], item["status"] = "created", 201
				}
			case "delete":
				ix.version[meta.ID]++
				ix.seq++
				item["_version"], item["_seq_no"], item["_primary_term"] = ix.version[meta.ID], ix.seq, 1
				item["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
				if ix.latest(meta.ID) == nil {
					item["result"], item["status"] = "not_found", 404
				} else {
					ix.pending[meta.ID] = nil
					item["result"], item["status"] = "deleted", 200
				}
			default:
				esError(w, 400, "illegal_argument_exception", "Malformed action/metadata line, expected one of [create, delete, index, update] but found ["+op+"]")
				return
			}
			items = append(items, map[string]any{op: item})
		}
	}
	if r.URL.Query().Has("refresh") && refresh != "false" {
		ix.refresh()
	}
	writeJSON(w, 200, map[string]any{"took": 1, "errors": errorsSeen, "items": items})
}

// parseDoc checks src against the mapping and analyses it.
func (ix *fakeIndex) parseDoc(id string, src map[string]any) (*fakeDoc, int, string, string) {
	d := &fakeDoc{id: id, source: map[string]any{}, values: map[string]any{}, tokens: map[string][]string{}}
	for k, v := range src {
		def, ok := ix.fields[k]
		if !ok {
			if ix.strict {
				return nil, 400, "strict_dynamic_mapping_exception", "[1:2] mapping set to strict, dynamic introduction of [" + k + "] within [_doc] is not allowed"
			}
			continue
		}
		switch def.Type {
		case "keyword":
			s, ok := v.(string)
			if !ok {
				return nil, 400, "document_parsing_exception", "[1:2] failed to parse field [" + k + "] of type [keyword]"
			}
			d.values[k] = s
		case "text":
			s, ok := v.(string)
			if !ok {
				return nil, 400, "document_parsing_exception", "[1:2] failed to parse field [" + k + "] of type [text]"
			}
			d.values[k] = s
			d.tokens[k] = analyze(s)
		case "date":
			n, ok := v.(float64)
			if !ok || n != math.Trunc(n) {
				return nil, 400, "document_parsing_exception", "[1:2] failed to parse field [" + k + "] of type [date]"
			}
			d.values[k] = n
		}
		if !ix.excludes[k] {
			d.source[k] = v
		}
	}
	return d, 0, "", ""
}

type scored struct {
	doc   *fakeDoc
	score float64
}

func (f *fakeES) search(w http.ResponseWriter, name string, body []byte) {
	ix := f.indices[name]
	if ix == nil {
		indexNotFound(w, name)
		return
	}
	var req map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			esError(w, 400, "parsing_exception", "failed to parse search body: "+err.Error())
			return
		}
	}
	from, size := 0, 10
	var query map[string]any
	var sortSpec []any
	var sourceSpec any = true
	trackTotal := false
	for k, v := range req {
		var err error
		switch k {
		case "from":
			err = json.Unmarshal(v, &from)
		case "size":
			err = json.Unmarshal(v, &size)
		case "query":
			err = json.Unmarshal(v, &query)
		case "sort":
			err = json.Unmarshal(v, &sortSpec)
		case "_source":
			err = json.Unmarshal(v, &sourceSpec)
		case "track_total_hits":
			err = json.Unmarshal(v, &trackTotal)
		case "track_scores":
		default:
			esError(w, 400, "parsing_exception", "Unknown key for a START_OBJECT in ["+k+"].")
			return
		}
		if err != nil {
			esError(w, 400, "parsing_exception", "["+k+"] "+err.Error())
			return
		}
	}
	if query == nil {
		query = map[string]any{"match_all": map[string]any{}}
	}
	if from < 0 || size < 0 || from+size > 10000 {
		esError(w, 400, "search_phase_execution_exception", "Result window is too large, from + size must be less than or equal to: [10000]")
		return
	}
	st := ix.stats()
	var hits []scored
	for _, d := range ix.visible {
		ok, score, err := ix.eval(query, d, st, true)
		if err != nil {
			esError(w, 400, "parsing_exception", err.Error())
			return
		}
		if ok {
			hits = append(hits, scored{d, score})
		}
	}
	keys, err := sortKeys(sortSpec)
	if err != nil {
		esError(w, 400, "parsing_exception", err.Error())
		return
	}
	sort.SliceStable(hits, func(i, j int) bool {
		for _, k := range keys {
			c := compareKey(k, hits[i], hits[j])
			if c != 0 {
				return c < 0
			}
		}
		return hits[i].doc.id < hits[j].doc.id
	})
	total := map[string]any{"value": len(hits), "relation": "eq"}
	if !trackTotal && len(hits) > 10000 {
		total = map[string]any{"value": 10000, "relation": "gte"}
	}
	page := []any{}
	maxScore := 0.0
	for i, h := range hits {
		maxScore = math.Max(maxScore, h.score)
		if i < from || i >= from+size {
			continue
		}
		hit := map[string]any{"_index": name, "_id": h.doc.id, "_score": h.score, "_source": filterSource(h.doc.source, sourceSpec)}
		if len(keys) > 0 {
			var sv []any
			for _, k := range keys {
				if k.field == "_score" {
					sv = append(sv, h.score)
				} else {
					sv = append(sv, h.doc.values[k.field])
				}
			}
			hit["sort"] = sv
		}
		page = append(page, hit)
	}
	writeJSON(w, 200, map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":    map[string]any{"total": total, "max_score": maxScore, "hits": page},
	})
}

func filterSource(src map[string]any, spec any) any {
	var fields []any
	switch s := spec.(type) {
	case bool:
		if !s {
			return nil
		}
		return src
	case []any:
		fields = s
	case map[string]any:
		fields, _ = s["includes"].([]any)
	}
	out := map[string]any{}
	for _, f := range fields {
		if name, ok := f.(string); ok {
			if v, ok := src[name]; ok {
				out[name] = v
			}
		}
	}
	return out
}

type sortKey struct {
	field string
	desc  bool
}

func sortKeys(spec []any) ([]sortKey, error) {
	var keys []sortKey
	for _, s := range spec {
		switch s := s.(type) {
		case string:
			keys = append(keys, sortKey{s, s == "_score"})
		case map[string]any:
			for field, opt := range s {
				k := sortKey{field: field, desc: field == "_score"}
				switch o := opt.(type) {
				case string:
					k.desc = o == "desc"
				case map[string]any:
					if order, ok := o["order"].(string); ok {
						k.desc = order == "desc"
					}
				}
				keys = append(keys, k)
			}
		default:
			return nil, fmt.Errorf("malformed sort %v", s)
		}
	}
	return keys, nil
}

func compareKey(k sortKey, a, b scored) int {
	var c int
	if k.field == "_score" {
		c = cmpFloat(a.score, b.score)
	} else {
		av, aok := a.doc.values[k.field]
		bv, bok := b.doc.values[k.field]
		switch {
		case !aok && !bok:
			return 0
		case !aok: // missing values sort last either way
			return 1
		case !bok:
			return -1
		}
		switch x := av.(type) {
		case float64:
			c = cmpFloat(x, bv.(float64))
		case string:
			c = strings.Compare(x, bv.(string))
		}
	}
	if k.desc {
		c = -c
	}
	return c
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stats are BM25 corpus statistics over visible docs, per text field.
type stats struct {
	n     map[string]int            // docs with the field
	avgdl map[string]float64        // average field length
	df    map[string]map[string]int // field → term → docs containing it
}

func (ix *fakeIndex) stats() stats {
	st := stats{n: map[string]int{}, avgdl: map[string]float64{}, df: map[string]map[string]int{}}
	sum := map[string]int{}
	for _, d := range ix.visible {
		for field, toks := range d.tokens {
			st.n[field]++
			sum[field] += len(toks)
			if st.df[field] == nil {
				st.df[field] = map[string]int{}
			}
			seen := map[string]bool{}
			for _, t := range toks {
				if !seen[t] {
					seen[t] = true
					st.df[field][t]++
				}
			}
		}
	}
	for field, n := range st.n {
		st.avgdl[field] = float64(sum[field]) / float64(n)
	}
	return st
}

// eval reports whether d matches q and its score (scoring is false inside
// a filter, where nothing scores).
func (ix *fakeIndex) eval(q map[string]any, d *fakeDoc, st stats, scoring bool) (bool, float64, error) {
	if len(q) != 1 {
		return false, 0, fmt.Errorf("query malformed, must have exactly one clause, found %d", len(q))
	}
	for kind, body := range q {
		switch kind {
		case "match_all":
			return true, boolScore(scoring, 1), nil
		case "bool":
			b, ok := body.(map[string]any)
			if !ok {
				return false, 0, fmt.Errorf("[bool] malformed")
			}
			score := 0.0
			for clause, v := range b {
				var subs []any
				switch v := v.(type) {
				case []any:
					subs = v
				case map[string]any:
					subs = []any{v}
				default:
					return false, 0, fmt.Errorf("[bool] [%s] malformed", clause)
				}
				if clause != "filter" && clause != "must" {
					return false, 0, fmt.Errorf("fake: [bool] clause [%s] not supported", clause)
				}
				for _, s := range subs {
					sq, ok := s.(map[string]any)
					if !ok {
						return false, 0, fmt.Errorf("[bool] [%s] malformed", clause)
					}
					m, sc, err := ix.eval(sq, d, st, scoring && clause == "must")
					if err != nil || !m {
						return false, 0, err
					}
					score += sc
				}
			}
			return true, score, nil
		case "term", "terms", "range", "match":
			spec, ok := body.(map[string]any)
			if !ok || len(spec) != 1 {
				return false, 0, fmt.Errorf("[%s] query malformed", kind)
			}
			for field, arg := range spec {
				return ix.leaf(kind, field, arg, d, st, scoring)
			}
		default:
			return false, 0, fmt.Errorf("unknown query [%s]", kind)
		}
	}
	return false, 0, nil
}

func boolScore(scoring bool, s float64) float64 {
	if scoring {
		return s
	}
	return 0
}

func (ix *fakeIndex) leaf(kind, field string, arg any, d *fakeDoc, st stats, scoring bool) (bool, float64, error) {
	def, known := ix.fields[field]
	v, has := d.values[field]
	switch kind {
	case "term":
		want := arg
		if m, ok := arg.(map[string]any); ok {
			want = m["value"]
		}
		if def.Type == "text" {
			return false, 0, fmt.Errorf("fake: term on text field [%s]", field)
		}
		return has && known && v == want, boolScore(scoring, 1), nil
	case "terms":
		list, ok := arg.([]any)
		if !ok {
			return false, 0, fmt.Errorf("[terms] query does not support [%s]", field)
		}
		if len(list) > 65536 {
			return false, 0, fmt.Errorf("The number of terms [%d] used in the Terms Query request has exceeded the allowed maximum of [65536]", len(list))
		}
		for _, w := range list {
			if has && v == w {
				return true, boolScore(scoring, 1), nil
			}
		}
		return false, 0, nil
	case "range":
		m, ok := arg.(map[string]any)
		if !ok {
			return false, 0, fmt.Errorf("[range] query malformed")
		}
		n, isNum := v.(float64)
		if !has || !isNum {
			return false, 0, nil
		}
		for op, bound := range m {
			if op == "format" {
				if bound != "epoch_millis" {
					return false, 0, fmt.Errorf("fake: range format %v", bound)
				}
				continue
			}
			b, err := toFloat(bound)
			if err != nil {
				return false, 0, fmt.Errorf("failed to parse date field [%v]", bound)
			}
			switch op {
			case "gte":
				ok = n >= b
			case "gt":
				ok = n > b
			case "lte":
				ok = n <= b
			case "lt":
				ok = n < b
			default:
				return false, 0, fmt.Errorf("[range] query does not support [%s]", op)
			}
			if !ok {
				return false, 0, nil
			}
		}
		return true, boolScore(scoring, 1), nil
	case "match":
		text, operator := "", "or"
		switch a := arg.(type) {
		case string:
			text = a
		case map[string]any:
			text, _ = a["query"].(string)
			if op, ok := a["operator"].(string); ok {
				operator = strings.ToLower(op)
			}
		}
		if def.Type != "text" {
			return has && v == text, boolScore(scoring, 1), nil
		}
		terms := analyze(text)
		if len(terms) == 0 { // zero_terms_query: none
			return false, 0, nil
		}
		toks := d.tokens[field]
		tf := map[string]int{}
		for _, t := range toks {
			tf[t]++
		}
		matched, score := 0, 0.0
		for _, t := range terms {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			matched++
			n := float64(st.df[field][t])
			idf := math.Log(1 + (float64(st.n[field])-n+0.5)/(n+0.5))
			const k1, b = 1.2, 0.75
			score += idf * f * (k1 + 1) / (f + k1*(1-b+b*float64(len(toks))/st.avgdl[field]))
		}
		if matched == 0 || operator == "and" && matched < len(terms) {
			return false, 0, nil
		}
		return true, boolScore(scoring, score), nil
	}
	return false, 0, nil
}

func toFloat(v any) (float64, error) {
	switch b := v.(type) {
	case float64:
		return b, nil
	case string:
		return strconv.ParseFloat(b, 64)
	}
	return 0, fmt.Errorf("not a number")
}

// English stop words of the cjk analyzer.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a and are as at be but by for if in into is it no not of on or s such t that the their then there these they this to was will with www") {
		stopWords[w] = true
	}
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// analyze approximates the cjk analyzer.
func analyze(s string) []string {
	type tok struct {
		text string
		cjk  bool
		end  int // rune offset just past the token
	}
	var toks []tok
	runes := []rune(s)
	for i := range runes {
		if r := runes[i]; r >= 0xFF01 && r <= 0xFF5E { // cjk_width: full-width ASCII
			runes[i] = r - 0xFEE0
		}
	}
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case isCJK(r):
			toks = append(toks, tok{string(r), true, i + 1})
			i++
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			j := i
			for j < len(runes) && !isCJK(runes[j]) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j]) || unicode.IsMark(runes[j]) || runes[j] == '_') {
				j++
			}
			toks = append(toks, tok{strings.ToLower(string(runes[i:j])), false, j})
			i = j
		default:
			i++
		}
	}
	var out []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.cjk {
			if !stopWords[t.text] {
				out = append(out, t.text)
			}
			continue
		}
		// A run of adjacent CJK characters becomes its bigrams; a lone
		// character stays a unigram.
		j := i
		for j+1 < len(toks) && toks[j+1].cjk && toks[j+1].end == toks[j].end+1 {
			j++
		}
		if j == i {
			out = append(out, t.text)
			continue
		}
		for k := i; k < j; k++ {
			out = append(out, toks[k].text+toks[k+1].text)
		}
		i = j
	}
	return out
}
