package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// stopper turns SIGINT, SIGTERM and --max-duration into one stop channel
// and remembers which came first, for the exit code. A second signal
// cancels the context: requests in flight are abandoned (they stay "sent"
// in the journal and are checked on resume).
type stopper struct {
	ch     chan struct{}
	once   sync.Once
	mu     sync.Mutex
	code   int
	reason string
	cancel context.CancelFunc
	sigs   chan os.Signal
	timer  *time.Timer
	done   chan struct{}
}

func newStopper(ctx context.Context, maxDuration time.Duration) (*stopper, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s := &stopper{ch: make(chan struct{}), cancel: cancel, sigs: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.sigs, syscall.SIGINT, syscall.SIGTERM)
	if maxDuration > 0 {
		s.timer = time.AfterFunc(maxDuration, func() { s.stop(ExitDuration, "--max-duration "+maxDuration.String()+" reached") })
	}
	go func() {
		for {
			select {
			case sig := <-s.sigs:
				if s.stopped() {
					cancel()
					continue
				}
				if sig == syscall.SIGTERM {
					s.stop(ExitSIGTERM, "SIGTERM")
				} else {
					s.stop(ExitSIGINT, "SIGINT")
				}
			case <-s.done:
				return
			}
		}
	}()
	return s, ctx
}

func (s *stopper) stop(code int, reason string) {
	s.once.Do(func() {
		s.mu.Lock()
		s.code, s.reason = code, reason
		s.mu.Unlock()
		close(s.ch)
	})
}

func (s *stopper) stopped() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

func (s *stopper) why() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

func (s *stopper) close() {
	signal.Stop(s.sigs)
	if s.timer != nil {
		s.timer.Stop()
	}
	close(s.done)
	s.cancel()
}

// runApply is `numsync apply` once the flags are checked: it turns them
// and the configuration into an app.ApplyRequest, runs the lifecycle
// (app.Apply) and turns its outcome into output and an exit code.
func runApply(ctx context.Context, e *env, cfg *config.Config, f applyFlags, planPath string) (*app.ApplyResult, error) {
	req, inputPath, err := e.applyRequest(cfg, f, planPath)
	if err != nil {
		return nil, err
	}
	j, err := e.openJournal(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		// Close writes the results still queued (journal: written behind
		// the executor); one lost there stays `sent`, which the next run
		// checks against the live state, so it is a warning, not a failure.
		if err := j.Close(); err != nil {
			e.warn(fmt.Sprintf("journal: %v", err))
		}
	}()
	watched := e.watchDriftInRun(j) // notes what drift compares with (drift.go)
	req.Journal = watched

	stop, ctx := newStopper(ctx, f.maxDuration)
	defer stop.close()
	req.Stop = stop.ch
	prog := newProgress(e)
	prog.cancelWhileReading(stop)
	req.OnProgress = prog.update
	res, err := app.Apply(ctx, req)
	watched.flush(ctx)
	prog.finish()
	e.pruneAfterApply(ctx, j, cfg)
	return res, e.applyOutcome(res, err, req.Desired, inputPath, stop)
}

// applyRequest fills the lifecycle's request from the flags and the
// configuration, reading the input (a saved plan or a desired state) and
// building the vendor clients. It returns the input's path too.
func (e *env) applyRequest(cfg *config.Config, f applyFlags, planPath string) (app.ApplyRequest, string, error) {
	host, _ := os.Hostname()
	req := app.ApplyRequest{
		Concurrency:        concurrency(cfg),
		MaxAttempts:        cfg.Retry.MaxAttempts,
		MaxElapsed:         cfg.Retry.MaxElapsed,
		Force:              f.force,
		RetryFailed:        f.retryFailed,
		DefaultCallPurpose: defaultCallPurpose(cfg),
		Args:               append([]string{"apply"}, e.args...),
		Log:                e.logger(),
		Notice:             func(format string, a ...any) { fmt.Fprintf(e.stderr, format+"\n", a...) },
		Exec:               e.execTweak,
	}
	req.Prune, req.MaxDelete = planOptions(cfg, f.prune, f.maxDeleteLimit)
	inputPath := f.desired
	var err error
	if planPath != "" {
		inputPath = planPath
		if req.Saved, err = readSavedPlan(planPath); err != nil {
			return req, inputPath, err
		}
	} else if req.Desired, err = e.readDesired(cfg, f.desired, f.allowExtraColumns, f.file); err != nil {
		return req, inputPath, err
	}
	if req.Vendors, err = newVendors(cfg, e.logger(), e.httpClient(cfg)); err != nil {
		return req, inputPath, err
	}
	req.Holder = journal.LockInfo{Host: host, PID: os.Getpid(), Command: "apply " + inputPath}
	return req, inputPath, nil
}

// applyOutcome is the one place an apply's outcome becomes what the
// operator sees: standard output and error, --report, --metrics-file and
// the exit code.
func (e *env) applyOutcome(res *app.ApplyResult, err error, desiredOf *plan.Desired, inputPath string, stop *stopper) error {
	if err != nil {
		if res != nil && res.Exec != nil {
			e.summarize(res, "error")
		}
		return e.planFailure(desiredOf, inputPath, err)
	}
	switch res.Outcome {
	case app.OutcomeLocked:
		return withCode(ExitLocked, res.Holder)
	case app.OutcomeRefused:
		e.printWarnings(res.Plan)
		return refusal(res.Plan)
	case app.OutcomeStale:
		for _, s := range res.Stale {
			fmt.Fprintf(e.stderr, "stale: %s %s (%s): %s\n", s.Vendor, s.Number, s.OpID, s.Differs)
		}
		return withCode(ExitStale, fmt.Errorf("the saved plan is stale: %s changed since it was made; nothing was changed (make a new plan)", english.Count(len(res.Stale), "number")))
	case app.OutcomeAlreadyApplied:
		fmt.Fprintf(e.stdout, "%s was already applied in run %d (%s): nothing was sent.\n", inputPath, res.RunID, res.Applied.StartedAt.Local().Format(time.DateTime))
		if n := res.Applied.Counts[string(plan.StateFailed)] + res.Applied.Counts[string(plan.StateSkipped)]; n > 0 {
			were := "were"
			if n == 1 {
				were = "was"
			}
			fmt.Fprintf(e.stdout, "%d of its operations failed or %s skipped: 'numsync show %d --failed' lists them; make a new plan to try them again.\n", n, were, res.RunID)
		}
		e.writeOutputs(res, res.Outcome.String())
		return nil
	case app.OutcomeNothingToDo:
		e.printWarnings(res.Plan)
		fmt.Fprintln(e.stdout, "Nothing to do: every managed number is in step.")
		e.writeOutputs(res, "done")
		return nil
	case app.OutcomeInterrupted, app.OutcomeLockLost:
		e.ranWarnings(res)
		code, why := stop.why()
		switch {
		case res.Outcome == app.OutcomeLockLost:
			code, why = ExitLocked, "another run took the journal's lock"
		case code == 0:
			code, why = ExitSIGINT, "interrupted"
		}
		e.summarize(res, "interrupted")
		return withCode(code, fmt.Errorf("stopped (%s) with requests in flight finished and journaled: run %d is resumable, run the same command again to resume", why, res.RunID))
	case app.OutcomeUnresolved:
		e.ranWarnings(res)
		e.summarize(res, "failed")
		// A vendor unreachable for retry.max_elapsed: nothing failed for
		// good, the run is resumable (SPEC §3: exit 1, not 3).
		return withCode(ExitError, res.Exec.UnresolvedError())
	case app.OutcomeFailed:
		e.ranWarnings(res)
		e.summarize(res, "failed")
		sheet := ""
		if res.Plan != nil {
			sheet = res.Plan.CSV.Sheet
		}
		listFailed(e.stderr, res.Exec.Failed, sheet)
		return withCode(ExitFailed, fmt.Errorf("%s failed for good (run %d): '%s' writes them with their CSV rows", english.Count(len(res.Exec.Failed), "operation"), res.RunID, e.showFailedCommand(res.RunID)))
	case app.OutcomeDone:
		e.ranWarnings(res)
		e.summarize(res, "done")
		return nil
	}
	return fmt.Errorf("apply ended with no known outcome (%s): this is a bug", res.Outcome)
}

// ranWarnings prints the plan's warnings for a run that executed, unless
// it was resumed (they were printed when it started).
func (e *env) ranWarnings(res *app.ApplyResult) {
	if !res.Resumed {
		e.printWarnings(res.Plan)
	}
}

func readSavedPlan(path string) (*plan.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	p, err := plan.ReadPlan(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// listFailed prints the failed operations, the vendor's reason for each,
// with the row each came from: "line N" of a CSV, "SHEET row N" of a
// workbook (as validate names a workbook's rows).
func listFailed(w io.Writer, failed []plan.OpRecord, sheet string) {
	for i, r := range failed {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more\n", len(failed)-maxListed)
			break
		}
		line := ""
		if r.Op.Line > 0 {
			line = fmt.Sprintf(" (line %d)", r.Op.Line)
			if sheet != "" {
				line = fmt.Sprintf(" (%s row %d)", sheet, r.Op.Line)
			}
		}
		fmt.Fprintf(w, "%s: %s %s %s%s: %s\n", r.State, r.Op.Vendor, r.Op.Action, r.Op.Number, line, r.LastError)
	}
}

// summarize prints the per-vendor, per-action table and writes --report
// and --metrics-file.
func (e *env) summarize(res *app.ApplyResult, outcome string) {
	s := res.Exec.Summary
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(e.stdout, "\nRun %d: %s in %.1fs\n", res.RunID, outcomeWords(outcome), s.DurationSeconds)
	fmt.Fprintln(tw, "vendor\taction\ttotal\tdone\tfailed\tskipped\tpending\tseconds\tnumbers/s\t")
	for _, v := range s.Vendors {
		for _, a := range v.Actions {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n", v.Vendor, a.Action, a.Total, a.Done, a.Failed, a.Skipped, a.Pending, a.DurationSeconds, a.NumbersPerSecond)
		}
	}
	tw.Flush()
	for _, v := range s.Vendors {
		fmt.Fprintf(e.stdout, "%s: %s, %s, %s lost and checked, %d verified, %d differed on verify\n",
			v.Vendor, english.Count(v.Requests, "request"), english.Count(v.Retries, "retry"), english.Count(v.Checked, "answer"), v.Verified, v.VerifyFailed)
	}
	e.writeOutputs(res, outcome)
}

// applyReport is what --report writes.
type applyReport struct {
	RunID       int64          `json:"run_id"`
	Outcome     string         `json:"outcome"`
	Resumed     bool           `json:"resumed"`
	NothingToDo bool           `json:"nothing_to_do,omitempty"`
	Summary     *exec.Summary  `json:"summary,omitempty"`
	Failed      []failedReport `json:"failed,omitempty"`
}

type failedReport struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	State  string `json:"state"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

func (e *env) writeOutputs(res *app.ApplyResult, outcome string) {
	rep := applyReport{RunID: res.RunID, Outcome: outcome, Resumed: res.Resumed, NothingToDo: res.Outcome == app.OutcomeNothingToDo}
	var sum exec.Summary
	if res.Exec != nil {
		sum = res.Exec.Summary
		rep.Summary = &sum
		for _, r := range res.Exec.Failed {
			rep.Failed = append(rep.Failed, failedReport{ID: r.Op.ID, Number: r.Op.Number, State: string(r.State), Line: r.Op.Line, Reason: r.LastError})
		}
		sort.Slice(rep.Failed, func(i, k int) bool { return rep.Failed[i].ID < rep.Failed[k].ID })
	}
	if e.global.report != "" {
		e.writeReport(rep)
	}
	// --metrics-file is written by run, once the command has ended
	// (metrics.go): one writer for every path, this one included.
}

// outcomeWords says a run's outcome for people.
func outcomeWords(outcome string) string {
	switch outcome {
	case "done":
		return "every operation done"
	case "failed":
		return "finished, some operations failed for good"
	}
	return outcome
}
