package pgjournal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numsync/numsync/internal/journal"
)

// The PostgreSQL side of the progress log (journal/oplog.go).

// appendLogSQL appends one log row.
const appendLogSQL = `INSERT INTO op_log (run_id, data) VALUES ($1, $2)`

// queueLog queues appendLogSQL for each row.
func queueLog(b *pgx.Batch, rows []journal.LogRow) {
	for _, r := range rows {
		b.Queue(appendLogSQL, r.RunID, r.Data)
	}
}

// rowQuerier is a transaction or the pool: what the log's reads need.
type rowQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readLog reads the oldest limit rows of a run's log (all when limit is 0),
// in append order, and returns them with the id of the last one (0 when
// none), so a fold deletes exactly the rows it applied, and how many there
// were.
func readLog(ctx context.Context, q rowQuerier, runID int64, limit int) (*journal.Fold, int64, int, error) {
	query := `SELECT id, data FROM op_log WHERE run_id = $1 ORDER BY id`
	args := []any{runID}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read progress log: %w", err)
	}
	defer rows.Close()
	f := journal.NewFold()
	var last int64
	n := 0
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&last, &data); err != nil {
			return nil, 0, 0, err
		}
		if err := f.Add(data); err != nil {
			return nil, 0, 0, err
		}
		n++
	}
	return f, last, n, rows.Err()
}

// foldSQL writes a run's log into its rows: one row of unnest per
// operation, with its final state.
const foldSQL = `UPDATE ops SET state = u.state, attempts = ops.attempts + u.n,
		ref = CASE WHEN u.ref = '' THEN ops.ref ELSE u.ref END,
		last_error = CASE WHEN u.err_set THEN u.err ELSE ops.last_error END,
		updated_at = u.at
	FROM unnest($2::bigint[], $3::text[], $4::integer[], $5::text[], $6::boolean[], $7::text[], $8::timestamptz[])
		AS u(key, state, n, ref, err_set, err, at)
	WHERE ops.run_id = $1 AND ops.op_key = u.key`

// foldTx writes a run's log into its operations' rows, each once, and
// deletes the log rows it applied, inside tx.
func foldTx(ctx context.Context, tx pgx.Tx, runID int64) error {
	_, err := foldSomeTx(ctx, tx, runID, 0)
	return err
}

// fold folds a run's log in parts (journal.FoldInParts), each
// transaction with the journal's operation timeout.
func (j *Journal) fold(ctx context.Context, runID int64) error {
	err := journal.FoldInParts(ctx, func() (n int, err error) {
		cctx, cancel := detached(ctx)
		defer cancel()
		err = j.inTx(cctx, func(tx pgx.Tx) (err error) {
			n, err = foldSomeTx(cctx, tx, runID, journal.FoldRows)
			return err
		})
		return n, err
	})
	if err != nil {
		return fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	return nil
}

// foldSomeTx is foldTx for the oldest limit rows of the log (all when 0),
// and returns how many it folded. Folding a log's oldest rows and later the
// rest gives the rows what folding it whole would.
func foldSomeTx(ctx context.Context, tx pgx.Tx, runID int64, limit int) (int, error) {
	// Identity values are drawn when a row is inserted, not when it is
	// committed: without the lock, an append still uncommitted when the
	// log is read could commit with a lower id than the last one read,
	// and the DELETE below would remove it unapplied. EXCLUSIVE waits for
	// appends under way and holds new ones until this transaction ends;
	// readers (ACCESS SHARE) go on. Appends come from one holder at a
	// time; this guards against one that lost the lock and is still
	// writing.
	if _, err := tx.Exec(ctx, `LOCK TABLE op_log IN EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	f, last, folded, err := readLog(ctx, tx, runID, limit)
	if err != nil || last == 0 {
		return 0, err
	}
	changes := f.Changes()
	n := len(changes)
	ids := make([]string, n)
	states, refs, errs := make([]string, n), make([]string, n), make([]string, n)
	tries, errSet, at := make([]int32, n), make([]bool, n), make([]time.Time, n)
	for i, c := range changes {
		ids[i], states[i], refs[i], errs[i] = c.ID, string(c.State), c.Ref, c.Err
		tries[i], errSet[i], at[i] = int32(c.Attempts), c.ErrSet, time.Unix(0, c.At).UTC()
	}
	tag, err := tx.Exec(ctx, foldSQL, runID, opKeys(ids), states, tries, refs, errSet, errs, at)
	if err != nil {
		return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	if err := allOps(ctx, tx, tag.RowsAffected(), runID, ids); err != nil {
		return 0, fmt.Errorf("fold progress log: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM op_log WHERE run_id = $1 AND id <= $2`, runID, last); err != nil {
		return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	return folded, nil
}

// foldLeftovers folds, each in its own transaction, the logs a crash left
// on runs nobody resumed, so that they do not grow for ever. It is best
// effort: a log that cannot be folded stays for its run's readers and
// resume to report, and must not stop another run from starting.
func (j *Journal) foldLeftovers(ctx context.Context) {
	runs, err := loggedRuns(ctx, j.pool, `SELECT DISTINCT run_id FROM op_log`)
	if err != nil {
		return
	}
	for _, id := range runs {
		_ = j.fold(ctx, id)
	}
}

// loggedRuns returns the run ids a query over op_log gives.
func loggedRuns(ctx context.Context, q rowQuerier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read progress log: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read progress log: %w", err)
	}
	return ids, nil
}

// readTx runs fn in one read-only REPEATABLE READ transaction: one
// snapshot of the rows and the log, so a fold committed meanwhile is seen
// whole or not at all.
func (j *Journal) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := j.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(tx)
}
