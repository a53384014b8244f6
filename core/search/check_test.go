package search_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
)

func TestNormalizeFillsDefaults(t *testing.T) {
	q, err := search.Query{Kind: "message", OrgID: "o", Scopes: []string{"b", "a", "b"}, Text: "  胸痛  "}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != search.DefaultLimit || q.Text != "胸痛" || !slices.Equal(q.Scopes, []string{"b", "a"}) {
		t.Errorf("normalised %+v", q)
	}
	for _, limit := range []int{1, search.MaxLimit} {
		if q, err := (search.Query{Kind: "k", OrgID: "o", Limit: limit}).Normalize(); err != nil || q.Limit != limit {
			t.Errorf("limit %d: %+v, %v", limit, q, err)
		}
	}
	if _, err := (search.Query{Kind: "k", OrgID: "o", Limit: search.MaxLimit, Offset: search.MaxWindow - search.MaxLimit}).Normalize(); err != nil {
		t.Errorf("deepest allowed page refused: %v", err)
	}
}

func TestAtBounds(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ms := at.UnixMilli()
	cases := []struct {
		name             string
		from, to         time.Time
		wantFrom, wantTo int64
		hasFrom, hasTo   bool
	}{
		{"none", time.Time{}, time.Time{}, 0, 0, false, false},
		{"whole ms", at, at, ms, ms, true, true},
		{"sub-ms truncated", at.Add(999 * time.Microsecond), at.Add(1999 * time.Microsecond), ms, ms + 1, true, true},
		{"other zone", at.In(time.FixedZone("CST", 8*3600)), time.Time{}, ms, 0, true, false},
		{"before 1900 is no bound", time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, 0, 0, false, false},
		{"after 2200 is no bound", time.Time{}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 0, 0, false, false},
		{"before 1970", time.Date(1960, 1, 1, 0, 0, 0, 500_000, time.UTC), time.Time{}, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 0, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, to, hf, ht := search.Query{From: c.from, To: c.to}.AtBounds()
			if f != c.wantFrom || to != c.wantTo || hf != c.hasFrom || ht != c.hasTo {
				t.Errorf("AtBounds = %d %d %v %v, want %d %d %v %v", f, to, hf, ht, c.wantFrom, c.wantTo, c.hasFrom, c.hasTo)
			}
		})
	}
	if got := search.Millis(at.Add(-time.Nanosecond)); got != ms-1 {
		t.Errorf("Millis rounds %d, want down to %d", got, ms-1)
	}
}

func TestCheckDocsAndIDs(t *testing.T) {
	ok := search.Doc{ID: "m1", Kind: "message", OrgID: "o", Scope: "s", At: time.Now()}
	if err := search.CheckDocs([]search.Doc{ok}); err != nil {
		t.Errorf("valid doc refused: %v", err)
	}
	bad := ok
	bad.Text = "\xff"
	if err := search.CheckDocs([]search.Doc{ok, bad}); !core.IsCode(err, core.EInvalid) {
		t.Errorf("invalid UTF-8 accepted: %v", err)
	}
	if err := search.CheckIDs([]string{"a", ""}); !core.IsCode(err, core.EInvalid) {
		t.Errorf("empty id accepted: %v", err)
	}
}
