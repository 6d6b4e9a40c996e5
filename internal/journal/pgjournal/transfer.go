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

var (
	_ journal.Pruner   = (*Journal)(nil)
	_ journal.Transfer = (*Journal)(nil)
)

// Prune implements journal.Pruner. The runs go in one transaction, their
// operations with them (ON DELETE CASCADE); PostgreSQL's autovacuum makes
// the space reusable.
func (j *Journal) Prune(ctx context.Context, req journal.PruneRequest) (journal.PruneResult, error) {
	if err := j.results.Flush(); err != nil {
		return journal.PruneResult{}, fmt.Errorf("journal: %w", err)
	}
	var res journal.PruneResult
	err := j.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the runs table against a concurrent Start, so ranks do not
		// move under the decision.
		if _, err := tx.Exec(ctx, `LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, started_at, finished_at IS NOT NULL, outcome FROM runs`)
		if err != nil {
			return err
		}
		var all []journal.RunAge
		for rows.Next() {
			var r journal.RunAge
			if err := rows.Scan(&r.ID, &r.StartedAt, &r.Finished, &r.Outcome); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := journal.Prunable(all, req, j.now())
		if len(ids) == 0 {
			return nil
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM ops WHERE run_id = ANY($1)`, ids).Scan(&res.Ops); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM runs WHERE id = ANY($1)`, ids); err != nil {
			return err
		}
		res.Runs = ids
		return nil
	})
	if err != nil {
		return journal.PruneResult{}, fmt.Errorf("journal: prune: %w", err)
	}
	return res, nil
}

// ExportRun implements journal.Transfer.
func (j *Journal) ExportRun(ctx context.Context, id int64) (*journal.RunExport, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	run, err := j.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &journal.RunExport{Run: *run, Records: map[string][]string{}}
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

// ImportRun implements journal.Transfer: the run under its own id, its
// operations with their states, and the id sequence moved past it.
func (j *Journal) ImportRun(ctx context.Context, r *journal.RunExport) error {
	run := &r.Run
	args, err := json.Marshal(nonNil(journal.RedactArgs(run.Args)))
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
	planBlob, err := journal.CompressPlan(run.Plan)
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	ops := make([]plan.Op, len(r.Ops))
	for i := range r.Ops {
		ops[i] = r.Ops[i].Op
	}
	err = j.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO runs (id, started_at, finished_at, csv_path, csv_digest, plan_digest,
				args, header, plan, outcome, summary, resumes)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			run.ID, run.StartedAt, run.FinishedAt, run.CSVPath, run.CSVDigest, run.PlanDigest,
			string(args), string(header), planBlob, run.Outcome, string(summary), run.Resumes)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := insertOps(ctx, tx, run.ID, time.Time{}, ops, r.Records); err != nil {
			return err
		}
		// The states as they were, in one statement.
		n := len(r.Ops)
		keys, states, refs, errs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		attempts, updated := make([]int32, n), make([]time.Time, n)
		for i, o := range r.Ops {
			keys[i], states[i], refs[i], errs[i] = opKey(o.Op.ID), string(o.State), o.Ref, o.LastError
			attempts[i], updated[i] = int32(o.Attempts), o.UpdatedAt
		}
		_, err = tx.Exec(ctx, `UPDATE ops SET state = u.state, attempts = u.attempts, ref = u.ref, last_error = u.err, updated_at = u.updated
			FROM unnest($2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[]) AS u(key, state, attempts, ref, err, updated)
			WHERE ops.run_id = $1 AND ops.op_key = u.key`, run.ID, keys, states, attempts, refs, errs, updated)
		if err != nil {
			return fmt.Errorf("operation states: %w", err)
		}
		// Runs started here later must get higher ids than every copied one.
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('runs', 'id'), (SELECT max(id) FROM runs))`)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: import run %d: %w", run.ID, err)
	}
	return nil
}
