package main

import (
	"context"
	"encoding/json"
	"errors"
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

// runApply is `numsync apply` once the flags are checked: it takes the
// journal's lock and hands the work to app.Apply, then reports.
func runApply(ctx context.Context, e *env, cfg *config.Config, f applyFlags, planPath string) (*app.ApplyResult, error) {
	req := app.ApplyRequest{
		Concurrency:        map[plan.VendorName]int{},
		MaxAttempts:        cfg.Retry.MaxAttempts,
		Force:              f.force,
		RetryFailed:        f.retryFailed,
		DefaultCallPurpose: app.DefaultCallPurpose(cfg),
		Args:               append([]string{"apply"}, e.args...),
		Log:                e.logger(),
		Notice:             func(format string, a ...any) { fmt.Fprintf(e.stderr, format+"\n", a...) },
	}
	if cfg.OneUC != nil {
		req.Concurrency[plan.OneUC] = cfg.OneUC.Concurrency
	}
	if cfg.FirstOrion != nil {
		req.Concurrency[plan.FirstOrion] = cfg.FirstOrion.Concurrency
	}
	var err error
	if req.Prune, req.MaxDelete, err = app.PlanOptions(cfg, f.prune, f.maxDelete); err != nil {
		return nil, &usageError{err}
	}
	inputPath := f.desired
	if planPath != "" {
		inputPath = planPath
		if req.Saved, err = readSavedPlan(planPath); err != nil {
			return nil, err
		}
	} else if req.Desired, err = e.readDesired(cfg, f.desired, f.allowExtraColumns); err != nil {
		return nil, err
	}
	if req.Vendors, err = app.NewVendors(cfg, e.logger(), nil); err != nil {
		return nil, err
	}

	j, err := e.openJournal(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	host, _ := os.Hostname()
	lock, err := j.Lock(ctx, journal.LockInfo{Host: host, PID: os.Getpid(), Command: "apply " + inputPath})
	var locked *journal.LockedError
	if errors.As(err, &locked) {
		return nil, withCode(ExitLocked, err)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := lock.Release(context.WithoutCancel(ctx)); err != nil {
			e.logger().Warn("could not release the journal's lock; the next apply takes it over once it goes stale", "err", err)
		}
	}()
	if prev, ok := lock.TookOver(); ok {
		e.logger().Warn("took over the journal's lock from a holder that stopped heart-beating",
			"host", prev.Host, "pid", prev.PID, "command", prev.Command)
	}
	req.Journal = j

	stop, ctx := newStopper(ctx, f.maxDuration)
	defer stop.close()
	go func() {
		select {
		case <-lock.Lost():
			e.logger().Error("another run took the journal's lock: stopping")
			stop.stop(ExitLocked, "lock lost")
		case <-stop.done:
		}
	}()
	req.Stop = stop.ch
	prog := newProgress(e)
	req.OnProgress = prog.update
	if e.execTweak != nil {
		req.Exec = e.execTweak
	}

	res, err := app.Apply(ctx, req)
	prog.finish()
	if err != nil {
		if res != nil && res.Exec != nil {
			e.summarize(res, "error")
		}
		return res, e.planFailure(inputPath, err)
	}
	switch {
	case res.Refused:
		e.printWarnings(res.Plan)
		return res, refusal(res.Plan)
	case len(res.Stale) > 0:
		for _, s := range res.Stale {
			fmt.Fprintf(e.stderr, "stale: %s %s (%s): %s\n", s.Vendor, s.Number, s.OpID, s.Differs)
		}
		return res, withCode(ExitStale, fmt.Errorf("the saved plan is stale: %d numbers changed since it was made; nothing was changed (make a new plan)", len(res.Stale)))
	case res.NothingToDo:
		e.printWarnings(res.Plan)
		fmt.Fprintln(e.stdout, "Nothing to do: every managed number is in step.")
		e.writeOutputs(res, "done")
		return res, nil
	}
	if !res.Resumed {
		e.printWarnings(res.Plan)
	}
	out := res.Exec
	if out.Interrupted {
		code, why := stop.why()
		if code == 0 {
			code, why = ExitSIGINT, "interrupted"
		}
		e.summarize(res, "interrupted")
		return res, withCode(code, fmt.Errorf("stopped (%s) with requests in flight finished and journaled: run %d is resumable, run the same command again to resume", why, res.RunID))
	}
	outcome := "done"
	if !out.Complete() {
		outcome = "failed"
	}
	e.summarize(res, outcome)
	if len(out.Unresolved) > 0 {
		return res, withCode(ExitFailed, fmt.Errorf("%d operations were sent but their outcome could not be read back: run %d stays open and the next apply checks them first", len(out.Unresolved), res.RunID))
	}
	if len(out.Failed) > 0 {
		listFailed(e.stderr, out.Failed)
		return res, withCode(ExitFailed, fmt.Errorf("%d operations failed for good (run %d): 'numsync show %d --failed --format csv' writes them with their CSV rows", len(out.Failed), res.RunID, res.RunID))
	}
	return res, nil
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

// listFailed prints the failed operations, the vendor's reason for each.
func listFailed(w io.Writer, failed []plan.OpRecord) {
	for i, r := range failed {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more\n", len(failed)-maxListed)
			break
		}
		line := ""
		if r.Op.Line > 0 {
			line = fmt.Sprintf(" (line %d)", r.Op.Line)
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
		fmt.Fprintf(e.stdout, "%s: %d requests, %d retries, %d answers lost and checked, %d verified, %d differed on verify\n",
			v.Vendor, v.Requests, v.Retries, v.Checked, v.Verified, v.VerifyFailed)
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
	rep := applyReport{RunID: res.RunID, Outcome: outcome, Resumed: res.Resumed, NothingToDo: res.NothingToDo}
	var sum exec.Summary
	if res.Exec != nil {
		sum = res.Exec.Summary
		rep.Summary = &sum
		for _, r := range res.Exec.Failed {
			rep.Failed = append(rep.Failed, failedReport{ID: r.Op.ID, Number: r.Op.Number, State: string(r.State), Line: r.Op.Line, Reason: r.LastError})
		}
		sort.Slice(rep.Failed, func(i, k int) bool { return rep.Failed[i].ID < rep.Failed[k].ID })
	}
	if p := e.global.report; p != "" {
		err := writeFileAtomic(p, 0o644, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		})
		if err != nil {
			e.logger().Error("could not write the report", "file", p, "err", err)
		}
	}
	if p := e.global.metricsFile; p != "" {
		err := writeFileAtomic(p, 0o644, func(w io.Writer) error {
			if err := exec.WritePrometheus(w, sum); err != nil {
				return err
			}
			ok := 0
			if outcome == "done" {
				ok = 1
			}
			_, err := fmt.Fprintf(w, "# HELP numsync_apply_success Whether the last apply finished with every operation done.\n# TYPE numsync_apply_success gauge\nnumsync_apply_success %d\n# HELP numsync_apply_last_run_timestamp_seconds When the last apply ended.\n# TYPE numsync_apply_last_run_timestamp_seconds gauge\nnumsync_apply_last_run_timestamp_seconds %d\n", ok, time.Now().Unix())
			return err
		})
		if err != nil {
			e.logger().Error("could not write the metrics file", "file", p, "err", err)
		}
	}
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
