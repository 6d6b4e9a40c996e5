package exec_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", name, got)
	}
}

func summaryRun(t *testing.T) *exec.Result {
	t.Helper()
	nums := numbers(4, 0)
	var ops []plan.Op
	for _, n := range nums {
		ops = append(ops, activate(n), assign(n, "bu1", "p1", plan.OpID(plan.OneUC, plan.Activate, n)))
	}
	e := newEnv(plantest.Config{}, plantest.Config{}).withOps(ops...)
	e.ou.FailNumber(nums[0], "fault by carrier")
	e.ou.InjectOp(ops[2].ID, 1, plantest.FaultRetry)
	e.fo.InjectOp(ops[5].ID, 1, plantest.FaultAppliedUnknown)
	cfg := e.config(1)
	cfg.Verify = true
	return e.mustRun(t, cfg)
}

// The counts of a run are deterministic; its timings are not, so they are
// cleared before comparing.
func TestSummaryCounts(t *testing.T) {
	s := summaryRun(t).Summary
	s.Started, s.Finished, s.DurationSeconds = time.Time{}, time.Time{}, 0
	for i := range s.Vendors {
		for j := range s.Vendors[i].Actions {
			s.Vendors[i].Actions[j].DurationSeconds = 0
			s.Vendors[i].Actions[j].NumbersPerSecond = 0
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary_counts.json", append(b, '\n'))
}

// goldenSummary is a fixed summary, for the output formats.
func goldenSummary() exec.Summary {
	start := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	return exec.Summary{
		RunID: 12, Started: start, Finished: start.Add(95 * time.Second), DurationSeconds: 95,
		Vendors: []exec.VendorSummary{
			{
				Vendor: plan.FirstOrion, Requests: 41, Reads: 3, Attempts: 3980, Retries: 12, Unknown: 2, Checked: 2, CheckedDone: 1, Verified: 3960,
				Actions: []exec.ActionSummary{
					{Action: plan.Assign, Total: 3900, Done: 3890, Applied: 3890, Failed: 10, DurationSeconds: 40, NumbersPerSecond: 97.25},
					{Action: plan.Delete, Total: 70, Done: 70, Applied: 60, DurationSeconds: 2.5, NumbersPerSecond: 24},
				},
			},
			{
				Vendor: plan.OneUC, Requests: 45, Reads: 40, Attempts: 4000, Verified: 3998, VerifyFailed: 1,
				Actions: []exec.ActionSummary{
					{Action: plan.Activate, Total: 4000, Done: 3998, Applied: 3998, Failed: 1, Skipped: 1, DurationSeconds: 40, NumbersPerSecond: 99.95},
				},
			},
		},
	}
}

func TestSummaryFormats(t *testing.T) {
	b, err := json.MarshalIndent(goldenSummary(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.json", append(b, '\n'))
}

func TestProgressCallback(t *testing.T) {
	var ops []plan.Op
	for _, n := range numbers(30, 0) {
		ops = append(ops, activate(n))
	}
	e := newEnv(plantest.Config{BatchSize: 10}, plantest.Config{}).withOps(ops...)
	cfg := e.config(1)
	var seen []exec.VendorProgress
	cfg.OnProgress = func(p exec.Progress) { seen = append(seen, p.Totals()) }
	e.mustRun(t, cfg)
	if len(seen) < 3 {
		t.Fatalf("progress called %d times, want at least once per batch", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done < seen[i-1].Done || seen[i].Total != 30 {
			t.Errorf("progress went back or changed total: %+v after %+v", seen[i], seen[i-1])
		}
	}
	if last := seen[len(seen)-1]; last.Done != 30 || last.Remaining != 0 {
		t.Errorf("last progress %+v, want 30 done", last)
	}
}

func TestContextCancelled(t *testing.T) {
	ops := []plan.Op{cnam("+12125550001", "A"), cnam("+12125550002", "B"), cnam("+12125550003", "C")}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hook := func(context.Context, int, []plan.Op) { cancel() }
	e := newEnv(plantest.Config{Hook: hook}, plantest.Config{}).withOps(ops...)
	for _, op := range ops {
		e.ou.Seed(plan.State{Number: op.Number, Status: "in_service"})
	}
	cfg := e.config(1)
	cfg.Journal = e.journal
	res, err := exec.Run(ctx, nil, cfg, e.journal.Records())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !res.Interrupted {
		t.Error("not marked interrupted")
	}
	if n := len(e.ou.Calls()); n != 1 {
		t.Errorf("%d requests, want only the one in flight", n)
	}
	// The abandoned request's outcome is unknown: it stays sent, with why.
	if rec, _ := e.journal.Get(ops[0].ID); rec.State != plan.StateSent || rec.LastError == "" {
		t.Errorf("journal: %s %q, want sent with the error", rec.State, rec.LastError)
	}
	if st := e.journal.States(); st[plan.StatePending] != 2 {
		t.Errorf("journal states %v, want 2 pending", st)
	}
}
