package im_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

// BenchmarkSendSQLite measures sending text messages into one group on
// SQLite (synchronous=normal, as sqldbtest opens it), serially and from
// parallel senders.
func BenchmarkSendSQLite(b *testing.B) {
	benchSend(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenSQLite(b, migrations()...) })
}

// BenchmarkSendPostgres is the same on PostgreSQL (ROUNDS_TEST_POSTGRES).
func BenchmarkSendPostgres(b *testing.B) {
	sqldbtest.PostgresDSN(b)
	benchSend(b, func(b *testing.B) *sqldb.DB { return sqldbtest.OpenPostgres(b, migrations()...) })
}

func benchSend(b *testing.B, open func(b *testing.B) *sqldb.DB) {
	for _, mode := range []string{"serial", "parallel-one-group", "parallel-16-groups"} {
		b.Run(mode, func(b *testing.B) {
			db := open(b)
			svc := im.NewService(im.Deps{Store: sqlstore.New(db)}, im.Config{})
			b.Cleanup(func() { svc.Close(ctx) })
			users := []string{core.NewID(), core.NewID(), core.NewID(), core.NewID()}
			var groups []string
			for i := 0; i < 16; i++ {
				g, err := svc.CreateGroup(ctx, actor(users[0]), "bench", users[1:])
				if err != nil {
					b.Fatal(err)
				}
				groups = append(groups, g.ID)
			}
			var n atomic.Int64
			sendOne := func(i int64, conv string) error {
				_, err := svc.Send(ctx, actor(users[i%4]), im.SendRequest{ConversationID: conv, ClientMsgID: strconv.FormatInt(i, 10), Text: "5床血压 130/85"})
				return err
			}
			b.ResetTimer()
			if mode == "serial" {
				for i := 0; i < b.N; i++ {
					if err := sendOne(int64(i), groups[0]); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(4) // 4 × GOMAXPROCS concurrent senders
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					conv := groups[0]
					if mode == "parallel-16-groups" {
						conv = groups[i%16]
					}
					if err := sendOne(i, conv); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
