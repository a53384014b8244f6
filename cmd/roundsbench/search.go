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

// searchTerms are what staff type: surnames, pinyin initials, departments,
// positions and employee numbers.
var searchTerms = []string{"王", "李", "张", "刘", "陈", "zs", "wl", "lh", "心内", "急诊", "护士", "主任", "儿科", "10020", "LB0001", "放射", "chen", "wang"}

// search calls the directory search at rate from the load users and reports
// latency; every answer must be 200.
func search(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts
	var mu sync.Mutex
	var lat []float64
	var ok, errs, hits atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	issued := pacer(ctx, o.rate, o.duration, o.senders, func(i int) {
		a := accs[i%len(accs)]
		q := url.Values{"q": {searchTerms[i%len(searchTerms)]}, "limit": {"20"}}
		var out struct {
			Items []map[string]any `json:"items"`
		}
		t := time.Now()
		err := c.Do(ctx, a.Token, "GET", "/api/v1/orgs/"+cache.OrgID+"/directory/search?"+q.Encode(), nil, &out)
		d := float64(time.Since(t).Microseconds()) / 1000
		if err != nil {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			return
		}
		ok.Add(1)
		hits.Add(int64(len(out.Items)))
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	})
	wall := time.Since(start)
	summary["rate"] = o.rate
	summary["duration_s"] = o.duration.Seconds()
	summary["issued"] = issued
	summary["ok"] = ok.Load()
	summary["errors"] = errs.Load()
	summary["hits"] = hits.Load()
	summary["throughput_per_s"] = round(float64(ok.Load()) / wall.Seconds())
	summary["latency_ms"] = summarize(lat)
	if e := firstErr.Load(); e != nil {
		summary["first_error"] = e
		return fmt.Errorf("%d of %d searches failed: %v", errs.Load(), issued, e)
	}
	return nil
}
