package journal

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// foldOf folds log rows as a journal reads them back.
func foldOf(t *testing.T, rows ...[]LogRow) *Fold {
	t.Helper()
	f := NewFold()
	for _, rs := range rows {
		for _, r := range rs {
			if err := f.Add(r.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

func TestLogRowsResultsBeforeMark(t *testing.T) {
	at := time.Unix(100, 5)
	// The queued results are older than the mark that commits them: an
	// operation retried in the mark ends sent, one attempt more.
	rows, err := LogRows(at, []Staged{{RunID: 1, Updates: []plan.OpUpdate{{OpID: "a", State: plan.StatePending, Error: "timeout", Ref: "r"}}}}, 1, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].RunID != 1 {
		t.Fatalf("rows = %+v, want one row of run 1", rows)
	}
	c := foldOf(t, rows).Changes()
	if len(c) != 1 || c[0] != (Change{ID: "a", State: plan.StateSent, Attempts: 1, Ref: "r", Err: "timeout", ErrSet: true, At: at.UnixNano()}) {
		t.Errorf("changes = %+v", c)
	}
}

func TestLogRowsRefusesBadState(t *testing.T) {
	if _, err := LogRows(time.Now(), []Staged{{RunID: 1, Updates: []plan.OpUpdate{{OpID: "a", State: "bogus"}}}}, 0, nil); err == nil {
		t.Error("LogRows took an invalid state")
	}
	if err := NewFold().Add([]byte(`[{"t":1,"r":[["a","bogus","",""]]}]`)); err == nil {
		t.Error("Fold took an invalid state")
	}
	if err := NewFold().Add([]byte(`{`)); err == nil {
		t.Error("Fold took a broken row")
	}
}

func TestFoldKeepsOrderAcrossRows(t *testing.T) {
	row := func(at int64, staged []Staged, ids ...string) []LogRow {
		rs, err := LogRows(time.Unix(0, at), staged, 1, ids)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	f := foldOf(t,
		row(1, nil, "a", "b"),
		row(2, []Staged{{RunID: 1, Updates: []plan.OpUpdate{{OpID: "a", State: plan.StateDone, Ref: "ra"},
			{OpID: "b", State: plan.StateFailed, Error: "no"}}}}, "b"),
		row(3, []Staged{{RunID: 1, Updates: []plan.OpUpdate{{OpID: "b", State: plan.StateDone}}}}),
	)
	want := []Change{
		{ID: "a", State: plan.StateDone, Attempts: 1, Ref: "ra", ErrSet: true, At: 2},
		{ID: "b", State: plan.StateDone, Attempts: 2, ErrSet: true, At: 3},
	}
	got := f.Changes()
	if len(got) != len(want) {
		t.Fatalf("changes = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestOverlay(t *testing.T) {
	rows, err := LogRows(time.Unix(0, 9), []Staged{{RunID: 1, Updates: []plan.OpUpdate{{OpID: "b", State: plan.StateFailed, Error: "no"}}}}, 1, []string{"c"})
	if err != nil {
		t.Fatal(err)
	}
	f := foldOf(t, rows)
	ps := func() []OpProgress[string] {
		return []OpProgress[string]{
			{Key: "a", Rec: plan.OpRecord{State: plan.StateDone, Attempts: 1, Ref: "ra"}},
			{Key: "b", Rec: plan.OpRecord{State: plan.StateSent, Attempts: 1, Ref: "rb", LastError: "old"}},
			{Key: "c", Rec: plan.OpRecord{State: plan.StateFailed, Attempts: 2, LastError: "kept"}},
		}
	}
	id := func(s string) string { return s }
	all, err := Overlay(ps(), f, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := all[1].Rec; r.State != plan.StateFailed || r.Attempts != 1 || r.Ref != "rb" || r.LastError != "no" || r.UpdatedAt.UnixNano() != 9 {
		t.Errorf("b = %+v", r)
	}
	if r := all[2].Rec; r.State != plan.StateSent || r.Attempts != 3 || r.LastError != "kept" {
		t.Errorf("c = %+v: a mark keeps the last error", r)
	}
	failed, err := Overlay(ps(), f, id, true)
	if err != nil || len(failed) != 1 || failed[0].Key != "b" {
		t.Errorf("failed only = %+v, %v; want b alone", failed, err)
	}
	if _, err := Overlay(ps()[:2], f, id, false); err == nil {
		t.Error("Overlay of a change to an operation not in the rows succeeded")
	}
	r := &Run{ID: 1, Counts: map[string]int{"done": 7}}
	if err := OverlayCounts(r, map[string]plan.OpState{"a": plan.StateDone, "b": plan.StateSent, "c": plan.StateFailed}, f, id); err != nil {
		t.Fatal(err)
	}
	if r.Counts["done"] != 1 || r.Counts["failed"] != 1 || r.Counts["sent"] != 1 {
		t.Errorf("counts = %v", r.Counts)
	}
}

// TestLogFolded checks the SQLite journal leaves no progress log behind
// the holder's Finish, its Resume, or the next Start.
func TestLogFolded(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	logged := func(label string, want bool) {
		t.Helper()
		var n int
		if err := j.r.QueryRowContext(ctx, `SELECT count(*) FROM op_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n > 0) != want {
			t.Errorf("%s: %d log rows, want some: %v", label, n, want)
		}
	}
	ops := makeOps(4)
	a, err := j.Start(ctx, NewRun{Info: RunInfo{CSVDigest: "d"}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	mark := func(id int64, op plan.Op) {
		t.Helper()
		if err := j.MarkSent(ctx, id, []string{op.ID}); err != nil {
			t.Fatal(err)
		}
	}
	mark(a.ID, ops[0])
	logged("after a mark", true)
	if _, err := j.Resume(ctx, ResumeRequest{CSVDigest: "d"}); err != nil {
		t.Fatal(err)
	}
	logged("after Resume", false)
	mark(a.ID, ops[1])
	if _, err := j.Start(ctx, NewRun{Info: RunInfo{CSVDigest: "e"}, Ops: ops}); err != nil {
		t.Fatal(err)
	}
	logged("after the next Start", false)
	mark(a.ID, ops[2])
	if err := j.Finish(ctx, a.ID, End{Outcome: OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	logged("after Finish", false)
}

// TestFoldPlan checks a fold looks each operation up by its primary key
// rather than walking the run's rows once per group (foldSQL).
func TestFoldPlan(t *testing.T) {
	j := openTest(t)
	rows, err := j.w.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+foldSQL, "done", 1, true, "", 0, `{}`, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !slices.Contains(plan, "SEARCH ops USING PRIMARY KEY (run_id=? AND op_id=?)") {
		t.Errorf("fold plan = %q, want each operation found by its primary key", plan)
	}
}

// TestLogFoldedBehind checks the background write keeps a run's log
// short while the run is applied.
func TestLogFoldedBehind(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	ops := makeOps(2)
	a, err := j.Start(ctx, NewRun{Info: RunInfo{CSVDigest: "d"}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for range 300 {
		if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StatePending}}); err != nil {
			t.Fatal(err)
		}
		if err := j.results.Flush(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := j.r.QueryRowContext(ctx, `SELECT count(*) FROM op_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		longest = max(longest, n)
	}
	if longest > FoldBehindAt+2 {
		t.Errorf("the log grew to %d rows, want at most %d", longest, FoldBehindAt+2)
	}
}
