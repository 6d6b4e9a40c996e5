package journal

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// MarkSent implements Lifecycle: one transaction, committed before the
// request goes out, so if the process dies before the answer is journaled
// the rerun knows to check the live state before sending again.
func (j *SQLite) MarkSent(ctx context.Context, runID int64, opIDs []string) error {
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
	// Checked before the transaction, so a bad id cannot roll back the
	// results queued ahead of the mark.
	if err := j.results.Check(ctx, runID, ids); err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	staged, done, err := j.results.Take()
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	// The results queued since the last commit go first, then the mark,
	// as one row of the progress log (oplog.go): one commit, one sync
	// for both, and no operation row rewritten.
	rows, err := LogRows(j.now(), staged, runID, ids)
	if err == nil {
		err = j.inTx(ctx, func(tx *sql.Tx) error { return appendLog(ctx, tx, rows) })
	}
	done(err)
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	return nil
}

// Record implements Lifecycle. The batch is checked at once (an unknown
// id or state is an error and changes nothing) and written behind the
// executor, in one transaction, by the next MarkSent or in the background
// (behind.go argues why that is safe). It completes even when ctx is
// already cancelled: an answer the vendor gave must reach the journal.
func (j *SQLite) Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error {
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

// writeResults is the result queue's background write: one transaction
// that does not wait for the disk. The connection is held for it, so
// synchronous=NORMAL covers this commit only: in WAL mode NORMAL skips the
// sync at commit (the next FULL commit, a MarkSent, syncs the WAL up to
// and including these frames) but still syncs at checkpoints, so the file
// stays consistent; only these results could be lost, by a crash of the
// host, and they are then journaled as sent (behind.go).
func (j *SQLite) writeResults(ctx context.Context, staged []Staged) (err error) {
	conn, err := j.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if j.opts.sync != "NORMAL" {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			return err
		}
		defer func() {
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = `+j.opts.sync); rerr != nil {
				// A connection left without its syncs must not serve a
				// MarkSent: drop it; the pool opens a new one (FULL, from
				// the DSN).
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, rerr)
			}
		}()
	}
	rows, err := LogRows(j.now(), staged, 0, nil)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := appendLog(ctx, tx, rows); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return j.foldBehind(ctx, conn, rows)
}

// foldBehind is FoldBehind (oplog.go) for each run of rows, one row a
// transaction on conn, the background write's, without a sync (a fold lost
// in a crash takes its deletions with it).
func (j *SQLite) foldBehind(ctx context.Context, conn *sql.Conn, rows []LogRow) error {
	for _, r := range rows {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM op_log WHERE run_id = ?`, r.RunID).Scan(&n); err != nil {
			return fmt.Errorf("fold progress log behind: %w", err)
		}
		err := FoldBehind(n, j.results.Waiting, func() error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := foldSomeTx(ctx, tx, r.RunID, 1); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// opIDs returns a run's operation ids, for the result queue's checks.
func (j *SQLite) opIDs(ctx context.Context, runID int64) ([]string, error) {
	rows, err := j.r.QueryContext(ctx, `SELECT op_id FROM ops WHERE run_id = ?`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// recordTx applies updates inside tx: each operation's new state, its
// error text (cleared when empty) and, when not empty, its vendor
// reference. An unknown id or state is an error (the caller rolls back);
// when an id appears more than once, its last update counts.
func (j *SQLite) recordTx(ctx context.Context, tx *sql.Tx, runID int64, updates []plan.OpUpdate) error {
	rows := make([][4]string, 0, len(updates))
	ids := make([]string, 0, len(updates))
	pos := make(map[string]int, len(updates))
	for _, u := range updates {
		if !validState(u.State) {
			return fmt.Errorf("operation %s: invalid state %q", u.OpID, u.State)
		}
		row := [4]string{u.OpID, string(u.State), u.Ref, u.Error}
		if i, dup := pos[u.OpID]; dup {
			rows[i] = row
			continue
		}
		pos[u.OpID] = len(rows)
		rows = append(rows, row)
		ids = append(ids, u.OpID)
	}
	list, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	// MATERIALIZED makes the batch the outer loop, each row one primary
	// key lookup; left to itself the planner scans the run's operations
	// once per row of the batch.
	res, err := tx.ExecContext(ctx, `WITH u AS MATERIALIZED (
			SELECT value ->> 0 AS id, value ->> 1 AS state, value ->> 2 AS ref, value ->> 3 AS err
			FROM json_each(?))
		UPDATE ops SET state = u.state,
			ref = CASE WHEN u.ref = '' THEN ops.ref ELSE u.ref END,
			last_error = u.err, updated_at = ?
		FROM u WHERE ops.run_id = ? AND ops.op_id = u.id`, string(list), nanos(j.now()), runID)
	if err != nil {
		return err
	}
	return allOps(ctx, tx, res, runID, ids)
}

// allOps checks that a batch update touched every one of the (distinct)
// ids; when it did not, it names one that is missing, and the caller rolls
// the batch back.
func allOps(ctx context.Context, tx *sql.Tx, res sql.Result, runID int64, ids []string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == int64(len(ids)) {
		return nil
	}
	for _, id := range ids {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM ops WHERE run_id = ? AND op_id = ?`, runID, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("run %d has no operation %q", runID, id)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("run %d: %d of %d operations updated", runID, n, len(ids))
}
