package exec

import (
	"context"
	"fmt"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
)

func (r *runner) dispatch() {
	for _, vr := range r.vendors {
		for vr.inFlight < vr.limit && !r.halted {
			if len(vr.checks) > 0 {
				batch, statesOnly := vr.nextChecks(r.cfg.ReadBatch)
				r.launchCheck(vr, batch, statesOnly)
				continue
			}
			batch := vr.nextBatch()
			if batch == nil {
				break
			}
			r.launchApply(vr, batch)
		}
	}
}

// nextChecks takes the next operations to check. With a StateReader, every
// waiting check that needs only states goes in one read (statesOnly), so
// the vendor can choose its cheapest way to read them all; the others, and
// every check of a vendor without one, go to Read in chunks of readBatch.
func (vr *vendorRun) nextChecks(readBatch int) (batch []*node, statesOnly bool) {
	if vr.sr != nil {
		var rest []*node
		for _, n := range vr.checks {
			if n.rec.Op.NeedsDetails() {
				rest = append(rest, n)
			} else {
				batch = append(batch, n)
			}
		}
		if len(batch) > 0 {
			vr.checks = rest
			return batch, true
		}
	}
	k := min(len(vr.checks), readBatch)
	batch = vr.checks[:k:k]
	vr.checks = vr.checks[k:]
	return batch, false
}

// nextBatch takes the ready group that fills the biggest batch (most
// numbers per request, the scarce resource under a rate limit; ties go to
// the key seen first), up to its maximum.
func (vr *vendorRun) nextBatch() []*node {
	best, bestFill := "", 0
	for _, k := range vr.keys {
		q := vr.ready[k]
		if len(q) == 0 {
			continue
		}
		if fill := min(len(q), q[0].max); fill > bestFill {
			best, bestFill = k, fill
		}
	}
	if bestFill == 0 {
		vr.keys = vr.keys[:0]
		clear(vr.ready)
		return nil
	}
	q := vr.ready[best]
	batch := q[:bestFill:bestFill]
	vr.ready[best] = q[bestFill:]
	return batch
}

func (r *runner) launchApply(vr *vendorRun, batch []*node) {
	ids := make([]string, len(batch))
	ops := make([]plan.Op, len(batch))
	for i, n := range batch {
		ids[i], ops[i] = n.rec.Op.ID, n.rec.Op
	}
	if err := r.cfg.Journal.MarkSent(r.jctx, r.cfg.RunID, ids); err != nil {
		r.abort(fmt.Errorf("exec: mark sent: %w: %w", ErrJournal, err))
		// The batch was not sent; it is still pending in the journal.
		return
	}
	now := r.cfg.Now()
	for _, n := range batch {
		if n.rec.Attempts > 0 {
			vr.sum.Retries++
		}
		n.rec.Attempts++
		r.setState(n, plan.StateSent)
		if n.as.first.IsZero() {
			n.as.first = now
		}
	}
	vr.sum.Requests++
	vr.sum.Attempts += len(batch)
	ctx := r.budgetCtx(batch)
	r.spawn(vr, func() event {
		return event{kind: evApplied, vr: vr, nodes: batch, results: safeApply(ctx, vr.v, ops)}
	})
}

// budgetCtx is the context of a request for nodes: the request context,
// carrying the earliest of their budgets (started now for a node that has
// none yet), so the client's own retries (retry.Policy.Do) spend the
// operations' budget instead of starting one of their own, and end their
// pauses at a halt.
func (r *runner) budgetCtx(nodes []*node) context.Context {
	var b retry.Budget
	for _, n := range nodes {
		if n.budget.Deadline.IsZero() {
			n.budget = r.pol.Start()
		}
		if b.Deadline.IsZero() || n.budget.Deadline.Before(b.Deadline) {
			b = n.budget
		}
	}
	return r.pol.WithBudget(r.reqCtx, b, r.waitCtx.Done())
}

// launchCheck reads the live state of a batch of operations whose outcome
// is unknown: with ReadStates when statesOnly (nextChecks), else with Read.
func (r *runner) launchCheck(vr *vendorRun, batch []*node, statesOnly bool) {
	numbers := uniqueNumbers(batch)
	vr.sum.Reads++
	ctx := r.budgetCtx(batch)
	r.spawn(vr, func() event {
		states, err := vr.read(ctx, numbers, statesOnly)
		return event{kind: evChecked, vr: vr, nodes: batch, states: states, err: err}
	})
}

// spawn runs one request in its own goroutine, counted in the vendor's
// slots until the loop has handled its result.
func (r *runner) spawn(vr *vendorRun, fn func() event) {
	vr.inFlight++
	r.outstanding++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.events <- fn()
	}()
}

// after delivers ev once d has passed, or at once when the run halts.
func (r *runner) after(d time.Duration, ev event) {
	r.outstanding++
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = r.cfg.Sleep(r.waitCtx, d) // a halt cuts the pause short; the loop knows
		r.events <- ev
	}()
}

// safeApply calls Apply, turning a panic in a vendor client into unknown
// outcomes (the request may have gone out) instead of a crash that would
// leave the journal behind the vendor.
func safeApply(ctx context.Context, v plan.Vendor, ops []plan.Op) (results []plan.Result) {
	defer func() {
		if p := recover(); p != nil {
			results = make([]plan.Result, len(ops))
			for i, op := range ops {
				results[i] = plan.Result{OpID: op.ID, Outcome: plan.Unknown, Err: fmt.Errorf("%s: apply panicked: %v", v.Name(), p)}
			}
		}
	}()
	return v.Apply(ctx, ops)
}

// read reads numbers with ReadStates when statesOnly (the caller checked
// that the vendor has it), else with Read, turning a panic in the vendor
// client into a failed read.
func (vr *vendorRun) read(ctx context.Context, numbers []string, statesOnly bool) (states map[string]plan.State, err error) {
	defer func() {
		if p := recover(); p != nil {
			states, err = nil, fmt.Errorf("%s: read panicked: %v", vr.name, p)
		}
	}()
	if statesOnly {
		return vr.sr.ReadStates(ctx, numbers)
	}
	return vr.v.Read(ctx, numbers)
}
