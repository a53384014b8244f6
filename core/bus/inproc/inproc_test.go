package inproc_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/bustest"
	"github.com/roundshq/rounds/core/bus/inproc"
)

func TestContract(t *testing.T) {
	bustest.Run(t, func(*testing.T) bus.Bus { return inproc.New() }, bustest.Options{SharedTransport: false})
}

func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	b := inproc.New(inproc.WithQueueSize(4))
	defer b.Close()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var got atomic.Int32
	if _, err := b.Subscribe("roster.published", func(bus.Event) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		got.Add(1)
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), "roster.published", nil); err != nil {
		t.Fatal(err)
	}
	<-entered
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 19 {
			if err := b.Publish(context.Background(), "roster.published", nil); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked behind a stuck subscriber")
	}
	// The stuck handler holds one event and its queue four; the other 15 are lost.
	if d := b.Dropped(); d != 15 {
		t.Errorf("Dropped = %d, want 15", d)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := got.Load(); n != 5 {
		t.Errorf("slow subscriber got %d events, want 5", n)
	}
}
