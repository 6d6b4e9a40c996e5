package journal

import (
	"context"
	"errors"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

const (
	opActivate = "oneuc/activate/+12125554200"
	opUpdate   = "oneuc/update/+12125554201"
	opAssign   = "firstorion/assign/+12125554200"
	opDelete   = "firstorion/delete/+12125559999"
)

// TestStartCarriesFailures: the carried updates land with the run, in
// the same transaction; a carried update naming no operation of the run
// journals nothing at all.
func TestStartCarriesFailures(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	ops := loadOps(t)
	run, err := j.Start(ctx, NewRun{
		Info:    RunInfo{CSVDigest: "csv-A", Plan: []byte(`{"v":1}`)},
		Ops:     ops,
		Records: testRecords(),
		Carried: []plan.OpUpdate{{OpID: opUpdate, State: plan.StateFailed, Error: "failed in run 1: cnam rejected"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID <= 0 || run.Resumed || string(run.Plan) != `{"v":1}` || len(run.Ops) != len(ops) {
		t.Fatalf("Start = %+v", run)
	}
	for i, r := range run.Ops {
		if r.Op.ID != ops[i].ID {
			t.Errorf("op %d is %s, want %s (plan order)", i, r.Op.ID, ops[i].ID)
		}
		want := plan.StatePending
		if r.Op.ID == opUpdate {
			want = plan.StateFailed
		}
		if r.State != want {
			t.Errorf("%s is %s, want %s", r.Op.ID, r.State, want)
		}
	}

	_, err = j.Start(ctx, NewRun{Info: RunInfo{CSVDigest: "csv-B"}, Ops: ops,
		Carried: []plan.OpUpdate{{OpID: "oneuc/update/+19999999999", State: plan.StateFailed}}})
	if err == nil {
		t.Fatal("Start carried an update of no operation of the run")
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Errorf("%d runs journaled, want 1: the failed Start must leave nothing", len(runs))
	}
}

// TestResume: the unfinished run of an input is resumed with its plan and
// records (failed ones reset under RetryFailed); one overtaken by a later
// run is closed as superseded instead; a finished one is not resumed.
func TestResume(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)

	if r, err := j.Resume(ctx, ResumeRequest{CSVDigest: "csv-A"}); err != nil || r.Run != nil || r.Superseded != 0 {
		t.Fatalf("empty journal: %+v, %v", r, err)
	}
	a, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A", Plan: []byte(`{"a":1}`)})
	if err := j.Record(ctx, a, []plan.OpUpdate{
		{OpID: opActivate, State: plan.StateDone},
		{OpID: opUpdate, State: plan.StateFailed, Error: "cnam rejected"},
	}); err != nil {
		t.Fatal(err)
	}

	r, err := j.Resume(ctx, ResumeRequest{CSVDigest: "csv-A"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Run == nil || r.Run.ID != a || !r.Run.Resumed || string(r.Run.Plan) != `{"a":1}` {
		t.Fatalf("Resume = %+v", r)
	}
	got := map[string]plan.OpState{}
	for _, o := range r.Run.Ops {
		got[o.Op.ID] = o.State
	}
	if got[opActivate] != plan.StateDone || got[opUpdate] != plan.StateFailed || got[opAssign] != plan.StatePending {
		t.Errorf("resumed states %v", got)
	}
	if run, _ := j.Run(ctx, a); run.Resumes != 1 || run.FinishedAt != nil {
		t.Errorf("after Resume: resumes %d finished %v", run.Resumes, run.FinishedAt)
	}

	// Interrupted, then resumed with --retry-failed.
	if err := j.Finish(ctx, a, End{Outcome: OutcomeInterrupted}); err != nil {
		t.Fatal(err)
	}
	r, err = j.Resume(ctx, ResumeRequest{CSVDigest: "csv-A", RetryFailed: true})
	if err != nil || r.Run == nil {
		t.Fatalf("Resume after interruption: %+v, %v", r, err)
	}
	for _, o := range r.Run.Ops {
		if o.Op.ID == opUpdate && (o.State != plan.StatePending || o.LastError != "cnam rejected") {
			t.Errorf("retry-failed: %s is %s (%q), want pending with its last error kept", o.Op.ID, o.State, o.LastError)
		}
	}

	// A run of another input comes after: A is superseded, not resumed.
	b, _ := startTestRun(t, j, RunInfo{PlanDigest: "plan-B"})
	r, err = j.Resume(ctx, ResumeRequest{CSVDigest: "csv-A"})
	if err != nil || r.Run != nil || r.Superseded != a || r.SupersededBy != b {
		t.Fatalf("overtaken run: %+v, %v", r, err)
	}
	if run, _ := j.Run(ctx, a); run.Outcome != OutcomeSuperseded || run.FinishedAt == nil {
		t.Errorf("overtaken run: outcome %q finished %v", run.Outcome, run.FinishedAt)
	}
	// The newest run resumes by its plan digest; finished, it does not.
	if r, err := j.Resume(ctx, ResumeRequest{PlanDigest: "plan-B"}); err != nil || r.Run == nil || r.Run.ID != b {
		t.Errorf("plan digest: %+v, %v", r, err)
	}
	if err := j.Finish(ctx, b, End{Outcome: OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	if r, err := j.Resume(ctx, ResumeRequest{PlanDigest: "plan-B"}); err != nil || r.Run != nil || r.Superseded != 0 {
		t.Errorf("finished run: %+v, %v", r, err)
	}
}

// TestLastFailed: the failed (not skipped) operations of the newest
// finished run of the CSV, whatever ran in between; an unfinished run of
// it and other CSVs do not count.
func TestLastFailed(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	if id, f, err := j.LastFailed(ctx, "csv-A", ""); err != nil || id != 0 || f != nil {
		t.Fatalf("empty journal: %d %v %v", id, f, err)
	}
	old, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A"})
	mustFinish := func(id int64, ups ...plan.OpUpdate) {
		t.Helper()
		if err := j.Record(ctx, id, ups); err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(ctx, id, End{Outcome: OutcomeFailed}); err != nil {
			t.Fatal(err)
		}
	}
	mustFinish(old, plan.OpUpdate{OpID: opActivate, State: plan.StateFailed, Error: "old"})
	newer, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A"})
	mustFinish(newer,
		plan.OpUpdate{OpID: opUpdate, State: plan.StateFailed, Error: "cnam rejected"},
		plan.OpUpdate{OpID: opDelete, State: plan.StateFailed, Error: "not found"},
		plan.OpUpdate{OpID: opAssign, State: plan.StateSkipped, Error: "skipped"})
	other, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-B"})
	mustFinish(other, plan.OpUpdate{OpID: opActivate, State: plan.StateFailed})
	startTestRun(t, j, RunInfo{CSVDigest: "csv-A"}) // unfinished

	id, failed, err := j.LastFailed(ctx, "csv-A", "")
	if err != nil {
		t.Fatal(err)
	}
	if id != newer {
		t.Errorf("run %d, want %d", id, newer)
	}
	var ids []string
	for _, f := range failed {
		ids = append(ids, f.Op.ID)
	}
	if len(ids) != 2 || ids[0] != opUpdate || ids[1] != opDelete || failed[0].LastError != "cnam rejected" {
		t.Errorf("failed = %v", ids)
	}
	if id, f, err := j.LastFailed(ctx, "", ""); err != nil || id != 0 || f != nil {
		t.Errorf("empty digest: %d %v %v", id, f, err)
	}
}

// TestFinishRecordsHeld: Finish writes the vendors' counts with the run's
// end; a negative count changes nothing.
func TestFinishRecordsHeld(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	a, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A"})
	if err := j.Finish(ctx, a, End{Outcome: OutcomeDone, Counts: map[string]int{"done": 5},
		Held: map[plan.VendorName]int{plan.OneUC: 12, plan.FirstOrion: 0}}); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[plan.VendorName]int{plan.OneUC: 12, plan.FirstOrion: 0} {
		if n, ok, err := j.LastCount(ctx, v); err != nil || !ok || n != want {
			t.Errorf("%s: LastCount = %d, %v, %v; want %d", v, n, ok, err, want)
		}
	}
	run, err := j.Run(ctx, a)
	if err != nil || run.Outcome != OutcomeDone || run.Summary["done"] != 5 {
		t.Errorf("run: %+v, %v", run, err)
	}

	b, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A"})
	if err := j.Finish(ctx, b, End{Outcome: OutcomeDone, Held: map[plan.VendorName]int{plan.OneUC: -1}}); err == nil {
		t.Error("Finish accepted a negative count")
	}
	if run, _ := j.Run(ctx, b); run.FinishedAt != nil {
		t.Error("a refused Finish closed the run")
	}
	if err := j.Finish(ctx, 999, End{Outcome: OutcomeDone}); !errors.Is(err, ErrNoRun) {
		t.Errorf("Finish of an unknown run: %v, want ErrNoRun", err)
	}
}
