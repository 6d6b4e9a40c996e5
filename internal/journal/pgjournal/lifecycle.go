package pgjournal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// Start implements journal.Lifecycle: the run, its operations (through
// COPY, the fastest way into PostgreSQL) and the carried updates in one
// transaction.
func (j *Journal) Start(ctx context.Context, nr journal.NewRun) (*journal.Active, error) {
	if err := j.results.Flush(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	id, err := j.start(ctx, nr)
	if err != nil {
		return nil, err
	}
	j.results.Known(id, journal.OpIDs(nr.Ops))
	ops, err := j.Ops(ctx, id)
	if err != nil {
		return nil, err
	}
	return &journal.Active{ID: id, Plan: nr.Info.Plan, Ops: ops}, nil
}

func (j *Journal) start(ctx context.Context, nr journal.NewRun) (int64, error) {
	info := nr.Info
	args, err := json.Marshal(nonNil(journal.RedactArgs(info.Args)))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	header, err := json.Marshal(nonNil(info.Header))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	planBlob, err := journal.CompressPlan(info.Plan)
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	now := j.now()
	j.foldLeftovers(ctx)
	var id int64
	err = j.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO runs (started_at, csv_path, csv_digest, plan_digest, args, header, plan)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			now, info.CSVPath, info.CSVDigest, info.PlanDigest, string(args), string(header), planBlob).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if err := insertOps(ctx, tx, id, now, nr.Ops, nr.Records); err != nil {
			return err
		}
		if len(nr.Carried) > 0 {
			if err := recordTx(ctx, tx, id, now, nr.Carried); err != nil {
				return fmt.Errorf("carry failures: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	return id, nil
}

// insertOps writes a run's operations: their bodies in compressed chunks
// and one progress row each (through COPY, the fastest way in).
func insertOps(ctx context.Context, tx pgx.Tx, runID int64, now time.Time, ops []plan.Op, records map[string][]string) error {
	seen := make(map[int64]string, len(ops))
	progress := make([][]any, len(ops))
	for i := range ops {
		op := &ops[i]
		if op.ID == "" {
			return fmt.Errorf("operation %d has no id", i)
		}
		key := opKey(op.ID)
		if other, dup := seen[key]; dup {
			if other == op.ID {
				return fmt.Errorf("operation id %q given twice", op.ID)
			}
			return fmt.Errorf("operation ids %q and %q have the same key: the run cannot be journaled", other, op.ID)
		}
		seen[key] = op.ID
		progress[i] = []any{runID, key, int32(i), string(plan.StatePending), now}
	}
	chunks := make([][]any, 0, (len(ops)+journal.ChunkSize-1)/journal.ChunkSize)
	for start := 0; start < len(ops); start += journal.ChunkSize {
		data, err := journal.EncodeChunk(ops[start:min(len(ops), start+journal.ChunkSize)], records)
		if err != nil {
			return err
		}
		chunks = append(chunks, []any{runID, int32(start / journal.ChunkSize), data})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"op_chunks"}, []string{"run_id", "chunk", "data"},
		pgx.CopyFromRows(chunks)); err != nil {
		return fmt.Errorf("insert operations: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ops"}, []string{"run_id", "op_key", "seq", "state", "updated_at"},
		pgx.CopyFromRows(progress)); err != nil {
		return fmt.Errorf("insert operations: %w", err)
	}
	return nil
}

// Resume implements journal.Lifecycle. The caller's apply lock keeps other
// applies out; the steps share one transaction anyway, so a Resume cut
// short leaves the run as it found it.
func (j *Journal) Resume(ctx context.Context, in journal.ResumeRequest) (journal.Resumption, error) {
	if err := j.results.Flush(); err != nil {
		return journal.Resumption{}, fmt.Errorf("journal: %w", err)
	}
	var out journal.Resumption
	if in.CSVDigest == "" && in.PlanDigest == "" {
		return out, nil
	}
	// Logs left by a holder that was killed (in practice the run about to
	// be resumed) go into their rows in bounded transactions first; the
	// transaction below folds what is left of the resumed run's.
	j.foldLeftovers(ctx)
	var runID int64
	var planBlob []byte
	err := j.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, outcome FROM runs
			WHERE ($1 <> '' AND csv_digest = $1) OR ($2 <> '' AND plan_digest = $2)
			ORDER BY id DESC`, in.CSVDigest, in.PlanDigest)
		if err != nil {
			return fmt.Errorf("find unfinished run: %w", err)
		}
		// journal.Resumable is the one definition of "unfinished"; the runs
		// sharing a digest are few (one a night), so they are filtered here.
		for rows.Next() {
			var id int64
			var outcome string
			if err := rows.Scan(&id, &outcome); err != nil {
				rows.Close()
				return fmt.Errorf("find unfinished run: %w", err)
			}
			if journal.Resumable(outcome) {
				runID = id
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find unfinished run: %w", err)
		}
		if runID == 0 {
			return nil
		}
		var newest int64
		if err := tx.QueryRow(ctx, `SELECT max(id) FROM runs`).Scan(&newest); err != nil {
			return fmt.Errorf("newest run: %w", err)
		}
		now := j.now()
		if newest != runID {
			if err := finishTx(ctx, tx, runID, now, journal.End{Outcome: journal.OutcomeSuperseded}); err != nil {
				return err
			}
			out.Superseded, out.SupersededBy = runID, newest
			runID = 0
			return nil
		}
		// The run's log (its holder was killed, or lost the lock) goes
		// into its rows before anything reads or resets them.
		if err := foldTx(ctx, tx, runID); err != nil {
			return err
		}
		if in.RetryFailed {
			if _, err := tx.Exec(ctx, `UPDATE ops SET state = 'pending', updated_at = $1
				WHERE run_id = $2 AND state IN ('failed', 'skipped')`, now, runID); err != nil {
				return fmt.Errorf("reset failed operations: %w", err)
			}
		}
		return tx.QueryRow(ctx, `UPDATE runs SET finished_at = NULL, outcome = '', resumes = resumes + 1
			WHERE id = $1 RETURNING plan`, runID).Scan(&planBlob)
	})
	if err != nil {
		if runID != 0 {
			return out, fmt.Errorf("journal: resume run %d: %w", runID, err)
		}
		return out, fmt.Errorf("journal: resume: %w", err)
	}
	if runID == 0 {
		return out, nil
	}
	ops, err := j.Ops(ctx, runID)
	if err != nil {
		return out, err
	}
	p, err := journal.DecompressPlan(planBlob)
	if err != nil {
		return out, fmt.Errorf("journal: resume run %d: %w", runID, err)
	}
	j.results.Known(runID, journal.RecordIDs(ops))
	out.Run = &journal.Active{ID: runID, Resumed: true, Plan: p, Ops: ops}
	return out, nil
}

// LastFailed implements journal.Lifecycle.
func (j *Journal) LastFailed(ctx context.Context, csvDigest, planDigest string) (int64, []plan.OpRecord, error) {
	if err := j.results.Flush(); err != nil {
		return 0, nil, fmt.Errorf("journal: %w", err)
	}
	if csvDigest == "" && planDigest == "" {
		return 0, nil, nil
	}
	var id int64
	err := j.pool.QueryRow(ctx, `SELECT id FROM runs
		WHERE (($1 <> '' AND csv_digest = $1) OR ($2 <> '' AND plan_digest = $2)) AND finished_at IS NOT NULL
		ORDER BY id DESC LIMIT 1`, csvDigest, planDigest).Scan(&id)
	if noRows(err) {
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

// MarkSent implements journal.Lifecycle: committed (with the server's
// synchronous_commit, on by default) before it returns.
func (j *Journal) MarkSent(ctx context.Context, runID int64, opIDs []string) error {
	if len(opIDs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(opIDs))
	seen := make(map[string]struct{}, len(opIDs))
	for _, id := range opIDs {
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	// Checked before anything is sent, so a bad id cannot fail the
	// results queued ahead of the mark.
	if err := j.results.Check(ctx, runID, ids); err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	staged, done, err := j.results.Take()
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	// One round trip, one implicit transaction, one WAL flush before the
	// request may go out: the results queued since the last commit
	// (journal/behind.go), then the mark, as one row of the progress log
	// (journal/oplog.go); no operation row is rewritten.
	rows, err := journal.LogRows(j.logNow(), staged, runID, ids)
	if err == nil {
		b := &pgx.Batch{}
		queueLog(b, rows)
		_, err = runBatch(ctx, j.pool, b)
	}
	done(err)
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	return nil
}

// Record implements journal.Lifecycle. The batch is checked at once (an
// unknown id or state is an error and changes nothing) and written behind
// the executor by the next MarkSent or in the background
// (journal/behind.go). It completes even when ctx is already cancelled.
func (j *Journal) Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	if err := j.results.Record(ctx, runID, updates); err != nil {
		return fmt.Errorf("journal: record: %w", err)
	}
	return nil
}

// writeResults is the result queue's background write. The results need
// not wait for the server's disk: if the server crashed before writing
// them, the operations would still be journaled as sent (MarkSent waits
// for the disk, and the server flushes its WAL in order, so a later mark
// never survives an earlier result), and a rerun checks sent operations
// against the live state before sending anything again. A killed numsync
// loses only what was queued, with the same outcome. All statements go in
// one round trip and one implicit transaction, to whose end
// set_config(..., true) is local.
func (j *Journal) writeResults(ctx context.Context, staged []journal.Staged) error {
	rows, err := journal.LogRows(j.logNow(), staged, 0, nil)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	queueLog(b, rows)
	if _, err := runBatch(ctx, j.pool, b); err != nil {
		return err
	}
	return j.foldBehind(ctx, rows)
}

// foldBehind is journal.FoldBehind for each run of rows, one row a
// transaction that does not wait for the server's disk (a fold lost in a
// crash takes its deletions with it).
func (j *Journal) foldBehind(ctx context.Context, rows []journal.LogRow) error {
	for _, r := range rows {
		var n int
		if err := j.pool.QueryRow(ctx, `SELECT count(*) FROM op_log WHERE run_id = $1`, r.RunID).Scan(&n); err != nil {
			return fmt.Errorf("fold progress log behind: %w", err)
		}
		err := journal.FoldBehind(n, j.results.Waiting, func() error {
			return j.inTx(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true)`); err != nil {
					return err
				}
				_, err := foldSomeTx(ctx, tx, r.RunID, 1)
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// logNow is the time a log entry is stamped with, at the microsecond
// timestamptz keeps, so an operation's updated_at reads the same before
// and after its log is folded (pgx truncates too).
func (j *Journal) logNow() time.Time { return j.now().Truncate(time.Microsecond) }

// runBatch sends b and returns every statement's result, in order.
func runBatch(ctx context.Context, pool *pgxpool.Pool, b *pgx.Batch) ([]pgconn.CommandTag, error) {
	br := pool.SendBatch(ctx, b)
	tags := make([]pgconn.CommandTag, 0, b.Len())
	var err error
	for range b.Len() {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err != nil {
			break
		}
		tags = append(tags, tag)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tags, err
}

// opIDs returns a run's operation ids, for the result queue's checks.
func (j *Journal) opIDs(ctx context.Context, runID int64) ([]string, error) {
	// The ids live in the chunks; the progress rows hold only their keys.
	var ids []string
	err := j.scanOps(ctx, runID, false, func(rec plan.OpRecord, _ []string) { ids = append(ids, rec.Op.ID) })
	return ids, err
}

// recordTx applies updates inside tx (Start's carried failures).
func recordTx(ctx context.Context, tx pgx.Tx, runID int64, now time.Time, updates []plan.OpUpdate) error {
	args, ids, err := recordArgs(now, runID, updates)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, recordSQL, args...)
	if err != nil {
		return err
	}
	return allOps(ctx, tx, tag.RowsAffected(), runID, ids)
}

// recordSQL stores a batch's results (recordArgs) — all of them, or none
// when one names no operation of the run.
const recordSQL = `UPDATE ops SET state = u.state,
		ref = CASE WHEN u.ref = '' THEN ops.ref ELSE u.ref END,
		last_error = u.err, updated_at = $1
	FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(key, state, ref, err)
	WHERE ops.run_id = $2 AND ops.op_key = u.key
		AND (SELECT count(*) FROM ops o WHERE o.run_id = $2 AND o.op_key = ANY($3)) = cardinality($3::bigint[])`

// recordArgs checks updates and returns recordSQL's arguments and the
// distinct ids; for an id given twice the last update counts.
func recordArgs(now time.Time, runID int64, updates []plan.OpUpdate) ([]any, []string, error) {
	pos := make(map[string]int, len(updates))
	var ids, states, refs, errs []string
	for _, u := range updates {
		if !journal.ValidState(u.State) {
			return nil, nil, fmt.Errorf("operation %s: invalid state %q", u.OpID, u.State)
		}
		if i, dup := pos[u.OpID]; dup {
			states[i], refs[i], errs[i] = string(u.State), u.Ref, u.Error
			continue
		}
		pos[u.OpID] = len(ids)
		ids = append(ids, u.OpID)
		states = append(states, string(u.State))
		refs = append(refs, u.Ref)
		errs = append(errs, u.Error)
	}
	return []any{now, runID, opKeys(ids), states, refs, errs}, ids, nil
}

// querier is a transaction or the pool.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// allOps checks that a batch update touched every one of the (distinct)
// ids; when it did not (the statements' guard then changed nothing), it
// names one that is missing.
func allOps(ctx context.Context, tx querier, n int64, runID int64, ids []string) error {
	if n == int64(len(ids)) {
		return nil
	}
	var have []int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(op_key), '{}') FROM ops WHERE run_id = $1 AND op_key = ANY($2)`,
		runID, opKeys(ids)).Scan(&have); err != nil {
		return err
	}
	found := make(map[int64]bool, len(have))
	for _, k := range have {
		found[k] = true
	}
	for _, id := range ids {
		if !found[opKey(id)] {
			return fmt.Errorf("run %d has no operation %q", runID, id)
		}
	}
	return fmt.Errorf("run %d: %d of %d operations updated", runID, n, len(ids))
}

// Finish implements journal.Lifecycle. It completes even when ctx is
// already cancelled, bounded by a timeout.
func (j *Journal) Finish(ctx context.Context, runID int64, end journal.End) error {
	if err := j.results.Flush(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	for v, n := range end.Held {
		if n < 0 {
			return fmt.Errorf("journal: finish run %d: negative count %d of %s", runID, n, v)
		}
	}
	// The log goes into the rows in bounded transactions first; finishTx
	// folds what was appended since (normally nothing), so a finished run
	// never has a log.
	if err := j.fold(context.WithoutCancel(ctx), runID); err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	now := j.now()
	if err := j.inTx(ctx, func(tx pgx.Tx) error { return finishTx(ctx, tx, runID, now, end) }); err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	return nil
}

func finishTx(ctx context.Context, tx pgx.Tx, runID int64, now time.Time, end journal.End) error {
	summary, err := json.Marshal(nonNilMap(end.Counts))
	if err != nil {
		return err
	}
	if err := foldTx(ctx, tx, runID); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE runs SET finished_at = $1, outcome = $2, summary = $3 WHERE id = $4`,
		now, end.Outcome, string(summary), runID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("run %d: %w", runID, journal.ErrNoRun)
	}
	for v, n := range end.Held {
		if err := setCountTx(ctx, tx, v, n, now); err != nil {
			return fmt.Errorf("set count of %s: %w", v, err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}
