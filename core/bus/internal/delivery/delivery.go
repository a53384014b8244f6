// Package delivery runs one subscription's handler on its own goroutine, fed
// from a bounded queue. The in-process bus and the NATS bus share it so both
// keep the same promises: a slow handler never blocks publishers, a panicking
// handler is logged and survives, and no handler call starts after Stop
// returns.
package delivery

import (
	"bytes"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/roundshq/rounds/core/bus"
)

// Loop is one subscription's delivery goroutine.
type Loop[T any] struct {
	pattern string
	handler bus.Handler
	convert func(T) (bus.Event, bool)
	log     *slog.Logger

	queue chan T
	quit  chan struct{}
	done  chan struct{}
	gid   uint64 // the loop goroutine's id, to let a handler stop its own subscription

	stopOnce sync.Once
	dropped  atomic.Uint64
	warned   atomic.Bool
}

// Start starts a loop reading queue, which the caller (or a transport such as
// nats.ChanSubscribe) fills. convert turns a queue item into an event; items
// it rejects are skipped.
func Start[T any](pattern string, h bus.Handler, queue chan T, convert func(T) (bus.Event, bool), log *slog.Logger) *Loop[T] {
	if log == nil {
		log = slog.Default()
	}
	l := &Loop[T]{pattern: pattern, handler: h, convert: convert, log: log, queue: queue, quit: make(chan struct{}), done: make(chan struct{})}
	started := make(chan struct{})
	go l.run(started)
	<-started
	return l
}

func (l *Loop[T]) run(started chan<- struct{}) {
	defer close(l.done)
	l.gid = goroutineID()
	close(started)
	for {
		select {
		case <-l.quit:
			return
		case v := <-l.queue:
			// select picks at random among ready cases, so look at quit again:
			// a Stop that returned must not be followed by another call.
			select {
			case <-l.quit:
				return
			default:
			}
			ev, ok := l.convert(v)
			if ok {
				l.call(ev)
			}
		}
	}
}

func (l *Loop[T]) call(ev bus.Event) {
	defer func() {
		if p := recover(); p != nil {
			l.log.Error("bus handler panicked", "pattern", l.pattern, "subject", ev.Subject, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	l.handler(ev)
}

// Offer queues v without blocking. When the queue is full the item is
// dropped and counted, and the first drop of the subscription is logged:
// events are at most once, and the database is the record to catch up from.
func (l *Loop[T]) Offer(v T) bool {
	select {
	case l.queue <- v:
		return true
	default:
		l.NoteDrop(1)
		return false
	}
}

// NoteDrop counts n events lost for this subscription (by Offer, or reported
// by a transport) and logs the first loss.
func (l *Loop[T]) NoteDrop(n uint64) {
	l.dropped.Add(n)
	if l.warned.CompareAndSwap(false, true) {
		l.log.Warn("bus subscriber too slow: events dropped (further drops are counted, not logged)", "pattern", l.pattern, "queue", cap(l.queue))
	}
}

// Dropped returns how many events this subscription lost.
func (l *Loop[T]) Dropped() uint64 { return l.dropped.Load() }

// Stop ends the loop. It waits for a handler call in progress unless it is
// called from that very handler, which would otherwise wait for itself.
func (l *Loop[T]) Stop() {
	l.stopOnce.Do(func() { close(l.quit) })
	if goroutineID() == l.gid {
		return
	}
	<-l.done
}

// goroutineID parses the current goroutine's id from its stack header. It is
// only called once per subscription and once per Stop, never per event.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
