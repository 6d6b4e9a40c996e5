package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

type showFlags struct {
	failed bool
	format string
	out    string
}

var showSpec = cmdSpec{
	name:     "show",
	synopsis: "list one run's operations",
	usage:    "numsync show RUN [--failed] [--format text|json|csv|xlsx] [--out FILE]",
	about: `Lists one run's operations with their state, attempts and the vendor's last
reason. --failed --format csv writes the failed ones with their original
CSV line, ready to be fixed in a spreadsheet and fed back; --format xlsx
--out FILE.xlsx writes them as a workbook with the failing cells
highlighted, to be fixed and fed back with
'numsync apply FILE.xlsx --allow-extra-columns'.`,
	examples: `  numsync show 12
  numsync show 12 --failed --format csv > fix-these.csv
  numsync show 12 --failed --format xlsx --out fix-these.xlsx
`,
	maxArgs: 1,
}

func (f *showFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&f.failed, "failed", false, "only the operations that failed")
	fs.StringVar(&f.format, "format", "text", "output `FORMAT`: text, json, csv or xlsx (xlsx needs --out)")
	fs.StringVar(&f.out, "out", "", "write to `FILE` instead of standard output")
}

// cmdShow is `numsync show`.
func cmdShow(e *env) *cobra.Command {
	var f showFlags
	return e.command(showSpec, f.define, func(ctx context.Context, pos []string) error {
		return runShow(ctx, e, f, pos)
	})
}

// noRun is show's answer to a run id the journal does not hold: which ids
// it does, and the command that lists them.
func noRun(ctx context.Context, j journal.Store, id int64) error {
	runs, err := j.Runs(ctx, 1)
	if err != nil || len(runs) == 0 {
		return fmt.Errorf("no run %d: the journal holds no runs yet ('numsync runs' lists them once 'numsync apply' has run)", id)
	}
	return fmt.Errorf("no run %d in the journal (the latest is run %d): 'numsync runs' lists them", id, runs[0].ID)
}

// runShow is `numsync show` once its flags are parsed; pos holds the RUN.
func runShow(ctx context.Context, e *env, f showFlags, pos []string) error {
	if len(pos) == 0 {
		return &usageError{errors.New("give the RUN id (see 'numsync runs')")}
	}
	if err := oneOf("format", f.format, "text", "json", "csv", "xlsx"); err != nil {
		return err
	}
	if f.format == "xlsx" && f.out == "" {
		return errBinaryToTerminal("--format xlsx")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return &usageError{fmt.Errorf("RUN must be a run id (see 'numsync runs'), got %q", pos[0])}
	}
	j, err := e.openExistingJournal(ctx)
	if err != nil {
		return err
	}
	defer j.Close()
	run, err := j.Run(ctx, id)
	if errors.Is(err, journal.ErrNoRun) {
		return noRun(ctx, j, id)
	}
	if err != nil {
		return err
	}
	var write func(io.Writer) error
	if f.failed && (f.format == "csv" || f.format == "xlsx") {
		fc, err := failedRows(ctx, j, run)
		if err != nil {
			return err
		}
		write = func(w io.Writer) error { return writeFailed(w, f.format, fc) }
	} else {
		ops, err := j.Ops(ctx, id)
		if err != nil {
			return err
		}
		if f.failed {
			ops = slices.DeleteFunc(ops, func(r plan.OpRecord) bool {
				return r.State != plan.StateFailed && r.State != plan.StateSkipped
			})
		}
		write = func(w io.Writer) error { return writeOps(w, f.format, run, ops) }
	}
	if f.out == "" {
		return write(e.stdout)
	}
	if err := writeFileAtomic(f.out, 0o644, write); err != nil {
		return err
	}
	e.notice("wrote %s", f.out)
	return nil
}
