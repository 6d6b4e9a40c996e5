package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/plan"
)

// applyFlags are apply's own flags (SPEC section 3).
type applyFlags struct {
	desired           string
	prune             bool
	maxDelete         string
	force             bool
	retryFailed       bool
	maxDuration       time.Duration
	allowExtraColumns bool
	file              fileFlags

	// maxDeleteLimit is maxDelete parsed, once, by checkApply; nil when
	// the flag is not given.
	maxDeleteLimit *plan.Limit
}

var applySpec = cmdSpec{
	name:     "apply",
	synopsis: "apply a plan (from a CSV or a saved PLAN.json), resumably",
	usage:    "numsync apply ([--desired] FILE [--sheet NAME] [--delimiter ,|;|tab] [--allow-extra-columns] | PLAN.json) [--prune] [--max-delete N|P%] [--force] [--retry-failed] [--max-duration D]",
	about: `Applies a plan: with a desired-state FILE, plans and applies in one go (the
cron form); with PLAN.json, applies exactly that saved plan after checking
that every number it touches is still as the plan saw it (exit 6 if not).
A file given as the argument is told by its content (a saved plan is JSON)
and apply says which it read; --desired FILE is always a desired state. Every
operation is journaled: a rerun with the same CSV or plan resumes an
unfinished run and never applies an operation twice.

Exit codes: 0 all done, 3 some operations failed for good, 4 refused by
the safety threshold, 5 journal locked by another run, 6 stale plan,
7 stopped at --max-duration, 130/143 stopped by SIGINT/SIGTERM.`,
	examples: `  numsync apply --desired numbers.csv
  numsync apply plan.json
  numsync apply numbers.csv
  numsync apply --desired numbers.csv --prune --max-delete 25
  numsync apply --desired numbers.csv --max-duration 20m   # resume tomorrow
  numsync apply --desired numbers.csv --retry-failed
`,
	maxArgs: 1,
}

func (f *applyFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.desired, "desired", "", "plan from the desired-state CSV `FILE` and apply")
	fs.BoolVar(&f.prune, "prune", false, "release/delete numbers the CSV omits (overrides the config's prune)")
	fs.StringVar(&f.maxDelete, "max-delete", "", "safety threshold for this run: a count `N` or a share P% (overrides safety.max_delete)")
	fs.BoolVar(&f.force, "force", false, "apply even past the safety threshold or a collapsed inventory")
	fs.BoolVar(&f.retryFailed, "retry-failed", false, "when resuming, retry operations that failed for good")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "stop sending after `D` (e.g. 20m), finish what is in flight, exit 7; the next run resumes")
	fs.BoolVar(&f.allowExtraColumns, "allow-extra-columns", false, "ignore CSV columns numsync does not know instead of failing")
	f.file.define(fs)
}

// cmdApply is `numsync apply`.
func cmdApply(e *env) *cobra.Command {
	var f applyFlags
	return e.command(applySpec, f.define, func(ctx context.Context, pos []string) error {
		return checkApply(ctx, e, f, pos)
	})
}

// checkApply checks apply's flags and arguments, then runs it.
func checkApply(ctx context.Context, e *env, f applyFlags, pos []string) error {
	switch {
	case f.desired == "" && len(pos) == 0:
		return &usageError{errors.New("give --desired FILE or a saved PLAN.json")}
	case f.desired != "" && len(pos) > 0:
		return &usageError{errors.New("give either --desired FILE or PLAN.json, not both")}
	}

	if f.maxDelete != "" {
		lim, err := plan.ParseLimit(f.maxDelete)
		if err != nil {
			return &usageError{errors.New("--max-delete: " + err.Error())}
		}
		f.maxDeleteLimit = &lim
	}
	if f.maxDuration < 0 {
		return &usageError{errors.New("--max-duration must be positive")}
	}
	cfg, err := e.needConfig()
	if err != nil {
		return err
	}
	planPath, err := e.applyInput(&f, pos)
	if err != nil {
		return err
	}
	res, err := runApply(ctx, e, cfg, f, planPath)
	if res != nil {
		e.markDrift(res.Plan)
		if n := changedOutside(res.Plan); n > 0 && res.Exec != nil {
			e.warn(fmt.Sprintf("%s changed outside numsync since numsync last wrote or read them; this run set them back as the CSV says ('numsync plan' marks such changes before they are undone)", english.CountWere(n, "number")))
		}
	}
	e.observeApply(res)
	if i := e.interrupted.Load(); i != nil && err != nil {
		return i.err()
	}
	return err
}
