package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundshq/rounds/cmd/roundsbench/client"
)

// benchApp is the app the plugin scenario drives: the 日报 (daily report)
// app from plugins/apps/dailyreport, as web/e2e/make-catalog publishes it.
const benchApp = "daily-report"

// pluginScenario calls the daily report app's HTTP routes under
// /plugins/daily-report/ as the load users, at rate: half submit today's
// report (one host-API storage write), a quarter read their own week (seven
// storage reads), a quarter open their department's reports of the day
// (an org-chart read plus one storage read per report written). Every call
// crosses the host (route check, app process over gRPC) and each host-API
// call the app makes is checked against the install's scopes. It reports
// latency overall and per route, and errors by code.
//
// The app must be installed and enabled in the admin's organisation. If it
// is not, the scenario installs it (department setting: 压测科) through the marketplace API from the server's catalog
// (marketplace.catalog), trusting -publisher-key first when given, granting
// the scopes the catalog lists.
func pluginScenario(ctx context.Context, c *client.Client, o options, cache tokenCache, summary map[string]any) error {
	accs := cache.Accounts
	if len(accs) == 0 {
		return fmt.Errorf("plugin needs at least 1 user")
	}
	dept, err := loadDepartment(ctx, c, cache.Admin.Token, cache.OrgID)
	if err != nil {
		return err
	}
	installID, err := ensureBenchApp(ctx, c, cache, dept, o.publisherKey)
	if err != nil {
		return err
	}
	summary["app"], summary["install_id"] = benchApp, installID
	base := "/plugins/" + benchApp
	kinds := []string{"submit", "submit", "mine", "department"}
	var mu sync.Mutex
	lat := map[string][]float64{}
	var all []float64
	var ok, errs atomic.Int64
	byCode := map[string]int64{}
	var firstErr atomic.Value
	start := time.Now()
	issued := pacer(ctx, o.rate, o.duration, o.senders, func(i int) {
		a := accs[i%len(accs)]
		kind := kinds[i%len(kinds)]
		var err error
		t := time.Now()
		switch kind {
		case "submit":
			err = c.Do(ctx, a.Token, http.MethodPost, base+"/reports", map[string]string{"text": fmt.Sprintf("压测日报 %d：完成病历书写，交班。", i)}, nil)
		case "mine":
			err = c.Do(ctx, a.Token, http.MethodGet, base+"/reports/mine", nil, nil)
		case "department":
			err = c.Do(ctx, a.Token, http.MethodGet, base+"/departments/"+dept+"/reports", nil, nil)
		}
		d := float64(time.Since(t).Microseconds()) / 1000
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs.Add(1)
			code := "transport"
			var ae *client.APIError
			if errors.As(err, &ae) {
				code = fmt.Sprintf("%d %s", ae.Status, ae.Code)
			}
			byCode[code]++
			firstErr.CompareAndSwap(nil, kind+": "+err.Error())
			return
		}
		ok.Add(1)
		lat[kind] = append(lat[kind], d)
		all = append(all, d)
	})
	wall := time.Since(start)
	summary["rate"] = o.rate
	summary["duration_s"] = o.duration.Seconds()
	summary["issued"] = issued
	summary["ok"] = ok.Load()
	summary["errors"] = errs.Load()
	summary["throughput_per_s"] = round(float64(ok.Load()) / wall.Seconds())
	summary["latency_ms"] = summarize(all)
	per := map[string]percentiles{}
	for k, v := range lat {
		per[k] = summarize(v)
	}
	summary["latency_ms_by_route"] = per
	if len(byCode) > 0 {
		summary["errors_by_code"] = byCode
	}
	if e := firstErr.Load(); e != nil {
		summary["first_error"] = e
		return fmt.Errorf("%d of %d app calls failed: %v", errs.Load(), issued, e)
	}
	return nil
}

// ensureBenchApp returns the install id of the daily report app in the
// admin's organisation, installing and enabling it from the catalog when it
// is not there.
func ensureBenchApp(ctx context.Context, c *client.Client, cache tokenCache, dept, publisherKey string) (string, error) {
	admin := cache.Admin.Token
	org := "/api/v1/orgs/" + cache.OrgID + "/marketplace"
	var installs struct {
		Items []struct {
			ID      string `json:"id"`
			AppID   string `json:"app_id"`
			Enabled bool   `json:"enabled"`
		} `json:"items"`
	}
	if err := c.Do(ctx, admin, http.MethodGet, org+"/installs", nil, &installs); err != nil {
		return "", fmt.Errorf("list installs: %w", err)
	}
	for _, in := range installs.Items {
		if in.AppID != benchApp {
			continue
		}
		if !in.Enabled {
			return "", fmt.Errorf("the %s app is installed but disabled: enable it in the admin console", benchApp)
		}
		return in.ID, nil
	}
	if publisherKey != "" {
		err := c.Do(ctx, admin, http.MethodPost, org+"/keys", map[string]string{"name": "roundsbench", "public_key": publisherKey}, nil)
		var ae *client.APIError
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
			return "", fmt.Errorf("trust the publisher key: %w", err)
		}
	}
	var app struct {
		Versions []struct {
			Version string   `json:"version"`
			Scopes  []string `json:"scopes"`
		} `json:"versions"`
	}
	if err := c.Do(ctx, admin, http.MethodGet, org+"/catalog/"+benchApp, nil, &app); err != nil {
		return "", fmt.Errorf("the %s app is not installed and the catalog cannot provide it (start the server with marketplace.catalog, see BENCHMARKS.md): %w", benchApp, err)
	}
	if len(app.Versions) == 0 {
		return "", fmt.Errorf("the catalog lists no version of %s", benchApp)
	}
	v := app.Versions[len(app.Versions)-1]
	grants := make([]map[string]string, 0, len(v.Scopes))
	for _, s := range v.Scopes {
		grants = append(grants, map[string]string{"scope": s})
	}
	var in struct {
		ID string `json:"id"`
	}
	if err := c.Do(ctx, admin, http.MethodPost, org+"/installs", map[string]any{"app_id": benchApp, "version": v.Version, "grants": grants,
		"visibility": map[string]any{"everyone": true}, "settings": map[string]string{"department": dept}, "enable": true}, &in); err != nil {
		return "", fmt.Errorf("install %s %s (trust its publisher key with -publisher-key): %w", benchApp, v.Version, err)
	}
	logf("installed %s %s (install %s)", benchApp, v.Version, in.ID)
	return in.ID, nil
}
