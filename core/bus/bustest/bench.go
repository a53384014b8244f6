package bustest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core/bus"
)

// BenchmarkPublish measures fan-out: one publisher, 1, 10 and 100
// subscriptions on the subject. The clock runs until every delivery arrived
// (or deliveries stopped coming for a second), so ns/op is the cost of
// publishing and delivering one event to all subscribers. It reports
// deliveries/s and lost/op (events dropped because a subscriber fell behind).
func BenchmarkPublish(b *testing.B, newBus func(b *testing.B) bus.Bus) {
	for _, fanout := range []int{1, 10, 100} {
		b.Run("subscribers="+strconv.Itoa(fanout), func(b *testing.B) {
			bs := newBus(b)
			defer bs.Close()
			var got atomic.Int64
			for range fanout {
				sub, err := bs.Subscribe("im.group.*.message", func(bus.Event) { got.Add(1) })
				if err != nil {
					b.Fatal(err)
				}
				defer sub.Stop()
			}
			payload := make([]byte, 256)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := bs.Publish(ctx, "im.group.g1.message", payload); err != nil {
					b.Fatal(err)
				}
			}
			want := int64(b.N) * int64(fanout)
			last, lastChange := got.Load(), time.Now()
			for n := got.Load(); n < want; n = got.Load() {
				if n != last {
					last, lastChange = n, time.Now()
				} else if time.Since(lastChange) > time.Second {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			n := got.Load()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(want-n)/float64(b.N), "lost/op")
		})
	}
}
