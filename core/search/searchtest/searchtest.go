// Package searchtest is the contract suite every search.Index adapter must
// pass. It knows only the search.Index interface, so Bleve, Elasticsearch and
// any future adapter are held to the same behaviour.
//
// Relevance is checked only where every reasonable scorer (TF-IDF, BM25)
// agrees: a short doc repeating a word beats a long doc mentioning it once,
// and docs with identical text tie and fall back to newest first.
package searchtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

// Run runs the suite. newIndex must return a fresh, empty index for each
// subtest; the suite closes it when the subtest ends.
func Run(t *testing.T, newIndex func(t *testing.T) search.Index) {
	tests := []struct {
		name string
		run  func(t *testing.T, idx search.Index)
	}{
		{"ChineseBigrams", testChineseBigrams},
		{"EnglishWords", testEnglishWords},
		{"AllWordsMustMatch", testAllWordsMustMatch},
		{"ScopesLimitResults", testScopesLimitResults},
		{"EmptyScopesFindNothing", testEmptyScopesFindNothing},
		{"KindAndOrgIsolation", testKindAndOrgIsolation},
		{"AuthorFilter", testAuthorFilter},
		{"DateRangeInclusive", testDateRangeInclusive},
		{"HitFields", testHitFields},
		{"PutReplaces", testPutReplaces},
		{"DeleteRemoves", testDeleteRemoves},
		{"OrderScoreThenNewest", testOrderScoreThenNewest},
		{"LimitOffsetTotal", testLimitOffsetTotal},
		{"Bulk1000", testBulk1000},
		{"ConcurrentPutAndSearch", testConcurrentPutAndSearch},
		{"InvalidQuery", testInvalidQuery},
		{"InvalidDocsChangeNothing", testInvalidDocsChangeNothing},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx := newIndex(t)
			t.Cleanup(func() {
				if err := idx.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, idx)
		})
	}
}

const (
	kind = "message"
	org  = "org-1"
)

// base is a fixed instant; docs are placed relative to it.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

func msg(id, scope, text string, when time.Time) search.Doc {
	return search.Doc{ID: id, Kind: kind, OrgID: org, Scope: scope, AuthorID: "u-1", Text: text, At: when}
}

func put(t *testing.T, idx search.Index, docs ...search.Doc) {
	t.Helper()
	if err := idx.Put(context.Background(), docs...); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func find(t *testing.T, idx search.Index, q search.Query) search.Result {
	t.Helper()
	res, err := idx.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	if len(res.Hits) > res.Total {
		t.Fatalf("Search(%+v): %d hits but total %d", q, len(res.Hits), res.Total)
	}
	return res
}

func query(text string, scopes ...string) search.Query {
	return search.Query{Kind: kind, OrgID: org, Scopes: scopes, Text: text}
}

func ids(res search.Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

// sameSet compares hit ids ignoring order.
func sameSet(t *testing.T, what string, res search.Result, want ...string) {
	t.Helper()
	got := ids(res)
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("%s: got %v, want %v", what, got, w)
	}
	if res.Total != len(want) {
		t.Errorf("%s: total %d, want %d", what, res.Total, len(want))
	}
}

// inOrder compares hit ids in order.
func inOrder(t *testing.T, what string, res search.Result, want ...string) {
	t.Helper()
	if got := ids(res); !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func testChineseBigrams(t *testing.T, idx search.Index) {
	put(t, idx,
		msg("m1", "s1", "患者胸痛三小时", at(0)),
		msg("m2", "s1", "患者腹痛两天，伴发热", at(1)),
		msg("m3", "s1", "胸部CT已出结果", at(2)),
	)
	cases := []struct {
		text string
		want []string
	}{
		{"胸痛", []string{"m1"}},
		{"患者", []string{"m1", "m2"}},
		{"胸痛三小时", []string{"m1"}},
		{"腹痛", []string{"m2"}},
		{"发热", []string{"m2"}},
		{"结果", []string{"m3"}},
		{"CT", []string{"m3"}},
		{"头痛", nil},
		{"胸痛两天", nil},
		{"，。！", nil},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			sameSet(t, c.text, find(t, idx, query(c.text, "s1")), c.want...)
		})
	}
}

func testEnglishWords(t *testing.T, idx search.Index) {
	put(t, idx,
		msg("m1", "s1", "Patient in bed 12 needs an urgent ECG", at(0)),
		msg("m2", "s1", "ECG machine on ward 5 is broken", at(1)),
		msg("m3", "s1", "Night shift handover done", at(2)),
	)
	cases := []struct {
		text string
		want []string
	}{
		{"ecg", []string{"m1", "m2"}},
		{"ECG", []string{"m1", "m2"}},
		{"urgent ECG", []string{"m1"}},
		{"Handover", []string{"m3"}},
		{"bed 12", []string{"m1"}},
		{"ward 5", []string{"m2"}},
		// English stop words are not required to appear.
		{"the ECG", []string{"m1", "m2"}},
		{"ECG on the ward", []string{"m2"}},
		// Words that analyse to nothing find nothing (not everything).
		{"the", nil},
		{"?!", nil},
		{"MRI", nil},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			sameSet(t, c.text, find(t, idx, query(c.text, "s1")), c.want...)
		})
	}
}

func testAllWordsMustMatch(t *testing.T, idx search.Index) {
	put(t, idx,
		msg("m1", "s1", "胸痛 ECG 异常", at(0)),
		msg("m2", "s1", "胸痛 已缓解", at(1)),
		msg("m3", "s1", "ECG 正常", at(2)),
	)
	cases := []struct {
		text string
		want []string
	}{
		{"胸痛 ECG", []string{"m1"}},
		{"ECG 胸痛", []string{"m1"}},
		{"胸痛 缓解", []string{"m2"}},
		{"ECG 缓解", nil},
		{"ECG", []string{"m1", "m3"}},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			sameSet(t, c.text, find(t, idx, query(c.text, "s1")), c.want...)
		})
	}
}

func testScopesLimitResults(t *testing.T, idx search.Index) {
	put(t, idx,
		msg("m1", "conv-1", "今日查房 ward round", at(0)),
		msg("m2", "conv-2", "今日查房 ward round", at(1)),
		msg("m3", "conv-3", "今日查房 ward round", at(2)),
	)
	cases := []struct {
		name   string
		text   string
		scopes []string
		want   []string
	}{
		{"two of three by text", "查房", []string{"conv-1", "conv-2"}, []string{"m1", "m2"}},
		{"two of three without text", "", []string{"conv-1", "conv-2"}, []string{"m1", "m2"}},
		{"one scope", "round", []string{"conv-3"}, []string{"m3"}},
		{"repeated scope", "round", []string{"conv-3", "conv-3"}, []string{"m3"}},
		{"unknown scope", "查房", []string{"conv-9"}, nil},
		{"prefix of a scope is not the scope", "", []string{"conv"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := find(t, idx, query(c.text, c.scopes...))
			sameSet(t, c.name, res, c.want...)
			for _, h := range res.Hits {
				if !slices.Contains(c.scopes, h.Scope) {
					t.Errorf("hit %s in scope %q, which was not asked for", h.ID, h.Scope)
				}
			}
		})
	}
}

func testEmptyScopesFindNothing(t *testing.T, idx search.Index) {
	put(t, idx, msg("m1", "s1", "交班记录", at(0)))
	for _, c := range []struct {
		name   string
		scopes []string
		text   string
	}{
		{"nil scopes", nil, ""},
		{"empty scopes", []string{}, ""},
		{"nil scopes with text", nil, "交班"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := query(c.text)
			q.Scopes = c.scopes
			res := find(t, idx, q)
			if res.Total != 0 || len(res.Hits) != 0 {
				t.Errorf("got total %d hits %v, want nothing", res.Total, ids(res))
			}
		})
	}
}

func testKindAndOrgIsolation(t *testing.T, idx search.Index) {
	d := func(id, kind, org string) search.Doc {
		return search.Doc{ID: id, Kind: kind, OrgID: org, Scope: "s1", AuthorID: "u-1", Text: "转诊申请 referral", At: at(0)}
	}
	put(t, idx, d("a", "message", "org-1"), d("b", "note", "org-1"), d("c", "message", "org-2"))
	cases := []struct {
		kind, org, text string
		want            []string
	}{
		{"message", "org-1", "转诊", []string{"a"}},
		{"note", "org-1", "转诊", []string{"b"}},
		{"message", "org-2", "referral", []string{"c"}},
		{"message", "org-2", "", []string{"c"}},
		{"Message", "org-1", "", nil},
		{"message", "org-3", "", nil},
	}
	for _, c := range cases {
		name := c.kind + "/" + c.org + "/" + c.text
		t.Run(name, func(t *testing.T) {
			q := search.Query{Kind: c.kind, OrgID: c.org, Scopes: []string{"s1"}, Text: c.text}
			sameSet(t, name, find(t, idx, q), c.want...)
		})
	}
}

func testAuthorFilter(t *testing.T, idx search.Index) {
	m1 := msg("m1", "s1", "请假申请", at(0))
	m2 := msg("m2", "s1", "请假申请", at(1))
	m2.AuthorID = "u-2"
	put(t, idx, m1, m2)
	for _, c := range []struct {
		author, text string
		want         []string
	}{
		{"u-1", "请假", []string{"m1"}},
		{"u-2", "", []string{"m2"}},
		{"u-3", "请假", nil},
		{"", "请假", []string{"m1", "m2"}},
	} {
		t.Run(c.author+"/"+c.text, func(t *testing.T) {
			q := query(c.text, "s1")
			q.AuthorID = c.author
			res := find(t, idx, q)
			sameSet(t, "author "+c.author, res, c.want...)
			for _, h := range res.Hits {
				if c.author != "" && h.AuthorID != c.author {
					t.Errorf("hit %s by %q", h.ID, h.AuthorID)
				}
			}
		})
	}
}

func testDateRangeInclusive(t *testing.T, idx search.Index) {
	for i := range 5 {
		put(t, idx, msg(fmt.Sprintf("h%d", i), "s1", "值班记录", at(60*i)))
	}
	odd := base.Add(5*time.Hour + 123456789*time.Nanosecond)
	put(t, idx, msg("h5", "s1", "值班记录", odd))
	var zero time.Time
	cases := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"both bounds inclusive", at(60), at(180), []string{"h1", "h2", "h3"}},
		{"from only", at(180), zero, []string{"h3", "h4", "h5"}},
		{"to only", zero, at(60), []string{"h0", "h1"}},
		{"single instant", at(120), at(120), []string{"h2"}},
		{"between docs", at(61), at(119), nil},
		{"bounds far outside", base.AddDate(-200, 0, 0), base.AddDate(300, 0, 0), []string{"h0", "h1", "h2", "h3", "h4", "h5"}},
		// At is compared to the millisecond: a range starting at a doc's
		// own time finds it even when that time had nanoseconds.
		{"own sub-millisecond time", odd, odd, []string{"h5"}},
		{"next millisecond", odd.Add(time.Millisecond), zero, nil},
	}
	for _, c := range cases {
		for _, text := range []string{"", "值班"} {
			t.Run(c.name+"/"+text, func(t *testing.T) {
				q := query(text, "s1")
				q.From, q.To = c.from, c.to
				sameSet(t, c.name, find(t, idx, q), c.want...)
			})
		}
	}
}

func testHitFields(t *testing.T, idx search.Index) {
	when := base.Add(1234567891 * time.Nanosecond).In(time.FixedZone("CST", 8*3600))
	put(t, idx, search.Doc{ID: "m1", Kind: kind, OrgID: org, Scope: "conv-7", AuthorID: "u-42", Text: "危急值 报告", At: when})
	for _, text := range []string{"危急值", ""} {
		t.Run("text="+text, func(t *testing.T) {
			res := find(t, idx, query(text, "conv-7"))
			if len(res.Hits) != 1 {
				t.Fatalf("hits %v, want m1", ids(res))
			}
			h := res.Hits[0]
			if h.ID != "m1" || h.Scope != "conv-7" || h.AuthorID != "u-42" {
				t.Errorf("hit %+v", h)
			}
			if want := when.Truncate(time.Millisecond); !h.At.Equal(want) {
				t.Errorf("At %v, want %v (to the millisecond)", h.At, want)
			}
			if text != "" && h.Score <= 0 {
				t.Errorf("score %v for a text match, want > 0", h.Score)
			}
			if text == "" && h.Score != 0 {
				t.Errorf("score %v without text, want 0", h.Score)
			}
		})
	}
}

func testPutReplaces(t *testing.T, idx search.Index) {
	put(t, idx, msg("m1", "s1", "血压偏高", at(0)))
	sameSet(t, "before", find(t, idx, query("血压", "s1", "s2")), "m1")

	changed := msg("m1", "s2", "体温正常", at(5))
	changed.AuthorID = "u-2"
	put(t, idx, changed)

	sameSet(t, "old text", find(t, idx, query("血压", "s1", "s2")))
	res := find(t, idx, query("体温", "s1", "s2"))
	sameSet(t, "new text", res, "m1")
	if len(res.Hits) == 1 {
		h := res.Hits[0]
		if h.Scope != "s2" || h.AuthorID != "u-2" || !h.At.Equal(at(5)) {
			t.Errorf("replaced hit %+v, want scope s2, author u-2, at %v", h, at(5))
		}
	}
	sameSet(t, "old scope", find(t, idx, query("", "s1")))
	sameSet(t, "everything", find(t, idx, query("", "s1", "s2")), "m1")

	// The last of two docs with one id in a single Put wins.
	put(t, idx, msg("m2", "s1", "第一版", at(0)), msg("m2", "s1", "第二版", at(0)))
	sameSet(t, "first version", find(t, idx, query("第一版", "s1")))
	sameSet(t, "second version", find(t, idx, query("第二版", "s1")), "m2")
}

func testDeleteRemoves(t *testing.T, idx search.Index) {
	ctx := context.Background()
	put(t, idx, msg("m1", "s1", "撤回的消息", at(0)), msg("m2", "s1", "保留的消息", at(1)), msg("m3", "s1", "另一条消息", at(2)))
	if err := idx.Delete(ctx, "m1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	sameSet(t, "after delete", find(t, idx, query("消息", "s1")), "m2", "m3")
	sameSet(t, "deleted text", find(t, idx, query("撤回", "s1")))

	for _, c := range []struct {
		name string
		ids  []string
	}{
		{"again", []string{"m1"}},
		{"never existed", []string{"nope"}},
		{"none", nil},
	} {
		if err := idx.Delete(ctx, c.ids...); err != nil {
			t.Errorf("Delete %s: %v", c.name, err)
		}
	}
	if err := idx.Delete(ctx, "m2", "nope", "m3"); err != nil {
		t.Fatalf("Delete mixed: %v", err)
	}
	sameSet(t, "all deleted", find(t, idx, query("", "s1")))

	if err := idx.Delete(ctx, ""); !core.IsCode(err, core.EInvalid) {
		t.Errorf("Delete(\"\") = %v, want %s", err, core.EInvalid)
	}
}

func testOrderScoreThenNewest(t *testing.T, idx search.Index) {
	put(t, idx,
		// Relevance beats recency: a short doc repeating the word is older.
		msg("strong", "s1", "发热 发热 发热", at(1)),
		msg("weak", "s1", "发热 咳嗽 头痛 乏力 腹泻 恶心 呕吐", at(10)),
		// Identical text ties on score and is ordered newest first; the
		// oldest sits alone in a rare scope, which must not lift its score.
		msg("tie-old", "rare", "会诊 通知", at(0)),
		msg("tie-new", "s1", "会诊 通知", at(30)),
		msg("tie-mid", "s1", "会诊 通知", at(20)),
		msg("tie-3", "s1", "会诊 通知", at(3)),
		msg("tie-4", "s1", "会诊 通知", at(4)),
	)
	res := find(t, idx, query("发热", "s1"))
	inOrder(t, "score first", res, "strong", "weak")
	if len(res.Hits) == 2 && !(res.Hits[0].Score > res.Hits[1].Score) {
		t.Errorf("scores %v, %v: want the first higher", res.Hits[0].Score, res.Hits[1].Score)
	}
	inOrder(t, "ties newest first", find(t, idx, query("会诊", "s1", "rare")), "tie-new", "tie-mid", "tie-4", "tie-3", "tie-old")
	inOrder(t, "no text newest first", find(t, idx, query("", "s1", "rare")),
		"tie-new", "tie-mid", "weak", "tie-4", "tie-3", "strong", "tie-old")
}

func testLimitOffsetTotal(t *testing.T, idx search.Index) {
	var docs []search.Doc
	for i := range 25 {
		docs = append(docs, msg(fmt.Sprintf("d%02d", i), "s1", "交班 handover", at(i)))
	}
	put(t, idx, docs...)
	newestFirst := func(from, n int) []string {
		var out []string
		for i := 24 - from; i > 24-from-n && i >= 0; i-- {
			out = append(out, fmt.Sprintf("d%02d", i))
		}
		return out
	}
	cases := []struct {
		name          string
		limit, offset int
		want          []string
	}{
		{"default limit is 20", 0, 0, newestFirst(0, 20)},
		{"first page", 10, 0, newestFirst(0, 10)},
		{"last partial page", 10, 20, newestFirst(20, 10)},
		{"past the end", 10, 30, nil},
		{"max limit", search.MaxLimit, 0, newestFirst(0, 25)},
	}
	for _, c := range cases {
		for _, text := range []string{"", "交班"} {
			t.Run(c.name+"/"+text, func(t *testing.T) {
				q := query(text, "s1")
				q.Limit, q.Offset = c.limit, c.offset
				res := find(t, idx, q)
				inOrder(t, c.name, res, c.want...)
				if res.Total != 25 {
					t.Errorf("total %d, want 25", res.Total)
				}
			})
		}
	}
	t.Run("paging sees each doc once", func(t *testing.T) {
		var got []string
		for off := 0; off < 30; off += 7 {
			q := query("handover", "s1")
			q.Limit, q.Offset = 7, off
			got = append(got, ids(find(t, idx, q))...)
		}
		if want := newestFirst(0, 25); !slices.Equal(got, want) {
			t.Errorf("pages %v, want %v", got, want)
		}
	})
}

func testBulk1000(t *testing.T, idx search.Index) {
	docs := make([]search.Doc, 1000)
	scopes := make([]string, 10)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("ward-%d", i)
	}
	for i := range docs {
		text := fmt.Sprintf("病区 %d 交接班 记录 number%d", i%10, i)
		if i%10 == 3 {
			text += " 危急值"
		}
		docs[i] = msg(fmt.Sprintf("b%04d", i), scopes[i%10], text, base.Add(time.Duration(i)*time.Second))
	}
	put(t, idx, docs...)

	if res := find(t, idx, query("", scopes...)); res.Total != 1000 {
		t.Errorf("total %d, want 1000", res.Total)
	}
	if res := find(t, idx, query("危急值", scopes...)); res.Total != 100 {
		t.Errorf("危急值 total %d, want 100", res.Total)
	}
	if res := find(t, idx, query("交接班", "ward-2", "ward-5")); res.Total != 200 {
		t.Errorf("two wards total %d, want 200", res.Total)
	}
	sameSet(t, "one doc by its word", find(t, idx, query("number777", scopes...)), "b0777")

	seen := make(map[string]bool)
	for off := 0; off < 1000; off += search.MaxLimit {
		q := query("记录", scopes...)
		q.Limit, q.Offset = search.MaxLimit, off
		for _, h := range find(t, idx, q).Hits {
			if seen[h.ID] {
				t.Fatalf("%s seen twice while paging", h.ID)
			}
			seen[h.ID] = true
		}
	}
	if len(seen) != 1000 {
		t.Errorf("paged through %d docs, want 1000", len(seen))
	}
}

func testConcurrentPutAndSearch(t *testing.T, idx search.Index) {
	const writers, perWriter = 4, 40
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+100)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				d := msg(fmt.Sprintf("w%d-%03d", w, i), fmt.Sprintf("s%d", w), "并发 写入 concurrent", at(i))
				if err := idx.Put(ctx, d); err != nil {
					errs <- fmt.Errorf("put %s: %w", d.ID, err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Go(func() {
			scope := fmt.Sprintf("s%d", r)
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := idx.Search(ctx, query("并发", scope))
				if err != nil {
					errs <- fmt.Errorf("search: %w", err)
					return
				}
				for _, h := range res.Hits {
					if h.Scope != scope || !strings.HasPrefix(h.ID, fmt.Sprintf("w%d-", r)) {
						errs <- fmt.Errorf("reader for %s got %s in %s", scope, h.ID, h.Scope)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if res := find(t, idx, query("concurrent", "s0", "s1", "s2", "s3")); res.Total != writers*perWriter {
		t.Errorf("total %d after concurrent puts, want %d", res.Total, writers*perWriter)
	}
}

func testInvalidQuery(t *testing.T, idx search.Index) {
	put(t, idx, msg("m1", "s1", "交班", at(0)))
	ok := query("交班", "s1")
	cases := []struct {
		name  string
		edit  func(q *search.Query)
		field string
	}{
		{"no kind", func(q *search.Query) { q.Kind = "" }, "kind"},
		{"no org", func(q *search.Query) { q.OrgID = "" }, "org_id"},
		{"blank org", func(q *search.Query) { q.OrgID = "  " }, "org_id"},
		// A larger limit is refused, not clamped: see search.MaxLimit.
		{"limit above max", func(q *search.Query) { q.Limit = search.MaxLimit + 1 }, "limit"},
		{"negative limit", func(q *search.Query) { q.Limit = -1 }, "limit"},
		{"negative offset", func(q *search.Query) { q.Offset = -5 }, "offset"},
		{"page too deep", func(q *search.Query) { q.Offset = search.MaxWindow }, "offset"},
		{"from after to", func(q *search.Query) { q.From, q.To = at(10), at(0) }, "to"},
		{"empty scope", func(q *search.Query) { q.Scopes = []string{"s1", ""} }, "scopes"},
		{"text too long", func(q *search.Query) { q.Text = strings.Repeat("痛", search.MaxTextRunes+1) }, "text"},
		// Even with no scopes (which would find nothing), a bad query is refused.
		{"no kind and no scopes", func(q *search.Query) { q.Kind, q.Scopes = "", nil }, "kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := ok
			q.Scopes = slices.Clone(ok.Scopes)
			c.edit(&q)
			_, err := idx.Search(context.Background(), q)
			var e *core.Error
			if !errors.As(err, &e) || e.Code != core.EInvalid {
				t.Fatalf("Search = %v, want %s", err, core.EInvalid)
			}
			if e.Field != c.field {
				t.Errorf("field %q, want %q", e.Field, c.field)
			}
		})
	}
	sameSet(t, "valid query still works", find(t, idx, ok), "m1")
}

func testInvalidDocsChangeNothing(t *testing.T, idx search.Index) {
	good := msg("good", "s1", "手术排班", at(0))
	cases := []struct {
		name  string
		edit  func(d *search.Doc)
		field string
	}{
		{"no id", func(d *search.Doc) { d.ID = "" }, "docs[1].id"},
		{"id too long", func(d *search.Doc) { d.ID = strings.Repeat("x", search.MaxIDBytes+1) }, "docs[1].id"},
		{"no kind", func(d *search.Doc) { d.Kind = "" }, "docs[1].kind"},
		{"no org", func(d *search.Doc) { d.OrgID = "" }, "docs[1].org_id"},
		{"no scope", func(d *search.Doc) { d.Scope = "" }, "docs[1].scope"},
		{"no time", func(d *search.Doc) { d.At = time.Time{} }, "docs[1].at"},
		{"time out of range", func(d *search.Doc) { d.At = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC) }, "docs[1].at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := msg("bad", "s1", "手术排班", at(1))
			c.edit(&bad)
			err := idx.Put(context.Background(), good, bad)
			var e *core.Error
			if !errors.As(err, &e) || e.Code != core.EInvalid {
				t.Fatalf("Put = %v, want %s", err, core.EInvalid)
			}
			if e.Field != c.field {
				t.Errorf("field %q, want %q", e.Field, c.field)
			}
			sameSet(t, "nothing indexed", find(t, idx, query("", "s1")))
		})
	}
}

func testPing(t *testing.T, idx search.Index) {
	if err := idx.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
