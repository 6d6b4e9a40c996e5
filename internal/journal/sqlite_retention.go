package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

var (
	_ Pruner   = (*SQLite)(nil)
	_ Transfer = (*SQLite)(nil)
)

// Prune implements Pruner. The runs go in one transaction, their
// operations and chunks with them (ON DELETE CASCADE); then the freed
// pages are given back to the file system (auto_vacuum is incremental) and
// the WAL is truncated, so the file shrinks.
func (j *SQLite) Prune(ctx context.Context, req PruneRequest) (PruneResult, error) {
	if err := j.results.Flush(); err != nil {
		return PruneResult{}, fmt.Errorf("journal: %w", err)
	}
	var res PruneResult
	before, err := j.fileSize(ctx)
	if err != nil {
		return res, fmt.Errorf("journal: prune: %w", err)
	}
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, started_at, finished_at IS NOT NULL, outcome FROM runs`)
		if err != nil {
			return err
		}
		var all []RunAge
		for rows.Next() {
			var (
				r       RunAge
				started int64
			)
			if err := rows.Scan(&r.ID, &started, &r.Finished, &r.Outcome); err != nil {
				_ = rows.Close()
				return err
			}
			r.StartedAt = fromNanos(started)
			all = append(all, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		ids := Prunable(all, req, j.now())
		if len(ids) == 0 {
			return nil
		}
		list, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ops WHERE run_id IN (SELECT value FROM json_each(?))`,
			string(list)).Scan(&res.Ops); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))`, string(list)); err != nil {
			return err
		}
		res.Runs = ids
		return nil
	})
	if err != nil {
		return PruneResult{}, fmt.Errorf("journal: prune: %w", err)
	}
	if len(res.Runs) == 0 {
		return res, nil
	}
	if err := j.reclaim(ctx); err != nil {
		return res, fmt.Errorf("journal: prune: give space back: %w", err)
	}
	after, err := j.fileSize(ctx)
	if err != nil {
		return res, fmt.Errorf("journal: prune: %w", err)
	}
	res.Reclaimed = max(0, before-after)
	return res, nil
}

// reclaim frees the pages a delete left empty and truncates the WAL.
func (j *SQLite) reclaim(ctx context.Context) error {
	if _, err := j.w.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
		return err
	}
	_, err := j.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// fileSize is the database's size in bytes, WAL included.
func (j *SQLite) fileSize(ctx context.Context) (int64, error) {
	var pages, size int64
	if err := j.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return 0, err
	}
	if err := j.w.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// ExportRun implements Transfer.
func (j *SQLite) ExportRun(ctx context.Context, id int64) (*RunExport, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	run, err := j.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &RunExport{Run: *run, Records: map[string][]string{}}
	err = j.scanOps(ctx, id, false, func(rec plan.OpRecord, csv []string) {
		out.Ops = append(out.Ops, rec)
		if csv != nil {
			out.Records[rec.Op.ID] = csv
		}
	})
	if err != nil {
		return nil, fmt.Errorf("journal: export run %d: %w", id, err)
	}
	return out, nil
}

// ImportRun implements Transfer: the run under its own id (AUTOINCREMENT
// then numbers later runs after it), its operations with their states.
func (j *SQLite) ImportRun(ctx context.Context, r *RunExport) error {
	run := &r.Run
	args, err := json.Marshal(nonNil(RedactArgs(run.Args)))
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	header, err := json.Marshal(nonNil(run.Header))
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	summary, err := json.Marshal(nonNilMap(run.Summary))
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	planBlob, err := CompressPlan(run.Plan)
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	var finished any
	if run.FinishedAt != nil {
		finished = nanos(*run.FinishedAt)
	}
	ops := make([]plan.Op, len(r.Ops))
	states := make([][6]any, len(r.Ops))
	for i, o := range r.Ops {
		ops[i] = o.Op
		states[i] = [6]any{o.Op.ID, string(o.State), o.Attempts, o.Ref, o.LastError, nanos(o.UpdatedAt)}
	}
	list, err := json.Marshal(states)
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO runs (id, started_at, finished_at, csv_path, csv_digest, plan_digest,
				args, header, plan, outcome, summary, resumes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.ID, nanos(run.StartedAt), finished, run.CSVPath, run.CSVDigest, run.PlanDigest,
			string(args), string(header), planBlob, run.Outcome, string(summary), run.Resumes)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := insertOps(ctx, tx, run.ID, 0, ops, r.Records); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `WITH u AS MATERIALIZED (
				SELECT value ->> 0 AS id, value ->> 1 AS state, value ->> 2 AS attempts, value ->> 3 AS ref,
					value ->> 4 AS err, value ->> 5 AS updated FROM json_each(?))
			UPDATE ops SET state = u.state, attempts = u.attempts, ref = u.ref, last_error = u.err, updated_at = u.updated
			FROM u WHERE ops.run_id = ? AND ops.op_id = u.id`, string(list), run.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	return nil
}

// incrementalVacuum makes sure the file can give pages back (auto_vacuum =
// INCREMENTAL), which Prune relies on. A new file gets it from the
// connection's pragma before its first table exists; a journal made before
// retention existed is converted by one VACUUM, which also compacts what
// schema version 2 freed. The VACUUM is best effort: while another process
// reads the journal it cannot run, and the next Open tries again.
func (j *SQLite) incrementalVacuum(ctx context.Context) {
	var mode int
	if err := j.w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode == 2 {
		return
	}
	if _, err := j.w.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return
	}
	_, _ = j.w.ExecContext(ctx, `VACUUM`)
}
