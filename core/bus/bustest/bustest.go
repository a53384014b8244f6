// Package bustest is the contract suite every bus.Bus implementation passes.
// It takes only the interface: an implementation's test calls Run with a
// factory, and the suite checks fan-out, wildcards, ordering, Stop, bad
// subjects, closing, panicking handlers and concurrency. It knows nothing of
// any transport; what differs between transports is said in Options.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
)

// Options says what the implementation under test promises beyond one node.
type Options struct {
	// SharedTransport: two Bus values from the factory in the same test are
	// two nodes on one transport and see each other's events (NATS). When
	// false they are separate worlds (inproc), and the suite checks that.
	SharedTransport bool
	// Wait bounds how long the suite waits for an expected delivery
	// (default 5s).
	Wait time.Duration
	// Quiet is how long the suite watches for deliveries that must not come
	// (default 100ms).
	Quiet time.Duration
}

// Factory returns a fresh, empty bus for one test. Within one test, calls
// return buses on the same transport; across tests, buses must not see each
// other (use a subject prefix per t.Name()). The suite closes every bus it
// gets.
type Factory func(t *testing.T) bus.Bus

// Run runs the contract suite as subtests of t.
func Run(t *testing.T, newBus Factory, opt Options) {
	if opt.Wait == 0 {
		opt.Wait = 5 * time.Second
	}
	if opt.Quiet == 0 {
		opt.Quiet = 100 * time.Millisecond
	}
	s := suite{newBus: newBus, opt: opt}
	t.Run("fan-out to every subscriber", s.fanOut)
	t.Run("wildcards", s.wildcards)
	t.Run("publisher receives its own events", s.ownEvents)
	t.Run("order per publisher and subject", s.order)
	t.Run("slow subscriber does not block publishers", s.slowSubscriber)
	t.Run("stop ends delivery", s.stop)
	t.Run("stop waits for a running handler", s.stopWaits)
	t.Run("handler may stop its own subscription", s.selfStop)
	t.Run("bad subjects and patterns refused", s.badSubjects)
	t.Run("publish copies data", s.copiesData)
	t.Run("panicking handler keeps its subscription", s.panics)
	t.Run("two nodes", s.twoNodes)
	t.Run("concurrent publishers and subscribers", s.concurrency)
	t.Run("closed bus refuses use", s.closed)
}

type suite struct {
	newBus Factory
	opt    Options
}

func (s suite) bus(t *testing.T) bus.Bus {
	t.Helper()
	b := s.newBus(t)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// inbox collects the events one subscription received.
type inbox struct {
	mu     sync.Mutex
	events []bus.Event
	more   chan struct{}
}

func newInbox() *inbox { return &inbox{more: make(chan struct{}, 1)} }

func (in *inbox) handle(e bus.Event) {
	in.mu.Lock()
	in.events = append(in.events, e)
	in.mu.Unlock()
	select {
	case in.more <- struct{}{}:
	default:
	}
}

func (in *inbox) snapshot() []bus.Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.events)
}

// waitFor waits until n events arrived and returns them.
func (in *inbox) waitFor(t *testing.T, n int, d time.Duration) []bus.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		got := in.snapshot()
		if len(got) >= n {
			return got
		}
		select {
		case <-in.more:
		case <-deadline:
			t.Fatalf("got %d events within %v, want %d: %v", len(got), d, n, subjects(got))
		}
	}
}

func subjects(evs []bus.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Subject
	}
	return out
}

func subscribe(t *testing.T, b bus.Bus, pattern string, h bus.Handler) bus.Subscription {
	t.Helper()
	sub, err := b.Subscribe(pattern, h)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", pattern, err)
	}
	t.Cleanup(func() { _ = sub.Stop() })
	return sub
}

func publish(t *testing.T, b bus.Bus, subject string, data string) {
	t.Helper()
	if err := b.Publish(context.Background(), subject, []byte(data)); err != nil {
		t.Fatalf("Publish(%q): %v", subject, err)
	}
}

func (s suite) fanOut(t *testing.T) {
	b := s.bus(t)
	boxes := []*inbox{newInbox(), newInbox(), newInbox()}
	for _, in := range boxes {
		subscribe(t, b, "orgchart.staff.left", in.handle)
	}
	other := newInbox()
	subscribe(t, b, "orgchart.staff.joined", other.handle)
	publish(t, b, "orgchart.staff.left", "u1")
	for i, in := range boxes {
		got := in.waitFor(t, 1, s.opt.Wait)
		if got[0].Subject != "orgchart.staff.left" || string(got[0].Data) != "u1" {
			t.Errorf("subscriber %d got %q %q", i, got[0].Subject, got[0].Data)
		}
	}
	time.Sleep(s.opt.Quiet)
	for i, in := range boxes {
		if n := len(in.snapshot()); n != 1 {
			t.Errorf("subscriber %d got %d events, want exactly 1", i, n)
		}
	}
	if n := len(other.snapshot()); n != 0 {
		t.Errorf("subscriber of another subject got %d events", n)
	}
}

func (s suite) wildcards(t *testing.T) {
	b := s.bus(t)
	published := []string{"im", "im.user", "im.user.u1", "im.user.u1.read", "im.group.g1", "roster.ward5.published"}
	cases := []struct {
		pattern string
		want    []string
	}{
		{"im.user.u1", []string{"im.user.u1"}},
		{"im.*", []string{"im.user"}},
		{"im.*.u1", []string{"im.user.u1"}},
		{"im.*.*", []string{"im.user.u1", "im.group.g1"}},
		{"im.>", []string{"im.user", "im.user.u1", "im.user.u1.read", "im.group.g1"}},
		{"im.user.>", []string{"im.user.u1", "im.user.u1.read"}},
		{"*", []string{"im"}},
		{">", published},
		{"*.*.published", []string{"roster.ward5.published"}},
		{"roster.>", []string{"roster.ward5.published"}},
		{"nothing.>", nil},
	}
	boxes := make([]*inbox, len(cases))
	for i, c := range cases {
		boxes[i] = newInbox()
		subscribe(t, b, c.pattern, boxes[i].handle)
	}
	for _, subj := range published {
		publish(t, b, subj, subj)
	}
	for i, c := range cases {
		t.Run(c.pattern, func(t *testing.T) {
			boxes[i].waitFor(t, len(c.want), s.opt.Wait)
			time.Sleep(s.opt.Quiet / 4)
			got := subjects(boxes[i].snapshot())
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("pattern %q received %v, want %v", c.pattern, got, want)
			}
		})
	}
}

func (s suite) ownEvents(t *testing.T) {
	b := s.bus(t)
	in := newInbox()
	subscribe(t, b, "approvals.flow.*", in.handle)
	publish(t, b, "approvals.flow.f1", "done")
	got := in.waitFor(t, 1, s.opt.Wait)
	if got[0].Subject != "approvals.flow.f1" || string(got[0].Data) != "done" {
		t.Fatalf("got %q %q", got[0].Subject, got[0].Data)
	}
}

func (s suite) order(t *testing.T) {
	b := s.bus(t)
	const n = 500
	in := newInbox()
	subscribe(t, b, "im.group.g1", in.handle)
	for i := range n {
		publish(t, b, "im.group.g1", strconv.Itoa(i))
	}
	got := in.waitFor(t, n, s.opt.Wait)
	for i, e := range got {
		if string(e.Data) != strconv.Itoa(i) {
			t.Fatalf("event %d carries %q: order not kept", i, e.Data)
		}
	}
}

func (s suite) slowSubscriber(t *testing.T) {
	b := s.bus(t)
	release := make(chan struct{})
	subscribe(t, b, "im.group.g1", func(bus.Event) { <-release })
	t.Cleanup(func() { close(release) }) // before the Stop registered above
	const n = 5000
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if err := b.Publish(context.Background(), "im.group.g1", []byte(strconv.Itoa(i))); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	case <-time.After(s.opt.Wait):
		t.Fatalf("%d publishes did not finish within %v behind a stuck subscriber", n, s.opt.Wait)
	}
	// The bus still works for everyone else.
	in := newInbox()
	subscribe(t, b, "im.group.g2", in.handle)
	publish(t, b, "im.group.g2", "after")
	in.waitFor(t, 1, s.opt.Wait)
}

func (s suite) stop(t *testing.T) {
	b := s.bus(t)
	in := newInbox()
	sub := subscribe(t, b, "helpdesk.ticket.*", in.handle)
	keep := newInbox()
	subscribe(t, b, "helpdesk.ticket.*", keep.handle)
	publish(t, b, "helpdesk.ticket.t1", "1")
	in.waitFor(t, 1, s.opt.Wait)
	if err := sub.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := sub.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	publish(t, b, "helpdesk.ticket.t2", "2")
	keep.waitFor(t, 2, s.opt.Wait)
	time.Sleep(s.opt.Quiet)
	if n := len(in.snapshot()); n != 1 {
		t.Fatalf("stopped subscription received %d events, want 1", n)
	}
}

func (s suite) stopWaits(t *testing.T) {
	b := s.bus(t)
	entered := make(chan struct{}, 16)
	var calls, finished atomic.Int32
	sub := subscribe(t, b, "attendance.clockin", func(bus.Event) {
		calls.Add(1)
		entered <- struct{}{}
		time.Sleep(50 * time.Millisecond)
		finished.Add(1)
	})
	for range 5 {
		publish(t, b, "attendance.clockin", "x")
	}
	select {
	case <-entered:
	case <-time.After(s.opt.Wait):
		t.Fatal("handler never called")
	}
	if err := sub.Stop(); err != nil {
		t.Fatal(err)
	}
	c, f := calls.Load(), finished.Load()
	if c != f {
		t.Fatalf("Stop returned while a handler call was running (%d started, %d finished)", c, f)
	}
	time.Sleep(s.opt.Quiet)
	if after := calls.Load(); after != c {
		t.Fatalf("%d handler calls started after Stop returned", after-c)
	}
}

func (s suite) selfStop(t *testing.T) {
	b := s.bus(t)
	var calls atomic.Int32
	var sub bus.Subscription
	ready := make(chan struct{})
	stopped := make(chan error, 1)
	sub = subscribe(t, b, "dings.*", func(bus.Event) {
		<-ready
		if calls.Add(1) == 1 {
			stopped <- sub.Stop()
		}
	})
	close(ready)
	publish(t, b, "dings.d1", "1")
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop from handler: %v", err)
		}
	case <-time.After(s.opt.Wait):
		t.Fatal("Stop from inside the handler did not return")
	}
	publish(t, b, "dings.d2", "2")
	time.Sleep(s.opt.Quiet)
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times after stopping itself, want 1", n)
	}
}

func (s suite) badSubjects(t *testing.T) {
	b := s.bus(t)
	in := newInbox()
	subscribe(t, b, ">", in.handle)
	for _, subj := range []string{"", ".", "a.", ".a", "a..b", "a.*", "*", ">", "a.>", "a b", "a.\tb"} {
		t.Run("publish "+strconv.Quote(subj), func(t *testing.T) {
			err := b.Publish(context.Background(), subj, []byte("x"))
			if !core.IsCode(err, core.EInvalid) || !errors.Is(err, bus.ErrBadSubject) {
				t.Fatalf("Publish(%q) = %v, want invalid wrapping ErrBadSubject", subj, err)
			}
		})
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", "a.>.b", ">.a", "a b"} {
		t.Run("subscribe "+strconv.Quote(p), func(t *testing.T) {
			sub, err := b.Subscribe(p, in.handle)
			if !core.IsCode(err, core.EInvalid) || !errors.Is(err, bus.ErrBadSubject) {
				t.Fatalf("Subscribe(%q) = %v, want invalid wrapping ErrBadSubject", p, err)
			}
			if sub != nil {
				t.Fatalf("Subscribe(%q) returned a subscription with its error", p)
			}
		})
	}
	publish(t, b, "fence", "")
	in.waitFor(t, 1, s.opt.Wait)
	time.Sleep(s.opt.Quiet)
	if got := in.snapshot(); len(got) != 1 || got[0].Subject != "fence" {
		t.Fatalf("refused publishes were delivered: %v", subjects(got))
	}
}

func (s suite) copiesData(t *testing.T) {
	b := s.bus(t)
	in := newInbox()
	subscribe(t, b, "files.uploaded", in.handle)
	buf := []byte("original")
	if err := b.Publish(context.Background(), "files.uploaded", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	got := in.waitFor(t, 1, s.opt.Wait)
	if string(got[0].Data) != "original" {
		t.Fatalf("subscriber saw %q after the publisher reused its buffer", got[0].Data)
	}
}

func (s suite) panics(t *testing.T) {
	b := s.bus(t)
	in := newInbox()
	subscribe(t, b, "apps.*", func(e bus.Event) {
		if string(e.Data) == "boom" {
			panic("broken app handler")
		}
		in.handle(e)
	})
	publish(t, b, "apps.a1", "boom")
	publish(t, b, "apps.a1", "fine")
	got := in.waitFor(t, 1, s.opt.Wait)
	if string(got[0].Data) != "fine" {
		t.Fatalf("got %q", got[0].Data)
	}
}

func (s suite) twoNodes(t *testing.T) {
	a, b := s.bus(t), s.bus(t)
	onA, onB := newInbox(), newInbox()
	subscribe(t, a, "orgchart.>", onA.handle)
	subscribe(t, b, "orgchart.>", onB.handle)
	publish(t, a, "orgchart.staff.left", "from a")
	publish(t, b, "orgchart.staff.moved", "from b")
	if s.opt.SharedTransport {
		for name, in := range map[string]*inbox{"node a": onA, "node b": onB} {
			got := subjects(in.waitFor(t, 2, s.opt.Wait))
			slices.Sort(got)
			if !slices.Equal(got, []string{"orgchart.staff.left", "orgchart.staff.moved"}) {
				t.Errorf("%s received %v", name, got)
			}
		}
		return
	}
	onA.waitFor(t, 1, s.opt.Wait)
	onB.waitFor(t, 1, s.opt.Wait)
	time.Sleep(s.opt.Quiet)
	if got := onA.snapshot(); len(got) != 1 || string(got[0].Data) != "from a" {
		t.Errorf("node a received %v: separate buses must not share events", subjects(got))
	}
	if got := onB.snapshot(); len(got) != 1 || string(got[0].Data) != "from b" {
		t.Errorf("node b received %v: separate buses must not share events", subjects(got))
	}
}

func (s suite) concurrency(t *testing.T) {
	b := s.bus(t)
	const publishers, each = 8, 100
	var total atomic.Int64
	perPublisher := make([]atomic.Int64, publishers)
	for i := range perPublisher {
		perPublisher[i].Store(-1)
	}
	subscribe(t, b, "roster.>", func(e bus.Event) {
		var p, i int
		if _, err := fmt.Sscanf(string(e.Data), "%d/%d", &p, &i); err != nil {
			t.Errorf("bad payload %q", e.Data)
			return
		}
		// Order per publisher and subject: each publisher's numbers rise.
		if prev := perPublisher[p].Swap(int64(i)); int64(i) <= prev {
			t.Errorf("publisher %d: event %d after %d", p, i, prev)
		}
		total.Add(1)
	})
	var wg sync.WaitGroup
	stopChurn := make(chan struct{})
	// Subscriptions come and go while events flow.
	wg.Go(func() {
		for {
			select {
			case <-stopChurn:
				return
			default:
			}
			sub, err := b.Subscribe("roster.*.shift", func(bus.Event) {})
			if err != nil {
				t.Errorf("churn Subscribe: %v", err)
				return
			}
			if err := sub.Stop(); err != nil {
				t.Errorf("churn Stop: %v", err)
			}
		}
	})
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			subj := "roster.ward" + strconv.Itoa(p) + ".shift"
			for i := range each {
				if err := b.Publish(context.Background(), subj, fmt.Appendf(nil, "%d/%d", p, i)); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	pubs.Wait()
	close(stopChurn)
	wg.Wait()
	deadline := time.Now().Add(s.opt.Wait)
	for total.Load() < publishers*each && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := total.Load(); n != publishers*each {
		t.Fatalf("received %d of %d events", n, publishers*each)
	}
}

func (s suite) closed(t *testing.T) {
	b := s.newBus(t)
	ctx := context.Background()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping on an open bus: %v", err)
	}
	var calls atomic.Int32
	if _, err := b.Subscribe("a.b", func(bus.Event) { calls.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Publish(ctx, "a.b", nil); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Publish after Close = %v, want unavailable", err)
	}
	if _, err := b.Subscribe("a.b", func(bus.Event) {}); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Subscribe after Close = %v, want unavailable", err)
	}
	if err := b.Ping(ctx); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Ping after Close = %v, want unavailable", err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("handler called %d times after Close", n)
	}
}

// Require is for an implementation's test that needs an external service
// named by env: it returns the variable's value, or skips the test when it is
// empty, failing instead when ROUNDS_TEST_REQUIRE_SERVICES=1 so CI proves the
// suite ran.
func Require(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set but services are required", env)
		}
		t.Skipf("%s not set: suite skipped", env)
	}
	return v
}
