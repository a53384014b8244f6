package inproc

import (
	"context"
	"log/slog"
	"sync"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/internal/delivery"
)

// DefaultQueueSize is how many undelivered events one subscription may hold
// before further events to it are dropped. Big enough to ride out a burst
// (a roster publication touching a whole ward), small enough that a stuck
// handler costs little memory.
const DefaultQueueSize = 1024

// Option configures a Bus.
type Option func(*Bus)

// WithQueueSize sets the per-subscription queue length (minimum 1).
func WithQueueSize(n int) Option {
	return func(b *Bus) {
		if n < 1 {
			n = 1
		}
		b.queueSize = n
	}
}

// WithLogger sets where slow and panicking subscribers are reported
// (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(b *Bus) { b.log = l } }

// Bus is the in-process bus. The zero value is not usable; call New.
type Bus struct {
	queueSize int
	log       *slog.Logger

	mu      sync.RWMutex
	subs    map[*subscription]struct{}
	closed  bool
	dropped uint64 // drops of subscriptions already stopped
}

var _ bus.Bus = (*Bus)(nil)

// New returns an empty bus. Two Bus values never see each other's events.
func New(opts ...Option) *Bus {
	b := &Bus{queueSize: DefaultQueueSize, log: slog.Default(), subs: map[*subscription]struct{}{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

type subscription struct {
	b       *Bus
	pattern string
	loop    *delivery.Loop[bus.Event]
}

func (s *subscription) Stop() error {
	s.b.mu.Lock()
	if _, ok := s.b.subs[s]; ok {
		delete(s.b.subs, s)
		s.b.dropped += s.loop.Dropped()
	}
	s.b.mu.Unlock()
	// Outside the lock: the handler being waited for may itself publish.
	s.loop.Stop()
	return nil
}

// Publish implements bus.Bus. Data is copied once and shared by every
// receiving subscription.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if err := bus.CheckSubject(subject); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ev := bus.Event{Subject: subject, Data: append([]byte(nil), data...)}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errClosed()
	}
	for s := range b.subs {
		if bus.Match(s.pattern, subject) {
			s.loop.Offer(ev)
		}
	}
	return nil
}

// Subscribe implements bus.Bus.
func (b *Bus) Subscribe(pattern string, h bus.Handler) (bus.Subscription, error) {
	if err := bus.CheckPattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, core.Invalid("handler", "a subscription needs a handler")
	}
	s := &subscription{b: b, pattern: pattern}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed()
	}
	s.loop = delivery.Start(pattern, h, make(chan bus.Event, b.queueSize), func(e bus.Event) (bus.Event, bool) { return e, true }, b.log)
	b.subs[s] = struct{}{}
	return s, nil
}

// Ping implements bus.Bus: a bus in memory is usable until closed.
func (b *Bus) Ping(ctx context.Context) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errClosed()
	}
	return ctx.Err()
}

// Close stops every subscription (waiting for handler calls in progress) and
// refuses further use. It must not be called from two handlers at once.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
		b.dropped += s.loop.Dropped()
	}
	clear(b.subs)
	b.mu.Unlock()
	for _, s := range subs {
		s.loop.Stop()
	}
	return nil
}

// Dropped returns how many events were dropped in total because a
// subscriber's queue was full (for metrics).
func (b *Bus) Dropped() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := b.dropped
	for s := range b.subs {
		n += s.loop.Dropped()
	}
	return n
}

func errClosed() error { return core.Errorf(core.EUnavailable, "event bus is closed") }
