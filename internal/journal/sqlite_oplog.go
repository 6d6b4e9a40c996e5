package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// The SQLite side of the progress log (oplog.go).

// queryer is a transaction or a pool: what the log's reads need.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// appendLog appends log rows inside tx.
func appendLog(ctx context.Context, tx *sql.Tx, rows []LogRow) error {
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO op_log (run_id, data) VALUES (?, ?)`, r.RunID, r.Data); err != nil {
			return fmt.Errorf("append progress log: %w", err)
		}
	}
	return nil
}

// readLog reads a run's log, in append order. ok is false when the run has
// none.
func readLog(ctx context.Context, q queryer, runID int64) (f *Fold, ok bool, err error) {
	f, last, _, err := readLogUpTo(ctx, q, runID, 0)
	return f, last > 0, err
}

// readLogUpTo reads the oldest limit rows of a run's log (all when limit is
// 0) and returns them with the id of the last one (0 when none), so a fold
// deletes exactly the rows it applied, and how many there were.
func readLogUpTo(ctx context.Context, q queryer, runID int64, limit int) (f *Fold, last int64, n int, err error) {
	if limit == 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := q.QueryContext(ctx, `SELECT id, data FROM op_log WHERE run_id = ? ORDER BY id LIMIT ?`, runID, limit)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read progress log: %w", err)
	}
	defer rows.Close()
	f = NewFold()
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

// foldSQL writes one group of a fold: ?6 is an object from operation id
// to ref. The group must be the outer loop, each of its rows one primary
// key lookup (TestFoldPlan): given the bare key, SQLite's planner walks
// the whole run instead, probing the group for each row, which made a fold
// six times slower; MATERIALIZED and an expression on the key steer it.
const foldSQL = `WITH u AS MATERIALIZED (SELECT key || '' AS id, value AS ref FROM json_each(?6))
	UPDATE ops SET state = ?1, attempts = attempts + ?2,
		ref = CASE WHEN u.ref = '' THEN ops.ref ELSE u.ref END,
		last_error = CASE WHEN ?3 THEN ?4 ELSE ops.last_error END, updated_at = ?5
	FROM u WHERE ops.run_id = ?7 AND ops.op_id = u.id`

// foldTx writes a run's log into its operations' rows, each once with its
// final state, and deletes it, inside tx.
func foldTx(ctx context.Context, tx *sql.Tx, runID int64) error {
	_, err := foldSomeTx(ctx, tx, runID, 0)
	return err
}

// foldSomeTx is foldTx for the oldest limit rows of the log (all when 0),
// and returns how many it folded. Folding a log's oldest rows and later the
// rest gives the rows what folding it whole would.
func foldSomeTx(ctx context.Context, tx *sql.Tx, runID int64, limit int) (int, error) {
	f, last, folded, err := readLogUpTo(ctx, tx, runID, limit)
	if err != nil || last == 0 {
		return 0, err
	}
	// The changes go in groups that share all but the id and ref (in
	// practice one per batch of results), each an object from id to ref:
	// json_each then yields both as plain values, where one array per
	// operation would be parsed again for each of its fields, which was
	// as slow as the row updates themselves.
	type group struct {
		state  plan.OpState
		n      int
		errSet bool
		err    string
		at     int64
	}
	changes := f.Changes()
	byGroup := map[group]map[string]string{}
	var order []group
	for _, c := range changes {
		g := group{c.State, c.Attempts, c.ErrSet, c.Err, c.At}
		refs, ok := byGroup[g]
		if !ok {
			refs = map[string]string{}
			byGroup[g] = refs
			order = append(order, g)
		}
		refs[c.ID] = c.Ref
	}
	stmt, err := tx.PrepareContext(ctx, foldSQL)
	if err != nil {
		return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	defer stmt.Close()
	var updated int64
	for _, g := range order {
		// encoding/json writes a map's keys sorted: the rows are met in
		// primary key order.
		refs, err := json.Marshal(byGroup[g])
		if err != nil {
			return 0, err
		}
		res, err := stmt.ExecContext(ctx, string(g.state), g.n, g.errSet, g.err, g.at, string(refs), runID)
		if err != nil {
			return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		updated += n
	}
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	if err := allOps(ctx, tx, affected(updated), runID, ids); err != nil {
		return 0, fmt.Errorf("fold progress log: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM op_log WHERE run_id = ? AND id <= ?`, runID, last); err != nil {
		return 0, fmt.Errorf("fold progress log of run %d: %w", runID, err)
	}
	return folded, nil
}

// affected is the sql.Result of several statements: the rows they changed.
type affected int64

func (a affected) LastInsertId() (int64, error) { return 0, errors.New("no insert") }
func (a affected) RowsAffected() (int64, error) { return int64(a), nil }

// foldLeftovers folds, each in its own transaction, the logs a crash left
// on runs nobody resumed, so that they do not grow for ever. It is best
// effort: a log that cannot be folded stays for its run's readers and
// resume to report, and must not stop another run from starting.
func (j *SQLite) foldLeftovers(ctx context.Context) {
	runs, err := loggedRuns(ctx, j.r, `SELECT DISTINCT run_id FROM op_log`)
	if err != nil {
		return
	}
	for _, id := range runs {
		_ = j.fold(ctx, id)
	}
}

// loggedRuns returns the run ids a query over op_log gives.
func loggedRuns(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read progress log: %w", err)
	}
	var runs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, err
		}
		runs = append(runs, id)
	}
	return runs, errors.Join(rows.Err(), rows.Close())
}

// fold folds a run's log in parts (FoldInParts), each transaction with
// the journal's write timeout.
func (j *SQLite) fold(ctx context.Context, runID int64) error {
	err := FoldInParts(ctx, func() (n int, err error) {
		cctx, cancel := detached(ctx)
		defer cancel()
		err = j.inTx(cctx, func(tx *sql.Tx) (err error) {
			n, err = foldSomeTx(cctx, tx, runID, FoldRows)
			return err
		})
		return n, err
	})
	if err != nil {
		return fmt.Errorf("journal: fold progress log of run %d: %w", runID, err)
	}
	return nil
}

// readTx runs fn in one read transaction: one snapshot of the rows and the
// log, so a fold committed meanwhile is seen whole or not at all.
func (j *SQLite) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := j.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}
