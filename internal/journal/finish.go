package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Finish implements Lifecycle. It completes even when ctx is already
// cancelled (the end of an interrupted run must still be written), bounded
// by a timeout.
func (j *SQLite) Finish(ctx context.Context, runID int64, end End) error {
	if err := j.results.Flush(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return j.finish(ctx, runID, end)
}

// finishRun closes a run with an outcome and summary counts only.
func (j *SQLite) finishRun(ctx context.Context, runID int64, outcome string, counts map[string]int) error {
	return j.finish(ctx, runID, End{Outcome: outcome, Counts: counts})
}

func (j *SQLite) finish(ctx context.Context, runID int64, end End) error {
	for v, n := range end.Held {
		if n < 0 {
			return fmt.Errorf("journal: finish run %d: negative count %d of %s", runID, n, v)
		}
	}
	outcome := end.Outcome
	summary, err := json.Marshal(nonNilMap(end.Counts))
	if err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	// The log goes into the rows in bounded transactions first; the
	// finishing one folds what was appended since (normally nothing), so a
	// finished run never has a log.
	if err := j.fold(context.WithoutCancel(ctx), runID); err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	now := nanos(j.now())
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		if err := foldTx(ctx, tx, runID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?`,
			now, outcome, string(summary), runID)
		if err != nil {
			return err
		}
		if err := oneRow(res, runID); err != nil {
			return err
		}
		for v, n := range end.Held {
			if err := setCountTx(ctx, tx, v, n, now); err != nil {
				return fmt.Errorf("set count of %s: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	// A run's state changes leave pages free (rows rewritten larger, the
	// start's scratch); give them back now rather than let the file keep
	// them (auto_vacuum is incremental). Best effort: a busy journal only
	// keeps them a run longer.
	_, _ = j.w.ExecContext(ctx, `PRAGMA incremental_vacuum`)
	return nil
}
