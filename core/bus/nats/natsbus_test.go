package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/bus"
	"github.com/roundshq/rounds/core/bus/bustest"
	natsbus "github.com/roundshq/rounds/core/bus/nats"
)

// runID keeps parallel runs of this package on one NATS server apart.
var runID = strconv.FormatInt(time.Now().UnixNano(), 36)

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// prefixFor gives every test its own subject space, shared by the buses
// created within that test (the "nodes").
func prefixFor(t testing.TB) string {
	return "roundstest." + runID + "." + unsafe.ReplaceAllString(t.Name(), "_")
}

func connect(t testing.TB, url, prefix string) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Connect(url, natsbus.Options{Prefix: prefix, Name: "rounds-test", ReconnectWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestContract(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	bustest.Run(t, func(t *testing.T) bus.Bus {
		b := connect(t, url, prefixFor(t))
		waitReady(t, b)
		return b
	}, bustest.Options{SharedTransport: true})
}

func waitReady(t testing.TB, b bus.Bus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := b.Ping(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubjectsOnTheWire(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	raw, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	prefix := prefixFor(t)
	cases := []struct {
		name, prefix, wire string
	}{
		{"no prefix maps one to one", "", "orgchart.staff.left"},
		{"prefix goes in front", prefix, prefix + ".orgchart.staff.left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := make(chan *nats.Msg, 16)
			sub, err := raw.ChanSubscribe(c.wire, ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			if err := raw.Flush(); err != nil {
				t.Fatal(err)
			}
			b := connect(t, url, c.prefix)
			waitReady(t, b)
			if err := b.Publish(context.Background(), "orgchart.staff.left", []byte(runID)); err != nil {
				t.Fatal(err)
			}
			for {
				select {
				case m := <-ch:
					// Without a prefix other runs may publish the same subject.
					if string(m.Data) == runID {
						return
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("nothing arrived on %q", c.wire)
				}
			}
		})
	}
}

func TestPrefixesKeepInstallsApart(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	hospA := connect(t, url, prefixFor(t)+".hospA")
	hospB := connect(t, url, prefixFor(t)+".hospB")
	hospA2 := connect(t, url, prefixFor(t)+".hospA")
	for _, b := range []bus.Bus{hospA, hospB, hospA2} {
		waitReady(t, b)
	}
	got := map[string]chan bus.Event{"A": make(chan bus.Event, 4), "B": make(chan bus.Event, 4), "A2": make(chan bus.Event, 4)}
	for name, b := range map[string]bus.Bus{"A": hospA, "B": hospB, "A2": hospA2} {
		ch := got[name]
		if _, err := b.Subscribe(">", func(e bus.Event) { ch <- e }); err != nil {
			t.Fatal(err)
		}
	}
	if err := hospA.Publish(context.Background(), "im.user.u1", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "A2"} {
		select {
		case e := <-got[name]:
			if e.Subject != "im.user.u1" {
				t.Errorf("%s got subject %q, want the prefix stripped", name, e.Subject)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("node %s of the same install got nothing", name)
		}
	}
	select {
	case e := <-got["B"]:
		t.Fatalf("another install received %q", e.Subject)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestBadOptions(t *testing.T) {
	for _, c := range []struct {
		name, url, prefix string
	}{
		{"wildcard prefix", "nats://127.0.0.1:4222", "a.*"},
		{"empty token in prefix", "nats://127.0.0.1:4222", "a..b"},
		{"empty url", " ", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := natsbus.Connect(c.url, natsbus.Options{Prefix: c.prefix})
			if !core.IsCode(err, core.EInvalid) {
				if b != nil {
					b.Close()
				}
				t.Fatalf("Connect = %v, want invalid", err)
			}
		})
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	port := freePort(t)
	b := connect(t, "nats://127.0.0.1:"+strconv.Itoa(port), "")
	ctx := context.Background()
	if err := b.Ping(ctx); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Ping = %v, want unavailable", err)
	}
	if err := b.Publish(ctx, "orgchart.staff.left", nil); !core.IsCode(err, core.EUnavailable) {
		t.Errorf("Publish = %v, want unavailable", err)
	}
	// Subscribing while NATS is away is allowed: the interest is sent once
	// the connection comes up.
	sub, err := b.Subscribe("orgchart.>", func(bus.Event) {})
	if err != nil {
		t.Fatalf("Subscribe while disconnected: %v", err)
	}
	if err := sub.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestReconnect runs a private nats-server, stops it under a connected bus
// and starts it again: the bus reports unavailable meanwhile and delivers to
// its old subscriptions afterwards.
func TestReconnect(t *testing.T) {
	bin := natsServerBinary(t)
	port := freePort(t)
	stop := startNATS(t, bin, port)
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	b := connect(t, url, "")
	waitReady(t, b)
	got := make(chan bus.Event, 16)
	if _, err := b.Subscribe("roster.>", func(e bus.Event) { got <- e }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Publish(ctx, "roster.ward5.published", []byte("1")); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "1")

	stop()
	deadline := time.Now().Add(10 * time.Second)
	for b.Ping(ctx) == nil {
		if time.Now().After(deadline) {
			t.Fatal("Ping still succeeds after the server stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Ping(ctx); !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("Ping while down = %v, want unavailable", err)
	}
	if err := b.Publish(ctx, "roster.ward5.published", []byte("lost")); !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("Publish while down = %v, want unavailable", err)
	}

	startNATS(t, bin, port)
	waitReady(t, b)
	if err := b.Publish(ctx, "roster.ward5.published", []byte("2")); err != nil {
		t.Fatal(err)
	}
	expect(t, got, "2")
}

func expect(t *testing.T, ch chan bus.Event, data string) {
	t.Helper()
	select {
	case e := <-ch:
		if string(e.Data) != data {
			t.Fatalf("got %q, want %q", e.Data, data)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("event %q not delivered", data)
	}
}

func natsServerBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if os.Getenv("ROUNDS_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal("nats-server binary not found but services are required")
	}
	t.Skip("nats-server binary not found")
	return ""
}

// startNATS starts a throwaway server on 127.0.0.1:port; the returned func
// (also run at cleanup) stops it.
func startNATS(t *testing.T, bin string, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-l", filepath.Join(t.TempDir(), "nats.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	b, err := natsbus.Connect(url, natsbus.Options{Prefix: prefixFor(t), QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitReady(t, b)
	release := make(chan struct{})
	if _, err := b.Subscribe("roster.published", func(bus.Event) { <-release }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 50 {
		if err := b.Publish(ctx, "roster.published", nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Dropped() < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	// One event in the handler, two queued: the rest are dropped.
	if d := b.Dropped(); d < 40 || d > 49 {
		t.Fatalf("Dropped = %d, want about 47", d)
	}
}

func TestTooLargeEvent(t *testing.T) {
	url := bustest.Require(t, "ROUNDS_TEST_NATS")
	b := connect(t, url, prefixFor(t))
	waitReady(t, b)
	err := b.Publish(context.Background(), "im.user.u1", make([]byte, 64<<20))
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != core.ETooLarge || ce.Field != "data" {
		t.Fatalf("Publish of 64 MiB = %v, want too_large naming data", err)
	}
}
