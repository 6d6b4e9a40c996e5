package pgjournal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

const runCols = `id, started_at, finished_at, csv_path, csv_digest, plan_digest, args::text, header::text, outcome, summary::text, resumes`

// Run implements journal.Reader. An unknown id gives an error wrapping
// journal.ErrNoRun.
func (j *Journal) Run(ctx context.Context, id int64) (*journal.Run, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	rows, err := j.pool.Query(ctx, `SELECT `+runCols+`, plan FROM runs WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	runs, err := scanRuns(rows, true)
	if err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("journal: run %d: %w", id, journal.ErrNoRun)
	}
	if err := j.fillCounts(ctx, runs); err != nil {
		return nil, fmt.Errorf("journal: run %d: %w", id, err)
	}
	return &runs[0], nil
}

// Runs implements journal.Reader: up to limit runs (all when limit ≤ 0),
// newest first, without their plans.
func (j *Journal) Runs(ctx context.Context, limit int) ([]journal.Run, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	q := `SELECT ` + runCols + ` FROM runs ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT $1`
		args = append(args, limit)
	}
	rows, err := j.pool.Query(ctx, q, args...)
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

// scanRuns reads runs rows (journal.ScanRuns) and closes them.
func scanRuns(rows pgx.Rows, withPlan bool) ([]journal.Run, error) {
	defer rows.Close()
	return journal.ScanRuns(rows, withPlan, time.Time.UTC)
}

// fillCounts sets Counts on each run with one grouped query.
func (j *Journal) fillCounts(ctx context.Context, runs []journal.Run) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	idx := journal.CountsByRun(runs)
	err := j.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT run_id, state, count(*) FROM ops WHERE run_id = ANY($1) GROUP BY run_id, state`, ids)
		if err != nil {
			return err
		}
		err = journal.ScanCounts(rows, idx)
		rows.Close()
		if err != nil {
			return err
		}
		// A run with a log (being applied, or left by a crash) is counted
		// again with the log laid over its rows.
		logged, err := loggedRuns(ctx, tx, `SELECT DISTINCT run_id FROM op_log WHERE run_id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		for _, id := range logged {
			if err := countLogged(ctx, tx, idx[id]); err != nil {
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
func countLogged(ctx context.Context, tx pgx.Tx, r *journal.Run) error {
	f, _, _, err := readLog(ctx, tx, r.ID, 0)
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT op_key, state FROM ops WHERE run_id = $1`, r.ID)
	if err != nil {
		return err
	}
	states := map[int64]plan.OpState{}
	for rows.Next() {
		var key int64
		var st string
		if err := rows.Scan(&key, &st); err != nil {
			rows.Close()
			return err
		}
		states[key] = plan.OpState(st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return journal.OverlayCounts(r, states, f, opKey)
}

// Ops implements journal.Reader.
func (j *Journal) Ops(ctx context.Context, runID int64) ([]plan.OpRecord, error) {
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

// FailedOps implements journal.Reader.
func (j *Journal) FailedOps(ctx context.Context, runID int64) ([]journal.FailedOp, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []journal.FailedOp
	err := j.scanOps(ctx, runID, true, func(rec plan.OpRecord, csv []string) {
		out = append(out, journal.FailedOp{Record: rec, CSVRecord: csv})
	})
	if err != nil {
		return nil, fmt.Errorf("journal: failed operations of run %d: %w", runID, err)
	}
	return out, nil
}

// CSVHeader implements journal.Reader.
func (j *Journal) CSVHeader(ctx context.Context, runID int64) ([]string, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var header string
	err := j.pool.QueryRow(ctx, `SELECT header::text FROM runs WHERE id = $1`, runID).Scan(&header)
	if noRows(err) {
		return nil, fmt.Errorf("journal: header of run %d: %w", runID, journal.ErrNoRun)
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
// laid over them (journal/oplog.go), read in one snapshot, then the chunks
// holding their bodies, each decoded once.
func (j *Journal) scanOps(ctx context.Context, runID int64, failedOnly bool, fn func(plan.OpRecord, []string)) error {
	var ps []journal.OpProgress[int64]
	err := j.readTx(ctx, func(tx pgx.Tx) error {
		f, last, _, err := readLog(ctx, tx, runID, 0)
		if err != nil {
			return err
		}
		q := `SELECT seq, op_key, state, attempts, ref, last_error, updated_at FROM ops WHERE run_id = $1`
		if failedOnly && last == 0 {
			q += ` AND state IN ('failed', 'skipped')`
		}
		rows, err := tx.Query(ctx, q+` ORDER BY seq`, runID)
		if err != nil {
			return err
		}
		ps, err = journal.ScanProgress[int64](rows, time.Time.UTC)
		rows.Close()
		if err != nil {
			return err
		}
		ps, err = journal.Overlay(ps, f, opKey, failedOnly)
		return err
	})
	if err != nil {
		return err
	}
	return journal.AttachBodies(ps, func(c int64) ([]byte, error) {
		var data []byte
		err := j.pool.QueryRow(ctx, `SELECT data FROM op_chunks WHERE run_id = $1 AND chunk = $2`, runID, c).Scan(&data)
		return data, err
	}, opKey, fn)
}
