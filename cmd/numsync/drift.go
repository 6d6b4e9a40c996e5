package main

import (
	"context"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/drift"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// driftRuns is how many of the latest runs' writes drift compares with:
// numbers last written longer ago are judged by the detail cache alone.
const driftRuns = 20

// driftWatch is the journal as a plan reads it (detail cache and history),
// noting on the way what drift needs and the plan would otherwise
// overwrite: the journal's latest writes, read before the run being
// planned starts, and the detail cache as it was before this plan read
// the vendor. Planning calls LastCount for every vendor, Details when it
// compares OneUC details.
type driftWatch struct {
	journal.Store
	e *env

	once  sync.Once
	mu    sync.Mutex
	kn    drift.Knowledge
	runs  []drift.Run
	cache map[string]plan.CachedState
}

// watchDrift wraps j for planning; e.markDrift then marks the plan.
func (e *env) watchDrift(j journal.Store) journal.Store {
	e.drift = &driftWatch{Store: j, e: e}
	return e.drift
}

func (w *driftWatch) learn(ctx context.Context) {
	w.once.Do(func() {
		kn, runs, err := drift.Writes(ctx, driftJournal{w.Store}, driftRuns)
		if err != nil {
			// Drift is a hint for the reviewer: a journal that cannot say
			// leaves the plan unmarked, and the plan goes on.
			w.e.logger().Warn("could not read the journal's latest writes: operations are not checked for changes made outside numsync", "err", err)
			return
		}
		w.mu.Lock()
		w.kn, w.runs = kn, runs
		w.mu.Unlock()
	})
}

// LastCount implements plan.History.
func (w *driftWatch) LastCount(ctx context.Context, v plan.VendorName) (int, bool, error) {
	w.learn(ctx)
	return w.Store.LastCount(ctx, v)
}

// Details implements plan.DetailCache, keeping OneUC's answer.
func (w *driftWatch) Details(ctx context.Context, v plan.VendorName) (map[string]plan.CachedState, error) {
	w.learn(ctx)
	m, err := w.Store.Details(ctx, v)
	if err == nil && v == plan.OneUC {
		w.mu.Lock()
		w.cache = m
		w.mu.Unlock()
	}
	return m, err
}

// markDrift marks p's operations on numbers changed outside numsync.
func (e *env) markDrift(p *plan.Plan) {
	w := e.drift
	if w == nil || p == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.kn == nil {
		return
	}
	w.kn.Reads(w.cache, w.runs)
	if n := drift.Mark(p, w.kn); n > 0 {
		e.logger().Debug("drift", "changed_outside", n)
	}
}

// changedOutside counts p's operations marked as undoing a change made
// outside numsync.
func changedOutside(p *plan.Plan) int {
	n := 0
	if p != nil {
		for _, s := range p.Vendors {
			n += s.ChangedOutside
		}
	}
	return n
}

// driftJournal reads runs and their done operations for drift.Writes.
type driftJournal struct{ j journal.Store }

func (d driftJournal) RecentRuns(ctx context.Context, limit int) ([]drift.Run, error) {
	runs, err := d.j.Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]drift.Run, len(runs))
	for i, r := range runs {
		var finished time.Time
		if r.FinishedAt != nil {
			finished = *r.FinishedAt
		}
		out[i] = drift.Run{ID: r.ID, Started: r.StartedAt, Finished: finished}
	}
	return out, nil
}

func (d driftJournal) DoneOps(ctx context.Context, run int64) ([]plan.OpRecord, error) {
	ops, err := d.j.Ops(ctx, run)
	if err != nil {
		return nil, err
	}
	done := ops[:0]
	for _, r := range ops {
		if r.State == plan.StateDone {
			done = append(done, r)
		}
	}
	return done, nil
}
