package journal

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Retention (`numsync journal prune`, and journal_retention after every
// apply) removes finished runs with their operations, so a journal that
// takes 100,000 operations a night stays bounded.

// PruneRequest says which runs to remove. A run is removed when either
// limit says so; a zero limit is off. A run that is not finished, or was
// interrupted (Resumable), is never removed.
type PruneRequest struct {
	// KeepRuns keeps the newest KeepRuns runs (counting every run, open
	// ones included); older finished runs are removed.
	KeepRuns int
	// OlderThan removes finished runs that started longer ago than this.
	OlderThan time.Duration
}

// PruneResult says what a prune removed.
type PruneResult struct {
	// Runs is the ids of the runs removed, newest first.
	Runs []int64
	// Ops is how many operations went with them.
	Ops int
	// Reclaimed is how many bytes the journal's storage shrank by, when
	// the implementation can tell (SQLite); 0 otherwise.
	Reclaimed int64
}

// Pruner is the journal's retention: both implementations have it, as an
// ability apart from Store (like plan.DetailCache), so that consumers
// needing only the lifecycle do not see it.
type Pruner interface {
	// Prune removes the runs req selects (see Prunable), with their
	// operations, in one transaction, then gives the space back where the
	// storage allows. The caller holds the apply lock, so no run becomes
	// unfinished meanwhile.
	Prune(ctx context.Context, req PruneRequest) (PruneResult, error)
}

// RunAge is what Prunable needs of a run.
type RunAge struct {
	ID        int64
	StartedAt time.Time
	Finished  bool
	Outcome   string
}

// Prunable returns the ids of the runs req removes at now, newest first:
// those past the newest KeepRuns, or started before now-OlderThan, that are
// finished and not Resumable. It is the one definition of the retention
// rule, used by every implementation. runs may come in any order.
func Prunable(runs []RunAge, req PruneRequest, now time.Time) []int64 {
	sorted := slices.Clone(runs)
	// Newest first by id: ids increase with time and are never reused.
	slices.SortFunc(sorted, func(a, b RunAge) int { return cmp.Compare(b.ID, a.ID) })
	var out []int64
	for rank, r := range sorted {
		if !r.Finished || Resumable(r.Outcome) {
			continue
		}
		tooMany := req.KeepRuns > 0 && rank >= req.KeepRuns
		tooOld := req.OlderThan > 0 && now.Sub(r.StartedAt) > req.OlderThan
		if tooMany || tooOld {
			out = append(out, r.ID)
		}
	}
	return out
}
