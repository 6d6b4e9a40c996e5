package exec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
)

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
	var again, check []*node
	var pauseAgain, pauseCheck time.Duration
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
			r.fail(n, opReason(n.rec.Op, errText(res.Err, "refused")), &updates)
		case plan.Retry:
			n.lastErr = errText(res.Err, "retry")
			vr.lastErr = n.lastErr
			journaled := plan.StatePending
			if n.refreshed {
				journaled = plan.StateSent // see node.refreshed
			}
			d, ok := r.pause(n, res.Err, now)
			if !ok {
				r.giveUp(n, plan.StatePending, journaled, &updates)
				continue
			}
			r.setState(n, plan.StatePending)
			updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: journaled, Error: n.lastErr})
			again = append(again, n)
			pauseAgain = max(pauseAgain, d)
			r.log.Debug("operation will be retried", "op", n.rec.Op.ID, "tries", n.tries, "in", d, "err", n.lastErr)
		default: // Unknown, or an answer that said nothing usable
			n.lastErr = errText(res.Err, "outcome unknown")
			vr.lastErr = n.lastErr
			vr.sum.Unknown++
			// Still "sent" in the journal; the error says why it is in doubt.
			updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateSent, Error: n.lastErr})
			check = append(check, n)
			// A lost answer usually means a struggling vendor: give it the
			// same pause as a retry before reading, but always read once,
			// even when the budget is spent: the check may settle it.
			d, ok := r.pause(n, res.Err, now)
			if !ok {
				d = max(n.budget.Deadline.Sub(now), 0)
			}
			pauseCheck = max(pauseCheck, d)
			r.log.Debug("outcome unknown; will check live state", "op", n.rec.Op.ID, "err", n.lastErr)
		}
	}
	if !r.record(updates) {
		return
	}
	if len(again) > 0 {
		r.after(pauseAgain, event{kind: evRetryDue, vr: vr, nodes: again})
	}
	if len(check) > 0 {
		r.after(pauseCheck, event{kind: evCheckDue, vr: vr, nodes: check})
	}
	r.progress()
}

// pause is the wait before n's next try after err (retry.Policy): a 429 is
// not a failed try (the client's pacer already slows every request) and
// waits only what the vendor asked; anything else counts a try and backs
// off. ok is false when the pause would outlast n's budget.
func (r *runner) pause(n *node, err error, now time.Time) (time.Duration, bool) {
	var d time.Duration
	if retry.Throttled(err) {
		d = max(plan.RetryAfter(err), min(r.pol.Base, time.Second))
	} else {
		n.tries++
		d = r.pol.Backoff(n.tries, plan.RetryAfter(err))
	}
	return d, n.budget.Allows(now, d)
}

// giveUp leaves n unresolved: its budget is spent while its vendor keeps
// failing for a passing reason. It is not failed (nothing says the change
// is refused) and its dependents are not skipped: it stays state in the
// run, journaled as journaled, for the next run to check or send.
func (r *runner) giveUp(n *node, state, journaled plan.OpState, updates *[]plan.OpUpdate) {
	r.setState(n, state)
	n.unresolved = true
	*updates = append(*updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: journaled, Error: n.lastErr})
	r.log.Debug("operation unresolved: its retry budget is spent; the next run takes it up",
		"op", n.rec.Op.ID, "budget", r.pol.MaxElapsed, "err", n.lastErr)
}

// checked settles operations whose outcome was unknown from the live state:
// done if the change took effect (never sent twice), else sent again from
// where the number now is, while the budget lasts.
func (r *runner) checked(ev event) {
	vr := ev.vr
	now := r.cfg.Now()
	var updates []plan.OpUpdate
	if ev.err != nil {
		msg := "check live state: " + errText(ev.err, "read failed")
		vr.lastErr = msg
		var again []*node
		var pauseAgain time.Duration
		for _, n := range ev.nodes {
			n.lastErr = msg
			if plan.IsTransient(ev.err) {
				if d, ok := r.pause(n, ev.err, now); ok {
					again = append(again, n)
					pauseAgain = max(pauseAgain, d)
					continue
				}
			}
			r.giveUp(n, plan.StateSent, plan.StateSent, &updates)
		}
		if len(updates) > 0 {
			r.log.Warn("could not check operations whose outcome is unknown; they stay sent for the next run",
				"vendor", vr.name, "operations", len(updates), "err", ev.err)
		}
		if !r.record(updates) {
			return
		}
		if len(again) > 0 {
			r.after(pauseAgain, event{kind: evCheckDue, vr: vr, nodes: again})
		}
		return
	}
	for _, n := range ev.nodes {
		live, present := ev.states[n.rec.Op.Number]
		if present {
			r.learn(vr, live)
		}
		vr.sum.Checked++
		n.as.last = now
		if n.rec.Op.SatisfiedBy(live, present) {
			vr.sum.CheckedDone++
			r.done(n, live.ID, &updates)
			continue
		}
		refreshBefore(&n.rec.Op, live, present)
		n.refreshed = true // journaled as sent: see node.refreshed
		if n.lastErr == "" {
			n.lastErr = "sent, outcome unknown; not applied"
		}
		if n.budget.Spent(now) {
			r.giveUp(n, plan.StatePending, plan.StateSent, &updates)
			continue
		}
		r.setState(n, plan.StatePending)
		updates = append(updates, plan.OpUpdate{OpID: n.rec.Op.ID, State: plan.StateSent, Error: n.lastErr})
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
	r.skipDependents(n, n, updates)
}

// skipDependents skips every pending operation that waits, directly or
// not, on a failed one, naming the failed one as the reason.
func (r *runner) skipDependents(n *node, failed *node, updates *[]plan.OpUpdate) {
	for _, d := range n.next {
		if d.rec.State != plan.StatePending {
			continue
		}
		reason := skipReason(d.rec.Op, failed.rec.Op)
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

// opReason is a vendor's reason for failing op without the vendor and
// number a failure line names already ("failed: oneuc activate +1… (line
// 12): oneuc +1…: not_available" said the number twice).
func opReason(op plan.Op, reason string) string {
	for _, prefix := range []string{string(op.Vendor) + " " + op.Number + ": ", string(op.Vendor) + ": "} {
		if rest, ok := strings.CutPrefix(reason, prefix); ok && rest != "" {
			return rest
		}
	}
	return reason
}

// skipReason says why op was not sent: an operation it waits on failed.
// The state (skipped) and op's own vendor and number are on the line
// already; the failed one is named by what differs from op.
func skipReason(op, failed plan.Op) string {
	switch {
	case failed.Number == op.Number && failed.Vendor == op.Vendor:
		return fmt.Sprintf("not sent: the %s it waits on failed", failed.Action)
	case failed.Number == op.Number:
		return fmt.Sprintf("not sent: the %s %s it waits on failed", failed.Vendor, failed.Action)
	}
	return fmt.Sprintf("not sent: %s %s %s, which it waits on, failed", failed.Vendor, failed.Action, failed.Number)
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
