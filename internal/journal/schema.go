package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/numsync/numsync/internal/plan"
)

// migrations are the schema's versions: migrations[i] takes the database
// from user_version i to i+1. They are append-only; a released migration is
// never edited, because journals in the field already ran it.
var migrations = []string{
	// 1: runs, operations, lock, history, detail cache.
	`
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	started_at  INTEGER NOT NULL,            -- Unix ns, UTC
	finished_at INTEGER,                     -- NULL while the run is open
	csv_path    TEXT    NOT NULL DEFAULT '',
	csv_digest  TEXT    NOT NULL DEFAULT '',
	plan_digest TEXT    NOT NULL DEFAULT '',
	args        TEXT    NOT NULL DEFAULT '[]', -- JSON array, secrets redacted
	header      TEXT    NOT NULL DEFAULT '[]', -- JSON array: the CSV header row
	plan        BLOB,                        -- saved-plan JSON
	outcome     TEXT    NOT NULL DEFAULT '',
	summary     TEXT    NOT NULL DEFAULT '{}', -- JSON object given to finishRun
	resumes     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_csv_digest  ON runs(csv_digest)  WHERE csv_digest  != '';
CREATE INDEX runs_plan_digest ON runs(plan_digest) WHERE plan_digest != '';

-- An operation's progress, kept apart from its (immutable, larger) body so
-- that a state change rewrites a small row in one b-tree: no secondary index
-- to maintain on the executor's hot path.
CREATE TABLE ops (
	run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	op_id      TEXT    NOT NULL,
	body       INTEGER NOT NULL,             -- op_bodies.id; ascending in plan order
	state      TEXT    NOT NULL CHECK (state IN ('pending','sent','done','failed','skipped')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	ref        TEXT    NOT NULL DEFAULT '',
	last_error TEXT    NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL,             -- Unix ns, UTC
	PRIMARY KEY (run_id, op_id)
) WITHOUT ROWID;

-- What an operation is, written once by startRun, in plan order.
CREATE TABLE op_bodies (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL,
	vendor     TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	number     TEXT    NOT NULL,
	line       INTEGER NOT NULL DEFAULT 0,
	op         TEXT    NOT NULL,             -- plan.Op as JSON
	csv_record TEXT                          -- JSON array of the CSV cells, or NULL
);

-- The apply lock: at most one row. Taking, refreshing and taking over all
-- happen in BEGIN IMMEDIATE transactions, so contenders are serialised by
-- SQLite's own write lock, wherever the file lives.
CREATE TABLE lock (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	host    TEXT    NOT NULL,
	pid     INTEGER NOT NULL,
	command TEXT    NOT NULL,
	token   TEXT    NOT NULL,                -- identifies one acquisition
	since   INTEGER NOT NULL,
	beat    INTEGER NOT NULL
);

CREATE TABLE history (
	vendor     TEXT    PRIMARY KEY,
	count      INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- What numsync last saw of each number (plan.CachedState). The state is
-- one compact binary value (see detailcodec.go) rather than a column per
-- field: with the pure-Go driver the cost of a million-row load or save is
-- mostly per column, not per byte.
CREATE TABLE details (
	vendor   TEXT    NOT NULL,
	number   TEXT    NOT NULL,
	updated  INTEGER NOT NULL,
	state    BLOB    NOT NULL,
	saved_at INTEGER NOT NULL,
	PRIMARY KEY (vendor, number)
) WITHOUT ROWID;
`,
	// 2: operation bodies in compressed chunks (chunks.go) instead of one
	// row each, a fraction of the size; ops.body becomes the operation's
	// place in its run's plan order. convertBodies moves the rows of
	// version 1 over and drops op_bodies.
	`
CREATE TABLE op_chunks (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	chunk  INTEGER NOT NULL,              -- ops.body / ChunkSize
	data   BLOB    NOT NULL,              -- EncodeChunk
	PRIMARY KEY (run_id, chunk)
);
`,
	// 3: the progress log (oplog.go): a run's state changes appended while
	// it is applied, one row per commit, folded into ops by the lock holder.
	`
CREATE TABLE op_log (
	id     INTEGER PRIMARY KEY,           -- append order
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	data   BLOB    NOT NULL               -- JSON array of LogEntry
);
CREATE INDEX op_log_run ON op_log(run_id);
`,
}

// migrationCode holds the Go part of a version, run in the same
// transaction right after its SQL: migrationCode[v] completes version v.
var migrationCode = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: convertBodies,
}

// convertBodies rewrites version 1's op_bodies as chunks, run by run, and
// renumbers ops.body from op_bodies ids to places in plan order. Version 1
// gave a run's bodies consecutive ids in plan order, so the place is the id
// less the run's first.
func convertBodies(ctx context.Context, tx *sql.Tx) error {
	var runs []int64
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT run_id FROM op_bodies ORDER BY run_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return err
		}
		runs = append(runs, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, run := range runs {
		if err := convertRun(ctx, tx, run); err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE op_bodies`)
	return err
}

func convertRun(ctx context.Context, tx *sql.Tx, run int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, op, csv_record FROM op_bodies WHERE run_id = ? ORDER BY id`, run)
	if err != nil {
		return err
	}
	var (
		first   int64 = -1
		ops     []plan.Op
		records = map[string][]string{}
	)
	for rows.Next() {
		var (
			id  int64
			op  []byte
			csv sql.NullString
		)
		if err := rows.Scan(&id, &op, &csv); err != nil {
			_ = rows.Close()
			return err
		}
		if first < 0 {
			first = id
		}
		if id != first+int64(len(ops)) {
			_ = rows.Close()
			return fmt.Errorf("operation bodies not consecutive at %d", id)
		}
		var o plan.Op
		if err := json.Unmarshal(op, &o); err != nil {
			_ = rows.Close()
			return fmt.Errorf("decode operation: %w", err)
		}
		if csv.Valid {
			var cells []string
			if err := json.Unmarshal([]byte(csv.String), &cells); err != nil {
				_ = rows.Close()
				return fmt.Errorf("decode record of %s: %w", o.ID, err)
			}
			records[o.ID] = cells
		}
		ops = append(ops, o)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for c := 0; c < len(ops); c += ChunkSize {
		data, err := EncodeChunk(ops[c:min(len(ops), c+ChunkSize)], records)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO op_chunks (run_id, chunk, data) VALUES (?, ?, ?)`, run, c/ChunkSize, data); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE ops SET body = body - ? WHERE run_id = ?`, first, run)
	return err
}

// migrate brings the schema to the newest version, len(migrations). Each step runs in its own
// write transaction that re-reads user_version, so two processes opening a
// new journal at once apply each step exactly once.
func (j *SQLite) migrate(ctx context.Context) error {
	for {
		done, err := j.migrateStep(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

func (j *SQLite) migrateStep(ctx context.Context) (done bool, err error) {
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		switch {
		case v > len(migrations):
			return fmt.Errorf("schema version %d is newer than this numsync knows (%d): upgrade numsync", v, len(migrations))
		case v == len(migrations):
			done = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if code := migrationCode[v+1]; code != nil {
			if err := code(ctx, tx); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		// PRAGMA takes no bound parameters; v+1 is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			return fmt.Errorf("set schema version %d: %w", v+1, err)
		}
		return nil
	})
	return done, err
}
