package exec

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
)

// verifyChunk is one read of verification and what it found.
type verifyChunk struct {
	vr      *vendorRun
	nodes   []*node
	numbers []string
	// statesOnly reads the chunk with ReadStates: it holds every number of
	// its vendor whose operations need no details.
	statesOnly bool
	states     map[string]plan.State
	reads      int
	err        error
	skipped    bool // not read: the run was stopped first
}

// verify reads back every number of a done operation (this run's and an
// earlier part's alike: the run is what is verified) and fails those whose
// live state is not what the plan wanted. Reads run up to each vendor's
// concurrency; a stop ends verification early and leaves the run
// interrupted, so the resumed run verifies again.
//
// A vendor with a StateReader gets one ReadStates call for every number
// whose operations need only states (verifying 20,000 activations is then
// one OneUC listing of 20 pages, not 20,000 GETs, and one First Orion
// listing, not 200); a number with any operation that needs details (a
// CNAM or E911 update) is read with Read, in chunks of ReadBatch, and that
// one detailed read checks all of the number's operations.
func (r *runner) verify() {
	vctx, cancel := context.WithCancel(r.waitCtx)
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-vctx.Done():
		}
	}()

	var chunks []*verifyChunk
	for _, vr := range r.vendors {
		byNumber := map[string][]*node{}
		var order []string
		for _, n := range r.nodes {
			if n.vr != vr || n.rec.State != plan.StateDone {
				continue
			}
			num := n.rec.Op.Number
			if _, ok := byNumber[num]; !ok {
				order = append(order, num)
			}
			byNumber[num] = append(byNumber[num], n)
		}
		detailed, states := splitByDetails(vr, order, byNumber)
		if len(states) > 0 {
			chunks = append(chunks, newVerifyChunk(vr, states, byNumber, true))
		}
		for part := range slices.Chunk(detailed, r.cfg.ReadBatch) {
			chunks = append(chunks, newVerifyChunk(vr, part, byNumber, false))
		}
	}
	if len(chunks) == 0 {
		return
	}

	budget := r.pol.Start() // one budget for the whole read-back
	var g errgroup.Group
	groups := map[*vendorRun]*errgroup.Group{}
	for _, vr := range r.vendors {
		vg := &errgroup.Group{}
		vg.SetLimit(vr.limit)
		groups[vr] = vg
	}
	for _, vr := range r.vendors {
		vg := groups[vr]
		g.Go(func() error {
			for _, c := range chunks {
				if c.vr != vr {
					continue
				}
				vg.Go(func() error {
					r.verifyRead(vctx, c, budget)
					return nil
				})
			}
			return vg.Wait()
		})
	}
	_ = g.Wait() // the reads report through their chunks

	var updates []plan.OpUpdate
	for _, c := range chunks {
		vr := c.vr
		vr.sum.Reads += c.reads
		if c.skipped || c.err != nil {
			vr.sum.Unverified += len(c.nodes)
			if c.err != nil {
				r.log.Warn("could not verify numbers", "vendor", vr.name, "numbers", len(c.numbers), "err", c.err)
			}
			if c.skipped {
				r.interrupted = true
			}
			continue
		}
		for _, num := range c.numbers {
			if live, ok := c.states[num]; ok {
				r.learn(vr, live)
			}
		}
		for _, n := range c.nodes {
			live, present := c.states[n.rec.Op.Number]
			if why := n.rec.Op.Mismatch(live, present); why != "" {
				vr.sum.VerifyFailed++
				reason := "verify: live state differs: " + why
				r.log.Warn("verification found a difference", "op", n.rec.Op.ID, "reason", reason)
				r.setState(n, plan.StateFailed)
				n.rec.LastError = reason
				updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateFailed, Error: reason})
				continue
			}
			vr.sum.Verified++
		}
	}
	r.record(updates)
}

// splitByDetails divides a vendor's numbers (in order) between those to
// read with Read, because one of their operations needs details or the
// vendor has no StateReader, and those whose states are enough.
func splitByDetails(vr *vendorRun, order []string, byNumber map[string][]*node) (detailed, states []string) {
	for _, num := range order {
		if vr.sr == nil || slices.ContainsFunc(byNumber[num], func(n *node) bool { return n.rec.Op.NeedsDetails() }) {
			detailed = append(detailed, num)
		} else {
			states = append(states, num)
		}
	}
	return detailed, states
}

func newVerifyChunk(vr *vendorRun, numbers []string, byNumber map[string][]*node, statesOnly bool) *verifyChunk {
	c := &verifyChunk{vr: vr, numbers: numbers, statesOnly: statesOnly}
	for _, num := range numbers {
		c.nodes = append(c.nodes, byNumber[num]...)
	}
	return c
}

// verifyRead reads one chunk, trying a transient failure again while the
// verification's budget lasts. The client's own retries spend the same
// budget (budget in the context), so this loop only ever adds a try for a
// vendor that does not retry reads itself.
func (r *runner) verifyRead(ctx context.Context, c *verifyChunk, budget retry.Budget) {
	rctx := r.pol.WithBudget(r.reqCtx, budget, ctx.Done())
	for try := 1; ; try++ {
		if ctx.Err() != nil {
			c.skipped = true
			return
		}
		c.reads++
		states, err := c.vr.read(rctx, c.numbers, c.statesOnly)
		if err == nil {
			c.states, c.err = states, nil
			return
		}
		c.err = err
		if !plan.IsTransient(err) {
			return
		}
		d := r.pol.Backoff(try, plan.RetryAfter(err))
		if !budget.Allows(r.cfg.Now(), d) {
			return
		}
		if r.cfg.Sleep(ctx, d) != nil {
			c.skipped = true
			return
		}
	}
}
