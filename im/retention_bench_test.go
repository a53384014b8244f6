package im_test

import (
	"io"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/imtest"
	"github.com/roundshq/rounds/im/sqlstore"
)

// seedHistory writes convs groups of perConv messages each, all created at
// `at`, straight through the store (sending through the service would
// measure sends). Every group has member; the first is returned too.
func seedHistory(b *testing.B, store im.Store, convs, perConv int, member string, at time.Time) []string {
	b.Helper()
	var ids []string
	for c := 0; c < convs; c++ {
		conv := im.Conversation{ID: core.NewID(), OrgID: "org", Kind: im.Group, Name: "g", CreatedAt: at, UpdatedAt: at}
		err := store.InTx(ctx, func(tx im.Tx) error {
			if err := tx.CreateConversation(ctx, conv); err != nil {
				return err
			}
			if _, err := tx.AddMember(ctx, im.Member{ConversationID: conv.ID, UserID: member, Role: im.RoleMember}); err != nil {
				return err
			}
			for i := 0; i < perConv; i++ {
				seq, err := tx.NextSeq(ctx, conv.ID)
				if err != nil {
					return err
				}
				m := im.Message{ID: core.NewID(), ConversationID: conv.ID, Seq: seq, SenderID: member, ClientMsgID: core.NewID(), Kind: im.KindText,
					Text: "3床患者血压 150/95，请复测并记录", CreatedAt: at}
				if err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, conv.ID)
	}
	return ids
}

// BenchmarkRetentionSQLite measures ApplyRetention purging 10,000 expired
// messages in 100 conversations (one of them held) and exporting 10,000
// messages as JSON lines, on SQLite.
func BenchmarkRetentionSQLite(b *testing.B) {
	benchRetention(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenSQLite(b, migrations()...) })
}

// BenchmarkRetentionPostgres is the same on PostgreSQL (ROUNDS_TEST_POSTGRES).
func BenchmarkRetentionPostgres(b *testing.B) {
	sqldbtest.PostgresDSN(b)
	benchRetention(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenPostgres(b, migrations()...) })
}

func benchRetention(b *testing.B, open func(b *testing.B) *sqldb.DB) {
	const convs, perConv = 101, 100
	admin := core.NewID()
	b.Run("purge", func(b *testing.B) {
		purged := 0
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := open(b)
			clock := imtest.NewClock(time.Now())
			svc := im.NewService(im.Deps{Store: sqlstore.New(db), Clock: clock, Authorizer: imtest.Authorizer{Admins: map[string]bool{admin: true}}}, im.Config{})
			ids := seedHistory(b, svc.Store(), convs, perConv, core.NewID(), clock.Now().Add(-60*24*time.Hour))
			if _, err := svc.SetRetentionPolicy(ctx, actor(admin), "org", 30, 0); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.PlaceHold(ctx, actor(admin), "org", im.HoldRequest{ConversationID: ids[0], Reason: "bench", CaseNumber: "1"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			n, err := svc.ApplyRetention(ctx, clock.Now())
			if err != nil || n != (convs-1)*perConv {
				b.Fatalf("purged %d err=%v", n, err)
			}
			purged += n
		}
		b.ReportMetric(float64(purged)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("export-person", func(b *testing.B) {
		db := open(b)
		svc := im.NewService(im.Deps{Store: sqlstore.New(db), Authorizer: imtest.Authorizer{Admins: map[string]bool{admin: true}}}, im.Config{})
		person := core.NewID()
		seedHistory(b, svc.Store(), convs, perConv, person, time.Now())
		b.ResetTimer()
		total := 0
		for i := 0; i < b.N; i++ {
			n, err := svc.Export(ctx, actor(admin), "org", im.ExportRequest{UserID: person}, io.Discard)
			if err != nil || n != convs*perConv {
				b.Fatalf("exported %d err=%v", n, err)
			}
			total += n
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
	})
}
