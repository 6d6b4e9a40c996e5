package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// TestPruneGivesSpaceBack: pruning a large run shrinks the file itself,
// not only the count of rows (auto_vacuum is incremental and the WAL is
// truncated).
func TestPruneGivesSpaceBack(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "j.db")
	j := openAt(t, path, WithClock(clock.Now))
	var mode int
	if err := j.w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("auto_vacuum = %d, %v; want 2 (incremental)", mode, err)
	}
	for i := range 2 {
		a, err := j.Start(ctx, NewRun{Info: RunInfo{CSVDigest: fmt.Sprint("d", i), Plan: make([]byte, 1<<20)}, Ops: makeOps(20_000)})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(ctx, a.ID, End{Outcome: OutcomeDone}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
	if _, err := j.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	before := fileBytes(t, path)
	res, err := j.Prune(ctx, PruneRequest{KeepRuns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Ops != 20_000 || res.Reclaimed <= 0 {
		t.Fatalf("Prune = %+v", res)
	}
	after := fileBytes(t, path)
	if after >= before*3/4 {
		t.Errorf("journal file %d bytes before the prune, %d after: the space was not given back", before, after)
	}
}

func fileBytes(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, f := range []string{path, path + "-wal"} {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestMigrateVersion1Bodies: a journal written by schema version 1 (one
// op_bodies row per operation) opens at version 2 with every operation,
// its state and its CSV record intact, and op_bodies gone.
func TestMigrateVersion1Bodies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0] + `; PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	// Two runs, written as version 1 wrote them: bodies with consecutive
	// ids in plan order, the second run's after the first's.
	runs := [][]plan.Op{makeOps(300), makeOps(5)}
	body := int64(0)
	for r, ops := range runs {
		run := int64(r + 1)
		if _, err := db.Exec(`INSERT INTO runs (id, started_at, csv_digest, plan) VALUES (?, ?, ?, ?)`, run, 1, fmt.Sprint("d", r), `{"v":1}`); err != nil {
			t.Fatal(err)
		}
		for i, op := range ops {
			body++
			b, _ := json.Marshal(op)
			var rec any
			if i%2 == 0 {
				rec = fmt.Sprintf(`["%s","row %d"]`, op.Number, i)
			}
			if _, err := db.Exec(`INSERT INTO op_bodies (id, run_id, vendor, action, number, line, op, csv_record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				body, run, string(op.Vendor), string(op.Action), op.Number, op.Line, string(b), rec); err != nil {
				t.Fatal(err)
			}
			state := "pending"
			if i == 1 {
				state = "failed"
			}
			if _, err := db.Exec(`INSERT INTO ops (run_id, op_id, body, state, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				run, op.ID, body, state, i%3, "err", 5); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	j := openAt(t, path)
	var v int
	if err := j.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
	}
	var n int
	if err := j.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'op_bodies'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("op_bodies still there (%d, %v)", n, err)
	}
	for r, ops := range runs {
		got, err := j.Ops(ctx, int64(r+1))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ops) {
			t.Fatalf("run %d: %d operations, want %d", r+1, len(got), len(ops))
		}
		for i := range ops {
			if got[i].Op.ID != ops[i].ID || got[i].Op.Number != ops[i].Number || got[i].Attempts != i%3 {
				t.Fatalf("run %d op %d = %+v, want %+v", r+1, i, got[i], ops[i])
			}
		}
		failed, err := j.FailedOps(ctx, int64(r+1))
		if err != nil || len(failed) != 1 || failed[0].Record.Op.ID != ops[1].ID || failed[0].CSVRecord != nil {
			t.Errorf("run %d FailedOps = %+v, %v", r+1, failed, err)
		}
	}
	// The CSV records came along: the third operation of the first run.
	e, err := j.ExportRun(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rec := e.Records[runs[0][2].ID]; len(rec) != 2 || rec[1] != "row 2" {
		t.Errorf("record of op 2 = %q", rec)
	}
	// Old plans (stored uncompressed) still read.
	if run, err := j.Run(ctx, 1); err != nil || string(run.Plan) != `{"v":1}` {
		t.Errorf("old plan = %q, %v", run.Plan, err)
	}
}
