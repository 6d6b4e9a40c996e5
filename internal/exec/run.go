package exec

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
)

// node is one operation as the run tracks it. Only the loop goroutine
// touches nodes; workers get copies of the Op.
type node struct {
	rec    plan.OpRecord
	vr     *vendorRun
	key    string
	max    int
	as     *actionStats
	waitOn int // dependencies in this run not yet done
	deps   []*node
	next   []*node // operations waiting for this one
	// tries counts the failed tries of the operation's requests in this
	// Run (429s excepted), which set the next pause (retry.Policy.Backoff).
	tries int
	// budget is the operation's retry budget, from its first send or check
	// in this Run: a run resumed or retried with --retry-failed gets a
	// fresh one.
	budget  retry.Budget
	lastErr string
	applied bool // done by this Run call
	// unresolved: the budget was spent while the vendor kept failing; the
	// operation stays pending or sent for the next run.
	unresolved bool
	// refreshed: the op's Before was replaced by the live state after a
	// check. The journal holds only the planned Before, so from then on
	// the op is journaled as sent, never pending: a process killed before
	// it is done checks the live state again on resume instead of sending
	// the planned Before (a move would repeat a removal that already
	// happened and fail with 404).
	refreshed bool
}

type actionStats struct {
	first, last time.Time
}

// vendorRun is one vendor's queues and counters.
type vendorRun struct {
	name  plan.VendorName
	v     plan.Vendor
	sr    plan.StateReader // v's optional ability; nil when it has none
	limit int

	inFlight int
	ready    map[string][]*node
	keys     []string // batch keys in the order first seen, for stable picks
	checks   []*node  // sent, outcome unknown, waiting for a Read
	counts   map[plan.OpState]int
	total    int
	sum      VendorSummary
	actions  map[plan.Action]*actionStats
	// lastErr is the last transient failure of the vendor's requests, for
	// Result.Unreachable.
	lastErr string
}

type eventKind int

const (
	evApplied eventKind = iota + 1
	evChecked
	evRetryDue
	evCheckDue
)

type event struct {
	kind    eventKind
	vr      *vendorRun
	nodes   []*node
	results []plan.Result
	states  map[string]plan.State
	err     error
}

type runner struct {
	cfg  Config
	pol  retry.Policy
	log  *slog.Logger
	stop <-chan struct{}

	reqCtx     context.Context // in-flight requests: ends only with the caller's ctx or an abort
	cancelReqs context.CancelFunc
	jctx       context.Context // journal writes: not cancelled, so in-flight results are kept
	waitCtx    context.Context // backoff pauses: ends at stop
	cancelWait context.CancelFunc

	nodes   []*node
	byID    map[string]*node
	vendors []*vendorRun

	events      chan event
	wg          sync.WaitGroup
	randMu      sync.Mutex
	outstanding int

	halted      bool
	interrupted bool
	err         error
}

// Run applies the operations ops (a new run's, all pending, or a resumed
// run's records as the journal holds them) and returns what became of
// them.
//
// Operations whose dependencies (Op.DependsOn) are all done are grouped by
// vendor and Vendor.BatchKey, and sent as batches of at most the key's
// maximum, keeping up to each vendor's Concurrency requests in flight; a
// dependency that is not among ops counts as satisfied (it was finished by
// an earlier run). On resume, done operations are not sent again, sent ones
// are first checked against the live state, and failed or skipped ones are
// left as they are (reset them to pending to retry them).
//
// When stop closes, no new request is sent; requests in flight complete and
// are journaled; Run returns with Result.Interrupted set and the remaining
// operations pending. ctx is the context of the requests themselves: when
// it ends, in-flight requests are abandoned (their operations stay sent, to
// be checked on resume) and Run returns its error.
//
// The error is for the run as a whole: bad input (a dependency cycle, an
// operation for a vendor not configured; nothing is sent then), a journal
// write that failed (wrapping ErrJournal; the run stops at once, since
// going on unjournaled could apply something twice), or ctx's end.
// Operations that fail are in the Result, not the error.
func Run(ctx context.Context, stop <-chan struct{}, cfg Config, ops []plan.OpRecord) (*Result, error) {
	cfg.Vendors = maps.Clone(cfg.Vendors)
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, log: cfg.Logger, stop: stop, byID: map[string]*node{}, events: make(chan event)}
	r.pol = r.cfg.policy(&r.randMu)
	if err := r.build(ops); err != nil {
		return nil, err
	}
	started := cfg.Now()
	r.reqCtx, r.cancelReqs = context.WithCancel(ctx)
	defer r.cancelReqs()
	r.jctx = context.WithoutCancel(ctx)
	r.waitCtx, r.cancelWait = context.WithCancel(ctx)
	defer r.cancelWait()

	r.start()
	r.loop(ctx)
	r.wg.Wait()
	if !r.halted && r.err == nil && cfg.Verify {
		r.verify()
	}
	r.progress()
	res := r.result(started)
	if r.err != nil {
		return res, r.err
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("exec: %w", err)
	}
	return res, nil
}

// build makes the dependency graph and rejects input that cannot run.
func (r *runner) build(ops []plan.OpRecord) error {
	vendors := map[plan.VendorName]*vendorRun{}
	for _, rec := range ops {
		op := rec.Op
		if _, dup := r.byID[op.ID]; dup {
			return fmt.Errorf("exec: operation %s given twice", op.ID)
		}
		vr := vendors[op.Vendor]
		if vr == nil {
			vc, ok := r.cfg.Vendors[op.Vendor]
			if !ok {
				return fmt.Errorf("exec: operation %s: vendor %q is not configured", op.ID, op.Vendor)
			}
			sr, _ := vc.Vendor.(plan.StateReader)
			vr = &vendorRun{
				name: op.Vendor, v: vc.Vendor, sr: sr, limit: vc.Concurrency,
				ready: map[string][]*node{}, counts: map[plan.OpState]int{},
				actions: map[plan.Action]*actionStats{},
			}
			vr.sum.Vendor = op.Vendor
			vendors[op.Vendor] = vr
		}
		switch rec.State {
		case "":
			rec.State = plan.StatePending
		case plan.StatePending, plan.StateSent, plan.StateDone, plan.StateFailed, plan.StateSkipped:
		default:
			return fmt.Errorf("exec: operation %s: unknown state %q", op.ID, rec.State)
		}
		key, limit := vr.v.BatchKey(op)
		if key == "" || limit < 1 {
			limit = 1
		}
		as := vr.actions[op.Action]
		if as == nil {
			as = &actionStats{}
			vr.actions[op.Action] = as
		}
		n := &node{rec: rec, vr: vr, key: key, max: limit, as: as, lastErr: rec.LastError}
		r.nodes = append(r.nodes, n)
		r.byID[op.ID] = n
		vr.counts[rec.State]++
		vr.total++
	}
	for _, name := range slices.Sorted(maps.Keys(vendors)) {
		r.vendors = append(r.vendors, vendors[name])
	}
	for _, n := range r.nodes {
		for _, id := range n.rec.Op.DependsOn {
			d, ok := r.byID[id]
			if !ok || d == n {
				continue // finished by an earlier run: satisfied
			}
			n.deps = append(n.deps, d)
			d.next = append(d.next, n)
			if d.rec.State != plan.StateDone {
				n.waitOn++
			}
		}
	}
	return r.checkCycles()
}

// checkCycles refuses a dependency cycle, which would otherwise leave its
// operations pending forever.
func (r *runner) checkCycles() error {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*node]int, len(r.nodes))
	var visit func(n *node) error
	visit = func(n *node) error {
		color[n] = grey
		for _, d := range n.deps {
			switch color[d] {
			case grey:
				return fmt.Errorf("exec: dependency cycle through %s and %s", n.rec.Op.ID, d.rec.Op.ID)
			case white:
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		color[n] = black
		return nil
	}
	for _, n := range r.nodes {
		if color[n] == white {
			if err := visit(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// start queues what can go first: sent operations for a check, pending
// ones whose dependencies are done, and skips pending ones whose
// dependency already failed.
func (r *runner) start() {
	var updates []plan.OpUpdate
	for _, n := range r.nodes {
		switch n.rec.State {
		case plan.StateSent:
			n.vr.checks = append(n.vr.checks, n)
		case plan.StateFailed, plan.StateSkipped:
			r.skipDependents(n, n, &updates)
		}
	}
	for _, n := range r.nodes {
		if n.rec.State == plan.StatePending && n.waitOn == 0 {
			r.enqueue(n)
		}
	}
	if len(updates) > 0 {
		r.record(updates)
	}
	r.progress()
}

func (r *runner) setState(n *node, s plan.OpState) {
	n.vr.counts[n.rec.State]--
	n.rec.State = s
	n.vr.counts[s]++
}

func (r *runner) enqueue(n *node) {
	vr := n.vr
	if _, ok := vr.ready[n.key]; !ok {
		vr.keys = append(vr.keys, n.key)
	}
	vr.ready[n.key] = append(vr.ready[n.key], n)
}

// loop is the dispatcher: it fills every vendor's free request slots,
// then waits for something to happen, until nothing is in flight or
// waiting and nothing more can be sent.
func (r *runner) loop(ctx context.Context) {
	stop, done := r.stop, ctx.Done()
	for {
		// A stop that has come must win over any result that came with it:
		// no batch may leave after stop closed.
		select {
		case <-stop:
			stop = nil
			r.halt(true)
		case <-done:
			done = nil
			r.halt(true)
		default:
		}
		if !r.halted {
			r.dispatch()
		}
		if r.outstanding == 0 {
			return
		}
		select {
		case ev := <-r.events:
			r.outstanding--
			r.handle(ev)
		case <-stop:
			stop = nil
			r.halt(true)
		case <-done:
			done = nil
			r.halt(true)
		}
	}
}

// halt stops new sends and cuts backoff pauses short. In-flight requests
// go on (unless the caller's ctx ended them) and their results are still
// journaled.
func (r *runner) halt(interrupted bool) {
	if !r.halted {
		r.log.Info("stopping: no new requests; waiting for those in flight", "in_flight", r.outstanding)
	}
	r.halted = true
	r.interrupted = r.interrupted || interrupted
	r.cancelWait()
}

// abort ends the run on a journal failure: nothing more is sent or
// recorded, and in-flight requests are cancelled. Their operations stay
// "sent" in the journal and are checked on resume.
func (r *runner) abort(err error) {
	if r.err == nil {
		r.err = err
		r.log.Error("journal write failed; stopping the run", "err", err)
	}
	r.halted = true
	r.cancelWait()
	r.cancelReqs()
}
