package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/internal/delivery"
)

// DefaultQueueSize is how many received, unhandled events one subscription may
// hold before NATS drops further ones for it.
const DefaultQueueSize = 1024

// Options configures Connect. The zero value is usable.
type Options struct {
	// Prefix, when set, is put before every subject on the wire ("hospA" sends
	// "orgchart.staff.left" as "hospA.orgchart.staff.left"), so two Rounds
	// installs, or parallel test runs, can share one NATS server without
	// seeing each other. It must be a valid subject (no wildcards).
	Prefix string
	// Name is the client name shown in NATS monitoring (default "rounds").
	Name string
	// User and Password, or Token, authenticate to NATS when it asks.
	User, Password, Token string
	// ReconnectWait is the pause between reconnect attempts (default 2s).
	ReconnectWait time.Duration
	// ConnectTimeout bounds one dial (default 2s).
	ConnectTimeout time.Duration
	// QueueSize is the per-subscription queue length (default DefaultQueueSize).
	QueueSize int
	// Logger receives connection changes, slow and panicking subscribers
	// (default slog.Default()).
	Logger *slog.Logger
}

// Bus is the NATS-backed bus.
type Bus struct {
	nc     *nats.Conn
	prefix string // "" or "<Prefix>."
	queue  int
	log    *slog.Logger

	mu      sync.Mutex
	subs    map[*nats.Subscription]*subscription
	closed  bool
	dropped uint64
}

var _ bus.Bus = (*Bus)(nil)

// Connect connects to the NATS server(s) at url (comma-separated for a
// cluster). It fails only for bad options; an unreachable server is retried
// forever in the background (see the package doc).
func Connect(url string, opts Options) (*Bus, error) {
	if opts.Prefix != "" && !bus.ValidSubject(opts.Prefix) {
		return nil, core.Invalid("prefix", "bad NATS subject prefix %q: want dot-separated tokens without wildcards", opts.Prefix)
	}
	if strings.TrimSpace(url) == "" {
		return nil, core.Invalid("url", "the NATS URL is empty")
	}
	b := &Bus{queue: opts.QueueSize, log: opts.Logger, subs: map[*nats.Subscription]*subscription{}}
	if opts.Prefix != "" {
		b.prefix = opts.Prefix + "."
	}
	if b.queue < 1 {
		b.queue = DefaultQueueSize
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "rounds"
	}
	if opts.ReconnectWait <= 0 {
		opts.ReconnectWait = 2 * time.Second
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 2 * time.Second
	}
	no := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(opts.ReconnectWait),
		nats.Timeout(opts.ConnectTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // our own Close
			}
			b.log.Warn("event bus disconnected from NATS; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("event bus reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			b.log.Info("event bus connected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(b.asyncError),
	}
	if opts.User != "" {
		no = append(no, nats.UserInfo(opts.User, opts.Password))
	}
	if opts.Token != "" {
		no = append(no, nats.Token(opts.Token))
	}
	nc, err := nats.Connect(url, no...)
	if err != nil {
		return nil, &core.Error{Code: core.EUnavailable, Message: "cannot set up the NATS connection", Err: err}
	}
	b.nc = nc
	return b, nil
}

func (b *Bus) asyncError(_ *nats.Conn, ns *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrSlowConsumer) && ns != nil {
		b.mu.Lock()
		s := b.subs[ns]
		b.mu.Unlock()
		if s != nil {
			s.loop.NoteDrop(0) // NATS keeps the count; this logs the first time
			return
		}
	}
	b.log.Warn("NATS error", "err", err)
}

func (b *Bus) unavailable(err error) error {
	switch {
	case errors.Is(err, nats.ErrConnectionClosed):
		return &core.Error{Code: core.EUnavailable, Message: "event bus is closed", Err: err}
	case errors.Is(err, nats.ErrMaxPayload):
		return &core.Error{Code: core.ETooLarge, Field: "data", Message: fmt.Sprintf("event larger than the NATS server accepts (%d bytes)", b.nc.MaxPayload()), Err: err}
	}
	return &core.Error{Code: core.EUnavailable, Message: "event bus (NATS) is not reachable", Err: err}
}

// Publish implements bus.Bus. While the connection is down it fails at once
// with code unavailable rather than buffering, so callers know the event was
// not sent.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if err := bus.CheckSubject(subject); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.isClosed() {
		return errClosed()
	}
	if st := b.nc.Status(); st != nats.CONNECTED {
		return &core.Error{Code: core.EUnavailable, Message: "event bus (NATS) is not connected: " + strings.ToLower(st.String())}
	}
	if err := b.nc.Publish(b.prefix+subject, data); err != nil {
		return b.unavailable(err)
	}
	return nil
}

type subscription struct {
	b    *Bus
	ns   *nats.Subscription
	loop *delivery.Loop[*nats.Msg]
}

// Subscribe implements bus.Bus. When connected it returns once the server
// has the interest, so an event published afterwards by any node reaches h.
func (b *Bus) Subscribe(pattern string, h bus.Handler) (bus.Subscription, error) {
	if err := bus.CheckPattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, core.Invalid("handler", "a subscription needs a handler")
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed()
	}
	ch := make(chan *nats.Msg, b.queue)
	ns, err := b.nc.ChanSubscribe(b.prefix+pattern, ch)
	if err != nil {
		b.mu.Unlock()
		return nil, b.unavailable(err)
	}
	s := &subscription{b: b, ns: ns}
	s.loop = delivery.Start(pattern, h, ch, b.toEvent, b.log)
	b.subs[ns] = s
	b.mu.Unlock()

	if b.nc.IsConnected() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.nc.FlushWithContext(ctx); err != nil && b.nc.IsConnected() {
			_ = s.Stop()
			return nil, b.unavailable(err)
		}
	}
	return s, nil
}

func (b *Bus) toEvent(m *nats.Msg) (bus.Event, bool) {
	subj, ok := strings.CutPrefix(m.Subject, b.prefix)
	if !ok {
		return bus.Event{}, false
	}
	return bus.Event{Subject: subj, Data: m.Data}, true
}

func (s *subscription) Stop() error {
	b := s.b
	b.mu.Lock()
	if _, ok := b.subs[s.ns]; ok {
		delete(b.subs, s.ns)
		if n, err := s.ns.Dropped(); err == nil {
			b.dropped += uint64(n)
		}
	}
	b.mu.Unlock()
	// Unsubscribing fails only when the connection is closed, which removed
	// the interest anyway.
	_ = s.ns.Unsubscribe()
	s.loop.Stop()
	return nil
}

// Ping implements bus.Bus: a round trip to the server, bounded by ctx or 2s.
func (b *Bus) Ping(ctx context.Context) error {
	if b.isClosed() {
		return errClosed()
	}
	if st := b.nc.Status(); st != nats.CONNECTED {
		return &core.Error{Code: core.EUnavailable, Message: "event bus (NATS) is not connected: " + strings.ToLower(st.String())}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return b.unavailable(err)
	}
	return nil
}

// Close stops every subscription (waiting for handler calls in progress) and
// closes the connection. It must not be called from two handlers at once.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := make([]*subscription, 0, len(b.subs))
	for _, s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Stop()
	}
	b.nc.Close()
	return nil
}

// Dropped returns how many events were dropped in total because a
// subscriber's queue was full (for metrics).
func (b *Bus) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.dropped
	for ns := range b.subs {
		if d, err := ns.Dropped(); err == nil {
			n += uint64(d)
		}
	}
	return n
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func errClosed() error { return core.Errorf(core.EUnavailable, "event bus is closed") }
