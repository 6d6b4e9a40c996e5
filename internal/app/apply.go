package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// ApplyRequest is one `numsync apply`, everything decided: cmd/numsync
// fills it from the flags and the configuration.
type ApplyRequest struct {
	// Exactly one of Desired (apply --desired) and Saved (apply PLAN.json).
	Desired *plan.Desired
	Saved   *plan.Plan

	Vendors Vendors
	Journal journal.Store
	// Holder names this apply in the journal's lock, for the message a
	// second apply prints.
	Holder journal.LockInfo
	// Concurrency per vendor (from the configuration).
	Concurrency map[plan.VendorName]int
	// MaxAttempts and MaxElapsed are the retry policy's (retry.max_attempts,
	// retry.max_elapsed; internal/retry).
	MaxAttempts int
	MaxElapsed  time.Duration

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

// Outcome is how an apply ended: what cmd/numsync turns into its output
// and exit code, in one switch. The zero value is invalid, so a result
// nobody decided cannot pass for success.
type Outcome int

// The outcomes of an apply.
const (
	outcomeInvalid Outcome = iota
	// OutcomeDone: every operation done and verified.
	OutcomeDone
	// OutcomeNothingToDo: the plan had no operation; no run was started.
	OutcomeNothingToDo
	// OutcomeAlreadyApplied: the saved plan was applied by an earlier run
	// (ApplyResult.RunID); nothing was sent.
	OutcomeAlreadyApplied
	// OutcomeFailed: the run went through; some operations failed for good
	// (ApplyResult.Exec.Failed, carried failures included).
	OutcomeFailed
	// OutcomeUnresolved: some operations were sent and their outcome could
	// not be read back (ApplyResult.Exec.Unresolved); the run stays open
	// and the next apply checks them first.
	OutcomeUnresolved
	// OutcomeInterrupted: stopped by ApplyRequest.Stop with requests in
	// flight finished and journaled; the run stays open, resumable.
	OutcomeInterrupted
	// OutcomeLockLost: another apply took the journal's lock over (this
	// one was silent past the stale limit); sending stopped, the run stays
	// open.
	OutcomeLockLost
	// OutcomeRefused: refused by the safety checks; nothing was sent.
	OutcomeRefused
	// OutcomeStale: the saved plan no longer matches the live state
	// (ApplyResult.Stale); nothing was sent.
	OutcomeStale
	// OutcomeLocked: another apply holds the journal's lock
	// (ApplyResult.Holder); nothing was read or sent.
	OutcomeLocked
)

var outcomeNames = [...]string{
	outcomeInvalid:        "invalid",
	OutcomeDone:           "done",
	OutcomeNothingToDo:    "nothing_to_do",
	OutcomeAlreadyApplied: "already_applied",
	OutcomeFailed:         "failed",
	OutcomeUnresolved:     "unresolved",
	OutcomeInterrupted:    "interrupted",
	OutcomeLockLost:       "lock_lost",
	OutcomeRefused:        "refused",
	OutcomeStale:          "stale",
	OutcomeLocked:         "locked",
}

// String is the outcome's name, as reports and metrics label it.
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// Valid reports whether o is one of the outcomes above.
func (o Outcome) Valid() bool { return o > outcomeInvalid && int(o) < len(outcomeNames) }

// Success reports whether the outcome leaves every managed number as the
// input asks: every operation done, nothing to do, or already applied.
func (o Outcome) Success() bool {
	return o == OutcomeDone || o == OutcomeNothingToDo || o == OutcomeAlreadyApplied
}

// ApplyResult is what an apply did.
type ApplyResult struct {
	// Outcome is how it ended; always valid when Apply returns no error.
	Outcome Outcome
	// RunID is the run applied; for OutcomeAlreadyApplied, the earlier run
	// that applied the saved plan. 0 when no run was started.
	RunID   int64
	Resumed bool
	// Plan is the plan applied (or refused, or found stale).
	Plan *plan.Plan
	// Stale lists, for OutcomeStale, the numbers whose live state no
	// longer matches the saved plan.
	Stale []Staleness
	// Applied is, for OutcomeAlreadyApplied, the run that applied the plan.
	Applied *journal.Run
	// Holder is, for OutcomeLocked, who holds the journal's lock.
	Holder *journal.LockedError
	// TookOver is the stale holder whose lock this apply took over, or nil.
	TookOver *journal.LockedError
	// CarriedFailures counts operations not sent because they failed for
	// good in the previous run of the same input (--retry-failed sends
	// them).
	CarriedFailures int
	// DetailsSaved counts the OneUC numbers whose details the run wrote
	// and read back into the journal's detail cache.
	DetailsSaved int
	// Exec is the executor's result, with the run's summary; nil when
	// nothing was executed.
	Exec *exec.Result
}

// Apply is the apply lifecycle, start to end: it takes the journal's lock,
// resumes the unfinished run of the same input (or closes it as superseded
// when a later run overtook it), otherwise makes the plan (or checks the
// saved one: already applied, refused, stale) and starts a run carrying
// the previous run's failures, executes and verifies it, remembers what it
// wrote in the detail cache, and finishes the run with the vendors'
// counts. It ends in one Outcome; an error means the apply could not go on
// (the journal, a vendor unreachable, names the CSV uses that do not
// resolve) and res, when not nil, says how far it got.
func Apply(ctx context.Context, req ApplyRequest) (res *ApplyResult, err error) {
	if req.Notice == nil {
		req.Notice = func(string, ...any) {}
	}
	if req.Log == nil {
		req.Log = slog.New(slog.DiscardHandler)
	}
	j := req.Journal
	res = &ApplyResult{}

	lock, err := j.Lock(ctx, req.Holder)
	var held *journal.LockedError
	if errors.As(err, &held) {
		res.Outcome, res.Holder = OutcomeLocked, held
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			req.Log.Warn("could not release the journal's lock; the next apply takes it over once it goes stale", "err", err)
		}
	}()
	if prev := lock.Previous(); prev != nil {
		res.TookOver = prev
		req.Log.Warn(takeoverMessage(prev),
			"host", prev.Holder.Host, "pid", prev.Holder.PID, "command", prev.Holder.Command,
			"reason", prev.Reason.String(), "last_heartbeat", prev.LastBeat)
	}
	stop, lost, endWatch := watchStop(req.Stop, lock.Lost(), req.Log)
	defer endWatch()

	in := journal.ResumeRequest{RetryFailed: req.RetryFailed}
	if req.Desired != nil {
		in.CSVDigest = req.Desired.SHA256
	}
	if req.Saved != nil {
		in.PlanDigest = req.Saved.Digest()
	}
	found, err := j.Resume(ctx, in)
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
		if res.Outcome, err = freshPlan(ctx, req, in.PlanDigest, res); err != nil || res.Outcome.Valid() {
			return res, err
		}
		if records, err = startRun(ctx, req, in.PlanDigest, res); err != nil {
			return nil, err
		}
	}

	out, err := execute(ctx, req, stop, res.RunID, records, res)
	res.Exec = out
	if err != nil {
		return res, err
	}
	switch {
	case out.Interrupted && lost.Load():
		res.Outcome = OutcomeLockLost
	case out.Interrupted:
		// Left open on purpose: the next apply of the same input resumes it.
		res.Outcome = OutcomeInterrupted
	case len(out.Unresolved) > 0:
		// Sent operations nobody could read back stay "sent": the run stays
		// open so the next apply checks them before anything else.
		res.Outcome = OutcomeUnresolved
	case !out.Complete():
		res.Outcome = OutcomeFailed
	default:
		res.Outcome = OutcomeDone
	}
	if res.Outcome == OutcomeDone || res.Outcome == OutcomeFailed {
		end := journal.End{Outcome: journal.OutcomeDone, Counts: stateCounts(out.Ops), Held: heldAfter(res.Plan, out.Ops)}
		if res.Outcome == OutcomeFailed {
			end.Outcome = journal.OutcomeFailed
		}
		if err := j.Finish(ctx, res.RunID, end); err != nil {
			return res, err
		}
	}
	return res, nil
}

// takeoverMessage is the warning for a lock taken over from prev, saying
// why the journal judged it free: after a kill -9 on this host the holder's
// process is gone at once, long before it could have missed a heartbeat.
func takeoverMessage(prev *journal.LockedError) string {
	if prev.Reason == journal.TakeoverProcessGone {
		return "took over the journal's lock from a holder whose process is gone (no such process on this host)"
	}
	return "took over the journal's lock from a holder that stopped heart-beating"
}

// watchStop merges the caller's stop channel with the loss of the lock:
// an apply whose lock another took over must stop sending at once. lost
// tells which closed stop; end ends the watch.
func watchStop(stop <-chan struct{}, lockLost <-chan struct{}, log *slog.Logger) (merged <-chan struct{}, lost *atomic.Bool, end func()) {
	ch := make(chan struct{})
	done := make(chan struct{})
	lost = new(atomic.Bool)
	go func() {
		select {
		case <-stop:
		case <-lockLost:
			lost.Store(true)
			log.Error("another run took the journal's lock: stopping")
		case <-done:
			return
		}
		close(ch)
	}()
	return ch, lost, func() { close(done) }
}

// freshPlan makes or checks the plan for a new run and puts it in
// res.Plan. It returns a valid outcome when nothing is to be sent
// (already applied, refused, stale, nothing to do), else the zero Outcome.
func freshPlan(ctx context.Context, req ApplyRequest, planDigest string, res *ApplyResult) (Outcome, error) {
	p := req.Saved
	if p != nil {
		res.Plan = p
		if run, err := appliedBefore(ctx, req.Journal, planDigest); err != nil || run != nil {
			if run != nil {
				res.RunID, res.Applied = run.ID, run
				return OutcomeAlreadyApplied, nil
			}
			return 0, err
		}
		// Judged by today's thresholds and flags, not those of the day
		// the plan was made.
		p.Judge(req.MaxDelete, req.Force)
		if p.Refused() {
			return OutcomeRefused, nil
		}
		stale, err := StaleCheck(ctx, req.Vendors, p)
		if err != nil {
			return 0, err
		}
		if len(stale) > 0 {
			res.Stale = stale
			return OutcomeStale, nil
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
			return 0, err
		}
		res.Plan = p
		if p.Refused() {
			return OutcomeRefused, nil
		}
	}
	if len(p.Ops) == 0 {
		if err := saveHistory(ctx, req.Journal, p, nil); err != nil {
			req.Log.Warn("could not record inventory sizes", "err", err)
		}
		return OutcomeNothingToDo, nil
	}
	return 0, nil
}

// appliedBefore returns the newest run that went through (done or failed)
// with the saved plan whose digest is given, or nil. Applying it again
// would find every number it changed "stale", which is the plan's own
// doing, not someone else's.
func appliedBefore(ctx context.Context, j journal.Reader, planDigest string) (*journal.Run, error) {
	if planDigest == "" {
		return nil, nil
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil {
		return nil, err
	}
	for i := range runs {
		r := &runs[i]
		if r.PlanDigest == planDigest && (r.Outcome == journal.OutcomeDone || r.Outcome == journal.OutcomeFailed) {
			return r, nil
		}
	}
	return nil, nil
}

// startRun journals a new run with res.Plan and sets res.RunID.
// Operations that failed for good in the newest finished run of the same
// input (its CSV, or a plan of the same digest) are carried over as failed
// (not sent again) unless --retry-failed.
func startRun(ctx context.Context, req ApplyRequest, planDigest string, res *ApplyResult) ([]plan.OpRecord, error) {
	p := res.Plan
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		return nil, err
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
		// The digest of the plan as saved, before today's verdict was
		// written into it: a rerun of the same file finds this run.
		info.CSVDigest, info.PlanDigest = "", planDigest
	} else {
		info.PlanDigest = p.Digest()
	}
	// A saved plan's run is journaled without a CSV digest (so that an
	// apply of the CSV never resumes it), but the failures it must not
	// resend are those of the CSV it was made from: the run of that CSV, or
	// an earlier run of a plan with the same digest.
	carried, err := previousFailures(ctx, req, p.CSV.SHA256, info.PlanDigest, p)
	if err != nil {
		return nil, err
	}
	run, err := req.Journal.Start(ctx, journal.NewRun{Info: info, Ops: p.Ops, Records: records, Carried: carried})
	if err != nil {
		return nil, err
	}
	res.RunID = run.ID
	if len(carried) > 0 {
		res.CarriedFailures = len(carried)
		verb := "are"
		if len(carried) == 1 {
			verb = "is"
		}
		of := "this CSV"
		if req.Saved != nil {
			of = "the CSV this plan was made from"
		}
		req.Notice("%s failed for good in the previous run of %s and %s not sent again (use --retry-failed)", english.Count(len(carried), "operation"), of, verb)
	}
	return run.Ops, nil
}

// execute runs the run's operations through the executor, verifying
// every one done, and keeps in the journal's detail cache the OneUC
// details it read back (SPEC section 4: the cache holds what numsync last
// read or wrote, so the next plan does not fetch again every number this
// run changed).
func execute(ctx context.Context, req ApplyRequest, stop <-chan struct{}, runID int64, records []plan.OpRecord, res *ApplyResult) (*exec.Result, error) {
	learned := map[string]plan.CachedState{}
	cfg := exec.Config{
		Vendors:     map[plan.VendorName]exec.VendorConfig{},
		Journal:     req.Journal,
		RunID:       runID,
		MaxAttempts: req.MaxAttempts,
		MaxElapsed:  req.MaxElapsed,
		Verify:      true,
		OnProgress:  req.OnProgress,
		// Called from the executor's loop only; read after Run returns.
		OnState: func(v plan.VendorName, s plan.State) {
			if v == plan.OneUC && s.Detailed && s.Updated != 0 && s.Number != "" {
				learned[s.Number] = plan.CachedState{Number: s.Number, Updated: s.Updated, State: s}
			}
		},
		Logger: req.Log,
	}
	for name, v := range req.Vendors.Map() {
		cfg.Vendors[name] = exec.VendorConfig{Vendor: v, Concurrency: req.Concurrency[name]}
	}
	if req.Exec != nil {
		req.Exec(&cfg)
	}
	if missing := missingVendors(records, cfg.Vendors); len(missing) > 0 {
		return nil, fmt.Errorf("run %d has operations for %s, which the configuration disables", runID, strings.Join(missing, ", "))
	}
	out, err := exec.Run(ctx, stop, cfg, records)
	if len(learned) > 0 {
		states := make([]plan.CachedState, 0, len(learned))
		for _, c := range learned {
			states = append(states, c)
		}
		if serr := req.Journal.SaveDetails(context.WithoutCancel(ctx), plan.OneUC, states); serr != nil {
			req.Log.Warn("could not cache the details read back; the next plan reads them again", "numbers", len(states), "err", serr)
		} else {
			res.DetailsSaved = len(states)
		}
	}
	return out, err
}

// stateCounts counts operations per state, for the run's summary.
func stateCounts(ops []plan.OpRecord) map[string]int {
	counts := map[string]int{}
	for _, o := range ops {
		counts[string(o.State)]++
	}
	return counts
}
