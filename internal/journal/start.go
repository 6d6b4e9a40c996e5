package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// Start implements Lifecycle.
func (j *SQLite) Start(ctx context.Context, nr NewRun) (*Active, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	id, err := j.start(ctx, nr)
	if err != nil {
		return nil, err
	}
	j.results.Known(id, OpIDs(nr.Ops))
	ops, err := j.Ops(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Active{ID: id, Plan: nr.Info.Plan, Ops: ops}, nil
}

// startRun records a new run and its operations, as Start without the
// carried updates, and returns the run's id.
func (j *SQLite) startRun(ctx context.Context, info RunInfo, ops []plan.Op, records map[string][]string) (int64, error) {
	return j.start(ctx, NewRun{Info: info, Ops: ops, Records: records})
}

// start records a new run, all its operations (state pending) and the
// carried updates in one transaction and returns the run's id.
func (j *SQLite) start(ctx context.Context, nr NewRun) (int64, error) {
	info, ops, records := nr.Info, nr.Ops, nr.Records
	args, err := json.Marshal(nonNil(RedactArgs(info.Args)))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	header, err := json.Marshal(nonNil(info.Header))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	planBlob, err := CompressPlan(info.Plan)
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	now := nanos(j.now())

	j.foldLeftovers(ctx)
	var id int64
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (started_at, csv_path, csv_digest, plan_digest, args, header, plan)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			now, info.CSVPath, info.CSVDigest, info.PlanDigest, string(args), string(header), planBlob)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := insertOps(ctx, tx, id, now, ops, records); err != nil {
			return err
		}
		if len(nr.Carried) == 0 {
			return nil
		}
		if err := j.recordTx(ctx, tx, id, nr.Carried); err != nil {
			return fmt.Errorf("carry failures: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	return id, nil
}

func insertOps(ctx context.Context, tx *sql.Tx, runID, now int64, ops []plan.Op, records map[string][]string) error {
	// The bodies go in compressed chunks of ChunkSize (chunks.go); each
	// operation's progress row refers to its place in plan order (body =
	// sequence number within the run), which also names its chunk.
	seen := make(map[string]struct{}, len(ops))
	for i := range ops {
		if ops[i].ID == "" {
			return fmt.Errorf("operation %d has no id", i)
		}
		if _, dup := seen[ops[i].ID]; dup {
			return fmt.Errorf("operation id %q given twice", ops[i].ID)
		}
		seen[ops[i].ID] = struct{}{}
	}
	chunks := newChunkInsert(tx, `INSERT INTO op_chunks (run_id, chunk, data) VALUES `, 3, "")
	progress := newChunkInsert(tx, `INSERT INTO ops (run_id, op_id, body, state, updated_at) VALUES `, 5, "")
	defer chunks.close()
	defer progress.close()
	cargs := make([]any, 0, insertChunk*3)
	for start := 0; start < len(ops); start += ChunkSize * insertChunk {
		cargs = cargs[:0]
		rows := 0
		for c := start; c < min(len(ops), start+ChunkSize*insertChunk); c += ChunkSize {
			data, err := EncodeChunk(ops[c:min(len(ops), c+ChunkSize)], records)
			if err != nil {
				return err
			}
			cargs = append(cargs, runID, c/ChunkSize, data)
			rows++
		}
		if err := chunks.exec(ctx, rows, cargs); err != nil {
			return fmt.Errorf("insert operations: %w", err)
		}
	}
	pargs := make([]any, 0, insertChunk*5)
	for start := 0; start < len(ops); start += insertChunk {
		end := min(start+insertChunk, len(ops))
		pargs = pargs[:0]
		for i := start; i < end; i++ {
			pargs = append(pargs, runID, ops[i].ID, i, string(plan.StatePending), now)
		}
		if err := progress.exec(ctx, end-start, pargs); err != nil {
			return fmt.Errorf("insert operations %d-%d: %w", start, end-1, err)
		}
	}
	return nil
}

// findUnfinished returns the newest resumable run (see Resumable) whose CSV
// digest or plan digest equals the given one; empty digests match nothing.
func (j *SQLite) findUnfinished(ctx context.Context, csvDigest, planDigest string) (*Run, bool, error) {
	if csvDigest == "" && planDigest == "" {
		return nil, false, nil
	}
	// Resumable is the one definition of "unfinished"; the runs sharing a
	// digest are few (one a night for an unchanged CSV), so they are
	// filtered here rather than in SQL.
	rows, err := j.r.QueryContext(ctx, `SELECT id, outcome FROM runs
		WHERE (? != '' AND csv_digest = ?) OR (? != '' AND plan_digest = ?)
		ORDER BY id DESC`, csvDigest, csvDigest, planDigest, planDigest)
	if err != nil {
		return nil, false, fmt.Errorf("journal: find unfinished run: %w", err)
	}
	var id int64
	found := false
	for rows.Next() {
		var outcome string
		if err := rows.Scan(&id, &outcome); err != nil {
			_ = rows.Close()
			return nil, false, fmt.Errorf("journal: find unfinished run: %w", err)
		}
		if Resumable(outcome) {
			found = true
			break
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, fmt.Errorf("journal: find unfinished run: %w", err)
	}
	if !found {
		return nil, false, nil
	}
	run, err := j.Run(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return run, true, nil
}

// resumeRun marks a run as continued by a rerun: it is open again (no
// finish time, no outcome) and its resume count goes up.
func (j *SQLite) resumeRun(ctx context.Context, runID int64) error {
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET finished_at = NULL, outcome = '', resumes = resumes + 1 WHERE id = ?`, runID)
		if err != nil {
			return err
		}
		return oneRow(res, runID)
	})
	if err != nil {
		return fmt.Errorf("journal: resume run %d: %w", runID, err)
	}
	return nil
}

// resetFailed puts a run's failed and skipped operations back to pending
// (for --retry-failed) and returns how many there were. Their attempts and
// last error are kept for the record.
func (j *SQLite) resetFailed(ctx context.Context, runID int64) (int, error) {
	var n int64
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		if err := foldTx(ctx, tx, runID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE ops SET state = 'pending', updated_at = ?
			WHERE run_id = ? AND state IN ('failed', 'skipped')`, nanos(j.now()), runID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("journal: reset failed operations of run %d: %w", runID, err)
	}
	return int(n), nil
}

// Resume implements Lifecycle. Its steps are separate transactions; the
// caller's apply lock keeps other applies out between them.
func (j *SQLite) Resume(ctx context.Context, in ResumeRequest) (Resumption, error) {
	if err := j.results.Flush(); err != nil {
		return Resumption{}, fmt.Errorf("journal: %w", err)
	}
	var out Resumption
	run, found, err := j.findUnfinished(ctx, in.CSVDigest, in.PlanDigest)
	if err != nil || !found {
		return out, err
	}
	// The run's log (its holder was killed, or lost the lock) goes into
	// its rows before anything reads or resets them.
	if err := j.fold(ctx, run.ID); err != nil {
		return out, err
	}
	var newest int64
	if err := j.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM runs`).Scan(&newest); err != nil {
		return out, fmt.Errorf("journal: resume run %d: %w", run.ID, err)
	}
	if newest != run.ID {
		if err := j.finish(ctx, run.ID, End{Outcome: OutcomeSuperseded}); err != nil {
			return out, err
		}
		out.Superseded, out.SupersededBy = run.ID, newest
		return out, nil
	}
	if in.RetryFailed {
		if _, err := j.resetFailed(ctx, run.ID); err != nil {
			return out, err
		}
	}
	ops, err := j.Ops(ctx, run.ID)
	if err != nil {
		return out, err
	}
	if err := j.resumeRun(ctx, run.ID); err != nil {
		return out, err
	}
	j.results.Known(run.ID, RecordIDs(ops))
	out.Run = &Active{ID: run.ID, Resumed: true, Plan: run.Plan, Ops: ops}
	return out, nil
}

// LastFailed implements Lifecycle.
func (j *SQLite) LastFailed(ctx context.Context, csvDigest, planDigest string) (int64, []plan.OpRecord, error) {
	if err := j.results.Flush(); err != nil {
		return 0, nil, fmt.Errorf("journal: %w", err)
	}
	if csvDigest == "" && planDigest == "" {
		return 0, nil, nil
	}
	var id int64
	err := j.r.QueryRowContext(ctx, `SELECT id FROM runs
		WHERE ((? != '' AND csv_digest = ?) OR (? != '' AND plan_digest = ?)) AND finished_at IS NOT NULL
		ORDER BY id DESC LIMIT 1`, csvDigest, csvDigest, planDigest, planDigest).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("journal: last failures: %w", err)
	}
	var failed []plan.OpRecord
	err = j.scanOps(ctx, id, true, func(rec plan.OpRecord, _ []string) {
		if rec.State == plan.StateFailed {
			failed = append(failed, rec)
		}
	})
	if err != nil {
		return 0, nil, fmt.Errorf("journal: failed operations of run %d: %w", id, err)
	}
	return id, failed, nil
}
