package journal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

var testHeader = []string{"phone_number", "cnam", "brand_business_unit", "brand_program"}

func testRecords() map[string][]string {
	return map[string][]string{
		"oneuc/activate/+12125554200":    {"(212) 555-4200", "", "Sales", "Outbound"},
		"firstorion/assign/+12125554200": {"(212) 555-4200", "", "Sales", "Outbound"},
		"oneuc/update/+12125554201":      {"212.555.4201", "ACME SALES", "", ""},
		"firstorion/move/+12125554202":   {"+12125554202", "", "Support", "Inbound"},
	}
}

// startTestRun starts a run of the fixture's operations.
func startTestRun(t testing.TB, j *SQLite, info RunInfo) (int64, []plan.Op) {
	t.Helper()
	ops := loadOps(t)
	id, err := j.startRun(context.Background(), info, ops, testRecords())
	if err != nil {
		t.Fatalf("startRun: %v", err)
	}
	return id, ops
}

func states(t testing.TB, j *SQLite, runID int64) map[string]plan.OpRecord {
	t.Helper()
	recs, err := j.Ops(context.Background(), runID)
	if err != nil {
		t.Fatalf("Ops: %v", err)
	}
	m := make(map[string]plan.OpRecord, len(recs))
	for _, r := range recs {
		m[r.Op.ID] = r
	}
	return m
}

func TestRunRoundTrip(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	j := openTest(t, WithClock(clock.Now))
	info := RunInfo{
		CSVPath:    "desired.csv",
		CSVDigest:  "csv-sha",
		PlanDigest: "",
		Args:       []string{"apply", "--desired", "desired.csv", "--prune"},
		Header:     testHeader,
		Plan:       []byte(`{"version":1}`),
	}
	id, ops := startTestRun(t, j, info)

	recs, err := j.Ops(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ops) {
		t.Fatalf("Ops returned %d records, want %d", len(recs), len(ops))
	}
	for i, r := range recs {
		if !reflect.DeepEqual(r.Op, ops[i]) {
			t.Errorf("op %d: got %+v\nwant %+v", i, r.Op, ops[i])
		}
		if r.State != plan.StatePending || r.Attempts != 0 || r.Ref != "" || r.LastError != "" {
			t.Errorf("op %d: fresh record %+v, want pending with nothing else", i, r)
		}
		if !r.UpdatedAt.Equal(clock.Now()) || r.UpdatedAt.Location() != time.UTC {
			t.Errorf("op %d: UpdatedAt %v, want %v in UTC", i, r.UpdatedAt, clock.Now())
		}
	}

	run, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &Run{
		ID: id, StartedAt: clock.Now(), CSVPath: "desired.csv", CSVDigest: "csv-sha",
		Args: info.Args, Header: testHeader, Outcome: "",
		Counts:  map[string]int{"pending": 5, "sent": 0, "done": 0, "failed": 0, "skipped": 0},
		Summary: map[string]int{},
		Plan:    info.Plan,
	}
	if !reflect.DeepEqual(run, want) {
		t.Errorf("Run:\n got %+v\nwant %+v", run, want)
	}
	if run.Total() != 5 {
		t.Errorf("Total = %d, want 5", run.Total())
	}

	clock.Advance(time.Minute)
	if err := j.finishRun(ctx, id, OutcomeDone, map[string]int{"done": 5}); err != nil {
		t.Fatal(err)
	}
	run, err = j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.FinishedAt == nil || !run.FinishedAt.Equal(clock.Now()) || run.Outcome != OutcomeDone {
		t.Errorf("after finishRun: finished %v outcome %q", run.FinishedAt, run.Outcome)
	}
	if !reflect.DeepEqual(run.Summary, map[string]int{"done": 5}) {
		t.Errorf("Summary = %v", run.Summary)
	}
}

func TestStartRunRejectsDuplicateIDs(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	ops := loadOps(t)
	ops = append(ops, ops[0])
	if _, err := j.startRun(ctx, RunInfo{CSVDigest: "x"}, ops, nil); err == nil {
		t.Fatal("startRun with a duplicate operation id succeeded")
	}
	// The transaction rolled back: no half-written run is left behind.
	runs, err := j.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Errorf("%d runs after a failed startRun, want 0", len(runs))
	}
}

func TestStartRunManyOpsOrder(t *testing.T) {
	// More than one insert chunk, and not a multiple of it.
	ctx := context.Background()
	j := openTest(t)
	ops := makeOps(insertChunk*3 + 7)
	id, err := j.startRun(ctx, RunInfo{CSVDigest: "d"}, ops, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := j.Ops(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ops) {
		t.Fatalf("got %d ops, want %d", len(recs), len(ops))
	}
	for i := range recs {
		if recs[i].Op.ID != ops[i].ID {
			t.Fatalf("op %d is %s, want %s (plan order lost)", i, recs[i].Op.ID, ops[i].ID)
		}
	}
}

// makeOps builds n distinct OneUC activations in a deliberately unsorted
// order, so a test can tell insert order from id order.
func makeOps(n int) []plan.Op {
	ops := make([]plan.Op, n)
	for i := range ops {
		num := fmt.Sprintf("+1212%07d", (i*7919)%10_000_000)
		ops[i] = plan.Op{
			ID: plan.OpID(plan.OneUC, plan.Activate, num), Vendor: plan.OneUC, Action: plan.Activate,
			Number: num, After: plan.State{Number: num, Status: "in_service"}, Line: i + 2,
		}
	}
	return ops
}

func TestMarkSentAndRecord(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	j := openTest(t, WithClock(clock.Now))
	id, _ := startTestRun(t, j, RunInfo{CSVDigest: "c"})

	a, b, c := "oneuc/activate/+12125554200", "firstorion/move/+12125554202", "oneuc/update/+12125554201"
	if err := j.MarkSent(ctx, id, []string{a, b, c}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := j.MarkSent(ctx, id, []string{b}); err != nil { // a retry
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	err := j.Record(ctx, id, []plan.OpUpdate{
		{OpID: a, State: plan.StateDone},
		{OpID: b, State: plan.StateDone, Ref: "pn-1234"},
		{OpID: c, State: plan.StateFailed, Error: "oneuc +12125554201: multiple_choice: address is ambiguous"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := states(t, j, id)
	for _, tc := range []struct {
		id       string
		state    plan.OpState
		attempts int
		ref, err string
	}{
		{a, plan.StateDone, 1, "", ""},
		{b, plan.StateDone, 2, "pn-1234", ""},
		{c, plan.StateFailed, 1, "", "oneuc +12125554201: multiple_choice: address is ambiguous"},
		{"firstorion/assign/+12125554200", plan.StatePending, 0, "", ""},
	} {
		t.Run(tc.id, func(t *testing.T) {
			r := got[tc.id]
			if r.State != tc.state || r.Attempts != tc.attempts || r.Ref != tc.ref || r.LastError != tc.err {
				t.Errorf("got state %s attempts %d ref %q err %q; want %s %d %q %q",
					r.State, r.Attempts, r.Ref, r.LastError, tc.state, tc.attempts, tc.ref, tc.err)
			}
		})
	}
	if !got[a].UpdatedAt.Equal(clock.Now()) {
		t.Errorf("UpdatedAt of a recorded op = %v, want %v", got[a].UpdatedAt, clock.Now())
	}

	// An empty Ref keeps the one journaled; an empty Error clears the old.
	if err := j.Record(ctx, id, []plan.OpUpdate{{OpID: b, State: plan.StateSent}, {OpID: c, State: plan.StatePending}}); err != nil {
		t.Fatal(err)
	}
	got = states(t, j, id)
	if got[b].Ref != "pn-1234" {
		t.Errorf("Ref after an update without one = %q, want pn-1234 kept", got[b].Ref)
	}
	if got[c].LastError != "" {
		t.Errorf("LastError after an update without one = %q, want cleared", got[c].LastError)
	}
}

func TestBatchIsAtomic(t *testing.T) {
	a, b := "oneuc/activate/+12125554200", "oneuc/update/+12125554201"
	for _, tc := range []struct {
		name string
		call func(j *SQLite, id int64) error
	}{
		{"MarkSent with an unknown id", func(j *SQLite, id int64) error {
			return j.MarkSent(context.Background(), id, []string{a, "oneuc/activate/+19999999999", b})
		}},
		{"MarkSent for another run", func(j *SQLite, id int64) error {
			return j.MarkSent(context.Background(), id+1, []string{a})
		}},
		{"Record with an unknown id", func(j *SQLite, id int64) error {
			return j.Record(context.Background(), id, []plan.OpUpdate{
				{OpID: a, State: plan.StateDone}, {OpID: "nope", State: plan.StateDone}, {OpID: b, State: plan.StateDone},
			})
		}},
		{"Record with an invalid state", func(j *SQLite, id int64) error {
			return j.Record(context.Background(), id, []plan.OpUpdate{
				{OpID: a, State: plan.StateDone}, {OpID: b, State: "finished"},
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := openTest(t)
			id, _ := startTestRun(t, j, RunInfo{CSVDigest: "c"})
			err := tc.call(j, id)
			if err == nil {
				t.Fatal("succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "journal: ") {
				t.Errorf("error %q lacks the journal: prefix", err)
			}
			for opID, r := range states(t, j, id) {
				if r.State != plan.StatePending || r.Attempts != 0 {
					t.Errorf("%s: state %s attempts %d after a failed batch; want it untouched", opID, r.State, r.Attempts)
				}
			}
		})
	}
}

func TestRecordAfterCancel(t *testing.T) {
	// Results that came back while the run was being interrupted must still
	// be journaled.
	j := openTest(t)
	id, _ := startTestRun(t, j, RunInfo{CSVDigest: "c"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := "oneuc/activate/+12125554200"
	if err := j.Record(ctx, id, []plan.OpUpdate{{OpID: a, State: plan.StateDone}}); err != nil {
		t.Fatalf("Record with a cancelled context: %v", err)
	}
	if err := j.finishRun(ctx, id, OutcomeInterrupted, nil); err != nil {
		t.Fatalf("finishRun with a cancelled context: %v", err)
	}
	if got := states(t, j, id)[a].State; got != plan.StateDone {
		t.Errorf("state %s, want done", got)
	}
	// Nothing new may be sent once cancelled.
	if err := j.MarkSent(ctx, id, []string{"oneuc/update/+12125554201"}); err == nil {
		t.Error("MarkSent with a cancelled context succeeded")
	}
}

func TestConcurrentMarkSentRecord(t *testing.T) {
	// Many workers journaling batches at once, as the executor does: no
	// SQLITE_BUSY, no lost update, race-clean.
	ctx := context.Background()
	j := openTest(t)
	const workers, batches, size = 8, 10, 20
	ops := makeOps(workers * batches * size)
	id, err := j.startRun(ctx, RunInfo{CSVDigest: "c"}, ops, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				start := (w*batches + b) * size
				ids := make([]string, size)
				ups := make([]plan.OpUpdate, size)
				for i := range ids {
					ids[i] = ops[start+i].ID
					st := plan.StateDone
					if i%5 == 0 {
						st = plan.StateFailed
					}
					ups[i] = plan.OpUpdate{OpID: ids[i], State: st, Ref: fmt.Sprint(start + i)}
				}
				if err := j.MarkSent(ctx, id, ids); err != nil {
					errs <- err
					return
				}
				// A reader alongside the writers, as `show` would be.
				if _, err := j.Run(ctx, id); err != nil {
					errs <- err
					return
				}
				if err := j.Record(ctx, id, ups); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	run, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	total := workers * batches * size
	if run.Counts["done"] != total*4/5 || run.Counts["failed"] != total/5 || run.Counts["pending"] != 0 {
		t.Errorf("counts %v, want %d done and %d failed", run.Counts, total*4/5, total/5)
	}
}

func TestConcurrentJournalsOneFile(t *testing.T) {
	// Two processes sharing a journal (e.g. `show` during an apply) are two
	// Journal values on one file; their writes must wait, not fail.
	ctx := context.Background()
	path := t.TempDir() + "/j.db"
	j1, j2 := openAt(t, path), openAt(t, path)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, j := range []*SQLite{j1, j2} {
		wg.Go(func() {
			for n := range 30 {
				ops := makeOps(30)
				id, err := j.startRun(ctx, RunInfo{CSVDigest: fmt.Sprint(i, n)}, ops, nil)
				if err == nil {
					err = j.MarkSent(ctx, id, []string{ops[0].ID, ops[1].ID})
				}
				if err == nil {
					err = j.SetCount(ctx, plan.OneUC, n)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFindUnfinished(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	csvRun, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-A"})
	planRun, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-B", PlanDigest: "plan-B"})
	doneRun, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-C"})
	if err := j.finishRun(ctx, doneRun, OutcomeDone, nil); err != nil {
		t.Fatal(err)
	}
	interrupted, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-D"})
	if err := j.finishRun(ctx, interrupted, OutcomeInterrupted, nil); err != nil {
		t.Fatal(err)
	}
	failedRun, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-E"})
	if err := j.finishRun(ctx, failedRun, OutcomeFailed, nil); err != nil {
		t.Fatal(err)
	}
	older, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-F"})
	newer, _ := startTestRun(t, j, RunInfo{CSVDigest: "csv-F"})

	for _, tc := range []struct {
		name      string
		csv, plan string
		want      int64 // 0: none
	}{
		{"by CSV digest", "csv-A", "", csvRun},
		{"by plan digest", "", "plan-B", planRun},
		{"either matches", "no-such", "plan-B", planRun},
		{"CSV digest of a plan run", "csv-B", "", planRun},
		{"finished run is not resumed", "csv-C", "", 0},
		{"interrupted run is resumed", "csv-D", "", interrupted},
		{"failed run is closed", "csv-E", "", 0},
		{"newest of two", "csv-F", "", newer},
		{"unknown digests", "x", "y", 0},
		{"empty digests match nothing", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, ok, err := j.findUnfinished(ctx, tc.csv, tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == 0 && ok:
				t.Errorf("found run %d, want none", run.ID)
			case tc.want != 0 && !ok:
				t.Errorf("found none, want run %d", tc.want)
			case tc.want != 0 && run.ID != tc.want:
				t.Errorf("found run %d, want %d", run.ID, tc.want)
			}
		})
	}
	_ = older

	// Resuming reopens the interrupted run.
	if err := j.resumeRun(ctx, interrupted); err != nil {
		t.Fatal(err)
	}
	run, err := j.Run(ctx, interrupted)
	if err != nil {
		t.Fatal(err)
	}
	if run.FinishedAt != nil || run.Outcome != "" || run.Resumes != 1 {
		t.Errorf("after resumeRun: finished %v outcome %q resumes %d", run.FinishedAt, run.Outcome, run.Resumes)
	}
	if err := j.resumeRun(ctx, 9999); !errors.Is(err, ErrNoRun) {
		t.Errorf("resumeRun of an unknown run: %v, want ErrNoRun", err)
	}
}

func TestResetFailedAndFailedOps(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	id, _ := startTestRun(t, j, RunInfo{CSVDigest: "c", Header: testHeader})
	const (
		act    = "oneuc/activate/+12125554200"
		assign = "firstorion/assign/+12125554200"
		upd    = "oneuc/update/+12125554201"
		del    = "firstorion/delete/+12125559999"
		move   = "firstorion/move/+12125554202"
	)
	if err := j.MarkSent(ctx, id, []string{act, upd, del}); err != nil {
		t.Fatal(err)
	}
	err := j.Record(ctx, id, []plan.OpUpdate{
		{OpID: act, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"},
		{OpID: assign, State: plan.StateSkipped, Error: "depends on failed " + act},
		{OpID: upd, State: plan.StateDone},
		{OpID: del, State: plan.StateFailed, Error: "not found"},
	})
	if err != nil {
		t.Fatal(err)
	}

	failed, err := j.FailedOps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, f := range failed {
		gotIDs = append(gotIDs, f.Record.Op.ID)
	}
	if want := []string{act, assign, del}; !reflect.DeepEqual(gotIDs, want) {
		t.Fatalf("FailedOps ids %v, want %v (plan order)", gotIDs, want)
	}
	if want := testRecords()[act]; !reflect.DeepEqual(failed[0].CSVRecord, want) {
		t.Errorf("CSV record %v, want %v", failed[0].CSVRecord, want)
	}
	if failed[0].Record.LastError != "ALLOCATED_NUMBER" {
		t.Errorf("LastError %q", failed[0].Record.LastError)
	}
	if failed[2].CSVRecord != nil {
		t.Errorf("a prune operation has CSV record %v, want nil", failed[2].CSVRecord)
	}
	header, err := j.CSVHeader(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(header, testHeader) {
		t.Errorf("CSVHeader %v, want %v", header, testHeader)
	}
	if _, err := j.CSVHeader(ctx, 9999); !errors.Is(err, ErrNoRun) {
		t.Errorf("CSVHeader of an unknown run: %v, want ErrNoRun", err)
	}

	n, err := j.resetFailed(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("resetFailed = %d, want 3", n)
	}
	got := states(t, j, id)
	for opID, want := range map[string]plan.OpState{
		act: plan.StatePending, assign: plan.StatePending, del: plan.StatePending,
		upd: plan.StateDone, move: plan.StatePending,
	} {
		if got[opID].State != want {
			t.Errorf("%s: %s after resetFailed, want %s", opID, got[opID].State, want)
		}
	}
	if got[act].Attempts != 1 {
		t.Errorf("attempts %d after reset, want 1 kept", got[act].Attempts)
	}
}

func TestRunsNewestFirst(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	j := openTest(t, WithClock(clock.Now))
	var ids []int64
	for i := range 5 {
		id, _ := startTestRun(t, j, RunInfo{CSVDigest: fmt.Sprint("d", i)})
		ids = append(ids, id)
		clock.Advance(time.Hour)
	}
	if err := j.Record(ctx, ids[4], []plan.OpUpdate{{OpID: "oneuc/activate/+12125554200", State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		limit int
		want  []int64
	}{
		{"limited", 2, []int64{ids[4], ids[3]}},
		{"all", 0, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"more than there are", 50, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := j.Runs(ctx, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range runs {
				got = append(got, r.ID)
				if r.Plan != nil {
					t.Errorf("run %d: Runs returned the plan", r.ID)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
			if c := runs[0].Counts; c["done"] != 1 || c["pending"] != 4 {
				t.Errorf("newest run counts %v, want 1 done 4 pending", c)
			}
		})
	}
	if _, err := j.Run(ctx, 12345); !errors.Is(err, ErrNoRun) {
		t.Errorf("Run of an unknown id: %v, want ErrNoRun", err)
	}
}
