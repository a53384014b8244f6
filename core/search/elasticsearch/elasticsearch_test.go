package essearch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
	essearch "github.com/roundshq/rounds/core/search/elasticsearch"
	"github.com/roundshq/rounds/core/search/searchtest"
)

const testIndex = "rounds-test"

func open(t *testing.T, f *fakeES) *essearch.Index {
	t.Helper()
	idx, err := essearch.New(essearch.Config{Addresses: []string{f.URL()}, IndexName: testIndex})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return idx
}

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index { return open(t, newFakeES(t)) })
}

// jsonEqual compares a request body with the documented shape we expect.
func jsonEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func codeOf(t *testing.T, err error) *core.Error {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *core.Error", err, err)
	}
	return e
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) // 1772438400000 ms

func TestCreatesIndexWithDocumentedMapping(t *testing.T) {
	f := newFakeES(t)
	idx := open(t, f)
	defer idx.Close()

	heads := f.requests(http.MethodHead, "/"+testIndex)
	puts := f.requests(http.MethodPut, "/"+testIndex)
	if len(heads) != 1 || len(puts) != 1 {
		t.Fatalf("HEAD %d, PUT %d requests; want 1 each", len(heads), len(puts))
	}
	if puts[0].ContentType != "application/json" {
		t.Errorf("Content-Type %q", puts[0].ContentType)
	}
	jsonEqual(t, "create index", puts[0].Body, `{
		"settings": {"index": {"number_of_shards": 1}},
		"mappings": {
			"dynamic": "strict",
			"_source": {"excludes": ["text"]},
			"properties": {
				"id":        {"type": "keyword"},
				"kind":      {"type": "keyword"},
				"org_id":    {"type": "keyword"},
				"scope":     {"type": "keyword"},
				"author_id": {"type": "keyword"},
				"text":      {"type": "text", "analyzer": "cjk"},
				"at":        {"type": "date", "format": "epoch_millis"}
			}
		}
	}`)

	t.Run("existing index is kept", func(t *testing.T) {
		again := open(t, f)
		defer again.Close()
		if n := len(f.requests(http.MethodPut, "/"+testIndex)); n != 1 {
			t.Errorf("%d PUT requests after reopening, want still 1", n)
		}
	})
	t.Run("index created by another node meanwhile", func(t *testing.T) {
		f.intercept = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotFound) // it was not there when we looked
				return true
			}
			return false
		}
		defer func() { f.intercept = nil }()
		again := open(t, f) // PUT answers resource_already_exists_exception
		defer again.Close()
	})
}

func TestBulkRequests(t *testing.T) {
	f := newFakeES(t)
	idx := open(t, f)
	defer idx.Close()
	ctx := context.Background()

	err := idx.Put(ctx,
		search.Doc{ID: "m1", Kind: "message", OrgID: "org-1", Scope: "conv-1", AuthorID: "u-1", Text: "患者胸痛 <ECG> & \"急\"", At: t0},
		search.Doc{ID: "m2", Kind: "message", OrgID: "org-1", Scope: "conv-2", Text: "ok", At: t0.Add(1500 * time.Microsecond)},
	)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	reqs := f.requests(http.MethodPost, "/"+testIndex+"/_bulk")
	if len(reqs) != 1 {
		t.Fatalf("%d bulk requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.RawQuery != "refresh=wait_for" {
		t.Errorf("query %q, want refresh=wait_for", r.RawQuery)
	}
	if r.ContentType != "application/x-ndjson" {
		t.Errorf("Content-Type %q, want application/x-ndjson", r.ContentType)
	}
	want := `{"index":{"_id":"m1"}}
{"id":"m1","kind":"message","org_id":"org-1","scope":"conv-1","author_id":"u-1","text":"患者胸痛 <ECG> & \"急\"","at":1772438400000}
{"index":{"_id":"m2"}}
{"id":"m2","kind":"message","org_id":"org-1","scope":"conv-2","author_id":"","text":"ok","at":1772438400001}
`
	if string(r.Body) != want {
		t.Errorf("bulk body:\n%s\nwant:\n%s", r.Body, want)
	}

	if err := idx.Delete(ctx, "m1", "nope"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	reqs = f.requests(http.MethodPost, "/"+testIndex+"/_bulk")
	if got, want := string(reqs[len(reqs)-1].Body), "{\"delete\":{\"_id\":\"m1\"}}\n{\"delete\":{\"_id\":\"nope\"}}\n"; got != want {
		t.Errorf("delete body:\n%s\nwant:\n%s", got, want)
	}
	if q := reqs[len(reqs)-1].RawQuery; q != "refresh=wait_for" {
		t.Errorf("delete query %q", q)
	}

	t.Run("large puts are split", func(t *testing.T) {
		before := len(f.requests(http.MethodPost, "/_bulk"))
		docs := make([]search.Doc, 1200)
		for i := range docs {
			docs[i] = search.Doc{ID: fmt.Sprintf("d%d", i), Kind: "message", OrgID: "org-1", Scope: "s", At: t0}
		}
		if err := idx.Put(ctx, docs...); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests(http.MethodPost, "/_bulk")[before:]
		var lines []int
		for _, r := range reqs {
			lines = append(lines, strings.Count(string(r.Body), "\n"))
		}
		if !slices.Equal(lines, []int{1000, 1000, 400}) {
			t.Errorf("bulk requests with %v lines, want [1000 1000 400]", lines)
		}
	})
	t.Run("nothing to do sends nothing", func(t *testing.T) {
		before := len(f.requests(http.MethodPost, "/_bulk"))
		if err := idx.Put(ctx); err != nil {
			t.Fatal(err)
		}
		if err := idx.Delete(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(f.requests(http.MethodPost, "/_bulk")); n != before {
			t.Errorf("%d new bulk requests, want 0", n-before)
		}
	})
}

func TestSearchRequests(t *testing.T) {
	f := newFakeES(t)
	idx := open(t, f)
	defer idx.Close()
	ctx := context.Background()

	cases := []struct {
		name string
		q    search.Query
		want string
	}{
		{
			name: "every filter and text",
			q: search.Query{
				Kind: "message", OrgID: "org-1", Scopes: []string{"conv-1", "conv-2", "conv-1"},
				Text: " 胸痛 ECG ", AuthorID: "u-1",
				From: t0, To: t0.Add(time.Hour + 999*time.Microsecond), Limit: 10, Offset: 5,
			},
			want: `{
				"from": 5, "size": 10, "track_total_hits": true, "track_scores": true,
				"query": {"bool": {
					"filter": [
						{"term": {"kind": "message"}},
						{"term": {"org_id": "org-1"}},
						{"terms": {"scope": ["conv-1", "conv-2"]}},
						{"term": {"author_id": "u-1"}},
						{"range": {"at": {"gte": 1772438400000, "lte": 1772442000000, "format": "epoch_millis"}}}
					],
					"must": [{"match": {"text": {"query": "胸痛 ECG", "operator": "and"}}}]
				}},
				"sort": [{"_score": {"order": "desc"}}, {"at": {"order": "desc"}}, {"id": {"order": "asc"}}],
				"_source": ["scope", "author_id", "at"]
			}`,
		},
		{
			name: "no text, defaults",
			q:    search.Query{Kind: "message", OrgID: "org-1", Scopes: []string{"conv-1"}, To: t0},
			want: `{
				"from": 0, "size": 20, "track_total_hits": true, "track_scores": true,
				"query": {"bool": {"filter": [
					{"term": {"kind": "message"}},
					{"term": {"org_id": "org-1"}},
					{"terms": {"scope": ["conv-1"]}},
					{"range": {"at": {"lte": 1772438400000, "format": "epoch_millis"}}}
				]}},
				"sort": [{"_score": {"order": "desc"}}, {"at": {"order": "desc"}}, {"id": {"order": "asc"}}],
				"_source": ["scope", "author_id", "at"]
			}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := idx.Search(ctx, c.q); err != nil {
				t.Fatalf("Search: %v", err)
			}
			reqs := f.requests(http.MethodPost, "/"+testIndex+"/_search")
			if len(reqs) == 0 {
				t.Fatal("no _search request")
			}
			jsonEqual(t, "search body", reqs[len(reqs)-1].Body, c.want)
		})
	}
	t.Run("no scopes sends nothing", func(t *testing.T) {
		before := len(f.requests(http.MethodPost, "/_search"))
		res, err := idx.Search(ctx, search.Query{Kind: "message", OrgID: "org-1", Text: "x"})
		if err != nil || res.Total != 0 {
			t.Fatalf("Search = %+v, %v", res, err)
		}
		if n := len(f.requests(http.MethodPost, "/_search")); n != before {
			t.Errorf("%d requests sent for a search that can find nothing", n-before)
		}
	})
}

func TestBulkItemErrors(t *testing.T) {
	ctx := context.Background()
	doc := func(id string) search.Doc {
		return search.Doc{ID: id, Kind: "message", OrgID: "org-1", Scope: "s", Text: "交班", At: t0}
	}
	cases := []struct {
		name  string
		fault itemFault
		code  core.Code
	}{
		{"mapping refuses the doc", itemFault{400, "document_parsing_exception", "failed to parse field [at]"}, core.EInternal},
		{"node overloaded", itemFault{429, "es_rejected_execution_exception", "rejected execution"}, core.EUnavailable},
		{"shard unavailable", itemFault{503, "unavailable_shards_exception", "primary shard is not active"}, core.EUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeES(t)
			idx := open(t, f)
			defer idx.Close()
			f.itemFaults["bad"] = c.fault
			err := idx.Put(ctx, doc("good"), doc("bad"))
			e := codeOf(t, err)
			if e.Code != c.code {
				t.Errorf("code %s, want %s (%v)", e.Code, c.code, err)
			}
			if ids, _ := e.Details["ids"].([]string); !slices.Equal(ids, []string{"bad"}) {
				t.Errorf("details ids %v, want [bad]", e.Details["ids"])
			}
			if !strings.Contains(e.Message, c.fault.typ) {
				t.Errorf("message %q does not name %s", e.Message, c.fault.typ)
			}
			// Elasticsearch applies the other items; the error says which failed.
			res, err := idx.Search(ctx, search.Query{Kind: "message", OrgID: "org-1", Scopes: []string{"s"}})
			if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != "good" {
				t.Errorf("after partial failure: %+v, %v", res, err)
			}
		})
	}
}

func TestBackendFailures(t *testing.T) {
	ctx := context.Background()
	q := search.Query{Kind: "message", OrgID: "org-1", Scopes: []string{"s"}}
	d := search.Doc{ID: "m1", Kind: "message", OrgID: "org-1", Scope: "s", At: t0}

	t.Run("server down at start", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		_, err := essearch.New(essearch.Config{Addresses: []string{addr}, SetupTimeout: 5 * time.Second})
		if e := codeOf(t, err); e.Code != core.EUnavailable {
			t.Errorf("New = %v, want %s", err, core.EUnavailable)
		}
	})
	t.Run("server goes down", func(t *testing.T) {
		f := newFakeES(t)
		idx := open(t, f)
		defer idx.Close()
		f.srv.Close()
		checks := map[string]error{
			"Ping":   idx.Ping(ctx),
			"Put":    idx.Put(ctx, d),
			"Delete": idx.Delete(ctx, "m1"),
		}
		_, checks["Search"] = idx.Search(ctx, q)
		for name, err := range checks {
			if e := codeOf(t, err); e.Code != core.EUnavailable {
				t.Errorf("%s = %v, want %s", name, err, core.EUnavailable)
			}
		}
	})
	t.Run("not Elasticsearch", func(t *testing.T) {
		f := newFakeES(t)
		f.noProduct = true
		_, err := essearch.New(essearch.Config{Addresses: []string{f.URL()}})
		e := codeOf(t, err)
		if e.Code != core.EUnavailable || !strings.Contains(e.Message, "not Elasticsearch") {
			t.Errorf("New = %v, want %s naming the product check", err, core.EUnavailable)
		}
	})

	statusCases := []struct {
		name   string
		status int
		body   string
		code   core.Code
		says   string
	}{
		{"overloaded", 429, `{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}`, core.EUnavailable, "es_rejected_execution_exception"},
		{"cluster failing", 503, `{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}`, core.EUnavailable, "cluster_block_exception"},
		{"bad credentials", 401, `{"error":{"type":"security_exception","reason":"unable to authenticate user"},"status":401}`, core.EUnavailable, "credentials"},
		{"index deleted", 404, `{"error":{"type":"index_not_found_exception","reason":"no such index [rounds-test]"},"status":404}`, core.EUnavailable, "reindex"},
		{"request refused", 400, `{"error":{"type":"parsing_exception","reason":"unknown query [bogus]"},"status":400}`, core.EInternal, "unknown query [bogus]"},
		{"error without JSON", 502, `Bad Gateway from proxy`, core.EUnavailable, "Bad Gateway from proxy"},
		{"unreadable success", 200, `{"hits": [`, core.EInternal, "unreadable"},
		{"success without total", 200, `{"hits":{"hits":[]}}`, core.EInternal, "hits.total"},
	}
	for _, c := range statusCases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeES(t)
			idx := open(t, f)
			defer idx.Close()
			f.intercept = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
				if !strings.HasSuffix(r.URL.Path, "/_search") {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
				return true
			}
			_, err := idx.Search(ctx, q)
			e := codeOf(t, err)
			if e.Code != c.code || !strings.Contains(e.Message, c.says) {
				t.Errorf("Search = %v; want %s mentioning %q", err, c.code, c.says)
			}
		})
	}
	t.Run("bulk refused as a whole", func(t *testing.T) {
		f := newFakeES(t)
		idx := open(t, f)
		defer idx.Close()
		f.intercept = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if !strings.HasSuffix(r.URL.Path, "/_bulk") {
				return false
			}
			esError(w, 413, "content_too_long", "request too large")
			return true
		}
		e := codeOf(t, idx.Put(ctx, d))
		if e.Code != core.EInternal || !strings.Contains(e.Message, "content_too_long") {
			t.Errorf("Put = %v", e)
		}
	})
}

func TestConfigAndClose(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   essearch.Config
		field string
	}{
		{"no address", essearch.Config{}, "addresses"},
		{"upper-case index", essearch.Config{Addresses: []string{"http://127.0.0.1:1"}, IndexName: "Rounds"}, "index_name"},
		{"path in index", essearch.Config{Addresses: []string{"http://127.0.0.1:1"}, IndexName: "a/b"}, "index_name"},
		{"leading underscore", essearch.Config{Addresses: []string{"http://127.0.0.1:1"}, IndexName: "_x"}, "index_name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := essearch.New(c.cfg)
			if e := codeOf(t, err); e.Code != core.EInvalid || e.Field != c.field {
				t.Errorf("New = %v, want %s on %s", err, core.EInvalid, c.field)
			}
		})
	}
	t.Run("use after close", func(t *testing.T) {
		idx := open(t, newFakeES(t))
		if err := idx.Close(); err != nil {
			t.Fatal(err)
		}
		if err := idx.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		_, err := idx.Search(context.Background(), search.Query{Kind: "k", OrgID: "o", Scopes: []string{"s"}})
		if !core.IsCode(err, core.EUnavailable) {
			t.Errorf("Search after Close = %v", err)
		}
		if err := idx.Ping(context.Background()); !core.IsCode(err, core.EUnavailable) {
			t.Errorf("Ping after Close = %v", err)
		}
	})
}

// The fake's analyzer must match the documented cjk analyzer output, or the
// contract suite would prove nothing about the real one.
func TestFakeAnalyzerMatchesDocs(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		// cjk_bigram documentation example.
		{"東京都は、日本の首都であり", []string{"東京", "京都", "都は", "日本", "本の", "の首", "首都", "都で", "であ", "あり"}},
		{"患者胸痛三小时", []string{"患者", "者胸", "胸痛", "痛三", "三小", "小时"}},
		{"胸 CT", []string{"胸", "ct"}},
		{"The ECG is on ＷＡＲＤ 5", []string{"ecg", "ward", "5"}},
	}
	for _, c := range cases {
		if got := analyze(c.text); !slices.Equal(got, c.want) {
			t.Errorf("analyze(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
