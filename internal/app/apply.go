package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// ApplyRequest is one `numsync apply`.
type ApplyRequest struct {
	// Exactly one of Desired (apply --desired) and Saved (apply PLAN.json).
	Desired *plan.Desired
	Saved   *plan.Plan

	Vendors Vendors
	Journal journal.Store
	// Concurrency per vendor (from the configuration).
	Concurrency map[plan.VendorName]int
	MaxAttempts int

	Prune              map[plan.VendorName]bool
	MaxDelete          map[plan.VendorName]plan.Limit
	Force              bool
	RetryFailed        bool
	DefaultCallPurpose string

	// Args is the command line, journaled with the run (secrets filtered).
	Args []string
	// Stop closes to stop sending (SIGINT, SIGTERM, --max-duration):
	// in-flight requests finish and are journaled.
	Stop <-chan struct{}
	// OnProgress receives the executor's counts.
	OnProgress func(exec.Progress)
	// Notice prints a line for the operator (standard error).
	Notice func(format string, args ...any)
	Log    *slog.Logger
	// Exec lets tests shorten backoffs; nil uses the defaults.
	Exec func(*exec.Config)
}

// ApplyResult is what an apply did.
type ApplyResult struct {
	RunID   int64
	Resumed bool
	// Plan is the plan applied (or refused, or found stale).
	Plan *plan.Plan
	// Refused is set when the safety verdict refused the plan: nothing was
	// sent.
	Refused bool
	// Stale lists the numbers whose live state no longer matches a saved
	// plan: nothing was sent.
	Stale []Staleness
	// NothingToDo is set when the plan had no operation.
	NothingToDo bool
	// CarriedFailures counts operations not sent because they failed for
	// good in the previous run of the same input (--retry-failed sends
	// them).
	CarriedFailures int
	// Exec is the executor's result; nil when nothing was executed.
	Exec *exec.Result
}

// Apply plans (or takes the saved plan), checks it, and executes it under
// the journal, resuming the unfinished run of the same input when there is
// one. The caller holds the journal's lock.
func Apply(ctx context.Context, req ApplyRequest) (*ApplyResult, error) {
	if req.Notice == nil {
		req.Notice = func(string, ...any) {}
	}
	if req.Log == nil {
		req.Log = slog.New(slog.DiscardHandler)
	}
	csvDigest, planDigest := "", ""
	if req.Desired != nil {
		csvDigest = req.Desired.SHA256
	}
	if req.Saved != nil {
		planDigest = req.Saved.Digest()
	}
	j := req.Journal

	res := &ApplyResult{}
	found, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: csvDigest, PlanDigest: planDigest, RetryFailed: req.RetryFailed})
	if err != nil {
		return nil, err
	}
	if found.Superseded != 0 {
		req.Notice("%s", supersededLine(found))
	}
	var records []plan.OpRecord
	if run := found.Run; run != nil {
		res.RunID, res.Resumed, records = run.ID, true, run.Ops
		if res.Plan, err = plan.ReadPlan(bytes.NewReader(run.Plan)); err != nil {
			return nil, fmt.Errorf("resume run %d: %w", run.ID, err)
		}
		req.Notice("%s", resumeLine(run.ID, records))
	} else {
		p, err := freshPlan(ctx, req, res)
		if err != nil || p == nil {
			return res, err
		}
		res.Plan = p
		if res.RunID, records, err = startRun(ctx, req, p, res); err != nil {
			return nil, err
		}
	}

	cfg := exec.Config{
		Vendors:     map[plan.VendorName]exec.VendorConfig{},
		Journal:     j,
		RunID:       res.RunID,
		MaxAttempts: req.MaxAttempts,
		Verify:      true,
		OnProgress:  req.OnProgress,
		Logger:      req.Log,
	}
	for name, v := range req.Vendors.Map() {
		cfg.Vendors[name] = exec.VendorConfig{Vendor: v, Concurrency: req.Concurrency[name]}
	}
	if req.Exec != nil {
		req.Exec(&cfg)
	}
	if missing := missingVendors(records, cfg.Vendors); len(missing) > 0 {
		return nil, fmt.Errorf("run %d has operations for %s, which the configuration disables", res.RunID, strings.Join(missing, ", "))
	}
	out, err := exec.Run(ctx, req.Stop, cfg, records)
	res.Exec = out
	if err != nil {
		return res, err
	}
	if out.Interrupted {
		// Left open on purpose: the next apply of the same input resumes it.
		return res, nil
	}
	counts := map[string]int{}
	for _, o := range out.Ops {
		counts[string(o.State)]++
	}
	outcome := "done"
	if !out.Complete() {
		outcome = "failed"
	}
	if len(out.Unresolved) > 0 {
		// Sent operations nobody could read back stay "sent": keep the run
		// open so the next apply checks them before anything else.
		return res, nil
	}
	if err := j.Finish(ctx, res.RunID, journal.End{Outcome: outcome, Counts: counts, Held: heldAfter(res.Plan, out.Ops)}); err != nil {
		return res, err
	}
	return res, nil
}

// freshPlan makes or checks the plan for a new run. It returns nil (and no
// error) when nothing is to be sent: refused, stale or nothing to do, as
// res says.
func freshPlan(ctx context.Context, req ApplyRequest, res *ApplyResult) (*plan.Plan, error) {
	var p *plan.Plan
	if req.Saved != nil {
		p = req.Saved
		// Judged by today's thresholds and flags, not those of the day
		// the plan was made.
		p.Judge(req.MaxDelete, req.Force)
		res.Plan = p
		if p.Refused() {
			res.Refused = true
			return nil, nil
		}
		stale, err := StaleCheck(ctx, req.Vendors, p)
		if err != nil {
			return nil, err
		}
		if len(stale) > 0 {
			res.Stale = stale
			return nil, nil
		}
	} else {
		var err error
		p, _, err = MakePlan(ctx, PlanRequest{
			Desired:            req.Desired,
			Vendors:            req.Vendors,
			Cache:              req.Journal,
			History:            req.Journal,
			Prune:              req.Prune,
			MaxDelete:          req.MaxDelete,
			Force:              req.Force,
			DefaultCallPurpose: req.DefaultCallPurpose,
		})
		if err != nil {
			return nil, err
		}
		res.Plan = p
		if p.Refused() {
			res.Refused = true
			return nil, nil
		}
	}
	if len(p.Ops) == 0 {
		res.NothingToDo = true
		if err := saveHistory(ctx, req.Journal, p, nil); err != nil {
			req.Log.Warn("could not record inventory sizes", "err", err)
		}
		return nil, nil
	}
	return p, nil
}

// startRun journals a new run with its plan. Operations that failed for
// good in the newest finished run of the same input are carried over as
// failed (not sent again) unless --retry-failed.
func startRun(ctx context.Context, req ApplyRequest, p *plan.Plan, res *ApplyResult) (int64, []plan.OpRecord, error) {
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		return 0, nil, err
	}
	records := map[string][]string{}
	for _, op := range p.Ops {
		if r, ok := p.Records[op.Line]; ok && op.Line > 0 {
			records[op.ID] = r
		}
	}
	info := journal.RunInfo{
		CSVPath:   p.CSV.Path,
		CSVDigest: p.CSV.SHA256,
		Header:    p.Header,
		Args:      req.Args,
		Plan:      buf.Bytes(),
	}
	if req.Saved != nil {
		info.CSVDigest = ""
		info.PlanDigest = p.Digest()
	} else {
		info.PlanDigest = p.Digest()
	}
	carried, err := previousFailures(ctx, req, info.CSVDigest, p)
	if err != nil {
		return 0, nil, err
	}
	run, err := req.Journal.Start(ctx, journal.NewRun{Info: info, Ops: p.Ops, Records: records, Carried: carried})
	if err != nil {
		return 0, nil, err
	}
	if len(carried) > 0 {
		res.CarriedFailures = len(carried)
		req.Notice("%d operations failed for good in the previous run of this CSV and are not sent again (use --retry-failed)", len(carried))
	}
	return run.ID, run.Ops, nil
}

// previousFailures finds the operations of p that failed for good, with
// the same intended result, in the newest finished run of the same CSV.
// Sending them again every night would only repeat the vendor's refusal;
// --retry-failed (or a changed CSV) sends them.
func previousFailures(ctx context.Context, req ApplyRequest, csvDigest string, p *plan.Plan) ([]plan.OpUpdate, error) {
	if req.RetryFailed || csvDigest == "" {
		return nil, nil
	}
	prevID, failed, err := req.Journal.LastFailed(ctx, csvDigest)
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
		switch {
		case o.Op.Vendor == plan.OneUC && o.Op.Action == plan.Activate && o.Op.Before.Status == "":
			held[plan.OneUC]++
		case o.Op.Action == plan.Release, o.Op.Action == plan.Delete:
			held[o.Op.Vendor]--
		case o.Op.Action == plan.Assign:
			held[plan.FirstOrion]++
		}
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
