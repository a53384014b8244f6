// Command roundsbench is the Rounds load tool: a real client over HTTP and
// the chat WebSocket that drives one running server through a scenario and
// prints one JSON summary as its last line.
//
// Scenarios: fanout (one group, one sender rate), mixed (many groups, random
// senders, readers moving read positions), receipts (a read-receipt storm:
// every member reads one message within a second), idle (many authenticated
// WebSocket connections held open), search (directory search) and approvals
// (overtime requests submitted and approved) and plugin (the 日报 app's HTTP
// routes, through the app host and its permission-checked host API). See
// BENCHMARKS.md for the commands and the figures measured with them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

type options struct {
	url        string
	scenario   string
	users      int
	groupSize  int
	rate       float64
	submitRate float64
	duration   time.Duration
	drain      time.Duration
	adminLogin string
	password   string
	userPass   string
	tokens     string
	serverPID  int
	conns      int
	srcAddrs   int
	senders    int
	rounds     int
	workers    int

	publisherKey string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server base URL")
	flag.StringVar(&o.scenario, "scenario", "fanout", "fanout | mixed | receipts | idle | search | approvals | plugin")
	flag.IntVar(&o.users, "users", 200, "load users (created as staff LB00000… in the admin's hospital on first use)")
	flag.IntVar(&o.groupSize, "group-size", 200, "members per group (fanout: the one group; mixed: each group; receipts: the storm group)")
	flag.Float64Var(&o.rate, "rate", 50, "messages (or searches) per second, all senders together")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send (idle: how long to hold)")
	flag.Float64Var(&o.submitRate, "submit-rate", 0, "approvals: submissions per second while -rate approvals a second decide a backlog submitted first (0: each submission is approved at once, -rate pairs a second)")
	flag.DurationVar(&o.drain, "drain", 5*time.Second, "how long to wait for outstanding deliveries after sending stops")
	flag.StringVar(&o.adminLogin, "admin-login", "jcyy.10020", "organisation admin login (the demo's)")
	flag.StringVar(&o.password, "admin-password", "rounds-demo-2026", "organisation admin password")
	flag.StringVar(&o.userPass, "user-password", "roundsbench-load-2026", "password given to the load users")
	flag.StringVar(&o.tokens, "tokens", "roundsbench-tokens.json", "token cache file (reused while the tokens work)")
	flag.IntVar(&o.serverPID, "server-pid", 0, "server process id for RSS (default: the process listening on the URL's port)")
	flag.IntVar(&o.conns, "conns", 20000, "idle: WebSocket connections to hold (spread over the users' tokens)")
	flag.IntVar(&o.srcAddrs, "source-addrs", 8, "idle: source addresses 127.0.0.1 … 127.0.0.N to spread connections over")
	flag.IntVar(&o.senders, "senders", 64, "concurrent HTTP senders")
	flag.IntVar(&o.rounds, "rounds", 5, "receipts: storms to run")
	flag.IntVar(&o.workers, "setup-workers", 4, "parallel workers while provisioning users")
	flag.StringVar(&o.publisherKey, "publisher-key", "", "plugin: publisher key (ed25519-pub:…) to trust before installing the 日报 app from the server's catalog")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	summary, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "roundsbench:", err)
		if summary == nil {
			os.Exit(1)
		}
	}
	b, _ := json.Marshal(summary)
	fmt.Println(string(b))
	if err != nil {
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
}

func run(ctx context.Context, o options) (map[string]any, error) {
	nofile := raiseNoFile()
	c := client.New(o.url)
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	pid := o.serverPID
	if pid == 0 {
		pid = listenerPID(u.Host)
	}
	need := o.users
	if o.scenario == "fanout" || o.scenario == "receipts" {
		need = max(need, o.groupSize)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = c.Ready(rctx)
	cancel()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	cache, err := provision(ctx, c, o.adminLogin, o.password, o.tokens, need, o.workers, logf)
	if err != nil {
		return nil, err
	}
	logf("%d users ready in %s", len(cache.Accounts), time.Since(t0).Round(time.Millisecond))

	rss := &rssSampler{pid: pid}
	rss.start(ctx)
	summary := map[string]any{
		"scenario": o.scenario, "url": o.url, "users": need, "server_pid": pid, "client_nofile": nofile,
		"started_at":    time.Now().UTC().Format(time.RFC3339),
		"loadavg_start": loadavg(),
	}
	switch o.scenario {
	case "fanout", "mixed":
		err = chat(ctx, c, o, cache, summary)
	case "receipts":
		err = receipts(ctx, c, o, cache, summary)
	case "idle":
		err = idle(ctx, c, o, cache, summary)
	case "search":
		err = search(ctx, c, o, cache, summary)
	case "approvals":
		err = approvalsScenario(ctx, c, o, cache, summary)
	case "plugin":
		err = pluginScenario(ctx, c, o, cache, summary)
	default:
		err = fmt.Errorf("unknown scenario %q", o.scenario)
	}
	peak, sampled := rss.stop()
	summary["server_peak_rss_mb"] = round(float64(peak) / 1024)
	summary["server_max_sampled_rss_mb"] = round(float64(sampled) / 1024)
	// The machine is shared: the load average says how much of it the
	// server and the tool really had.
	summary["loadavg_end"] = loadavg()
	return summary, err
}

// rssSampler samples the server's RSS while a scenario runs: VmHWM is the
// peak of the process's whole life, the sample the peak of this run.
type rssSampler struct {
	pid  int
	max  atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func (r *rssSampler) start(ctx context.Context) {
	r.done = make(chan struct{})
	if r.pid == 0 {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if _, now := rssKB(r.pid); now > r.max.Load() {
				r.max.Store(now)
			}
			select {
			case <-r.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (r *rssSampler) stop() (peak, sampled int64) {
	close(r.done)
	r.wg.Wait()
	peak, now := rssKB(r.pid)
	if now > r.max.Load() {
		r.max.Store(now)
	}
	return peak, r.max.Load()
}

// receiver is one user's WebSocket with what it received. Its fields are
// written only by the subscriber's goroutine and read after it stopped.
type receiver struct {
	idx  int
	sub  *client.Subscriber
	seen map[string][]uint8 // conversation → count per seq
	lat  []float64
	// onPosted lets a scenario react (read receipts) without a lock.
	onPosted func(m client.Message)
}

func newReceiver(idx int, base, token string, onEvent func(r *receiver, ev client.Event, at time.Time)) *receiver {
	r := &receiver{idx: idx, seen: map[string][]uint8{}}
	r.sub = &client.Subscriber{URL: client.WSURL(base), Token: token, Since: -1}
	r.sub.OnEvent = func(ev client.Event, at time.Time) {
		if ev.Event == "message.posted" {
			var m client.Message
			if json.Unmarshal(ev.Data, &m) == nil {
				s := r.seen[m.ConversationID]
				for int64(len(s)) <= m.Seq {
					s = append(s, 0)
				}
				postedTotal.Add(1)
				if s[m.Seq] < 255 {
					s[m.Seq]++
				}
				r.seen[m.ConversationID] = s
				if ns, ok := sentAt(m.Text); ok {
					r.lat = append(r.lat, float64(at.UnixNano()-ns)/1e6)
				}
				if r.onPosted != nil {
					r.onPosted(m)
				}
			}
		}
		if onEvent != nil {
			onEvent(r, ev, at)
		}
	}
	return r
}

// postedTotal counts message.posted events across all receivers, so the
// drain can end as soon as everything arrived.
var postedTotal atomic.Int64

// sentAt reads the send time the load tool embeds at the start of a text.
func sentAt(text string) (int64, bool) {
	if !strings.HasPrefix(text, "lb t=") {
		return 0, false
	}
	f := strings.Fields(text[len("lb t="):])
	if len(f) == 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return ns, err == nil
}

// connectAll opens every receiver's WebSocket, 32 at a time, and waits for
// each one's ready frame, so no send starts before everyone listens.
func connectAll(ctx context.Context, rs []*receiver) error {
	sem := make(chan struct{}, 32)
	errs := make(chan error, len(rs))
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := r.sub.Dial(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	for _, r := range rs {
		go func() { _ = r.sub.Run(ctx) }()
	}
	for _, r := range rs {
		select {
		case <-r.sub.Ready():
		case <-time.After(30 * time.Second):
			return fmt.Errorf("receiver %d got no ready frame", r.idx)
		}
	}
	return nil
}

// pacer calls fn about rate times a second for d from a pool of workers;
// ticks that find every worker busy are counted as late, not dropped.
func pacer(ctx context.Context, rate float64, d time.Duration, workers int, fn func(i int)) (issued int64) {
	jobs := make(chan int, workers*4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				fn(i)
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		jobs <- i
		issued++
	}
	close(jobs)
	wg.Wait()
	return issued
}

// newAddr gives source address n of count: 127.0.0.1 … 127.0.0.count.
func newAddr(n, count int) net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+n%count))}
}
