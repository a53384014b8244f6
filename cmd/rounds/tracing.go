package main

import (
	"context"
	"time"

	"github.com/roundshq/rounds/core/tracing"
)

// tracingShutdownTimeout bounds the flush of queued spans at shutdown: an
// unreachable collector must not hold a stopping node.
const tracingShutdownTimeout = 5 * time.Second

// untracedPaths are probed and scraped every few seconds: spans of them would
// only crowd the collector (their health is in /metrics and the probes).
var untracedPaths = []string{"/healthz", "/readyz", "/metrics"}

// startTracing sets up the optional OpenTelemetry traces (tracing.*). Off
// unless tracing.otlp_endpoint is set. It is the first thing a node builds
// and so the last it closes: spans ended while the rest shuts down are still
// sent.
func (a *App) startTracing() error {
	t := a.cfg.Tracing
	tr, err := tracing.Start(tracing.Config{
		Endpoint: t.OTLPEndpoint, SampleRatio: t.SampleRatio, ServiceName: t.ServiceName, ServiceVersion: Version,
		CAFile: t.CAFile, Headers: t.Headers, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.tracing = tr
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			a.log.Warn("tracing: spans still queued at shutdown were dropped", "err", err)
		}
		return nil
	})
	return nil
}
