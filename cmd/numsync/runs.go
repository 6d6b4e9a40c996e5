package main

import (
	"context"
	"errors"
	"flag"
)

type runsFlags struct {
	limit int
}

var runsSpec = cmdSpec{
	name:  "runs",
	usage: "numsync runs [--limit N]",
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
func cmdRuns(ctx context.Context, e *env, args []string) error {
	var f runsFlags
	if _, err := e.parse(runsSpec, args, f.define); err != nil {
		return err
	}
	if f.limit < 1 {
		return &usageError{errors.New("--limit must be at least 1")}
	}
	_ = ctx
	return errNotImplemented
}
