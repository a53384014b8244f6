package audit_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/roundshq/rounds/core/audit"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

func benchDBs(b *testing.B, fn func(b *testing.B, db *sqldb.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, sqldbtest.OpenSQLite(b, auditOnly...)) })
	b.Run("postgres", func(b *testing.B) { fn(b, sqldbtest.OpenPostgres(b, auditOnly...)) })
}

// BenchmarkRecord appends entries from 8 goroutines at once.
func BenchmarkRecord(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *sqldb.DB) {
		l := audit.New(db, audit.Options{})
		var n atomic.Int64
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if err := l.Record(context.Background(), audit.Entry{OrgID: "hospital-a", ActorID: fmt.Sprint(i % 50),
					Action: "im.message.recall", ObjectType: "message", ObjectID: fmt.Sprint(i), Details: map[string]any{"n": i}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkVerify walks a chain of 10,000 entries.
func BenchmarkVerify(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *sqldb.DB) {
		ctx := context.Background()
		l := audit.New(db, audit.Options{})
		const n = 10000
		for i := 0; i < n; i += 500 {
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error {
				for j := 0; j < 500; j++ {
					if err := l.RecordTx(ctx, tx, audit.Entry{OrgID: "hospital-a", Action: "session.login", ObjectID: fmt.Sprint(i + j)}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for b.Loop() {
			rep, err := l.Verify(ctx)
			if err != nil || !rep.OK || rep.Checked != n {
				b.Fatalf("%+v %v", rep, err)
			}
		}
	})
}
