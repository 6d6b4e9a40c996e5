package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Outcomes a run is finished with. Any string is accepted by FinishRun;
// these are the ones numsync uses, and Resumable decides which of them leave
// the run open to a rerun.
const (
	// OutcomeDone: every operation done.
	OutcomeDone = "done"
	// OutcomeFailed: the run went through, some operations failed for good.
	OutcomeFailed = "failed"
	// OutcomeInterrupted: stopped by a signal or --max-duration; resumable.
	OutcomeInterrupted = "interrupted"
	// OutcomeRefused: refused by a safety check before anything was sent.
	OutcomeRefused = "refused"
)

// Resumable reports whether a run with this outcome is continued by a rerun
// with the same CSV or plan: a run never finished (the process died, outcome
// "") or one interrupted on purpose. A run that went through, with or
// without failures, is closed: the next run plans afresh from live state,
// which also corrects any drift since.
func Resumable(outcome string) bool {
	return outcome == "" || outcome == OutcomeInterrupted
}

// RunInfo describes a run as it starts.
type RunInfo struct {
	// CSVPath is the desired-state file as given on the command line.
	CSVPath string
	// CSVDigest is the hex SHA-256 of the CSV's bytes ("" for a run from a
	// saved plan whose CSV is not at hand).
	CSVDigest string
	// PlanDigest identifies the saved plan applied ("" for apply --desired).
	PlanDigest string
	// Args are the command-line arguments, secrets already stripped by the
	// caller; RedactArgs is applied again before they are stored.
	Args []string
	// Header is the CSV header row as written, for writing failed rows back.
	Header []string
	// Plan is the saved-plan JSON.
	Plan []byte
}

// Run is a journaled run.
type Run struct {
	ID         int64
	StartedAt  time.Time
	FinishedAt *time.Time // nil while the run is open
	CSVPath    string
	CSVDigest  string
	PlanDigest string
	Args       []string
	Header     []string
	// Outcome is "" while the run is open, else what FinishRun was given.
	Outcome string
	// Counts holds the number of operations per state (every plan.OpState
	// key present, zero included), read from the operations themselves.
	Counts map[string]int
	// Summary is the counts map given to FinishRun, as given.
	Summary map[string]int
	// Resumes is how many times the run was continued by a rerun.
	Resumes int
	// Plan is the saved-plan JSON. Runs leaves it nil (it can be large);
	// Run and FindUnfinished fill it in.
	Plan []byte
}

// Total returns the number of operations in the run.
func (r *Run) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// FailedOp is a failed (or skipped) operation with the CSV record it came
// from, for writing it back to a spreadsheet.
type FailedOp struct {
	Record plan.OpRecord
	// CSVRecord is the row's original cells in header order, nil when the
	// operation came from no CSV row (prune) or none was given.
	CSVRecord []string
}

// ErrNoRun is returned (wrapped) when a run id is not in the journal.
var ErrNoRun = errors.New("no such run")

// insertChunk is how many rows one multi-row INSERT carries; 64 rows of at
// most 8 columns stay far below SQLite's bound-parameter limit.
const insertChunk = 64

// StartRun records a new run and all its operations (state pending) in one
// transaction and returns the run's id. records maps an operation id to the
// original CSV record of its row; it may be nil.
func (j *Journal) StartRun(ctx context.Context, info RunInfo, ops []plan.Op, records map[string][]string) (int64, error) {
	args, err := json.Marshal(nonNil(RedactArgs(info.Args)))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	header, err := json.Marshal(nonNil(info.Header))
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	now := nanos(j.now())

	var id int64
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (started_at, csv_path, csv_digest, plan_digest, args, header, plan)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			now, info.CSVPath, info.CSVDigest, info.PlanDigest, string(args), string(header), info.Plan)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		return insertOps(ctx, tx, id, now, ops, records)
	})
	if err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	return id, nil
}

func insertOps(ctx context.Context, tx *sql.Tx, runID, now int64, ops []plan.Op, records map[string][]string) error {
	// Body ids are given here rather than by SQLite, so the operations can
	// refer to their bodies without a read-back; the transaction holds the
	// write lock, so nobody else can take them meanwhile.
	var base int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM op_bodies`).Scan(&base); err != nil {
		return fmt.Errorf("read body ids: %w", err)
	}
	bodies := newChunkInsert(tx, `INSERT INTO op_bodies (id, run_id, vendor, action, number, line, op, csv_record) VALUES `, 8, "")
	progress := newChunkInsert(tx, `INSERT INTO ops (run_id, op_id, body, state, updated_at) VALUES `, 5, "")
	defer bodies.close()
	defer progress.close()

	bargs := make([]any, 0, insertChunk*8)
	pargs := make([]any, 0, insertChunk*5)
	for start := 0; start < len(ops); start += insertChunk {
		end := min(start+insertChunk, len(ops))
		bargs, pargs = bargs[:0], pargs[:0]
		for i := start; i < end; i++ {
			op := &ops[i]
			if op.ID == "" {
				return fmt.Errorf("operation %d has no id", i)
			}
			body, err := json.Marshal(op)
			if err != nil {
				return fmt.Errorf("encode operation %s: %w", op.ID, err)
			}
			var rec any // NULL unless a record was given
			if r, ok := records[op.ID]; ok && r != nil {
				b, err := json.Marshal(r)
				if err != nil {
					return fmt.Errorf("encode record of %s: %w", op.ID, err)
				}
				rec = string(b)
			}
			bid := base + int64(i) + 1
			bargs = append(bargs, bid, runID, string(op.Vendor), string(op.Action), op.Number, op.Line, string(body), rec)
			pargs = append(pargs, runID, op.ID, bid, string(plan.StatePending), now)
		}
		if err := bodies.exec(ctx, end-start, bargs); err != nil {
			return fmt.Errorf("insert operations %d-%d: %w", start, end-1, err)
		}
		if err := progress.exec(ctx, end-start, pargs); err != nil {
			return fmt.Errorf("insert operations %d-%d: %w", start, end-1, err)
		}
	}
	return nil
}

// chunkInsert runs multi-row INSERTs of up to insertChunk rows, the full
// size from one prepared statement. Fewer statement executions matter more
// than anything else for bulk inserts through the pure-Go driver.
type chunkInsert struct {
	tx     *sql.Tx
	prefix string
	cols   int
	suffix string
	full   *sql.Stmt
}

func newChunkInsert(tx *sql.Tx, prefix string, cols int, suffix string) *chunkInsert {
	return &chunkInsert{tx: tx, prefix: prefix, cols: cols, suffix: suffix}
}

func (c *chunkInsert) sql(rows int) string {
	var b strings.Builder
	b.WriteString(c.prefix)
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", c.cols), ",") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(c.suffix)
	return b.String()
}

// exec inserts rows rows whose values are args, in order.
func (c *chunkInsert) exec(ctx context.Context, rows int, args []any) error {
	if rows != insertChunk {
		_, err := c.tx.ExecContext(ctx, c.sql(rows), args...)
		return err
	}
	if c.full == nil {
		st, err := c.tx.PrepareContext(ctx, c.sql(insertChunk))
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		c.full = st
	}
	_, err := c.full.ExecContext(ctx, args...)
	return err
}

func (c *chunkInsert) close() {
	if c.full != nil {
		_ = c.full.Close()
	}
}

// ResumeRun marks a run as continued by a rerun: it is open again (no
// finish time, no outcome) and its resume count goes up.
func (j *Journal) ResumeRun(ctx context.Context, runID int64) error {
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

// FinishRun closes a run with an outcome (OutcomeDone, …) and the caller's
// summary counts. It completes even when ctx is already cancelled (the end
// of an interrupted run must still be written), bounded by a timeout.
func (j *Journal) FinishRun(ctx context.Context, runID int64, outcome string, counts map[string]int) error {
	summary, err := json.Marshal(nonNilMap(counts))
	if err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	now := nanos(j.now())
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?`,
			now, outcome, string(summary), runID)
		if err != nil {
			return err
		}
		return oneRow(res, runID)
	})
	if err != nil {
		return fmt.Errorf("journal: finish run %d: %w", runID, err)
	}
	return nil
}

// MarkSent marks operations as sent, one attempt more each, in one
// transaction committed before the request goes out: if the process dies
// before the answer is journaled, the rerun knows to check the live state
// before sending again. Every id must belong to the run, or nothing changes.
// An id given twice counts one attempt.
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
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	now := nanos(j.now())
	// One statement for the whole batch: with the pure-Go driver each
	// execution costs more than the row updates themselves.
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ops SET state = 'sent', attempts = attempts + 1, updated_at = ?
			WHERE run_id = ? AND op_id IN (SELECT value FROM json_each(?))`, now, runID, string(list))
		if err != nil {
			return err
		}
		return allOps(ctx, tx, res, runID, ids)
	})
	if err != nil {
		return fmt.Errorf("journal: mark sent: %w", err)
	}
	return nil
}

// Record stores the results of one batch in one transaction: each
// operation's new state, its error text (cleared when empty) and, when not
// empty, its vendor reference. An unknown id or state changes nothing. When
// an id appears more than once, its last update counts.
//
// Record completes even when ctx is already cancelled, bounded by a
// timeout: an answer the vendor gave must reach the journal, or the rerun
// would have to check those numbers again.
func (j *Journal) Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	rows := make([][4]string, 0, len(updates))
	ids := make([]string, 0, len(updates))
	pos := make(map[string]int, len(updates))
	for _, u := range updates {
		if !validState(u.State) {
			return fmt.Errorf("journal: record: operation %s: invalid state %q", u.OpID, u.State)
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
		return fmt.Errorf("journal: record: %w", err)
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	now := nanos(j.now())
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		// MATERIALIZED makes the batch the outer loop, each row one primary
		// key lookup; left to itself the planner scans the run's operations
		// once per row of the batch.
		res, err := tx.ExecContext(ctx, `WITH u AS MATERIALIZED (
				SELECT value ->> 0 AS id, value ->> 1 AS state, value ->> 2 AS ref, value ->> 3 AS err
				FROM json_each(?))
			UPDATE ops SET state = u.state,
				ref = CASE WHEN u.ref = '' THEN ops.ref ELSE u.ref END,
				last_error = u.err, updated_at = ?
			FROM u WHERE ops.run_id = ? AND ops.op_id = u.id`, string(list), now, runID)
		if err != nil {
			return err
		}
		return allOps(ctx, tx, res, runID, ids)
	})
	if err != nil {
		return fmt.Errorf("journal: record: %w", err)
	}
	return nil
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

// ResetFailed puts a run's failed and skipped operations back to pending
// (for --retry-failed) and returns how many there were. Their attempts and
// last error are kept for the record.
func (j *Journal) ResetFailed(ctx context.Context, runID int64) (int, error) {
	var n int64
	err := j.inTx(ctx, func(tx *sql.Tx) error {
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

// FindUnfinished returns the newest resumable run (see Resumable) whose CSV
// digest or plan digest equals the given one; empty digests match nothing.
func (j *Journal) FindUnfinished(ctx context.Context, csvDigest, planDigest string) (*Run, bool, error) {
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

const runCols = `id, started_at, finished_at, csv_path, csv_digest, plan_digest, args, header, outcome, summary, resumes`

// Run returns one run with its plan and per-state counts. An unknown id
// gives an error wrapping ErrNoRun.
func (j *Journal) Run(ctx context.Context, id int64) (*Run, error) {
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
func (j *Journal) Runs(ctx context.Context, limit int) ([]Run, error) {
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

func scanRuns(rows *sql.Rows, withPlan bool) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r                     Run
			started               int64
			finished              sql.NullInt64
			args, header, summary string
			dest                  = []any{&r.ID, &started, &finished, &r.CSVPath, &r.CSVDigest, &r.PlanDigest,
				&args, &header, &r.Outcome, &summary, &r.Resumes}
		)
		if withPlan {
			dest = append(dest, &r.Plan)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.StartedAt = fromNanos(started)
		if finished.Valid {
			t := fromNanos(finished.Int64)
			r.FinishedAt = &t
		}
		if err := json.Unmarshal([]byte(args), &r.Args); err != nil {
			return nil, fmt.Errorf("run %d: decode args: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(header), &r.Header); err != nil {
			return nil, fmt.Errorf("run %d: decode header: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(summary), &r.Summary); err != nil {
			return nil, fmt.Errorf("run %d: decode summary: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fillCounts sets Counts on each run with one grouped query over the
// operations' primary-key range of those runs.
func (j *Journal) fillCounts(ctx context.Context, runs []Run) error {
	if len(runs) == 0 {
		return nil
	}
	idx := make(map[int64]*Run, len(runs))
	lo, hi := runs[0].ID, runs[0].ID
	for i := range runs {
		r := &runs[i]
		r.Counts = map[string]int{}
		for _, s := range allStates {
			r.Counts[string(s)] = 0
		}
		idx[r.ID] = r
		lo, hi = min(lo, r.ID), max(hi, r.ID)
	}
	rows, err := j.r.QueryContext(ctx, `SELECT run_id, state, count(*) FROM ops WHERE run_id BETWEEN ? AND ? GROUP BY run_id, state`, lo, hi)
	if err != nil {
		return fmt.Errorf("count operations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    int64
			state string
			n     int
		)
		if err := rows.Scan(&id, &state, &n); err != nil {
			return fmt.Errorf("count operations: %w", err)
		}
		if r, ok := idx[id]; ok {
			r.Counts[state] = n
		}
	}
	return rows.Err()
}

// Ops returns a run's operations with their progress, in the plan's order.
func (j *Journal) Ops(ctx context.Context, runID int64) ([]plan.OpRecord, error) {
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
func (j *Journal) FailedOps(ctx context.Context, runID int64) ([]FailedOp, error) {
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
func (j *Journal) CSVHeader(ctx context.Context, runID int64) ([]string, error) {
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
// when failedOnly), in plan order.
func (j *Journal) scanOps(ctx context.Context, runID int64, failedOnly bool, fn func(plan.OpRecord, []string)) error {
	q := `SELECT b.op, b.csv_record, o.state, o.attempts, o.ref, o.last_error, o.updated_at
		FROM ops o JOIN op_bodies b ON b.id = o.body WHERE o.run_id = ?`
	if failedOnly {
		q += ` AND o.state IN ('failed', 'skipped')`
	}
	rows, err := j.r.QueryContext(ctx, q+` ORDER BY o.body`, runID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rec     plan.OpRecord
			body    []byte
			csv     sql.NullString
			state   string
			updated int64
		)
		if err := rows.Scan(&body, &csv, &state, &rec.Attempts, &rec.Ref, &rec.LastError, &updated); err != nil {
			return err
		}
		if err := json.Unmarshal(body, &rec.Op); err != nil {
			return fmt.Errorf("decode operation: %w", err)
		}
		rec.State = plan.OpState(state)
		rec.UpdatedAt = fromNanos(updated)
		var cells []string
		if csv.Valid {
			if err := json.Unmarshal([]byte(csv.String), &cells); err != nil {
				return fmt.Errorf("decode record of %s: %w", rec.Op.ID, err)
			}
		}
		fn(rec, cells)
	}
	return rows.Err()
}

var allStates = []plan.OpState{plan.StatePending, plan.StateSent, plan.StateDone, plan.StateFailed, plan.StateSkipped}

func validState(s plan.OpState) bool {
	for _, v := range allStates {
		if s == v {
			return true
		}
	}
	return false
}

// oneRow checks that an update by run id touched the run.
func oneRow(res sql.Result, runID int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("run %d: %w", runID, ErrNoRun)
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
