package im_test

import (
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/search"
	blevesearch "github.com/roundshq/rounds/core/search/bleve"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

func openIndex(t *testing.T) search.Index {
	ix, err := blevesearch.OpenMem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func TestSearch(t *testing.T) {
	sqldbtest.Each(t, migrations(), func(t *testing.T, db *sqldb.DB) {
		store := sqlstore.New(db)
		svc := im.NewService(im.Deps{Store: store, Index: openIndex(t)}, im.Config{})
		doc, nurse, other := core.NewID(), core.NewID(), core.NewID()
		g, _ := svc.CreateGroup(ctx, actor(doc), "心内科", []string{nurse})
		private, _ := svc.CreateGroup(ctx, actor(other), "私密", nil)
		m1 := send(t, svc, doc, g.ID, "3床患者血压下降，请立即处理")
		send(t, svc, nurse, g.ID, "收到，血压已复测")
		send(t, svc, other, private.ID, "血压 的秘密讨论")
		send(t, svc, nurse, g.ID, "明天交班")

		find := func(u string, req im.SearchRequest) []string {
			t.Helper()
			res, err := svc.Search(ctx, actor(u), req)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range res.Messages {
				out = append(out, m.Text)
			}
			return out
		}
		if got := find(nurse, im.SearchRequest{Text: "血压"}); len(got) != 2 {
			t.Fatalf("血压 for the nurse: %v (the private group must not show)", got)
		}
		if got := find(nurse, im.SearchRequest{Text: "血压", SenderID: doc}); len(got) != 1 || got[0] != m1.Text {
			t.Fatalf("by sender: %v", got)
		}
		if got := find(nurse, im.SearchRequest{Text: "交班", ConversationID: g.ID}); len(got) != 1 {
			t.Fatalf("in conversation: %v", got)
		}
		if got := find(nurse, im.SearchRequest{Text: "血压", From: time.Now().Add(time.Hour)}); len(got) != 0 {
			t.Fatalf("future range: %v", got)
		}
		_, err := svc.Search(ctx, actor(nurse), im.SearchRequest{Text: "血压", ConversationID: private.ID})
		wantCode(t, err, core.EForbidden)

		// Recalled content is gone from search at once.
		if _, err := svc.Recall(ctx, actor(doc), m1.ID); err != nil {
			t.Fatal(err)
		}
		if got := find(nurse, im.SearchRequest{Text: "立即处理"}); len(got) != 0 {
			t.Fatalf("recalled message still found: %v", got)
		}

		// Reindex rebuilds a fresh index from the database.
		svc2 := im.NewService(im.Deps{Store: store, Index: openIndex(t)}, im.Config{})
		n, err := svc2.Reindex(ctx)
		if err != nil || n != 3 {
			t.Fatalf("reindexed %d err=%v", n, err)
		}
		if res, _ := svc2.Search(ctx, actor(nurse), im.SearchRequest{Text: "血压"}); len(res.Messages) != 1 {
			t.Fatalf("after reindex: %+v", res)
		}
	})
}
