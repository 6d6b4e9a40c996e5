package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/plan"
)

type runsFlags struct {
	limit int
}

var runsSpec = cmdSpec{
	name:     "runs",
	synopsis: "list journaled runs",
	usage:    "numsync runs [--limit N]",
	about: `Lists journaled runs, newest first: id, start, end, CSV digest, counts and
outcome.`,
	examples: `  numsync runs
  numsync runs --limit 5 --journal /var/lib/numsync/numsync.db
`,
}

func (f *runsFlags) define(fs *flag.FlagSet) {
	fs.IntVar(&f.limit, "limit", 20, "list at most `N` runs")
}

// cmdRuns is `numsync runs`.
func cmdRuns(e *env) *cobra.Command {
	var f runsFlags
	return e.command(runsSpec, f.define, func(ctx context.Context, _ []string) error {
		return runRuns(ctx, e, f)
	})
}

// runRuns is `numsync runs` once its flags are parsed.
func runRuns(ctx context.Context, e *env, f runsFlags) error {
	if f.limit < 1 {
		return &usageError{errors.New("--limit must be at least 1")}
	}
	j, err := e.openExistingJournal(ctx)
	if err != nil {
		return err
	}
	defer j.Close()
	runs, err := j.Runs(ctx, f.limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(e.stdout, "No runs journaled yet.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tFINISHED\tCSV\tDONE\tFAILED\tPENDING\tOUTCOME")
	for _, r := range runs {
		finished := "-"
		if r.FinishedAt != nil {
			finished = r.FinishedAt.Local().Format(time.DateTime)
		}
		digest := r.CSVDigest
		if len(digest) > 12 {
			digest = digest[:12]
		}
		if digest == "" {
			digest = "(saved plan)"
		}
		outcome := r.Outcome
		if outcome == "" {
			outcome = "unfinished"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.ID, r.StartedAt.Local().Format(time.DateTime), finished, digest,
			r.Counts[string(plan.StateDone)], r.Counts[string(plan.StateFailed)]+r.Counts[string(plan.StateSkipped)],
			r.Counts[string(plan.StatePending)]+r.Counts[string(plan.StateSent)], outcome)
	}
	return tw.Flush()
}
