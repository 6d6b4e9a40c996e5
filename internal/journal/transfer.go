package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// `numsync journal migrate --to URL` copies a journal into another (a
// SQLite file into PostgreSQL, typically) so an install that moves keeps
// its history: every run with its plan and operations, the per-vendor
// history and the detail cache.

// RunExport is one whole run as Transfer moves it.
type RunExport struct {
	// Run is the run with its plan; Counts is ignored on import (the
	// operations' states are the truth).
	Run Run
	// Ops is every operation's record, in plan order.
	Ops []plan.OpRecord
	// Records maps an operation id to the CSV record of its row.
	Records map[string][]string
}

// Transfer is the ability to export and import whole runs, keeping their
// ids, times, states and counts as they are.
type Transfer interface {
	// ExportRun returns run id whole. An unknown id wraps ErrNoRun.
	ExportRun(ctx context.Context, id int64) (*RunExport, error)
	// ImportRun writes a run under its own id, in one transaction; a run
	// with that id already there is an error. Later runs get higher ids.
	ImportRun(ctx context.Context, r *RunExport) error
}

// CopyResult says what Copy copied.
type CopyResult struct {
	Runs, Ops, Details int
	// History is the vendors whose counts were copied.
	History []plan.VendorName
}

// Vendors are the vendors whose history and detail cache Copy moves.
var Vendors = []plan.VendorName{plan.OneUC, plan.FirstOrion}

// Copy copies every run of from, oldest first, with the history and the
// detail cache, into to, which must hold no run yet (so ids keep their
// meaning: "run 12" is the same run after the move). progress, when not
// nil, is called after each run. The caller holds both journals' locks.
func Copy(ctx context.Context, from, to Store, progress func(done, total int)) (CopyResult, error) {
	var res CopyResult
	src, ok1 := from.(Transfer)
	dst, ok2 := to.(Transfer)
	if !ok1 || !ok2 {
		return res, errors.New("journal: copy: both journals must support Transfer")
	}
	have, err := to.Runs(ctx, 1)
	if err != nil {
		return res, err
	}
	if len(have) > 0 {
		return res, fmt.Errorf("journal: copy: the destination already holds runs (newest %d): copy only into an empty journal", have[0].ID)
	}
	runs, err := from.Runs(ctx, 0)
	if err != nil {
		return res, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r, err := src.ExportRun(ctx, runs[i].ID)
		if err != nil {
			return res, err
		}
		if err := dst.ImportRun(ctx, r); err != nil {
			return res, err
		}
		res.Runs++
		res.Ops += len(r.Ops)
		if progress != nil {
			progress(res.Runs, len(runs))
		}
	}
	for _, v := range Vendors {
		n, ok, err := from.LastCount(ctx, v)
		if err != nil {
			return res, err
		}
		if ok {
			if err := to.SetCount(ctx, v, n); err != nil {
				return res, err
			}
			res.History = append(res.History, v)
		}
		d, err := from.Details(ctx, v)
		if err != nil {
			return res, err
		}
		if len(d) > 0 {
			states := make([]plan.CachedState, 0, len(d))
			for _, c := range d {
				states = append(states, c)
			}
			if err := to.SaveDetails(ctx, v, states); err != nil {
				return res, err
			}
			res.Details += len(states)
		}
	}
	return res, nil
}
