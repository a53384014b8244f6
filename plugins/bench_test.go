package plugins_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/plugins"
)

func percentile(d []time.Duration, p int) float64 {
	slices.Sort(d)
	return float64(d[len(d)*p/100].Microseconds())
}

// BenchmarkHostAPICall: an app calls Staff (casbin check, subtree-free
// grant, in-memory directory) b.N times; latencies measured inside the app.
func BenchmarkHostAPICall(b *testing.B) {
	e := newEnv(b, func(c *plugins.Config) { c.APIRate = 1e9; c.APIBurst = 1e9 })
	inst := install(b, "bench-app", "org1", "", allGrants()...)
	e.start(b, inst)
	n := max(b.N, 100)
	b.ResetTimer()
	got := e.command(b, inst, fmt.Sprintf("bench %d", n))
	b.StopTimer()
	var p50, p99 int64
	if _, err := fmt.Sscanf(got, "%d %d", &p50, &p99); err != nil {
		b.Fatalf("bench reply %q", got)
	}
	b.ReportMetric(float64(p50)/1e3, "p50-µs")
	b.ReportMetric(float64(p99)/1e3, "p99-µs")
}

// BenchmarkHookDelivery: the host delivers a slash-command hook and waits
// for the reply.
func BenchmarkHookDelivery(b *testing.B) {
	e := newEnv(b, nil)
	inst := install(b, "hook-app", "org1", "", allGrants()...)
	e.start(b, inst)
	actor := core.Actor{UserID: "u1", OrgID: "org1"}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := e.host.Command(context.Background(), actor, "t-hook-app", "ping", "c"); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(percentile(d, 50), "p50-µs")
	b.ReportMetric(percentile(d, 99), "p99-µs")
}

// BenchmarkAppStart: Start returns once the process is up (handshake,
// SecureConfig checksum, AutoMTLS) and the app is activated.
func BenchmarkAppStart(b *testing.B) {
	e := newEnv(b, nil)
	d := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		inst := install(b, "start-app", "org1", "", allGrants()...)
		b.StartTimer()
		t0 := time.Now()
		e.start(b, inst)
		d = append(d, time.Since(t0))
		b.StopTimer()
		_ = e.host.Stop(inst.ID)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(percentile(d, 50)/1e3, "p50-ms")
	b.ReportMetric(percentile(d, 99)/1e3, "max-ms")
}
