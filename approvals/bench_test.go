package approvals_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roundshq/rounds/approvals"
	"github.com/roundshq/rounds/approvals/sqlstore"
	"github.com/roundshq/rounds/core"
	"github.com/roundshq/rounds/core/sqldb"
	"github.com/roundshq/rounds/core/sqldb/sqldbtest"
)

// benchModes are the databases benchmarked: embedded SQLite with the
// default synchronous=full and with normal, and PostgreSQL when
// ROUNDS_TEST_POSTGRES is set.
var benchModes = []string{"sqlite-full", "sqlite-normal", "postgres"}

// benchEnv opens the database of a mode.
func benchEnv(b *testing.B, mode string) *env {
	var db *sqldb.DB
	if mode == "postgres" {
		db = sqldbtest.OpenPostgres(b)
	} else {
		var err error
		db, err = sqldb.Open(context.Background(), sqldb.Config{SQLitePath: filepath.Join(b.TempDir(), "bench.db"), Synchronous: strings.TrimPrefix(mode, "sqlite-")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	}
	if err := sqlstore.Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	e := newEnvDB(b, db)
	e.svc, _ = approvals.New(approvals.Options{Store: e.store, Directory: e.dir, Authorizer: e.authz, Clock: core.SystemClock{}})
	e.template(approvals.TemplateInput{Code: "leave", Name: "Leave", Schema: simpleSchema, Flow: flowOf(
		approvals.Node{ID: "mgr", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 1, Mode: approvals.OrSign},
		approvals.Node{ID: "b", Kind: approvals.NodeBranch, Next: "hr", Branches: []approvals.Branch{{Condition: "days_off > 3", Next: "head"}}},
		approvals.Node{ID: "head", Kind: approvals.NodeApprove, Approver: approvals.ApproverManager, Levels: 2, Next: "hr"},
		approvals.Node{ID: "hr", Kind: approvals.NodeCC, Approver: approvals.ApproverRole, Role: "hr"},
	)})
	return e
}

var leaveForm = json.RawMessage(`{"reason":"family","amount":0,"period":{"start":"2026-03-02","end":"2026-03-03"}}`)

// measure runs op b.N times on 8 goroutines (8 people acting at once) and
// reports throughput and latency percentiles.
func measure(b *testing.B, unit string, op func(i int) error) { measureN(b, 8, unit, op) }

func measureN(b *testing.B, clients int, unit string, op func(i int) error) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	// CPU per operation (this process, all threads) is the figure that does
	// not depend on what else the shared machine runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-ms/op")
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), unit+"/s")
	b.ReportMetric(float64(lat[len(lat)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkSubmit(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode, func(b *testing.B) {
			e := benchEnv(b, mode)
			ctx := as(nurse)
			measure(b, "submissions", func(int) error {
				_, err := e.svc.Submit(ctx, approvals.SubmitInput{ActionID: core.NewID(), TemplateCode: "leave", Form: leaveForm})
				return err
			})
		})
	}
}

func BenchmarkApprove(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode, func(b *testing.B) {
			e := benchEnv(b, mode)
			reqs := make([]string, b.N)
			for i := range reqs {
				out, err := e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: core.NewID(), TemplateCode: "leave", Form: leaveForm})
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = out.RequestID
			}
			ctx := as(wardHead)
			measure(b, "actions", func(i int) error {
				_, err := e.svc.Approve(ctx, reqs[i], approvals.ActionInput{ActionID: core.NewID()})
				return err
			})
		})
	}
}

// BenchmarkApproveAlone is the latency of one action with nobody else
// acting (one client), on the embedded default.
func BenchmarkApproveAlone(b *testing.B) {
	e := benchEnv(b, "sqlite-full")
	reqs := make([]string, b.N)
	for i := range reqs {
		out, err := e.svc.Submit(as(nurse), approvals.SubmitInput{ActionID: core.NewID(), TemplateCode: "leave", Form: leaveForm})
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = out.RequestID
	}
	ctx := as(wardHead)
	measureN(b, 1, "actions", func(i int) error {
		_, err := e.svc.Approve(ctx, reqs[i], approvals.ActionInput{ActionID: core.NewID()})
		return err
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
