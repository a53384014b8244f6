package imtest

import (
	"context"
	"sync"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
)

// Bus is a small in-process bus.Bus for tests, used until core/bus/inproc
// lands. Handlers run synchronously on the publisher's goroutine, one at a
// time per subscription.
type Bus struct {
	mu   sync.Mutex
	subs map[*sub]bool
}

type sub struct {
	b       *Bus
	pattern string
	h       bus.Handler
	mu      sync.Mutex
}

var _ bus.Bus = (*Bus)(nil)

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*sub]bool{}} }

// Publish delivers to every matching subscription.
func (b *Bus) Publish(_ context.Context, subject string, data []byte) error {
	if !bus.ValidSubject(subject) {
		return core.Invalid("subject", "bad subject %q", subject)
	}
	b.mu.Lock()
	var targets []*sub
	for s := range b.subs {
		if bus.Match(s.pattern, subject) {
			targets = append(targets, s)
		}
	}
	b.mu.Unlock()
	for _, s := range targets {
		s.mu.Lock()
		s.h(bus.Event{Subject: subject, Data: append([]byte(nil), data...)})
		s.mu.Unlock()
	}
	return nil
}

// Subscribe registers h.
func (b *Bus) Subscribe(pattern string, h bus.Handler) (bus.Subscription, error) {
	if !bus.ValidPattern(pattern) {
		return nil, core.Invalid("pattern", "bad pattern %q", pattern)
	}
	s := &sub{b: b, pattern: pattern, h: h}
	b.mu.Lock()
	b.subs[s] = true
	b.mu.Unlock()
	return s, nil
}

func (s *sub) Stop() error {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	return nil
}

// Ping always succeeds.
func (b *Bus) Ping(context.Context) error { return nil }

// Close drops every subscription.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.subs = map[*sub]bool{}
	b.mu.Unlock()
	return nil
}
