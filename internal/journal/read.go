package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

const runCols = `id, started_at, finished_at, csv_path, csv_digest, plan_digest, args, header, outcome, summary, resumes`

// Run returns one run with its plan and per-state counts. An unknown id
// gives an error wrapping ErrNoRun.
func (j *SQLite) Run(ctx context.Context, id int64) (*Run, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	rows, err := j.r.QueryContext(ctx, `SELECT `+runCols+`, plan FROM runs WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	runs, err := scanRuns(rows, true)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("journal: run %d: %w", id, ErrNoRun)
	}
	if err := j.fillCounts(ctx, runs); err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	return &runs[0], nil
}

// Runs returns up to limit runs, newest first, with per-state counts and
// without their plans. A limit of 0 or less means all.
func (j *SQLite) Runs(ctx context.Context, limit int) ([]Run, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := j.r.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	runs, err := scanRuns(rows, false)
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	if err := j.fillCounts(ctx, runs); err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	return runs, nil
}

// scanRuns reads runs rows (ScanRuns: times in Unix nanoseconds) and
// closes them.
func scanRuns(rows *sql.Rows, withPlan bool) ([]Run, error) {
	defer rows.Close()
	return ScanRuns(rows, withPlan, fromNanos)
}

// fillCounts sets Counts on each run with one grouped query over the
// operations' primary-key range of those runs.
func (j *SQLite) fillCounts(ctx context.Context, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	lo, hi := runs[0].ID, runs[0].ID
	for _, r := range runs {
		lo, hi = min(lo, r.ID), max(hi, r.ID)
	}
	idx := CountsByRun(runs)
	err := j.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT run_id, state, count(*) FROM ops WHERE run_id BETWEEN ? AND ? GROUP BY run_id, state`, lo, hi)
		if err != nil {
			return err
		}
		if err := errors.Join(ScanCounts(rows, idx), rows.Close()); err != nil {
			return err
		}
		// A run with a log (being applied, or left by a crash) is counted
		// again with the log laid over its rows.
		logged, err := loggedRuns(ctx, tx, `SELECT DISTINCT run_id FROM op_log WHERE run_id BETWEEN ? AND ?`, lo, hi)
		if err != nil {
			return err
		}
		for _, id := range logged {
			r, ok := idx[id]
			if !ok {
				continue
			}
			if err := j.countLogged(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count operations: %w", err)
	}
	return nil
}

// countLogged counts a run's operations by state with its log laid over
// them.
func (j *SQLite) countLogged(ctx context.Context, tx *sql.Tx, r *Run) error {
	f, _, err := readLog(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT op_id, state FROM ops WHERE run_id = ?`, r.ID)
	if err != nil {
		return err
	}
	states := map[string]plan.OpState{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			_ = rows.Close()
			return err
		}
		states[id] = plan.OpState(st)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	return OverlayCounts(r, states, f, func(id string) string { return id })
}

// Ops returns a run's operations with their progress, in the plan's order.
func (j *SQLite) Ops(ctx context.Context, runID int64) ([]plan.OpRecord, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []plan.OpRecord
	err := j.scanOps(ctx, runID, false, func(rec plan.OpRecord, _ []string) {
		out = append(out, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("journal: operations of run %d: %w", runID, err)
	}
	return out, nil
}

// FailedOps returns a run's failed and skipped operations, in the plan's
// order, each with the CSV record of its row. A number with a failed
// operation and a skipped dependent appears twice, with the same record;
// writing rows back should keep one per CSV line.
func (j *SQLite) FailedOps(ctx context.Context, runID int64) ([]FailedOp, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []FailedOp
	err := j.scanOps(ctx, runID, true,
		func(rec plan.OpRecord, csv []string) {
			out = append(out, FailedOp{Record: rec, CSVRecord: csv})
		})
	if err != nil {
		return nil, fmt.Errorf("journal: failed operations of run %d: %w", runID, err)
	}
	return out, nil
}

// CSVHeader returns the CSV header row stored with a run.
func (j *SQLite) CSVHeader(ctx context.Context, runID int64) ([]string, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var header string
	err := j.r.QueryRowContext(ctx, `SELECT header FROM runs WHERE id = ?`, runID).Scan(&header)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, ErrNoRun)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, err)
	}
	var h []string
	if err := json.Unmarshal([]byte(header), &h); err != nil {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, err)
	}
	return h, nil
}

// scanOps calls fn for a run's operations (only failed and skipped ones
// when failedOnly), in plan order: the progress rows with the run's log
// laid over them (oplog.go), read in one snapshot, then the chunks that
// hold their bodies, each read and decoded once.
func (j *SQLite) scanOps(ctx context.Context, runID int64, failedOnly bool, fn func(plan.OpRecord, []string)) error {
	var ps []OpProgress[string]
	err := j.readTx(ctx, func(tx *sql.Tx) error {
		f, logged, err := readLog(ctx, tx, runID)
		if err != nil {
			return err
		}
		q := `SELECT body, op_id, state, attempts, ref, last_error, updated_at FROM ops WHERE run_id = ?`
		if failedOnly && !logged {
			q += ` AND state IN ('failed', 'skipped')`
		}
		rows, err := tx.QueryContext(ctx, q+` ORDER BY body`, runID)
		if err != nil {
			return err
		}
		ps, err = ScanProgress[string](rows, fromNanos)
		if err := errors.Join(err, rows.Close()); err != nil {
			return err
		}
		ps, err = Overlay(ps, f, func(id string) string { return id }, failedOnly)
		return err
	})
	if err != nil {
		return err
	}
	return AttachBodies(ps, func(c int64) ([]byte, error) {
		var data []byte
		err := j.r.QueryRowContext(ctx, `SELECT data FROM op_chunks WHERE run_id = ? AND chunk = ?`, runID, c).Scan(&data)
		return data, err
	}, func(id string) string { return id }, fn)
}
