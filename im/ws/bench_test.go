package imws_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus/inproc"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
	"github.com/roundshq/rounds/im"
	imws "github.com/roundshq/rounds/im/ws"
)

// BenchmarkFanout200 measures delivering messages to 200 WebSocket clients
// in one group: one op is one message sent and received by all 200.
func BenchmarkFanout200(b *testing.B) {
	const clients = 200
	db := sqldbtest.OpenSQLite(b, migrations()...)
	n := startNode(b, db, inproc.New(), nil, imws.Config{PollInterval: time.Second})
	users := make([]string, clients)
	for i := range users {
		users[i] = core.NewID()
	}
	conv := group(b, n.svc, users[0], users[1:]...)
	var received atomic.Int64
	var wg sync.WaitGroup
	for _, u := range users {
		c := dial(b, n, u, "")
		c.next("ready", "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := c.ws.ReadMessage()
				if err != nil {
					return
				}
				if len(data) > 40 && string(data[9:14]) == "event" {
					received.Add(1)
				}
			}
		}()
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := n.svc.Send(ctx, actor(users[i%clients]), im.SendRequest{ConversationID: conv.ID, ClientMsgID: "b" + strconv.Itoa(i), Text: "交班提醒：请按时完成护理记录"}); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(b.N) * clients
	deadline := time.Now().Add(60 * time.Second)
	for received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := received.Load(); got < want {
		b.Fatalf("received %d of %d frames", got, want)
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "frames/s")
	if n.hub.SlowClosed.Load() != 0 {
		b.Fatalf("%d clients were cut as slow consumers", n.hub.SlowClosed.Load())
	}
	n.stop()
	wg.Wait()
}
