package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func TestTimelineIsAppendOnly(t *testing.T) {
	sqldbtest.Each(t, nil, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := sqlstore.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := sqlstore.Migrate(ctx, db); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		s := sqlstore.New(db)
		org := core.NewID()
		tp := &approvals.Template{ID: core.NewID(), OrgID: org, Code: "t", Name: "T", CreatedAt: time.Now()}
		if err := s.CreateTemplate(ctx, tp); err != nil {
			t.Fatal(err)
		}
		r := &approvals.Request{ID: core.NewID(), OrgID: org, TemplateID: tp.ID, TemplateCode: "t", Title: "T", Status: approvals.StatusPending,
			Form: approvals.Values{}, Route: []approvals.Step{}, Version: 1, CreatedAt: time.Now()}
		err := s.Update(ctx, func(tx approvals.Tx) error {
			if err := tx.InsertRequest(ctx, r); err != nil {
				return err
			}
			return tx.AppendTimeline(ctx, approvals.Entry{ID: core.NewID(), RequestID: r.ID, Seq: 1, At: time.Now(), Action: "submit"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE approval_timeline SET comment = 'rewritten'`); err == nil {
			t.Fatal("a timeline row was updated")
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM approval_timeline`); err == nil {
			t.Fatal("a timeline row was deleted")
		}
		tl, err := s.Timeline(ctx, r.ID)
		if err != nil || len(tl) != 1 || tl[0].Comment != "" {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
	})
}
