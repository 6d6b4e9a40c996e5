package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// finishedRun journals a finished run of csvDigest whose operations ended
// in the given states (op id → state, reason).
func finishedRun(t *testing.T, j journal.Store, csvDigest string, ops []plan.Op, end map[string][2]string) int64 {
	t.Helper()
	ctx := context.Background()
	run, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVPath: "n.csv", CSVDigest: csvDigest, Plan: []byte("{}")}, Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	id := run.ID
	var ups []plan.OpUpdate
	counts := map[string]int{}
	for _, op := range ops {
		st, ok := end[op.ID]
		if !ok {
			st = [2]string{string(plan.StateDone), ""}
		}
		ups = append(ups, plan.OpUpdate{OpID: op.ID, State: plan.OpState(st[0]), Error: st[1]})
		counts[st[0]]++
	}
	if err := j.Record(ctx, id, ups); err != nil {
		t.Fatal(err)
	}
	if err := j.Finish(ctx, id, journal.End{Outcome: "failed", Counts: counts}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPreviousFailures: an operation that failed for good in the newest
// finished run of the same CSV is carried over as failed when the new plan
// wants the same result; one the CSV now wants differently, one that was
// only skipped, one from another CSV, and every one under --retry-failed
// are sent. A failure carried night after night keeps naming the run where
// the vendor refused, without growing.
func TestPreviousFailures(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	cnam := func(id, v string) plan.Op {
		n := strings.TrimPrefix(id, "oneuc/update/")
		return plan.Op{ID: id, Vendor: plan.OneUC, Action: plan.Update, Number: n, Line: 2, After: plan.State{CNAM: sp(v)}}
	}
	assign := plan.Op{ID: "firstorion/assign/+12125550003", Vendor: plan.FirstOrion, Action: plan.Assign, Number: "+12125550003",
		After: plan.State{BusinessUnit: "bu1", CallPurpose: "CS", AuthCalls: bp(false)}}
	skipped := plan.Op{ID: "firstorion/assign/+12125550004", Vendor: plan.FirstOrion, Action: plan.Assign, Number: "+12125550004",
		After: plan.State{BusinessUnit: "bu1"}}
	run1 := []plan.Op{cnam("oneuc/update/+12125550001", "ACME"), cnam("oneuc/update/+12125550002", "ACME"), assign, skipped}
	id1 := finishedRun(t, j, "csv-a", run1, map[string][2]string{
		"oneuc/update/+12125550001":      {string(plan.StateFailed), "cnam rejected"},
		"oneuc/update/+12125550002":      {string(plan.StateFailed), "cnam rejected"},
		"firstorion/assign/+12125550003": {string(plan.StateFailed), "ALLOCATED_NUMBER"},
		"firstorion/assign/+12125550004": {string(plan.StateSkipped), "skipped: activation failed"},
	})
	// A later run of another CSV does not hide run 1.
	finishedRun(t, j, "csv-b", []plan.Op{cnam("oneuc/update/+12125550009", "X")}, nil)

	// The new plan: +…0001 wants the same, +…0002 now wants another name.
	next := &plan.Plan{Ops: []plan.Op{cnam("oneuc/update/+12125550001", "ACME"), cnam("oneuc/update/+12125550002", "ACME INC"), assign, skipped,
		cnam("oneuc/update/+12125550005", "NEW")}}
	req := ApplyRequest{Journal: j}
	got, err := previousFailures(ctx, req, "csv-a", "", next)
	if err != nil {
		t.Fatal(err)
	}
	carried := map[string]string{}
	for _, u := range got {
		if u.State != plan.StateFailed {
			t.Errorf("%s carried as %s", u.OpID, u.State)
		}
		carried[u.OpID] = u.Error
	}
	if len(carried) != 2 || carried["oneuc/update/+12125550001"] == "" || carried["firstorion/assign/+12125550003"] == "" {
		t.Fatalf("carried: %v", carried)
	}
	if want := "failed in run 1: cnam rejected (not retried without --retry-failed)"; carried["oneuc/update/+12125550001"] != want {
		t.Errorf("reason %q, want %q", carried["oneuc/update/+12125550001"], want)
	}

	if got, _ := previousFailures(ctx, ApplyRequest{Journal: j, RetryFailed: true}, "csv-a", "", next); len(got) != 0 {
		t.Errorf("--retry-failed carried %d", len(got))
	}
	if got, _ := previousFailures(ctx, req, "csv-c", "", next); len(got) != 0 {
		t.Errorf("another CSV carried %d", len(got))
	}
	if got, _ := previousFailures(ctx, req, "", "", next); len(got) != 0 {
		t.Errorf("an input with no digest carried %d", len(got))
	}

	// The next night's run carries them again: the reason still names run
	// 1 once.
	id3 := finishedRun(t, j, "csv-a", next.Ops, map[string][2]string{
		"oneuc/update/+12125550001":      {string(plan.StateFailed), carried["oneuc/update/+12125550001"]},
		"firstorion/assign/+12125550003": {string(plan.StateFailed), carried["firstorion/assign/+12125550003"]},
	})
	if id3 <= id1 {
		t.Fatal("run ids")
	}
	got, err = previousFailures(ctx, req, "csv-a", "", next)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("second night carried %d", len(got))
	}
	for _, u := range got {
		if strings.Count(u.Error, "failed in run") != 1 || !strings.HasPrefix(u.Error, "failed in run 1: ") || strings.Count(u.Error, "not retried") != 1 {
			t.Errorf("%s: reason grew: %q", u.OpID, u.Error)
		}
	}
}

// TestUnfinishedRunOvertakenIsNotResumed: an interrupted run of CSV A,
// then a run of CSV B, then A again: A's old pending operations were
// planned before B changed things, so the old run is closed as superseded
// and not resumed.
func TestUnfinishedRunOvertakenIsNotResumed(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	op := plan.Op{ID: plan.OpID(plan.OneUC, plan.Activate, "+12125550100"), Vendor: plan.OneUC, Action: plan.Activate, Number: "+12125550100"}
	begin := func(csv, pl string) int64 {
		t.Helper()
		run, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: csv, PlanDigest: pl, Plan: []byte("{}")}, Ops: []plan.Op{op}})
		if err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	a := begin("aaaa", "pa")
	if r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "aaaa"}); err != nil || r.Run == nil || r.Run.ID != a {
		t.Fatalf("the only run must be resumable: %+v err=%v", r, err)
	}
	b := begin("bbbb", "pb")
	r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "aaaa"})
	if err != nil || r.Run != nil {
		t.Fatalf("an overtaken run must not be resumed: %+v err=%v", r, err)
	}
	if r.Superseded != a || r.SupersededBy != b {
		t.Errorf("superseded %d by %d, want %d by %d", r.Superseded, r.SupersededBy, a, b)
	}
	if said := supersededLine(r); !strings.Contains(said, "planning afresh") {
		t.Errorf("the operator is not told: %q", said)
	}
	if again, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "aaaa"}); err != nil || again.Run != nil || again.Superseded != 0 {
		t.Errorf("the overtaken run is still unfinished: %+v err=%v", again, err)
	}
	run, err := j.Run(ctx, a)
	if err != nil || run.Outcome != journal.OutcomeSuperseded {
		t.Errorf("run %d outcome %q (err %v), want %q", a, run.Outcome, err, journal.OutcomeSuperseded)
	}
}
