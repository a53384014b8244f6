package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roundshq/rounds/plugins"
)

// registerAreaMetrics exports what each node can say about itself: its chat
// connections, the events its bus dropped, and the health of the apps it
// runs. Every value is read at scrape time from the parts that own it
// (docs/metrics.md lists them).
func (a *App) registerAreaMetrics() {
	ar, c := a.areas, a.core
	a.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rounds_ws_connections", Help: "WebSocket connections open on this node."},
			func() float64 { return float64(ar.hub.Connections()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rounds_ws_disconnects_total", Help: "Connections closed by the server, by cause.",
			ConstLabels: prometheus.Labels{"reason": "slow_consumer"}},
			func() float64 { return float64(ar.hub.SlowClosed.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rounds_ws_frames_queued_total", Help: "Event frames queued to connections on this node."},
			func() float64 { return float64(ar.hub.Delivered.Load()) }),
	)
	if d, ok := c.bus.(interface{ Dropped() uint64 }); ok {
		a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rounds_bus_dropped_total",
			Help: "Events dropped because a subscriber's queue was full (at most once; the database stays the record)."},
			func() float64 { return float64(d.Dropped()) }))
	}
	a.reg.MustRegister(&appCollector{host: ar.apps})
}

// appCollector reports every app install this node runs.
type appCollector struct{ host *plugins.Host }

var (
	appUpDesc       = prometheus.NewDesc("rounds_plugin_up", "1 while the app's process runs and answers its health checks.", []string{"app", "install"}, nil)
	appRestartsDesc = prometheus.NewDesc("rounds_plugin_restarts_total", "Times the host restarted the app.", []string{"app", "install"}, nil)
)

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- appUpDesc
	ch <- appRestartsDesc
}

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.host.Statuses("") {
		up := 0.0
		if s.State == plugins.StateRunning {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(appUpDesc, prometheus.GaugeValue, up, s.AppID, s.InstallID)
		ch <- prometheus.MustNewConstMetric(appRestartsDesc, prometheus.CounterValue, float64(s.Restarts), s.AppID, s.InstallID)
	}
}
