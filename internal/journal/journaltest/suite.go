// Package journaltest is the journal contract suite: one set of tests that
// every journal.Store implementation must pass (SQLite and PostgreSQL),
// in the manner of litestream's RunWithReplicaClient. Each implementation's
// own test calls Run with a Factory that makes a fresh, empty journal.
package journaltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// Options are what a test asks of the journal it opens.
type Options struct {
	// Now replaces the clock (timestamps and lock staleness); nil is the
	// real clock.
	Now func() time.Time
	// Heartbeat is the lock refresh interval; 0 is the default.
	Heartbeat time.Duration
	// Ticks, when not nil, replaces the interval: a held lock refreshes
	// at each value received, so a test knows when beats happen.
	Ticks <-chan time.Time
	// Alive is the same-host process check; nil disables the shortcut.
	Alive func(pid int) bool
	// ResultDelay, when not 0, is how long a recorded result waits for
	// the next mark before the background writes it.
	ResultDelay time.Duration
}

// Opener opens the journal under test. Every call opens the same journal
// (file or database) anew, as another process would; the opener closes it
// when the test ends.
type Opener func(t testing.TB, o Options) journal.Store

// Factory makes a fresh, empty journal and returns its Opener.
type Factory func(t testing.TB) Opener

// Run runs the whole contract against the implementation f makes.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"StartAndRead", testStartAndRead},
		{"StartRejectsBadIDs", testStartRejectsBadIDs},
		{"MarkSentAndRecord", testMarkSentAndRecord},
		{"ResultsBeforeNextRequest", testResultsBeforeNextRequest},
		{"BatchIsAllOrNothing", testBatchIsAllOrNothing},
		{"WritesSurviveCancelledContext", testWritesSurviveCancel},
		{"SentMarkSurvivesReopen", testSentSurvivesReopen},
		{"Resume", testResume},
		{"ResumeSuperseded", testResumeSuperseded},
		{"ResumeRetryFailed", testResumeRetryFailed},
		{"LastFailedAndCarried", testLastFailedAndCarried},
		{"FinishAndHistory", testFinishAndHistory},
		{"DetailCache", testDetailCache},
		{"LockHolderNamed", testLockHolderNamed},
		{"LockStaleTakeover", testLockStaleTakeover},
		{"LockHeartbeatKeepsItAlive", testLockHeartbeat},
		{"LockLostAfterTakeover", testLockLost},
		{"LockDeadProcessOnSameHost", testLockDeadProcess},
		{"LockContendersExactlyOneWins", testLockContenders},
		{"PruneKeepsUnfinishedRuns", testPrune},
		{"ProgressSeenOnce", testProgressSeenOnce},
		{"ProgressLeftByCrash", testProgressLeftByCrash},
		{"RecordLastUpdateCounts", testRecordLastUpdateCounts},
		{"UpdatedAtStableAcrossFinish", testUpdatedAtStable},
		{"ReadersDuringFinish", testReadersDuringFinish},
		{"LongLogFolded", testLongLogFolded},
		{"ProgressWhileFoldedBehind", testProgressWhileFoldedBehind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f(t)) })
	}
	t.Run("CopyKeepsEverything", func(t *testing.T) { CopyContract(t, f(t), f(t)) })
}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed moment (whole seconds, so every
// implementation stores it exactly).
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Ops returns n operations in plan order, alternating vendors and actions.
func Ops(n int) []plan.Op { return OpsFrom(0, n) }

// OpsFrom is Ops for the numbers from the first-th on.
func OpsFrom(first, n int) []plan.Op {
	ops := make([]plan.Op, n)
	for k := range ops {
		i := first + k
		num := fmt.Sprintf("+1212555%04d", i)
		op := plan.Op{Vendor: plan.OneUC, Action: plan.Activate, Number: num, Line: i + 2,
			After: plan.State{Number: num, Status: "in_service", CNAM: ptr(fmt.Sprint("ACME ", i))}}
		if i%2 == 1 {
			op.Vendor, op.Action = plan.FirstOrion, plan.Assign
			op.After = plan.State{Number: num, BusinessUnit: "bu-1", Program: "p-1"}
		}
		op.ID = fmt.Sprintf("%s/%s/%s", op.Vendor, op.Action, op.Number)
		ops[k] = op
	}
	return ops
}

func ptr[T any](v T) *T { return &v }

func ids(ops []plan.Op) []string {
	out := make([]string, len(ops))
	for i := range ops {
		out[i] = ops[i].ID
	}
	return out
}

func start(t *testing.T, j journal.Store, digest string, ops []plan.Op) *journal.Active {
	t.Helper()
	a, err := j.Start(context.Background(), journal.NewRun{Info: journal.RunInfo{CSVDigest: digest, Plan: []byte(`{"ops":[]}`)}, Ops: ops})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return a
}

func states(t *testing.T, j journal.Store, runID int64) map[string]plan.OpRecord {
	t.Helper()
	recs, err := j.Ops(context.Background(), runID)
	if err != nil {
		t.Fatalf("Ops: %v", err)
	}
	out := map[string]plan.OpRecord{}
	for _, r := range recs {
		out[r.Op.ID] = r
	}
	return out
}

func testStartAndRead(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	j := open(t, Options{Now: clock.Now})
	ops := Ops(5)
	records := map[string][]string{ops[0].ID: {"(212) 555-0000", "ACME 0"}, ops[3].ID: {"x", ""}}
	info := journal.RunInfo{
		CSVPath: "desired.csv", CSVDigest: "d1", Header: []string{"Phone Number", "CNAM"},
		Args: []string{"apply", "--api-key=s3cr3t", "desired.csv"}, Plan: []byte(`{"plan":1}`),
	}
	a, err := j.Start(ctx, journal.NewRun{Info: info, Ops: ops, Records: records})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID <= 0 || a.Resumed || len(a.Ops) != len(ops) {
		t.Fatalf("Start = id %d resumed %v with %d ops", a.ID, a.Resumed, len(a.Ops))
	}
	for i, r := range a.Ops {
		if r.Op.ID != ops[i].ID || r.State != plan.StatePending || r.Attempts != 0 {
			t.Errorf("op %d = %s %s %d, want %s pending 0", i, r.Op.ID, r.State, r.Attempts, ops[i].ID)
		}
		if r.Op.Number != ops[i].Number || r.Op.Line != ops[i].Line || r.Op.After.Number != ops[i].After.Number {
			t.Errorf("op %d did not round-trip: %+v", i, r.Op)
		}
	}
	if got := a.Ops[0].Op.After.CNAM; got == nil || *got != "ACME 0" {
		t.Errorf("CNAM did not round-trip: %v", got)
	}
	run, err := j.Run(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.CSVPath != "desired.csv" || run.CSVDigest != "d1" || run.Outcome != "" || run.FinishedAt != nil {
		t.Errorf("run = %+v", run)
	}
	if !run.StartedAt.Equal(clock.Now()) || run.StartedAt.Location() != time.UTC {
		t.Errorf("StartedAt = %v, want %v in UTC", run.StartedAt, clock.Now())
	}
	if string(run.Plan) != `{"plan":1}` {
		t.Errorf("Plan = %q", run.Plan)
	}
	if strings.Contains(strings.Join(run.Args, " "), "s3cr3t") {
		t.Errorf("a secret reached the journal: %q", run.Args)
	}
	for _, s := range journal.States() {
		if _, ok := run.Counts[string(s)]; !ok {
			t.Errorf("Counts lacks %s: %v", s, run.Counts)
		}
	}
	if run.Counts["pending"] != 5 || run.Total() != 5 {
		t.Errorf("Counts = %v", run.Counts)
	}
	h, err := j.CSVHeader(ctx, a.ID)
	if err != nil || !slices.Equal(h, info.Header) {
		t.Errorf("CSVHeader = %q, %v", h, err)
	}
	if _, err := j.Run(ctx, a.ID+100); !errors.Is(err, journal.ErrNoRun) {
		t.Errorf("Run(unknown) = %v, want ErrNoRun", err)
	}
	if _, err := j.CSVHeader(ctx, a.ID+100); !errors.Is(err, journal.ErrNoRun) {
		t.Errorf("CSVHeader(unknown) = %v, want ErrNoRun", err)
	}
	// A second run: ids increase, Runs lists newest first without plans.
	b := start(t, j, "d2", Ops(2))
	if b.ID <= a.ID {
		t.Errorf("second run id %d after %d", b.ID, a.ID)
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil || len(runs) != 2 || runs[0].ID != b.ID || runs[1].ID != a.ID {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	if runs[1].Plan != nil || runs[1].Counts["pending"] != 5 {
		t.Errorf("Runs entry = plan %q counts %v", runs[1].Plan, runs[1].Counts)
	}
	if one, err := j.Runs(ctx, 1); err != nil || len(one) != 1 || one[0].ID != b.ID {
		t.Errorf("Runs(1) = %v, %v", one, err)
	}
	// The CSV records come back with failed operations.
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"},
		{OpID: ops[1].ID, State: plan.StateSkipped, Error: "depends on a failed operation"}}); err != nil {
		t.Fatal(err)
	}
	failed, err := j.FailedOps(ctx, a.ID)
	if err != nil || len(failed) != 2 {
		t.Fatalf("FailedOps = %v, %v", failed, err)
	}
	if !slices.Equal(failed[0].CSVRecord, records[ops[0].ID]) || failed[1].CSVRecord != nil {
		t.Errorf("FailedOps records = %q, %q", failed[0].CSVRecord, failed[1].CSVRecord)
	}
	if failed[0].Record.LastError != "ALLOCATED_NUMBER" {
		t.Errorf("LastError = %q", failed[0].Record.LastError)
	}
}

func testStartRejectsBadIDs(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	dup := Ops(3)
	dup[2].ID = dup[0].ID
	noID := Ops(2)
	noID[1].ID = ""
	for name, ops := range map[string][]plan.Op{"duplicate": dup, "empty": noID} {
		if _, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops}); err == nil {
			t.Errorf("%s id: Start succeeded", name)
		}
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil || len(runs) != 0 {
		t.Errorf("a refused Start left runs: %v, %v", runs, err)
	}
}

// testResultsBeforeNextRequest: a recorded result is in the journal, for
// every other reader, once the next mark returns, whichever operations
// that mark names (a First Orion assign waits on its number's OneUC
// activation: SPEC §5, a state change is committed before the next
// request that depends on it), and once the lock is given up, even with
// no mark after it (another apply may take the journal then). The
// background write is held off, so only the mark and the release can have
// written them.
func testResultsBeforeNextRequest(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{ResultDelay: time.Hour})
	other := open(t, Options{})
	ops := Ops(3)
	a := start(t, j, "d", ops)
	l, err := j.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID}); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone, Ref: "ref-0"}}); err != nil {
		t.Fatal(err)
	}
	// The dependent's mark: another operation.
	if err := j.MarkSent(ctx, a.ID, []string{ops[1].ID}); err != nil {
		t.Fatal(err)
	}
	if r := states(t, other, a.ID)[ops[0].ID]; r.State != plan.StateDone || r.Ref != "ref-0" {
		t.Errorf("after the next mark, another reader sees op 0 %s ref %q, want done ref-0", r.State, r.Ref)
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[1].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if r := states(t, other, a.ID)[ops[1].ID]; r.State != plan.StateFailed || r.LastError != "ALLOCATED_NUMBER" {
		t.Errorf("after the lock's release, another reader sees op 1 %s %q, want failed ALLOCATED_NUMBER", r.State, r.LastError)
	}
}

func testMarkSentAndRecord(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(4)
	a := start(t, j, "d", ops)
	// An id given twice counts one attempt.
	if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID, ops[1].ID, ops[0].ID}); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkSent(ctx, a.ID, []string{ops[1].ID}); err != nil {
		t.Fatal(err)
	}
	s := states(t, j, a.ID)
	if r := s[ops[0].ID]; r.State != plan.StateSent || r.Attempts != 1 {
		t.Errorf("op 0 = %s/%d, want sent/1", r.State, r.Attempts)
	}
	if r := s[ops[1].ID]; r.State != plan.StateSent || r.Attempts != 2 {
		t.Errorf("op 1 = %s/%d, want sent/2", r.State, r.Attempts)
	}
	if r := s[ops[2].ID]; r.State != plan.StatePending {
		t.Errorf("op 2 = %s, want pending", r.State)
	}
	// Record: the last update of an id counts; an empty ref keeps the
	// old one; an empty error clears the old one.
	err := j.Record(ctx, a.ID, []plan.OpUpdate{
		{OpID: ops[0].ID, State: plan.StatePending, Error: "timeout", Ref: "ref-0"},
		{OpID: ops[1].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = j.Record(ctx, a.ID, []plan.OpUpdate{
		{OpID: ops[0].ID, State: plan.StateFailed, Error: "first"},
		{OpID: ops[0].ID, State: plan.StateDone},
	})
	if err != nil {
		t.Fatal(err)
	}
	s = states(t, j, a.ID)
	if r := s[ops[0].ID]; r.State != plan.StateDone || r.Ref != "ref-0" || r.LastError != "" {
		t.Errorf("op 0 = %s ref %q err %q, want done ref-0 no error", r.State, r.Ref, r.LastError)
	}
	if r := s[ops[1].ID]; r.State != plan.StateFailed || r.LastError != "ALLOCATED_NUMBER" {
		t.Errorf("op 1 = %s %q", r.State, r.LastError)
	}
	run, err := j.Run(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"pending": 2, "sent": 0, "done": 1, "failed": 1, "skipped": 0}
	for k, v := range want {
		if run.Counts[k] != v {
			t.Errorf("Counts = %v, want %v", run.Counts, want)
			break
		}
	}
}

func testBatchIsAllOrNothing(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(3)
	a := start(t, j, "d", ops)
	other := start(t, j, "e", OpsFrom(100, 1))
	if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID, "oneuc/create/+19999999999"}); err == nil {
		t.Error("MarkSent with an unknown id succeeded")
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone},
		{OpID: "nope", State: plan.StateDone}}); err == nil {
		t.Error("Record with an unknown id succeeded")
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone},
		{OpID: ops[1].ID, State: "bogus"}}); err == nil {
		t.Error("Record with an invalid state succeeded")
	}
	// An id of another run is unknown to this one.
	if err := j.MarkSent(ctx, a.ID, []string{ops[0].ID, other.Ops[0].Op.ID}); err == nil {
		t.Error("MarkSent with another run's id succeeded")
	}
	for id, r := range states(t, j, a.ID) {
		if r.State != plan.StatePending || r.Attempts != 0 {
			t.Errorf("%s = %s/%d after refused batches, want pending/0", id, r.State, r.Attempts)
		}
	}
	if _, err := j.Run(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
}

func testWritesSurviveCancel(t *testing.T, open Opener) {
	j := open(t, Options{})
	ops := Ops(2)
	a := start(t, j, "d", ops)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone}}); err != nil {
		t.Fatalf("Record with a cancelled context: %v", err)
	}
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeInterrupted}); err != nil {
		t.Fatalf("Finish with a cancelled context: %v", err)
	}
	if r := states(t, j, a.ID)[ops[0].ID]; r.State != plan.StateDone {
		t.Errorf("op 0 = %s, want done", r.State)
	}
	if run, err := j.Run(context.Background(), a.ID); err != nil || run.Outcome != journal.OutcomeInterrupted {
		t.Errorf("run = %+v, %v", run, err)
	}
}

func testSentSurvivesReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	j1 := open(t, Options{})
	ops := Ops(3)
	a := start(t, j1, "d", ops)
	if err := j1.MarkSent(ctx, a.ID, ids(ops[:2])); err != nil {
		t.Fatal(err)
	}
	// Another process (the rerun after a kill) sees the marks.
	j2 := open(t, Options{})
	s := states(t, j2, a.ID)
	if s[ops[0].ID].State != plan.StateSent || s[ops[1].ID].State != plan.StateSent || s[ops[2].ID].State != plan.StatePending {
		t.Errorf("after reopen: %v %v %v", s[ops[0].ID].State, s[ops[1].ID].State, s[ops[2].ID].State)
	}
}

func testResume(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(3)
	a := start(t, j, "d1", ops)
	if err := j.MarkSent(ctx, a.ID, ids(ops[:1])); err != nil {
		t.Fatal(err)
	}
	if r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "other"}); err != nil || r.Run != nil {
		t.Fatalf("Resume(other digest) = %+v, %v", r, err)
	}
	if r, err := j.Resume(ctx, journal.ResumeRequest{}); err != nil || r.Run != nil {
		t.Fatalf("Resume(no digest) = %+v, %v", r, err)
	}
	r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d1"})
	if err != nil || r.Run == nil {
		t.Fatalf("Resume = %+v, %v", r, err)
	}
	if r.Run.ID != a.ID || !r.Run.Resumed || len(r.Run.Ops) != 3 || r.Run.Ops[0].State != plan.StateSent {
		t.Errorf("resumed = %+v", r.Run)
	}
	if string(r.Run.Plan) != `{"ops":[]}` {
		t.Errorf("resumed plan = %q", r.Run.Plan)
	}
	// Interrupted: still resumable, and a resume reopens the run.
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeInterrupted}); err != nil {
		t.Fatal(err)
	}
	if r, err = j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d1"}); err != nil || r.Run == nil {
		t.Fatalf("Resume after interrupt = %+v, %v", r, err)
	}
	run, err := j.Run(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Resumes != 2 || run.Outcome != "" || run.FinishedAt != nil {
		t.Errorf("after two resumes: resumes %d outcome %q finished %v", run.Resumes, run.Outcome, run.FinishedAt)
	}
	// Done: closed for good.
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	if r, err = j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d1"}); err != nil || r.Run != nil {
		t.Errorf("Resume of a finished run = %+v, %v", r, err)
	}
	// A saved plan's run is found by the plan digest.
	p, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{PlanDigest: "p1"}, Ops: Ops(1)})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = j.Resume(ctx, journal.ResumeRequest{PlanDigest: "p1"}); err != nil || r.Run == nil || r.Run.ID != p.ID {
		t.Errorf("Resume by plan digest = %+v, %v", r, err)
	}
}

func testResumeSuperseded(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	a := start(t, j, "d1", Ops(2))
	b := start(t, j, "d2", Ops(2))
	r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Run != nil || r.Superseded != a.ID || r.SupersededBy != b.ID {
		t.Errorf("Resume = %+v, want run %d superseded by %d", r, a.ID, b.ID)
	}
	run, err := j.Run(ctx, a.ID)
	if err != nil || run.Outcome != journal.OutcomeSuperseded || run.FinishedAt == nil {
		t.Errorf("superseded run = %+v, %v", run, err)
	}
}

func testResumeRetryFailed(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(3)
	a := start(t, j, "d", ops)
	err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateFailed, Error: "no"},
		{OpID: ops[1].ID, State: plan.StateSkipped, Error: "dep"}, {OpID: ops[2].ID, State: plan.StateDone}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d"})
	if err != nil || r.Run == nil || r.Run.Ops[0].State != plan.StateFailed {
		t.Fatalf("Resume without RetryFailed = %+v, %v", r, err)
	}
	r, err = j.Resume(ctx, journal.ResumeRequest{CSVDigest: "d", RetryFailed: true})
	if err != nil || r.Run == nil {
		t.Fatalf("Resume = %+v, %v", r, err)
	}
	got := []plan.OpState{r.Run.Ops[0].State, r.Run.Ops[1].State, r.Run.Ops[2].State}
	if !slices.Equal(got, []plan.OpState{plan.StatePending, plan.StatePending, plan.StateDone}) {
		t.Errorf("states after RetryFailed = %v", got)
	}
	if r.Run.Ops[0].LastError != "no" {
		t.Errorf("the last error should be kept for the record, got %q", r.Run.Ops[0].LastError)
	}
}

func testLastFailedAndCarried(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	if id, f, err := j.LastFailed(ctx, "d", ""); err != nil || id != 0 || f != nil {
		t.Fatalf("LastFailed on an empty journal = %d %v %v", id, f, err)
	}
	ops := Ops(3)
	a := start(t, j, "d", ops)
	err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"},
		{OpID: ops[1].ID, State: plan.StateSkipped, Error: "dep"}, {OpID: ops[2].ID, State: plan.StateDone}})
	if err != nil {
		t.Fatal(err)
	}
	// Unfinished: not a previous run yet.
	if id, _, err := j.LastFailed(ctx, "d", ""); err != nil || id != 0 {
		t.Fatalf("LastFailed before Finish = %d, %v", id, err)
	}
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeFailed}); err != nil {
		t.Fatal(err)
	}
	id, failed, err := j.LastFailed(ctx, "d", "")
	if err != nil || id != a.ID || len(failed) != 1 || failed[0].Op.ID != ops[0].ID {
		t.Fatalf("LastFailed = %d %v %v", id, failed, err)
	}
	// A saved-plan run is journaled with its plan digest and no CSV
	// digest: the plan digest finds it, and it is then the newest.
	pl, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{PlanDigest: "p"}, Ops: ops[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if id, _, err := j.LastFailed(ctx, "", "p"); err != nil || id != 0 {
		t.Fatalf("LastFailed by plan digest before Finish = %d, %v", id, err)
	}
	if err := j.Record(ctx, pl.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateFailed, Error: "again"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Finish(ctx, pl.ID, journal.End{Outcome: journal.OutcomeFailed}); err != nil {
		t.Fatal(err)
	}
	if id, failed, err := j.LastFailed(ctx, "", "p"); err != nil || id != pl.ID || len(failed) != 1 || failed[0].LastError != "again" {
		t.Fatalf("LastFailed by plan digest = %d %v %v, want run %d", id, failed, err, pl.ID)
	}
	if id, _, err := j.LastFailed(ctx, "d", "p"); err != nil || id != pl.ID {
		t.Errorf("LastFailed by either digest = %d, %v, want the newest match %d", id, err, pl.ID)
	}
	if id, _, err := j.LastFailed(ctx, "d", "other"); err != nil || id != a.ID {
		t.Errorf("LastFailed by CSV digest = %d, %v, want %d", id, err, a.ID)
	}
	if id, _, err := j.LastFailed(ctx, "", ""); err != nil || id != 0 {
		t.Errorf("LastFailed with no digest = %d, %v", id, err)
	}
	carried := []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER (carried from run 1)"}}
	b, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops, Carried: carried})
	if err != nil {
		t.Fatal(err)
	}
	if b.Ops[0].State != plan.StateFailed || b.Ops[0].LastError != carried[0].Error || b.Ops[1].State != plan.StatePending {
		t.Errorf("carried = %+v / %+v", b.Ops[0], b.Ops[1])
	}
	// A carried update naming no operation of the run aborts the Start.
	if _, err := j.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d"}, Ops: ops[1:], Carried: carried}); err == nil {
		t.Error("Start with a carried update for an unknown operation succeeded")
	}
	runs, _ := j.Runs(ctx, 0)
	if len(runs) != 3 {
		t.Errorf("%d runs, want 3 (the refused Start must leave nothing)", len(runs))
	}
}

func testFinishAndHistory(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	j := open(t, Options{Now: clock.Now})
	if _, ok, err := j.LastCount(ctx, plan.OneUC); err != nil || ok {
		t.Fatalf("LastCount on an empty journal = %v, %v", ok, err)
	}
	a := start(t, j, "d", Ops(1))
	clock.Advance(time.Minute)
	err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone, Counts: map[string]int{"done": 1},
		Held: map[plan.VendorName]int{plan.OneUC: 120}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := j.Run(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Outcome != journal.OutcomeDone || run.Summary["done"] != 1 || run.FinishedAt == nil || !run.FinishedAt.Equal(clock.Now()) {
		t.Errorf("finished run = %+v", run)
	}
	if n, ok, err := j.LastCount(ctx, plan.OneUC); err != nil || !ok || n != 120 {
		t.Errorf("LastCount(oneuc) = %d %v %v", n, ok, err)
	}
	if _, ok, _ := j.LastCount(ctx, plan.FirstOrion); ok {
		t.Error("LastCount(firstorion) set by a Finish that did not name it")
	}
	if err := j.SetCount(ctx, plan.FirstOrion, 7); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := j.LastCount(ctx, plan.FirstOrion); err != nil || !ok || n != 7 {
		t.Errorf("LastCount(firstorion) = %d %v %v", n, ok, err)
	}
	if err := j.SetCount(ctx, plan.OneUC, -1); err == nil {
		t.Error("SetCount(-1) succeeded")
	}
	if err := j.Finish(ctx, a.ID+99, journal.End{Outcome: journal.OutcomeDone}); !errors.Is(err, journal.ErrNoRun) {
		t.Errorf("Finish(unknown) = %v, want ErrNoRun", err)
	}
}

func testDetailCache(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	if got, err := j.Details(ctx, plan.OneUC); err != nil || len(got) != 0 {
		t.Fatalf("Details on an empty journal = %v, %v", got, err)
	}
	entry := func(num string, updated int64, cnam string) plan.CachedState {
		return plan.CachedState{Number: num, Updated: updated, State: plan.State{
			Number: num, Updated: updated, Status: "in_service", Detailed: true, Features: []string{"cnam", "e911"},
			CNAM: ptr(cnam), E911: &plan.Address{StreetAddress: "350 5th Ave", Locality: "New York", Region: "NY", PostalCode: "10118"},
		}}
	}
	err := j.SaveDetails(ctx, plan.OneUC, []plan.CachedState{entry("+12125550001", 10, "A"), entry("+12125550002", 11, "B"),
		entry("+12125550001", 12, "A2")}) // given twice: the last counts
	if err != nil {
		t.Fatal(err)
	}
	if err := j.SaveDetails(ctx, plan.OneUC, []plan.CachedState{entry("+12125550002", 13, "B2")}); err != nil {
		t.Fatal(err)
	}
	got, err := j.Details(ctx, plan.OneUC)
	if err != nil || len(got) != 2 {
		t.Fatalf("Details = %v, %v", got, err)
	}
	one, two := got["+12125550001"], got["+12125550002"]
	if one.Updated != 12 || *one.State.CNAM != "A2" || one.State.Number != "+12125550001" || one.State.Updated != 12 {
		t.Errorf("entry 1 = %+v", one)
	}
	if two.Updated != 13 || *two.State.CNAM != "B2" || two.State.E911 == nil || two.State.E911.Locality != "New York" {
		t.Errorf("entry 2 = %+v", two)
	}
	if !slices.Equal(one.State.Features, []string{"cnam", "e911"}) || !one.State.Detailed {
		t.Errorf("entry 1 state = %+v", one.State)
	}
	// When each entry was saved comes back (drift dates what numsync last
	// read with it).
	if one.SavedAt.IsZero() || two.SavedAt.Before(one.SavedAt) || two.SavedAt.Location() != time.UTC {
		t.Errorf("saved at %v and %v", one.SavedAt, two.SavedAt)
	}
	if other, err := j.Details(ctx, plan.FirstOrion); err != nil || len(other) != 0 {
		t.Errorf("Details(firstorion) = %v, %v", other, err)
	}
	if err := j.SaveDetails(ctx, plan.OneUC, []plan.CachedState{{Number: ""}}); err == nil {
		t.Error("SaveDetails of an entry without a number succeeded")
	}
}

var (
	holderA = journal.LockInfo{Host: "host-a", PID: 100, Command: "apply desired.csv"}
	holderB = journal.LockInfo{Host: "host-b", PID: 200, Command: "apply desired.csv"}
)

func testLockHolderNamed(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	j1 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	j2 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	l, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	if _, took := l.TookOver(); took || l.Previous() != nil {
		t.Error("a free lock reported a takeover")
	}
	clock.Advance(30 * time.Second)
	_, err = j2.Lock(ctx, holderB)
	var le *journal.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want *LockedError", err)
	}
	if le.Holder != holderA || !le.Since.Equal(NewClock().Now()) {
		t.Errorf("holder = %+v since %v", le.Holder, le.Since)
	}
	for _, want := range []string{"host-a", "pid 100", "2026-11-22T03:00:00Z"} {
		if !strings.Contains(le.Error(), want) {
			t.Errorf("message %q lacks %q", le.Error(), want)
		}
	}
	// The same holder again (another run of the same process) is refused
	// too: a lock is never taken twice.
	if _, err := j2.Lock(ctx, holderA); !errors.As(err, &le) {
		t.Errorf("Lock by the holder's own identity = %v, want *LockedError", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := j2.Lock(ctx, holderB)
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l2.Release(cancelled); err != nil {
		t.Errorf("Release with a cancelled context: %v", err)
	}
	l3, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatalf("Lock after a Release with a cancelled context: %v", err)
	}
	_ = l3.Release(ctx)
}

func testLockStaleTakeover(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	j1 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	j2 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	l1, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(journal.DefaultStaleAfter - time.Second)
	var le *journal.LockedError
	if _, err := j2.Lock(ctx, holderB); !errors.As(err, &le) {
		t.Fatalf("Lock just before the lease ran out = %v, want *LockedError", err)
	}
	clock.Advance(time.Second)
	l2, err := j2.Lock(ctx, holderB)
	if err != nil {
		t.Fatalf("Lock after the lease ran out: %v", err)
	}
	prev, took := l2.TookOver()
	if !took || prev != holderA || l2.Previous() == nil || !l2.Previous().Since.Equal(NewClock().Now()) {
		t.Errorf("TookOver = %+v %v, Previous %+v", prev, took, l2.Previous())
	}
	if r := l2.Previous().Reason; r != journal.TakeoverStale {
		t.Errorf("Previous().Reason = %v, want %v", r, journal.TakeoverStale)
	}
	// The old holder's Release leaves the new holder's lock alone.
	if err := l1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := j1.Lock(ctx, holderA); !errors.As(err, &le) || le.Holder != holderB {
		t.Errorf("after the old holder's Release: %v, want locked by host-b", err)
	}
	_ = l2.Release(ctx)
}

func testLockHeartbeat(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	ticks := make(chan time.Time)
	j1 := open(t, Options{Now: clock.Now, Ticks: ticks})
	j2 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	l, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release(ctx) }()
	// Three minutes in one-minute steps, each with one beat: the test
	// hands the heartbeat its tick, then waits (bounded only by the test's
	// timeout) until the beat is written. The lease (two minutes) is long
	// past since the lock was taken, but never since the last beat.
	var beatAt time.Time
	for range 3 {
		clock.Advance(time.Minute)
		beatAt = clock.Now()
		ticks <- beatAt
		for {
			le := mustBeLocked(t, j2)
			if le.LastBeat.Equal(beatAt) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	// No tick, no beat: a minute later the refusal names the same beat.
	clock.Advance(time.Minute)
	if le := mustBeLocked(t, j2); !le.LastBeat.Equal(beatAt) {
		t.Errorf("LastBeat %v, want %v", le.LastBeat, beatAt)
	}
}

// mustBeLocked tries the lock as holder B and returns the refusal.
func mustBeLocked(t *testing.T, j journal.Store) *journal.LockedError {
	t.Helper()
	_, err := j.Lock(context.Background(), holderB)
	var le *journal.LockedError
	if err == nil {
		t.Fatal("took over a lock whose holder is heart-beating")
	}
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	return le
}

func testLockLost(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	// The first holder beats often, but its clock is frozen in the past as
	// if it had been suspended; the second takes over.
	j1 := open(t, Options{Now: NewClock().Now, Heartbeat: 5 * time.Millisecond})
	j2 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	l1, err := j1.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l1.Release(ctx) }()
	clock.Advance(3 * time.Minute)
	l2, err := j2.Lock(ctx, holderB)
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	defer func() { _ = l2.Release(ctx) }()
	<-l1.Lost() // the first holder learns at its next heartbeat
}

func testLockDeadProcess(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	dead := func(pid int) bool { return pid != 4242 }
	j1 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour, Alive: dead})
	j2 := open(t, Options{Now: clock.Now, Heartbeat: time.Hour, Alive: dead})
	l1, err := j1.Lock(ctx, journal.LockInfo{Host: "h", PID: 4242})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l1.Release(ctx) }()
	var le *journal.LockedError
	// Another host cannot know that pid 4242 is dead: it waits the lease.
	if _, err := j2.Lock(ctx, journal.LockInfo{Host: "other", PID: 1}); !errors.As(err, &le) {
		t.Fatalf("Lock from another host = %v, want *LockedError", err)
	}
	// The same host sees the holder's process gone and takes over at once.
	l2, err := j2.Lock(ctx, journal.LockInfo{Host: "h", PID: 5000})
	if err != nil {
		t.Fatalf("Lock on the same host after the holder died: %v", err)
	}
	if prev, took := l2.TookOver(); !took || prev.PID != 4242 {
		t.Errorf("TookOver = %+v %v", prev, took)
	}
	if r := l2.Previous().Reason; r != journal.TakeoverProcessGone {
		t.Errorf("Previous().Reason = %v, want %v (the lease has not run out)", r, journal.TakeoverProcessGone)
	}
	_ = l2.Release(ctx)
	// A live holder on the same host keeps its lock.
	l3, err := j1.Lock(ctx, journal.LockInfo{Host: "h", PID: 5001})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l3.Release(ctx) }()
	if _, err := j2.Lock(ctx, journal.LockInfo{Host: "h", PID: 5002}); !errors.As(err, &le) {
		t.Errorf("Lock while a live same-host holder has it = %v, want *LockedError", err)
	}
}

func testLockContenders(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	// A stale lock sits in the journal; contenders in several "processes"
	// race to take it over.
	stale := open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	l0, err := stale.Lock(ctx, holderA)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l0.Release(ctx) }()
	clock.Advance(5 * time.Minute)
	const procs, perProc = 4, 4
	js := make([]journal.Store, procs)
	for i := range js {
		js[i] = open(t, Options{Now: clock.Now, Heartbeat: time.Hour})
	}
	var (
		wins, refused atomic.Int32
		wg            sync.WaitGroup
		begin         = make(chan struct{})
		mu            sync.Mutex
		held          []journal.Lock
		other         []error
	)
	for p := range procs {
		for i := range perProc {
			wg.Go(func() {
				<-begin
				l, err := js[p].Lock(ctx, journal.LockInfo{Host: fmt.Sprintf("host-%d-%d", p, i), PID: 1000 + p*perProc + i})
				var le *journal.LockedError
				switch {
				case err == nil:
					wins.Add(1)
					mu.Lock()
					held = append(held, l)
					mu.Unlock()
				case errors.As(err, &le):
					refused.Add(1)
				default:
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
				}
			})
		}
	}
	close(begin)
	wg.Wait()
	for _, err := range other {
		t.Errorf("unexpected error: %v", err)
	}
	if wins.Load() != 1 || refused.Load() != procs*perProc-1 {
		t.Errorf("%d won, %d refused; want exactly 1 winner", wins.Load(), refused.Load())
	}
	for _, l := range held {
		if _, took := l.TookOver(); !took {
			t.Error("the winner did not report taking over the stale lock")
		}
		_ = l.Release(ctx)
	}
}

func testPrune(t *testing.T, open Opener) {
	ctx := context.Background()
	clock := NewClock()
	j := open(t, Options{Now: clock.Now})
	p, ok := j.(journal.Pruner)
	if !ok {
		t.Fatalf("%T does not implement journal.Pruner", j)
	}
	day := 24 * time.Hour
	var ids []int64
	for i, outcome := range []string{journal.OutcomeDone, journal.OutcomeFailed, "", journal.OutcomeInterrupted, journal.OutcomeDone, journal.OutcomeSuperseded} {
		a := start(t, j, fmt.Sprint("d", i), OpsFrom(i*10, 3))
		if outcome != "" {
			if err := j.Finish(ctx, a.ID, journal.End{Outcome: outcome}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, a.ID)
		clock.Advance(day)
	}
	// Now: five days after the last run started. Keep the newest two: of
	// the older ones, the open and the interrupted run stay.
	res, err := p.Prune(ctx, journal.PruneRequest{KeepRuns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Runs, []int64{ids[1], ids[0]}) || res.Ops != 6 {
		t.Fatalf("Prune(keep 2) = %+v, want runs %d, %d with 6 operations", res, ids[1], ids[0])
	}
	if _, err := j.Run(ctx, ids[0]); !errors.Is(err, journal.ErrNoRun) {
		t.Errorf("pruned run still there: %v", err)
	}
	if ops, err := j.Ops(ctx, ids[1]); err != nil || len(ops) != 0 {
		t.Errorf("operations of a pruned run: %v, %v", ops, err)
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil || len(runs) != 4 {
		t.Fatalf("Runs after prune = %v, %v", runs, err)
	}
	// By age: runs that started more than 36 hours ago, unless unfinished.
	res, err = p.Prune(ctx, journal.PruneRequest{OlderThan: 36 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Runs, []int64{ids[4]}) {
		t.Errorf("Prune(older than 36h) = %v, want [%d]", res.Runs, ids[4])
	}
	for _, id := range []int64{ids[2], ids[3], ids[5]} {
		if _, err := j.Run(ctx, id); err != nil {
			t.Errorf("run %d should remain: %v", id, err)
		}
	}
	// No limits: nothing to do.
	if res, err := p.Prune(ctx, journal.PruneRequest{}); err != nil || len(res.Runs) != 0 {
		t.Errorf("Prune() = %+v, %v", res, err)
	}
	// The interrupted run keeps its operations, and ids are never reused.
	if ops, err := j.Ops(ctx, ids[3]); err != nil || len(ops) != 3 {
		t.Errorf("the interrupted run's operations: %d, %v", len(ops), err)
	}
	if b := start(t, j, "new", Ops(1)); b.ID <= ids[5] {
		t.Errorf("new run id %d, want more than %d", b.ID, ids[5])
	}
}

// CopyContract checks journal.Copy from one journal into another, empty,
// one: every run with its plan, states, records and counts, the history
// and the detail cache; an open run still resumes in the copy. The two may
// be of different implementations (SQLite into PostgreSQL is what `numsync
// journal migrate` does).
func CopyContract(t *testing.T, openFrom, openTo Opener) {
	ctx := context.Background()
	clock := NewClock()
	from := open2(t, openFrom, clock)
	to := open2(t, openTo, clock)
	ops := Ops(600) // more than one chunk
	records := map[string][]string{ops[0].ID: {"a", "b"}, ops[599].ID: {"c"}}
	a, err := from.Start(ctx, journal.NewRun{Info: journal.RunInfo{CSVDigest: "d1", CSVPath: "x.csv", Header: []string{"h"},
		Args: []string{"apply"}, Plan: []byte(`{"ops":[1]}`)}, Ops: ops, Records: records})
	if err != nil {
		t.Fatal(err)
	}
	if err := from.MarkSent(ctx, a.ID, ids(ops[:3])); err != nil {
		t.Fatal(err)
	}
	if err := from.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone, Ref: "r0"},
		{OpID: ops[1].ID, State: plan.StateFailed, Error: "no"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := from.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeFailed, Counts: map[string]int{"done": 1},
		Held: map[plan.VendorName]int{plan.OneUC: 42}}); err != nil {
		t.Fatal(err)
	}
	bops := OpsFrom(1000, 2)
	b := start(t, from, "d2", bops) // left open: resumable after the move
	// Its progress since its start is copied too, whatever the source
	// holds it in.
	if err := from.MarkSent(ctx, b.ID, ids(bops[:1])); err != nil {
		t.Fatal(err)
	}
	if err := from.Record(ctx, b.ID, []plan.OpUpdate{{OpID: bops[0].ID, State: plan.StatePending, Error: "timeout"}}); err != nil {
		t.Fatal(err)
	}
	if err := from.MarkSent(ctx, b.ID, ids(bops[:1])); err != nil {
		t.Fatal(err)
	}
	if err := from.SaveDetails(ctx, plan.OneUC, []plan.CachedState{{Number: "+12125550001", Updated: 5,
		State: plan.State{Status: "in_service", CNAM: ptr("X")}}}); err != nil {
		t.Fatal(err)
	}
	res, err := journal.Copy(ctx, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 2 || res.Ops != 602 || res.Details != 1 || len(res.History) != 1 {
		t.Errorf("Copy = %+v", res)
	}
	for _, id := range []int64{a.ID, b.ID} {
		want, err := from.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := to.Run(ctx, id)
		if err != nil {
			t.Fatalf("copied run %d: %v", id, err)
		}
		if got.Outcome != want.Outcome || got.CSVDigest != want.CSVDigest || !got.StartedAt.Equal(want.StartedAt) ||
			string(got.Plan) != string(want.Plan) || fmt.Sprint(got.Counts) != fmt.Sprint(want.Counts) ||
			fmt.Sprint(got.Summary) != fmt.Sprint(want.Summary) || (got.FinishedAt == nil) != (want.FinishedAt == nil) {
			t.Errorf("run %d copied as %+v, want %+v", id, got, want)
		}
		wo, _ := from.Ops(ctx, id)
		gotOps, err := to.Ops(ctx, id)
		if err != nil || len(gotOps) != len(wo) {
			t.Fatalf("copied ops of %d: %d, %v; want %d", id, len(gotOps), err, len(wo))
		}
		for i := range wo {
			w, g := wo[i], gotOps[i]
			if g.Op.ID != w.Op.ID || g.State != w.State || g.Attempts != w.Attempts || g.Ref != w.Ref || g.LastError != w.LastError ||
				!g.UpdatedAt.Truncate(time.Millisecond).Equal(w.UpdatedAt.Truncate(time.Millisecond)) {
				t.Errorf("op %d copied as %+v, want %+v", i, g, w)
				break
			}
		}
	}
	if r := states(t, to, b.ID)[bops[0].ID]; r.State != plan.StateSent || r.Attempts != 2 || r.LastError != "timeout" {
		t.Errorf("open run's op 0 copied as %s/%d %q, want sent/2 timeout", r.State, r.Attempts, r.LastError)
	}
	failed, err := to.FailedOps(ctx, a.ID)
	if err != nil || len(failed) != 1 || failed[0].CSVRecord != nil {
		t.Errorf("copied FailedOps = %+v, %v", failed, err)
	}
	if fo, _ := to.Ops(ctx, a.ID); len(fo) == 600 {
		if ex, ok := to.(journal.Transfer); ok {
			e, err := ex.ExportRun(ctx, a.ID)
			if err != nil || !slices.Equal(e.Records[ops[599].ID], []string{"c"}) {
				t.Errorf("copied records = %v, %v", e.Records, err)
			}
		}
	}
	if n, ok, err := to.LastCount(ctx, plan.OneUC); err != nil || !ok || n != 42 {
		t.Errorf("copied history = %d %v %v", n, ok, err)
	}
	if d, err := to.Details(ctx, plan.OneUC); err != nil || len(d) != 1 || *d["+12125550001"].State.CNAM != "X" {
		t.Errorf("copied details = %v, %v", d, err)
	}
	// The open run resumes from the new journal; new runs come after.
	if r, err := to.Resume(ctx, journal.ResumeRequest{CSVDigest: "d2"}); err != nil || r.Run == nil || r.Run.ID != b.ID {
		t.Errorf("Resume after the copy = %+v, %v", r, err)
	}
	if c := start(t, to, "d3", OpsFrom(2000, 1)); c.ID <= b.ID {
		t.Errorf("a run after the copy got id %d, not after %d", c.ID, b.ID)
	}
	// A second copy into a journal that holds runs is refused.
	if _, err := journal.Copy(ctx, from, to, nil); err == nil {
		t.Error("Copy into a journal holding runs succeeded")
	}
}

func open2(t *testing.T, open Opener, clock *Clock) journal.Store {
	return open(t, Options{Now: clock.Now})
}

// progress is what a test expects of one operation's recorded progress.
type progress struct {
	state    plan.OpState
	attempts int
	ref, err string
}

// checkProgress checks every way a reader sees a run's progress: its
// operations, its failed ones, and its counts in Run and Runs.
func checkProgress(t *testing.T, label string, j journal.Store, runID int64, want map[string]progress) {
	t.Helper()
	ctx := context.Background()
	got := states(t, j, runID)
	counts := map[string]int{}
	failed := 0
	for id, w := range want {
		g := got[id]
		if g.State != w.state || g.Attempts != w.attempts || g.Ref != w.ref || g.LastError != w.err {
			t.Errorf("%s: %s = %s/%d ref %q err %q, want %s/%d ref %q err %q", label, id,
				g.State, g.Attempts, g.Ref, g.LastError, w.state, w.attempts, w.ref, w.err)
		}
		counts[string(w.state)]++
		if w.state == plan.StateFailed || w.state == plan.StateSkipped {
			failed++
		}
	}
	if f, err := j.FailedOps(ctx, runID); err != nil || len(f) != failed {
		t.Errorf("%s: FailedOps = %d, %v; want %d", label, len(f), err, failed)
	}
	run, err := j.Run(ctx, runID)
	if err != nil {
		t.Fatalf("%s: Run: %v", label, err)
	}
	runs, err := j.Runs(ctx, 0)
	if err != nil {
		t.Fatalf("%s: Runs: %v", label, err)
	}
	for _, r := range append(runs, *run) {
		if r.ID != runID {
			continue
		}
		for _, s := range []plan.OpState{plan.StatePending, plan.StateSent, plan.StateDone, plan.StateFailed, plan.StateSkipped} {
			if r.Counts[string(s)] != counts[string(s)] {
				t.Errorf("%s: counts of run %d = %v, want %v", label, runID, r.Counts, counts)
				break
			}
		}
	}
}

// testProgressSeenOnce follows one run's progress from its holder to every
// other reader, through its holder's death (no Finish) and another
// process's resume, to its Finish: every mark and result is seen at once by
// every reader and counted exactly once, whatever the journal does with
// them in between.
func testProgressSeenOnce(t *testing.T, open Opener) {
	ctx := context.Background()
	holder := open(t, Options{})
	ops := Ops(5)
	a := start(t, holder, "d", ops)
	steps := []func() error{
		func() error { return holder.MarkSent(ctx, a.ID, ids(ops[:3])) },
		func() error {
			return holder.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone, Ref: "r0"},
				{OpID: ops[1].ID, State: plan.StatePending, Error: "timeout", Ref: "r1"}})
		},
		func() error { return holder.MarkSent(ctx, a.ID, ids(ops[1:2])) },
		func() error {
			return holder.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[1].ID, State: plan.StateFailed, Error: "ALLOCATED_NUMBER"}})
		},
		func() error { return holder.MarkSent(ctx, a.ID, ids(ops[3:4])) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := map[string]progress{
		ops[0].ID: {plan.StateDone, 1, "r0", ""},
		ops[1].ID: {plan.StateFailed, 2, "r1", "ALLOCATED_NUMBER"},
		ops[2].ID: {plan.StateSent, 1, "", ""},
		ops[3].ID: {plan.StateSent, 1, "", ""},
		ops[4].ID: {plan.StatePending, 0, "", ""},
	}
	reader := open(t, Options{})
	checkProgress(t, "another process while the run is applied", reader, a.ID, want)
	checkProgress(t, "the holder", holder, a.ID, want)

	// The holder dies here. Another process resumes the run, reads it, and
	// goes on.
	next := open(t, Options{})
	r, err := next.Resume(ctx, journal.ResumeRequest{CSVDigest: "d"})
	if err != nil || r.Run == nil {
		t.Fatalf("Resume = %+v, %v", r, err)
	}
	for _, o := range r.Run.Ops {
		w := want[o.Op.ID]
		if o.State != w.state || o.Attempts != w.attempts || o.Ref != w.ref || o.LastError != w.err {
			t.Errorf("resumed %s = %s/%d ref %q err %q, want %+v", o.Op.ID, o.State, o.Attempts, o.Ref, o.LastError, w)
		}
	}
	checkProgress(t, "after the resume", next, a.ID, want)
	checkProgress(t, "another process after the resume", reader, a.ID, want)
	if err := next.MarkSent(ctx, a.ID, ids(ops[4:])); err != nil {
		t.Fatal(err)
	}
	if err := next.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[4].ID, State: plan.StateDone, Ref: "r4"}}); err != nil {
		t.Fatal(err)
	}
	want[ops[4].ID] = progress{plan.StateDone, 1, "r4", ""}
	checkProgress(t, "before the Finish", next, a.ID, want)
	if err := next.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeFailed}); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "after the Finish", next, a.ID, want)
	checkProgress(t, "another process after the Finish", open(t, Options{}), a.ID, want)
}

// testProgressLeftByCrash is a run whose holder died and that nobody
// resumes (the next apply has another input): a later run's Start leaves
// its progress as it was, and both runs read right.
func testProgressLeftByCrash(t *testing.T, open Opener) {
	ctx := context.Background()
	dead := open(t, Options{})
	ops := Ops(3)
	a := start(t, dead, "d1", ops)
	if err := dead.MarkSent(ctx, a.ID, ids(ops[:2])); err != nil {
		t.Fatal(err)
	}
	if err := dead.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone, Ref: "r0"}}); err != nil {
		t.Fatal(err)
	}
	if err := dead.MarkSent(ctx, a.ID, ids(ops[1:2])); err != nil {
		t.Fatal(err)
	}
	want := map[string]progress{
		ops[0].ID: {plan.StateDone, 1, "r0", ""},
		ops[1].ID: {plan.StateSent, 2, "", ""},
		ops[2].ID: {plan.StatePending, 0, "", ""},
	}
	next := open(t, Options{})
	bops := OpsFrom(100, 2)
	b := start(t, next, "d2", bops)
	if err := next.MarkSent(ctx, b.ID, ids(bops[:1])); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "the crashed run after another's Start", next, a.ID, want)
	checkProgress(t, "the new run", next, b.ID, map[string]progress{
		bops[0].ID: {plan.StateSent, 1, "", ""}, bops[1].ID: {plan.StatePending, 0, "", ""}})
	// Its input come back, it is closed as superseded with the same
	// progress.
	if r, err := next.Resume(ctx, journal.ResumeRequest{CSVDigest: "d1"}); err != nil || r.Superseded != a.ID {
		t.Fatalf("Resume(d1) = %+v, %v; want run %d superseded", r, err, a.ID)
	}
	checkProgress(t, "the crashed run superseded", next, a.ID, want)
	checkProgress(t, "the crashed run from another process", open(t, Options{}), a.ID, want)
}

// testRecordLastUpdateCounts: within one Record batch only an id's last
// update counts, its empty ref included.
func testRecordLastUpdateCounts(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(2)
	a := start(t, j, "d", ops)
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone, Ref: "r0"}}); err != nil {
		t.Fatal(err)
	}
	err := j.Record(ctx, a.ID, []plan.OpUpdate{
		{OpID: ops[1].ID, State: plan.StatePending, Error: "timeout", Ref: "early"},
		{OpID: ops[0].ID, State: plan.StateFailed, Ref: "r0-late", Error: "x"},
		{OpID: ops[1].ID, State: plan.StateDone},
		{OpID: ops[0].ID, State: plan.StateDone},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]progress{
		ops[0].ID: {plan.StateDone, 0, "r0", ""},
		ops[1].ID: {plan.StateDone, 0, "", ""},
	}
	checkProgress(t, "before the Finish", j, a.ID, want)
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "after the Finish", open(t, Options{}), a.ID, want)
}

// testUpdatedAtStable: an operation's time of last change reads the same
// before and after the run's Finish, on the real clock (finer than some
// stores keep).
func testUpdatedAtStable(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(2)
	a := start(t, j, "d", ops)
	if err := j.MarkSent(ctx, a.ID, ids(ops)); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	before := states(t, j, a.ID)
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	for id, r := range states(t, open(t, Options{}), a.ID) {
		if b := before[id].UpdatedAt; !r.UpdatedAt.Equal(b) {
			t.Errorf("%s: updated at %v before the Finish, %v after", id, b, r.UpdatedAt)
		}
	}
}

// testReadersDuringFinish reads a run from another process while its
// holder finishes it: every read sees each operation sent exactly once,
// and none goes back once seen done.
func testReadersDuringFinish(t *testing.T, open Opener) {
	ctx := context.Background()
	holder := open(t, Options{})
	ops := Ops(2000)
	a := start(t, holder, "d", ops)
	for k := 0; k < len(ops); k += 100 {
		batch := ops[k : k+100]
		if err := holder.MarkSent(ctx, a.ID, ids(batch)); err != nil {
			t.Fatal(err)
		}
		ups := make([]plan.OpUpdate, len(batch))
		for i, op := range batch {
			ups[i] = plan.OpUpdate{OpID: op.ID, State: plan.StateDone, Ref: "r"}
		}
		if err := holder.Record(ctx, a.ID, ups); err != nil {
			t.Fatal(err)
		}
	}
	reader := open(t, Options{})
	stop := make(chan struct{})
	failed := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		seenDone := map[string]bool{}
		for reads := 0; ; reads++ {
			select {
			case <-stop:
				if reads > 0 {
					return
				}
			default:
			}
			recs, err := reader.Ops(ctx, a.ID)
			if err != nil {
				failed <- fmt.Sprintf("Ops: %v", err)
				return
			}
			for _, r := range recs {
				if r.Attempts != 1 || (r.State != plan.StateSent && r.State != plan.StateDone) ||
					(seenDone[r.Op.ID] && r.State != plan.StateDone) {
					failed <- fmt.Sprintf("read %d: %s = %s/%d", reads, r.Op.ID, r.State, r.Attempts)
					return
				}
				if r.State == plan.StateDone {
					seenDone[r.Op.ID] = true
				}
			}
		}
	}()
	err := holder.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-failed:
		t.Error(msg)
	default:
	}
}

// testLongLogFolded: a run whose log is longer than one fold takes at a
// time (a journal may fold in parts) reads the same before and after its
// Finish, each change counted once.
func testLongLogFolded(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(2)
	a := start(t, j, "d", ops)
	const marks = 600
	for i := range marks {
		if err := j.MarkSent(ctx, a.ID, ids(ops[:1])); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 100:
			if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StatePending, Error: "timeout", Ref: "r1"}}); err != nil {
				t.Fatal(err)
			}
		case 300:
			if err := j.MarkSent(ctx, a.ID, ids(ops[1:])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]progress{
		ops[0].ID: {plan.StateDone, marks, "r1", ""},
		ops[1].ID: {plan.StateSent, 1, "", ""},
	}
	checkProgress(t, "before the Finish", j, a.ID, want)
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeDone}); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "after the Finish", open(t, Options{}), a.ID, want)
}

// testProgressWhileFoldedBehind: results written in the background while
// a run is applied (a journal may fold its log meanwhile) leave every
// change counted once, read before and after the Finish.
func testProgressWhileFoldedBehind(t *testing.T, open Opener) {
	ctx := context.Background()
	j := open(t, Options{})
	ops := Ops(2)
	a := start(t, j, "d", ops)
	const rounds = 200
	for i := range rounds {
		if err := j.MarkSent(ctx, a.ID, ids(ops[:1])); err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, a.ID, []plan.OpUpdate{{OpID: ops[0].ID, State: plan.StatePending, Error: fmt.Sprint("try ", i)}}); err != nil {
			t.Fatal(err)
		}
		// A read writes the queued results first, on their own.
		if _, err := j.Run(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]progress{
		ops[0].ID: {plan.StatePending, rounds, "", fmt.Sprint("try ", rounds-1)},
		ops[1].ID: {plan.StatePending, 0, "", ""},
	}
	checkProgress(t, "before the Finish", j, a.ID, want)
	checkProgress(t, "another process before the Finish", open(t, Options{}), a.ID, want)
	if err := j.Finish(ctx, a.ID, journal.End{Outcome: journal.OutcomeInterrupted}); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "after the Finish", open(t, Options{}), a.ID, want)
}
