package plugins_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
	"github.com/roundshq/rounds/plugins/sdk"
)

// TestFaultsAreContained starts a well-behaved app beside a misbehaving one
// and proves the host restarts (or disables) the bad one while the good one
// — standing in for chat and approvals, which never call into apps on their
// own path — keeps answering.
func TestFaultsAreContained(t *testing.T) {
	cases := []struct {
		mode     string
		tune     func(*plugins.Config)
		wantErr  core.Code
		inLastEr string
	}{
		{mode: "panic", wantErr: core.EUnavailable, inLastEr: "exited"},
		{mode: "exit", wantErr: core.EUnavailable, inLastEr: "exited"},
		{mode: "hang", tune: func(c *plugins.Config) { c.HookTimeout = 300 * time.Millisecond }, wantErr: core.ETimeout, inLastEr: "deadline"},
		{mode: "leak", tune: func(c *plugins.Config) { c.MemoryLimit = 64 << 20 }, inLastEr: "memory limit"},
		// RLIMIT_CPU: the kernel kills a process that burns more CPU time
		// than allowed (SIGXCPU, then SIGKILL at the hard limit).
		{mode: "spin", tune: func(c *plugins.Config) { c.CPULimit = time.Second; c.HookTimeout = time.Minute }, inLastEr: "exited|health check failed"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, c.tune)
			good := install(t, "good-app", "org1", "", allGrants()...)
			bad := install(t, "bad-"+c.mode, "org1", c.mode, allGrants()...)
			e.start(t, good)
			e.start(t, bad)
			_, err := e.host.Command(context.Background(), core.Actor{UserID: "u1", OrgID: "org1"}, "t-"+bad.AppID, "misbehave", "conv")
			if c.wantErr != "" && !core.IsCode(err, c.wantErr) {
				t.Fatalf("misbehaving hook: err = %v, want %s", err, c.wantErr)
			}
			if got := e.command(t, good, "ping"); got != "pong u1" {
				t.Fatalf("the good app stopped answering: %q", got)
			}
			// A spinning app is killed after one second of CPU time, which a
			// loaded machine may take minutes of wall time to give it.
			defer func() {
				if t.Failed() {
					s, err := e.host.Status(bad.ID)
					t.Logf("the bad app at the end: %+v (err %v)", s, err)
				}
			}()
			waitFor(t, "restart of the bad app", 4*time.Minute, func() bool {
				s, err := e.host.Status(bad.ID)
				// The kernel kills a spinning app; the supervisor may notice
				// through the exit or through the next health check first.
				seen := false
				for _, want := range strings.Split(c.inLastEr, "|") {
					seen = seen || strings.Contains(s.LastError, want)
				}
				return err == nil && s.Restarts >= 1 && s.State == plugins.StateRunning && seen
			})
			if got := e.command(t, bad, "ping"); got != "pong u1" {
				t.Fatalf("the restarted app does not answer: %q", got)
			}
			if got := e.command(t, good, "ping"); got != "pong u1" {
				t.Fatalf("the good app stopped answering: %q", got)
			}
		})
	}
}

func TestRepeatedCrashesDisableWithAlert(t *testing.T) {
	e := newEnv(t, func(c *plugins.Config) { c.MaxCrashes = 3; c.BackoffMin = 20 * time.Millisecond })
	good := install(t, "good-app", "org1", "", allGrants()...)
	e.start(t, good)
	bad := install(t, "crashy", "org1", "exit", allGrants()...)
	e.start(t, bad)
	// Each time the app is back, make it crash again.
	waitFor(t, "disabled", 20*time.Second, func() bool {
		s, _ := e.host.Status(bad.ID)
		if s.State == plugins.StateRunning {
			_, _ = e.host.Command(context.Background(), core.Actor{UserID: "u1", OrgID: "org1"}, "t-crashy", "misbehave", "c")
		}
		return s.State == plugins.StateDisabled
	})
	if a := e.alerts.Disabled(); len(a) != 1 || !strings.HasPrefix(a[0], "crashy: 3 crashes") {
		t.Fatalf("alerts = %q", a)
	}
	if e.host.Permissions().Allowed(bad.ID, "org1", sdk.ScopeIMSend) {
		t.Fatal("a disabled install keeps its grants")
	}
	if _, err := e.host.Command(context.Background(), core.Actor{UserID: "u1", OrgID: "org1"}, "t-crashy", "ping", "c"); !core.IsCode(err, core.EUnavailable) {
		t.Fatalf("disabled app answered: %v", err)
	}
	if got := e.command(t, good, "ping"); got != "pong u1" {
		t.Fatalf("good app: %q", got)
	}
}

func TestCrashOnStartBacksOff(t *testing.T) {
	e := newEnv(t, func(c *plugins.Config) { c.MaxCrashes = 3; c.BackoffMin = 100 * time.Millisecond })
	bad := install(t, "never-starts", "org1", "crash-on-start", allGrants()...)
	began := time.Now()
	if err := e.host.Start(context.Background(), bad); err == nil {
		t.Fatal("start of an app that exits in Activate succeeded")
	}
	waitFor(t, "disabled", 10*time.Second, func() bool {
		s, _ := e.host.Status(bad.ID)
		return s.State == plugins.StateDisabled
	})
	// Back-off 100ms then 200ms between the three attempts.
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Fatalf("disabled after %v: no back-off", d)
	}
}

func TestFloodIsRateLimited(t *testing.T) {
	e := newEnv(t, func(c *plugins.Config) { c.APIRate = 100; c.APIBurst = 50 })
	flood := install(t, "flood-app", "org1", "", allGrants()...)
	calm := install(t, "calm-app", "org1", "", allGrants()...)
	e.start(t, flood)
	e.start(t, calm)
	got := e.command(t, flood, "flood 2000")
	if !strings.Contains(got, "rate_limited=") || strings.Contains(got, "rate_limited=0") {
		t.Fatalf("flood = %q, want refusals", got)
	}
	if got := e.command(t, calm, "kvget x"); got != "ok false " {
		t.Fatalf("the calm app was limited too: %q", got)
	}
}

// TestHungAppDoesNotHoldUpOthers: a message goes to two apps, one of which
// hangs. The other still gets it, and delivery returns at the deadline.
func TestHungAppDoesNotHoldUpOthers(t *testing.T) {
	e := newEnv(t, func(c *plugins.Config) { c.HookTimeout = 500 * time.Millisecond })
	good := install(t, "good-app", "org1", "", allGrants()...)
	hung := install(t, "hung-app", "org1", "hang", allGrants()...)
	e.start(t, good)
	e.start(t, hung)
	e.msgs.add("ward5", "bot-good-app", "bot-hung-app", "nurse1")
	began := time.Now()
	err := e.host.MessagePosted(context.Background(), "org1", sdk.Message{ID: "m1", ConversationID: "ward5", SenderID: "nurse1", Text: "3床"})
	took := time.Since(began)
	if !core.IsCode(err, core.ETimeout) || took > 3*time.Second {
		t.Fatalf("err = %v after %v", err, took)
	}
	if sent := e.msgs.Sent(); len(sent) != 1 || sent[0] != "ward5|bot-good-app|echo: 3床" {
		t.Fatalf("sent = %q", sent)
	}
	waitFor(t, "hung app restarted", 30*time.Second, func() bool {
		s, _ := e.host.Status(hung.ID)
		return s.Restarts >= 1 && s.State == plugins.StateRunning
	})
}
