package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
)

// nodeMetrics are counted where things happen: the chat and approvals
// services and the WebSocket hub report to them directly (their Observer
// interfaces), so a dropped bus event never skews a figure.
type nodeMetrics struct {
	sent      *prometheus.CounterVec
	delivery  prometheus.Histogram
	submitted *prometheus.CounterVec
	decided   *prometheus.CounterVec
	actions   *prometheus.HistogramVec
}

func newNodeMetrics(reg prometheus.Registerer) *nodeMetrics {
	m := &nodeMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rounds_im_messages_sent_total",
			Help: "Messages stored by this node (retried sends not counted), by kind; DINGs as kind=\"ding\"."}, []string{"kind"}),
		delivery: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rounds_im_delivery_latency_seconds",
			Help:    "From a message being stored to its frame leaving for a receiver's connection on this node.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rounds_approvals_submitted_total",
			Help: "Approval requests submitted (first submissions and resubmissions), by template code."}, []string{"template"}),
		decided: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rounds_approvals_decided_total",
			Help: "Approval requests that reached a final status, by template code and outcome."}, []string{"template", "outcome"}),
		actions: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rounds_approvals_action_duration_seconds",
			Help:    "Time to carry out an approval action (submit, approve, reject …), by action and result code (ok or the error code).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"action", "code"}),
	}
	reg.MustRegister(m.sent, m.delivery, m.submitted, m.decided, m.actions)
	return m
}

// MessageSent implements im.Observer.
func (m *nodeMetrics) MessageSent(kind string, urgent bool) {
	if urgent {
		kind = "ding"
	}
	m.sent.WithLabelValues(kind).Inc()
}

// Acted implements approvals.Observer.
func (m *nodeMetrics) Acted(action string, took time.Duration, code core.Code) {
	c := string(code)
	if c == "" {
		c = "ok"
	}
	m.actions.WithLabelValues(action, c).Observe(took.Seconds())
}

// Happened implements approvals.Observer.
func (m *nodeMetrics) Happened(subject, template string, status approvals.Status) {
	switch subject {
	case approvals.SubjectSubmitted:
		m.submitted.WithLabelValues(template).Inc()
	case approvals.SubjectFinished:
		m.decided.WithLabelValues(template, string(status)).Inc()
	}
}

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

// delivered is the WebSocket hub's ObserveDelivery.
func (m *nodeMetrics) delivered(d time.Duration) { m.delivery.Observe(d.Seconds()) }
