package exec_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

// timedJournal measures the time spent in journal calls.
type timedJournal struct {
	exec.Journal
	mu    sync.Mutex
	spent time.Duration
}

func (j *timedJournal) MarkSent(ctx context.Context, runID int64, ids []string) error {
	defer j.time(time.Now())
	return j.Journal.MarkSent(ctx, runID, ids)
}

func (j *timedJournal) Record(ctx context.Context, runID int64, u []plan.OpUpdate) error {
	defer j.time(time.Now())
	return j.Journal.Record(ctx, runID, u)
}

func (j *timedJournal) time(start time.Time) {
	j.mu.Lock()
	j.spent += time.Since(start)
	j.mu.Unlock()
}

// benchPlan is 20k operations over two vendors: 10k OneUC activations,
// 5k First Orion assigns that wait for them and 5k of numbers already in
// service, spread over two programs.
func benchPlan() []plan.Op {
	var ops []plan.Op
	for i, n := range numbers(10000, 0) {
		act := activate(n)
		ops = append(ops, act)
		if i%2 == 0 {
			ops = append(ops, assign(n, "bu1", "p1", act.ID))
		}
	}
	for i, n := range numbers(5000, 10000) {
		ops = append(ops, assign(n, "bu1", []string{"p1", "p2"}[i%2]))
	}
	return ops
}

// BenchmarkRun measures throughput against fakes paced at 10 requests/s
// with 20 ms latency and batches of 100: a ceiling of 1000 numbers/s per
// vendor. It reports each vendor's numbers/s over its busy span as a share
// of that ceiling, and the journal's share of the wall time.
func BenchmarkRun(b *testing.B) {
	const rps, batch = 10, 100
	ops := benchPlan()
	for b.Loop() {
		vendorCfg := plantest.Config{BatchSize: batch, RPS: rps, Burst: 1, Latency: 20 * time.Millisecond}
		e := newEnv(vendorCfg, vendorCfg).withOps(ops...)
		j := &timedJournal{Journal: e.journal}
		cfg := e.config(4)
		cfg.Journal = j
		cfg.Sleep = nil
		start := time.Now()
		res, err := exec.Run(context.Background(), nil, cfg, e.journal.Records())
		wall := time.Since(start)
		if err != nil || !res.Complete() {
			b.Fatalf("run: %v (complete %v)", err, res != nil && res.Complete())
		}
		ceiling := float64(rps * batch)
		for _, vs := range res.Summary.Vendors {
			var applied int
			var span float64
			for _, a := range vs.Actions {
				applied += a.Applied
				span = max(span, a.DurationSeconds)
			}
			b.ReportMetric(float64(applied)/span/ceiling, fmt.Sprintf("%s-ceiling-share", vs.Vendor))
			b.ReportMetric(float64(vs.Requests), fmt.Sprintf("%s-requests", vs.Vendor))
		}
		b.ReportMetric(float64(len(ops))/wall.Seconds(), "numbers/s")
		b.ReportMetric(j.spent.Seconds()/wall.Seconds(), "journal-share")
	}
}
