package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// Concurrent updates on SQLite share commits; a failing or panicking action
// must not take its batch-mates down, nor leave anything behind.
func TestGroupCommitIsolatesActions(t *testing.T) {
	ctx := context.Background()
	s := sqlstore.New(sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()}))
	org := core.NewID()
	tp := &approvals.Template{ID: core.NewID(), OrgID: org, Code: "t", Name: "T", CreatedAt: time.Now()}
	if err := s.CreateTemplate(ctx, tp); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	const n = 60
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		ids[i] = core.NewID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = errors.New("panicked")
				}
			}()
			errs[i] = s.Update(ctx, func(tx approvals.Tx) error {
				r := &approvals.Request{ID: ids[i], OrgID: org, TemplateID: tp.ID, TemplateCode: "t", Title: "T", Status: approvals.StatusPending,
					Form: approvals.Values{}, Route: []approvals.Step{}, Version: 1, CreatedAt: time.Now()}
				if err := tx.InsertRequest(ctx, r); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return boom
				case 2:
					if i%2 == 0 {
						panic("bad action")
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		_, err := s.Request(ctx, org, ids[i])
		switch {
		case i%3 == 0 || (i%3 == 2 && i%2 == 1):
			if errs[i] != nil || err != nil {
				t.Fatalf("action %d: update %v, read %v", i, errs[i], err)
			}
		case i%3 == 1:
			if !errors.Is(errs[i], boom) || !core.IsCode(err, core.ENotFound) {
				t.Fatalf("failed action %d: update %v, read %v", i, errs[i], err)
			}
		default:
			if errs[i] == nil || errs[i].Error() != "panicked" || !core.IsCode(err, core.ENotFound) {
				t.Fatalf("panicking action %d: update %v, read %v", i, errs[i], err)
			}
		}
	}
}

func TestGroupCommitCancelledCaller(t *testing.T) {
	s := sqlstore.New(sqldbtest.OpenSQLite(t, sqldbtest.Migration{Area: sqlstore.Area, FS: sqlstore.Migrations()}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx approvals.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled caller: err %v, ran %v", err, ran)
	}
}
