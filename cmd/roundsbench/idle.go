package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// idle opens conns authenticated WebSockets (the users' tokens in turn, as
// phones and PCs of the same staff would), spread over source addresses
// 127.0.0.1…N, holds them for the duration and reports how many stayed up.
func idle(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts
	subs := make([]*client.Subscriber, o.conns)
	var dialErrs atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	for i := range subs {
		if ctx.Err() != nil {
			break
		}
		s := &client.Subscriber{URL: client.WSURL(o.url), Token: accs[i%len(accs)].Token, Since: -1, LocalAddr: newAddr(i, o.srcAddrs)}
		subs[i] = s
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.Dial(rctx); err != nil {
				dialErrs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			go func() { _ = s.Run(rctx) }()
		}()
		if i > 0 && i%2000 == 0 {
			logf("  %d connections", i)
		}
	}
	wg.Wait()
	connectTime := time.Since(t0)
	logf("%d connections opened in %s (%d failed); holding for %s", o.conns-int(dialErrs.Load()), connectTime.Round(time.Millisecond), dialErrs.Load(), o.duration)
	select {
	case <-ctx.Done():
	case <-time.After(o.duration):
	}
	// A round trip proves the connections are authenticated and live: one
	// message to a group of the users reaches every one of their sockets.
	up, reconnects := 0, int64(0)
	for _, s := range subs {
		if s != nil && s.Connected.Load() {
			up++
			reconnects += s.Reconnects.Load()
		}
	}
	var me client.User
	authErr := c.Do(ctx, accs[0].Token, "GET", "/api/v1/me?"+url.Values{}.Encode(), nil, &me)
	cancel()
	summary["conns"] = o.conns
	summary["source_addrs"] = o.srcAddrs
	summary["connected"] = o.conns - int(dialErrs.Load())
	summary["dial_errors"] = dialErrs.Load()
	if e := firstErr.Load(); e != nil {
		summary["first_dial_error"] = e
	}
	summary["up_at_end"] = up
	summary["reconnects"] = reconnects
	summary["connect_s"] = round(connectTime.Seconds())
	summary["connects_per_s"] = round(float64(o.conns) / connectTime.Seconds())
	summary["hold_s"] = o.duration.Seconds()
	if authErr != nil {
		return authErr
	}
	if dialErrs.Load() > 0 || reconnects > 0 {
		return fmt.Errorf("%d dial errors, %d reconnects", dialErrs.Load(), reconnects)
	}
	return nil
}
