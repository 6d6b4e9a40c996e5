package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/plan"
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
	// sends counts this Run's sends; MaxAttempts bounds it, so a run resumed
	// or retried with --retry-failed gets a fresh set of tries.
	sends      int
	checkTries int
	lastErr    string
	applied    bool // done by this Run call
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
			r.skipDependents(n, n.rec.Op.ID, &updates)
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
		n.sends++
		r.setState(n, plan.StateSent)
		if n.as.first.IsZero() {
			n.as.first = now
		}
	}
	vr.sum.Requests++
	vr.sum.Attempts += len(batch)
	r.spawn(vr, func() event {
		return event{kind: evApplied, vr: vr, nodes: batch, results: safeApply(r.reqCtx, vr.v, ops)}
	})
}

// launchCheck reads the live state of a batch of operations whose outcome
// is unknown: with ReadStates when statesOnly (nextChecks), else with Read.
func (r *runner) launchCheck(vr *vendorRun, batch []*node, statesOnly bool) {
	numbers := uniqueNumbers(batch)
	vr.sum.Reads++
	r.spawn(vr, func() event {
		states, err := vr.read(r.reqCtx, numbers, statesOnly)
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

func (r *runner) handle(ev event) {
	if ev.kind == evApplied || ev.kind == evChecked {
		ev.vr.inFlight--
	}
	if r.err != nil {
		return // aborted: nothing more is recorded
	}
	switch ev.kind {
	case evApplied:
		r.applied(ev)
	case evChecked:
		r.checked(ev)
	case evRetryDue:
		if r.halted {
			return // they stay pending, as journaled
		}
		for _, n := range ev.nodes {
			r.enqueue(n)
		}
	case evCheckDue:
		if r.halted {
			return // they stay sent: the next run checks them
		}
		ev.vr.checks = append(ev.vr.checks, ev.nodes...)
	}
}

// applied reads a batch's answer number by number.
func (r *runner) applied(ev event) {
	vr := ev.vr
	now := r.cfg.Now()
	var updates []plan.OpUpdate
	var retry, check []*node
	var retryAfter time.Duration
	for i, n := range ev.nodes {
		res := resultFor(ev.results, i, n.rec.Op.ID)
		n.as.last = now
		switch res.Outcome {
		case plan.Done:
			r.done(n, res.Ref, &updates)
			if res.After != nil {
				r.learn(vr, *res.After)
			}
		case plan.Failed:
			r.fail(n, errText(res.Err, "refused"), &updates)
		case plan.Retry:
			n.lastErr = errText(res.Err, "retry")
			if n.sends >= r.cfg.MaxAttempts {
				r.fail(n, n.lastErr, &updates)
				continue
			}
			r.setState(n, plan.StatePending)
			journaled := plan.StatePending
			if n.refreshed {
				journaled = plan.StateSent // see node.refreshed
			}
			updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: journaled, Error: n.lastErr})
			retry = append(retry, n)
			retryAfter = max(retryAfter, plan.RetryAfter(res.Err))
			r.log.Debug("operation will be retried", "op", n.rec.Op.ID, "attempt", n.sends, "err", n.lastErr)
		default: // Unknown, or an answer that said nothing usable
			n.lastErr = errText(res.Err, "outcome unknown")
			vr.sum.Unknown++
			// Still "sent" in the journal; the error says why it is in doubt.
			updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateSent, Error: n.lastErr})
			check = append(check, n)
			retryAfter = max(retryAfter, plan.RetryAfter(res.Err))
			r.log.Debug("outcome unknown; will check live state", "op", n.rec.Op.ID, "err", n.lastErr)
		}
	}
	if !r.record(updates) {
		return
	}
	if len(retry) > 0 {
		r.after(r.backoff(retry[0].sends, retryAfter), event{kind: evRetryDue, vr: vr, nodes: retry})
	}
	if len(check) > 0 {
		// A lost answer usually means a struggling vendor: give it the same
		// pause as a retry before reading.
		r.after(r.backoff(check[0].sends, retryAfter), event{kind: evCheckDue, vr: vr, nodes: check})
	}
	r.progress()
}

// checked settles operations whose outcome was unknown from the live state:
// done if the change took effect (never sent twice), else sent again from
// where the number now is, while attempts remain.
func (r *runner) checked(ev event) {
	vr := ev.vr
	var updates []plan.OpUpdate
	if ev.err != nil {
		msg := "check live state: " + errText(ev.err, "read failed")
		var again []*node
		for _, n := range ev.nodes {
			n.checkTries++
			if plan.IsTransient(ev.err) && n.checkTries < r.cfg.MaxAttempts {
				again = append(again, n)
				continue
			}
			n.unresolved = true
			n.lastErr = msg
			updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateSent, Error: msg})
		}
		if len(updates) > 0 {
			r.log.Warn("could not check operations whose outcome is unknown; they stay sent for the next run",
				"vendor", vr.name, "operations", len(updates), "err", ev.err)
		}
		if !r.record(updates) {
			return
		}
		if len(again) > 0 {
			r.after(r.backoff(again[0].checkTries, plan.RetryAfter(ev.err)), event{kind: evCheckDue, vr: vr, nodes: again})
		}
		return
	}
	for _, n := range ev.nodes {
		n.checkTries = 0
		live, present := ev.states[n.rec.Op.Number]
		if present {
			r.learn(vr, live)
		}
		vr.sum.Checked++
		n.as.last = r.cfg.Now()
		if n.rec.Op.SatisfiedBy(live, present) {
			vr.sum.CheckedDone++
			r.done(n, live.ID, &updates)
			continue
		}
		if n.sends >= r.cfg.MaxAttempts {
			r.fail(n, n.lastErr, &updates)
			continue
		}
		refreshBefore(&n.rec.Op, live, present)
		r.setState(n, plan.StatePending)
		errMsg := n.lastErr
		if errMsg == "" {
			errMsg = "sent, outcome unknown; not applied"
		}
		n.refreshed = true // journaled as sent: see node.refreshed
		updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateSent, Error: errMsg})
		if n.waitOn == 0 {
			r.enqueue(n) // else its last dependency's completion queues it
		}
	}
	if r.record(updates) {
		r.progress()
	}
}

func (r *runner) done(n *node, ref string, updates *[]plan.OpUpdate) {
	r.setState(n, plan.StateDone)
	n.applied = true
	n.lastErr = ""
	n.rec.LastError = ""
	if ref != "" {
		n.rec.Ref = ref
	}
	*updates = append(*updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateDone, Ref: ref})
	// The dependents are queued now but sent only after the caller's Record
	// committed this: dispatch runs after handle returns.
	for _, d := range n.next {
		d.waitOn--
		if d.waitOn == 0 && d.rec.State == plan.StatePending {
			r.enqueue(d)
		}
	}
}

func (r *runner) fail(n *node, reason string, updates *[]plan.OpUpdate) {
	r.setState(n, plan.StateFailed)
	n.lastErr = reason
	n.rec.LastError = reason
	*updates = append(*updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateFailed, Error: reason})
	r.log.Debug("operation failed", "op", n.rec.Op.ID, "reason", reason)
	r.skipDependents(n, n.rec.Op.ID, updates)
}

// skipDependents skips every pending operation that waits, directly or
// not, on a failed one, naming the failed one as the reason.
func (r *runner) skipDependents(n *node, failed string, updates *[]plan.OpUpdate) {
	for _, d := range n.next {
		if d.rec.State != plan.StatePending {
			continue
		}
		reason := "skipped: " + failed + " failed"
		r.setState(d, plan.StateSkipped)
		d.rec.LastError = reason
		*updates = append(*updates, plan.OpUpdate{OpID: d.rec.Op.ID, State: plan.StateSkipped, Error: reason})
		r.skipDependents(d, failed, updates)
	}
}

// record commits updates in one transaction; on failure it aborts the run
// and returns false.
func (r *runner) record(updates []plan.OpUpdate) bool {
	if len(updates) == 0 {
		return true
	}
	if err := r.cfg.Journal.Record(r.jctx, r.cfg.RunID, updates); err != nil {
		r.abort(fmt.Errorf("exec: record results: %w: %w", ErrJournal, err))
		return false
	}
	for _, u := range updates {
		if u.Error != "" {
			r.byID[u.OpID].rec.LastError = u.Error
		}
	}
	return true
}

// learn passes a live state to Config.OnState.
func (r *runner) learn(vr *vendorRun, s plan.State) {
	if r.cfg.OnState != nil {
		r.cfg.OnState(vr.name, s)
	}
}

func (r *runner) progress() {
	if r.cfg.OnProgress == nil {
		return
	}
	var p Progress
	for _, vr := range r.vendors {
		vp := VendorProgress{
			Vendor: vr.name, Total: vr.total,
			Done: vr.counts[plan.StateDone], Failed: vr.counts[plan.StateFailed], Skipped: vr.counts[plan.StateSkipped],
		}
		vp.Remaining = vp.Total - vp.Done - vp.Failed - vp.Skipped
		p.Vendors = append(p.Vendors, vp)
	}
	r.cfg.OnProgress(p)
}

// resultFor finds the result for the i-th operation of a batch. A vendor
// that broke the one-result-per-operation rule leaves the operation's
// outcome unknown, which is then checked rather than assumed.
func resultFor(results []plan.Result, i int, id string) plan.Result {
	if i < len(results) && (results[i].OpID == id || results[i].OpID == "") {
		return results[i]
	}
	for _, res := range results {
		if res.OpID == id {
			return res
		}
	}
	return plan.Result{OpID: id, Outcome: plan.Unknown, Err: errors.New("vendor answer did not mention the operation")}
}

func errText(err error, fallback string) string {
	if err == nil {
		return fallback
	}
	return err.Error()
}

func uniqueNumbers(nodes []*node) []string {
	seen := make(map[string]bool, len(nodes))
	var out []string
	for _, n := range nodes {
		if num := n.rec.Op.Number; !seen[num] {
			seen[num] = true
			out = append(out, num)
		}
	}
	return out
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
