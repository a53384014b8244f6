package im_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	"github.com/roundshq/rounds/im/sqlstore"
)

// BenchmarkSendSQLite measures sending text messages into one group on
// SQLite (synchronous=normal, as sqldbtest opens it), serially and from
// parallel senders.
func BenchmarkSendSQLite(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			db := sqldbtest.OpenSQLite(b, migrations()...)
			svc := im.NewService(im.Deps{Store: sqlstore.New(db)}, im.Config{})
			b.Cleanup(func() { svc.Close(ctx) })
			users := []string{core.NewID(), core.NewID(), core.NewID(), core.NewID()}
			g, err := svc.CreateGroup(ctx, actor(users[0]), "bench", users[1:])
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			b.ResetTimer()
			if !parallel {
				for i := 0; i < b.N; i++ {
					if _, err := svc.Send(ctx, actor(users[i%4]), im.SendRequest{ConversationID: g.ID, ClientMsgID: strconv.Itoa(i), Text: "5床血压 130/85"}); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := svc.Send(ctx, actor(users[i%4]), im.SendRequest{ConversationID: g.ID, ClientMsgID: strconv.FormatInt(i, 10), Text: "5床血压 130/85"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
