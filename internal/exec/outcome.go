package exec

import (
	"errors"
	"fmt"
	"time"

	"github.com/numsync/numsync/internal/plan"
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
