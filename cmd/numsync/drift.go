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

	// inRun (apply) holds the details apply's plan read until the run is
	// journaled (Start): saved then, they carry a time inside the run,
	// so the next plan knows numsync read them in run N, the numbers
	// found in step included. Saved before Start they would look like a
	// plan's read, which drift does not count.
	inRun   bool
	started bool
	held    []heldDetails
}

// heldDetails is one SaveDetails call waiting for the run to start.
type heldDetails struct {
	vendor plan.VendorName
	states []plan.CachedState
}

// watchDrift wraps j for planning; e.markDrift then marks the plan.
func (e *env) watchDrift(j journal.Store) journal.Store {
	e.drift = &driftWatch{Store: j, e: e}
	return e.drift
}

// watchDriftInRun is watchDrift for apply, whose plan's reads are the
// run's (see driftWatch.inRun); flush saves what no run took.
func (e *env) watchDriftInRun(j journal.Store) *driftWatch {
	e.drift = &driftWatch{Store: j, e: e, inRun: true}
	return e.drift
}

// SaveDetails implements plan.DetailCache; in a run, the plan's reads wait
// for Start. Outside one (plan), a fresh read that differs from what a
// run read is not cached: it would replace the run's read, the one drift
// compares with, and the next plan would lose the mark. Those few
// numbers (changed outside numsync) are read again by the next plan.
func (w *driftWatch) SaveDetails(ctx context.Context, v plan.VendorName, states []plan.CachedState) error {
	if !w.inRun {
		w.learn(ctx)
	}
	w.mu.Lock()
	if w.inRun && !w.started {
		w.held = append(w.held, heldDetails{v, append([]plan.CachedState(nil), states...)})
		w.mu.Unlock()
		return nil
	}
	if !w.inRun && v == plan.OneUC && w.cache != nil {
		keep := make([]plan.CachedState, 0, len(states))
		for _, s := range states {
			old, ok := w.cache[s.Number]
			if _, read := drift.InRun(old.SavedAt, w.runs); ok && read && !drift.SameDetails(old.State, s.State) {
				continue
			}
			keep = append(keep, s)
		}
		if n := len(states) - len(keep); n > 0 {
			w.e.logger().Debug("details not cached: they differ from what a run read", "numbers", n)
		}
		states = keep
	}
	w.mu.Unlock()
	return w.Store.SaveDetails(ctx, v, states)
}

// Start implements journal.Lifecycle: once the run is journaled, the
// details its plan read are saved, inside it.
func (w *driftWatch) Start(ctx context.Context, nr journal.NewRun) (*journal.Active, error) {
	a, err := w.Store.Start(ctx, nr)
	if err == nil {
		w.mu.Lock()
		w.started = true
		w.mu.Unlock()
		w.flush(ctx)
	}
	return a, err
}

// flush saves the details held back (a run started, or apply ended
// without one: refused, stale, nothing to do). A cache that cannot be
// written costs the next plan those reads again, nothing else.
func (w *driftWatch) flush(ctx context.Context) {
	w.mu.Lock()
	held := w.held
	w.held = nil
	w.started = true
	w.mu.Unlock()
	for _, h := range held {
		if err := w.Store.SaveDetails(context.WithoutCancel(ctx), h.vendor, h.states); err != nil {
			w.e.logger().Warn("could not cache the details read; the next plan reads them again", "vendor", string(h.vendor), "numbers", len(h.states), "err", err)
		}
	}
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

func (d driftJournal) Ops(ctx context.Context, run int64) ([]plan.OpRecord, error) {
	return d.j.Ops(ctx, run)
}
