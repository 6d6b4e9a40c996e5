package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// previousFailures finds the operations of p that failed for good, with
// the same intended result, in the newest finished run of the same input:
// a run of the same CSV (csvDigest), or one whose plan had the same digest
// (planDigest), which is how a saved-plan run, journaled without a CSV
// digest, is found. Sending them again every night would only repeat the
// vendor's refusal; --retry-failed (or a changed row) sends them.
func previousFailures(ctx context.Context, req ApplyRequest, csvDigest, planDigest string, p *plan.Plan) ([]plan.OpUpdate, error) {
	if req.RetryFailed || (csvDigest == "" && planDigest == "") {
		return nil, nil
	}
	prevID, failed, err := req.Journal.LastFailed(ctx, csvDigest, planDigest)
	if err != nil || len(failed) == 0 {
		return nil, err
	}
	byID := map[string]plan.OpRecord{}
	for _, f := range failed {
		byID[f.Op.ID] = f
	}
	var out []plan.OpUpdate
	for _, op := range p.Ops {
		old, ok := byID[op.ID]
		if !ok || !op.SameIntent(old.Op) {
			continue
		}
		reason := old.LastError
		if !strings.HasPrefix(reason, carriedPrefix) {
			// Carried night after night, it keeps naming the run where
			// the vendor refused instead of growing a prefix per run.
			reason = fmt.Sprintf("%s%d: %s (not retried without --retry-failed)", carriedPrefix, prevID, reason)
		}
		out = append(out, plan.OpUpdate{OpID: op.ID, State: plan.StateFailed, Error: reason})
	}
	return out, nil
}

// carriedPrefix starts the reason of a failure carried over from an
// earlier run.
const carriedPrefix = "failed in run "

// resumeLine is the first thing a resuming run says (SPEC section 5).
func resumeLine(id int64, recs []plan.OpRecord) string {
	var done, pending, sent, failed int
	for _, r := range recs {
		switch r.State {
		case plan.StateDone:
			done++
		case plan.StatePending:
			pending++
		case plan.StateSent:
			sent++
		case plan.StateFailed, plan.StateSkipped:
			failed++
		}
	}
	s := fmt.Sprintf("resuming run %d: %d done, %d pending, %d to check against live state", id, done, pending, sent)
	if failed > 0 {
		s += fmt.Sprintf(", %d failed (not retried without --retry-failed)", failed)
	}
	return s
}

func missingVendors(recs []plan.OpRecord, have map[plan.VendorName]exec.VendorConfig) []string {
	var out []string
	for _, r := range recs {
		if r.State.Terminal() {
			continue
		}
		if _, ok := have[r.Op.Vendor]; !ok && !slices.Contains(out, string(r.Op.Vendor)) {
			out = append(out, string(r.Op.Vendor))
		}
	}
	return out
}

// heldAfter is how many numbers each vendor holds after the run: what the
// plan saw, plus what the run added, less what it removed, for each vendor
// whose listing was whole. The next plan compares its listing with it to
// catch a collapsed inventory.
func heldAfter(p *plan.Plan, ops []plan.OpRecord) map[plan.VendorName]int {
	if p == nil {
		return nil
	}
	held := map[plan.VendorName]int{}
	for name, vs := range p.Vendors {
		if vs.Complete {
			held[name] = vs.Held
		}
	}
	for _, o := range ops {
		if o.State != plan.StateDone {
			continue
		}
		if _, ok := held[o.Op.Vendor]; !ok {
			continue
		}
		held[o.Op.Vendor] += o.Op.HeldChange()
	}
	for name, n := range held {
		held[name] = max(n, 0)
	}
	return held
}

// saveHistory records heldAfter for a run that sent nothing.
func saveHistory(ctx context.Context, j journal.Store, p *plan.Plan, ops []plan.OpRecord) error {
	var errs []error
	for name, n := range heldAfter(p, ops) {
		errs = append(errs, j.SetCount(ctx, name, n))
	}
	return errors.Join(errs...)
}

// supersededLine tells the operator why an unfinished run of this input was
// not resumed: a later run may have changed the numbers its pending
// operations were planned against, so resuming it could undo that run's
// work; planning afresh from the live state also settles whatever the old
// run left "sent".
func supersededLine(r journal.Resumption) string {
	return fmt.Sprintf("run %d of this input was left unfinished, but run %d came after it: planning afresh from the live state instead of resuming it", r.Superseded, r.SupersededBy)
}
