package blevesearch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core/search"
	blevesearch "github.com/roundshq/rounds/core/search/bleve"
)

// Vocabulary for generated ward chat: Chinese clinical phrases and a few
// English words, as staff actually mix them.
var vocab = strings.Fields(`患者 胸痛 发热 咳嗽 头痛 腹痛 血压 心率 血糖 体温 医嘱 会诊 转诊 查房 交班
	手术 麻醉 护理 输液 换药 出院 入院 急诊 病历 检查 化验 影像 报告 危急值 值班 排班
	请假 调班 心电图 超声 抢救 复查 用药 过敏 随访 家属 签字 床位 病区 门诊 夜班 白班
	ECG CT MRI ICU bed ward urgent follow-up dose stat`)

const (
	benchDocs   = 100_000
	benchScopes = 500
	benchSeeing = 50 // scopes one searcher may see
)

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchDoc(r *rand.Rand, i int) search.Doc {
	n := 5 + r.IntN(10)
	words := make([]string, n)
	for j := range words {
		words[j] = vocab[r.IntN(len(vocab))]
	}
	return search.Doc{
		ID:       fmt.Sprintf("msg-%06d", i),
		Kind:     "message",
		OrgID:    "org-1",
		Scope:    fmt.Sprintf("conv-%03d", r.IntN(benchScopes)),
		AuthorID: fmt.Sprintf("user-%04d", r.IntN(3000)),
		Text:     strings.Join(words, " "),
		At:       benchStart.Add(time.Duration(i) * time.Minute), // ~70 days
	}
}

func buildBenchIndex(b *testing.B) *blevesearch.Index {
	b.Helper()
	idx, err := blevesearch.Open(b.TempDir() + "/index")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = idx.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	const batch = 1000
	for i := 0; i < benchDocs; i += batch {
		docs := make([]search.Doc, batch)
		for j := range docs {
			docs[j] = benchDoc(r, i+j)
		}
		if err := idx.Put(context.Background(), docs...); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d docs in batches of %d in %v", benchDocs, batch, time.Since(start).Round(time.Millisecond))
	settle(b, idx)
	return idx
}

// settle waits until the background merging of the fresh segments has
// stopped, so the figures are those of a long-lived index rather than of
// searches competing with merges.
func settle(b *testing.B, idx *blevesearch.Index) {
	start := time.Now()
	key := func() string {
		st, _ := idx.Stats()["index"].(map[string]any)
		return fmt.Sprint(st["CurOnDiskFiles"], st["TotFileMergeZapEnd"], st["TotPersistLoopEnd"], st["TotIntroduceLoop"])
	}
	last, stable := key(), 0
	for stable < 4 && time.Since(start) < 2*time.Minute {
		time.Sleep(500 * time.Millisecond)
		if k := key(); k == last {
			stable++
		} else {
			last, stable = k, 0
		}
	}
	st, _ := idx.Stats()["index"].(map[string]any)
	b.Logf("merges settled after %v: %v files, %v bytes on disk", time.Since(start).Round(time.Millisecond), st["CurOnDiskFiles"], st["CurOnDiskBytes"])
}

// BenchmarkSearch searches an on-disk index of 100,000 messages in 500
// conversations, as one member of 50 of them.
func BenchmarkSearch(b *testing.B) {
	idx := buildBenchIndex(b)
	seeing := make([]string, benchSeeing)
	for i := range seeing {
		seeing[i] = fmt.Sprintf("conv-%03d", i*benchScopes/benchSeeing)
	}
	all := make([]string, benchScopes)
	for i := range all {
		all[i] = fmt.Sprintf("conv-%03d", i)
	}
	cases := []struct {
		name string
		q    search.Query
	}{
		{"chinese_word_50_scopes", search.Query{Text: "胸痛", Scopes: seeing}},
		{"two_words_AND_50_scopes", search.Query{Text: "胸痛 会诊", Scopes: seeing}},
		{"english_word_50_scopes", search.Query{Text: "ECG", Scopes: seeing}},
		{"no_text_newest_50_scopes", search.Query{Scopes: seeing}},
		{"chinese_word_last_week_50_scopes", search.Query{Text: "发热", Scopes: seeing,
			From: benchStart.Add(time.Duration(benchDocs-7*24*60) * time.Minute)}},
		{"chinese_word_author_500_scopes", search.Query{Text: "医嘱", Scopes: all, AuthorID: "user-0042"}},
		{"three_words_AND_500_scopes", search.Query{Text: "血压 心率 复查", Scopes: all}},
		{"chinese_word_page_5_500_scopes", search.Query{Text: "交班", Scopes: all, Offset: 80}},
	}
	for _, c := range cases {
		c.q.Kind, c.q.OrgID = "message", "org-1"
		b.Run(c.name, func(b *testing.B) {
			var total int
			for b.Loop() {
				res, err := idx.Search(context.Background(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
}
