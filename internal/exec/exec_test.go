package exec_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
	"github.com/numsync/numsync/internal/retry/retrytest"
)

// loadOps reads a plan fixture: the operations of a saved plan.
func loadOps(t *testing.T, name string) []plan.Op {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Operations []plan.Op `json:"operations"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p.Operations
}

func TestDependenciesHonoured(t *testing.T) {
	ops := loadOps(t, "deps/plan.json")
	e := newEnv(plantest.Config{BatchSize: 2}, plantest.Config{BatchSize: 2}).withOps(ops...)
	// The numbers to delete and release are live at both vendors.
	e.fo.Seed(plan.State{Number: "+12125550900", ID: "pn-old", BusinessUnit: "bu1"})
	e.ou.Seed(plan.State{Number: "+12125550900", Status: "in_service"})
	res := e.mustRun(t, e.config(3))
	if !res.Complete() {
		t.Fatalf("not complete: %+v", res.Failed)
	}
	applied, recorded := positions(e.log.Events(), e.journal)
	for _, op := range ops {
		for _, dep := range op.DependsOn {
			if applied[op.ID] <= recorded[dep] {
				t.Errorf("%s sent at event %d, before %s was journaled done at %d", op.ID, applied[op.ID], dep, recorded[dep])
			}
		}
	}
}

func TestBatchingByKey(t *testing.T) {
	var ops []plan.Op
	for _, n := range numbers(250, 0) {
		ops = append(ops, activate(n))
	}
	for i, n := range numbers(30, 1000) {
		prog := []string{"p1", "p2", ""}[i%3]
		ops = append(ops, assign(n, "bu1", prog))
	}
	e := newEnv(plantest.Config{BatchSize: 100}, plantest.Config{BatchSize: 4}).withOps(ops...)
	res := e.mustRun(t, e.config(4))
	if !res.Complete() {
		t.Fatalf("not complete: %+v", res.Failed)
	}
	for _, f := range []*plantest.Fake{e.ou, e.fo} {
		max := 100
		if f == e.fo {
			max = 4
		}
		for _, c := range f.Calls() {
			if len(c.OpIDs) > max {
				t.Errorf("%s call %d has %d operations, more than %d", f.Name(), c.Seq, len(c.OpIDs), max)
			}
			for _, id := range c.OpIDs {
				op := ops[indexOf(ops, id)]
				if k, _ := f.BatchKey(op); k != c.Key {
					t.Errorf("call %d (key %q) carries %s of key %q", c.Seq, c.Key, id, k)
				}
			}
		}
	}
	if got := len(e.ou.Calls()); got != 3 {
		t.Errorf("250 activations took %d requests, want 3", got)
	}
	// 10 per key, at most 4 per request: 3 requests per key.
	if got := len(e.fo.Calls()); got != 9 {
		t.Errorf("30 assigns in 3 keys took %d requests, want 9", got)
	}
}

func indexOf(ops []plan.Op, id string) int {
	for i, op := range ops {
		if op.ID == id {
			return i
		}
	}
	return -1
}

func TestConcurrencyLimit(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var ops []plan.Op
			for _, n := range numbers(24, 0) {
				ops = append(ops, cnam(n, "ACME"))
			}
			// Hold the first calls until limit of them are in flight, so
			// the limit is reached, not merely not exceeded by luck.
			var started atomic.Int32
			all := make(chan struct{})
			var once sync.Once
			hook := func(ctx context.Context, seq int, _ []plan.Op) {
				if started.Add(1) == int32(limit) {
					once.Do(func() { close(all) })
				}
				<-all
			}
			e := newEnv(plantest.Config{Hook: hook}, plantest.Config{}).withOps(ops...)
			for _, n := range numbers(24, 0) {
				e.ou.Seed(plan.State{Number: n, Status: "in_service"})
			}
			res := e.mustRun(t, e.config(limit))
			if !res.Complete() {
				t.Fatalf("not complete: %+v", res.Failed)
			}
			if got := e.ou.MaxInFlight(); got != limit {
				t.Errorf("max in flight = %d, want %d", got, limit)
			}
		})
	}
}

func TestPartialBatchFailure(t *testing.T) {
	nums := numbers(100, 0)
	var ops []plan.Op
	for _, n := range nums {
		ops = append(ops, activate(n))
		ops = append(ops, assign(n, "bu1", "p1", plan.OpID(plan.OneUC, plan.Activate, n)))
	}
	e := newEnv(plantest.Config{}, plantest.Config{}).withOps(ops...)
	rejected := []string{nums[3], nums[50], nums[99]}
	for _, n := range rejected {
		e.ou.FailNumber(n, "unspecified_fault")
	}
	cfg := e.config(2)
	var last exec.Progress
	cfg.OnProgress = func(p exec.Progress) { last = p }
	res := e.mustRun(t, cfg)

	tests := []struct {
		name   string
		vendor plan.VendorName
		want   exec.VendorProgress
	}{
		// Vendors come in name order.
		{"firstorion", plan.FirstOrion, exec.VendorProgress{Vendor: plan.FirstOrion, Total: 100, Done: 97, Skipped: 3}},
		{"oneuc", plan.OneUC, exec.VendorProgress{Vendor: plan.OneUC, Total: 100, Done: 97, Failed: 3}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := last.Vendors[i]; got != tt.want {
				t.Errorf("progress = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, n := range rejected {
		act := stateOf(t, res, plan.OpID(plan.OneUC, plan.Activate, n))
		if act.State != plan.StateFailed || !strings.Contains(act.LastError, "unspecified_fault") {
			t.Errorf("%s: %s %q, want failed with the vendor's reason", act.Op.ID, act.State, act.LastError)
		}
		as := stateOf(t, res, plan.OpID(plan.FirstOrion, plan.Assign, n))
		// The line it is shown on names the skipped operation's own
		// vendor, action and number; the reason names only the other.
		if want := "not sent: the oneuc activate it waits on failed"; as.State != plan.StateSkipped || as.LastError != want {
			t.Errorf("%s: %s %q, want skipped %q", as.Op.ID, as.State, as.LastError, want)
		}
		if e.fo.Deliveries(as.Op.ID) != 0 {
			t.Errorf("%s was sent although its activation failed", as.Op.ID)
		}
	}
	if len(res.Failed) != 6 {
		t.Errorf("Result.Failed has %d records, want 6", len(res.Failed))
	}
	if got := e.journal.States(); got[plan.StateDone] != 194 || got[plan.StateFailed] != 3 || got[plan.StateSkipped] != 3 {
		t.Errorf("journal states = %v", got)
	}
}

func TestTransientOutcomes(t *testing.T) {
	num := numbers(1, 0)[0]
	op := activate(num)
	tests := []struct {
		name  string
		fault []plantest.Fault // by delivery
		// wantDeliveries counts sends; Applications must be 1 whatever.
		wantDeliveries int
		wantRetries    int
		wantChecked    int
	}{
		{"retry then success", []plantest.Fault{plantest.FaultRetry}, 2, 1, 0},
		{"two retries", []plantest.Fault{plantest.FaultRetry, plantest.FaultRetry}, 3, 2, 0},
		{"applied, answer lost: not resent", []plantest.Fault{plantest.FaultAppliedUnknown}, 1, 0, 1},
		{"lost before acting: resent", []plantest.Fault{plantest.FaultUnknown}, 2, 1, 1},
		{"lost, resent, lost again after acting", []plantest.Fault{plantest.FaultUnknown, plantest.FaultAppliedUnknown}, 2, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{RetryAfter: 3e9}, plantest.Config{}).withOps(op)
			for i, f := range tt.fault {
				e.ou.InjectOp(op.ID, i+1, f)
			}
			res := e.mustRun(t, e.config(2))
			if !res.Complete() {
				t.Fatalf("not complete: %+v", res.Ops)
			}
			if got := e.ou.Deliveries(op.ID); got != tt.wantDeliveries {
				t.Errorf("deliveries = %d, want %d", got, tt.wantDeliveries)
			}
			if got := e.ou.Applications(op.ID); got != 1 {
				t.Errorf("applications = %d, want 1", got)
			}
			vs := res.Summary.Vendors[0]
			if vs.Retries != tt.wantRetries || vs.Checked != tt.wantChecked {
				t.Errorf("retries %d checked %d, want %d and %d", vs.Retries, vs.Checked, tt.wantRetries, tt.wantChecked)
			}
			if rec, _ := e.journal.Get(op.ID); rec.Attempts != tt.wantDeliveries || rec.State != plan.StateDone {
				t.Errorf("journal: %s after %d attempts, want done after %d", rec.State, rec.Attempts, tt.wantDeliveries)
			}
			if tt.fault[0] == plantest.FaultRetry {
				if len(e.sleeps) == 0 || e.sleeps[0] < 3e9 {
					t.Errorf("backoffs %v do not honour Retry-After 3s", e.sleeps)
				}
			}
		})
	}
}

// fakeClock makes cfg's budgets and pauses run on a fake clock, so a
// five-minute budget is spent without waiting.
func fakeClock(cfg *exec.Config, budget time.Duration) *retrytest.Clock {
	clock := retrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg.Now, cfg.Sleep, cfg.MaxElapsed = clock.Now, clock.Sleep, budget
	return clock
}

// A transient failure never fails an operation for good while its budget
// lasts, however many tries it takes (defect #5: transient errors were
// labelled permanent once MaxAttempts ran out).
func TestTransientOutlastsAttempts(t *testing.T) {
	num := numbers(1, 0)[0]
	act := activate(num)
	dep := assign(num, "bu1", "p1", act.ID)
	faults := map[string]plantest.Fault{"retry": plantest.FaultRetry, "unknown": plantest.FaultUnknown, "applied unknown": plantest.FaultAppliedUnknown}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(act, dep)
			for i := 1; i <= 12; i++ { // three times MaxAttempts
				e.ou.InjectOp(act.ID, i, fault)
				e.ou.InjectRead(i, &plan.VendorError{Vendor: plan.OneUC, Code: "could not connect", Temporary: true})
			}
			cfg := e.config(1)
			fakeClock(&cfg, 5*time.Minute)
			res := e.mustRun(t, cfg)
			if !res.Complete() || len(res.Unresolved) > 0 {
				t.Fatalf("not complete: %+v", res.Ops)
			}
			if n := e.ou.Applications(act.ID); n != 1 {
				t.Errorf("applied %d times, want once", n)
			}
		})
	}
}

// When the budget is spent, what is still unresolved is left pending or
// sent for the next run, never failed, its dependents not skipped, and the
// run's error names the vendor and its address.
func TestBudgetSpentLeavesUnresolved(t *testing.T) {
	num := numbers(1, 0)[0]
	act := activate(num)
	dep := assign(num, "bu1", "p1", act.ID)
	tests := []struct {
		name      string
		fault     plantest.Fault
		wantState plan.OpState // in the journal
	}{
		{"retry", plantest.FaultRetry, plan.StatePending},
		{"unknown", plantest.FaultUnknown, plan.StateSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(act, dep)
			for i := 1; i <= 1000; i++ {
				e.ou.InjectOp(act.ID, i, tt.fault)
			}
			cfg := e.config(1)
			clock := fakeClock(&cfg, time.Minute)
			res := e.mustRun(t, cfg)
			got := stateOf(t, res, act.ID)
			if got.State == plan.StateFailed || len(res.Failed) > 0 {
				t.Fatalf("%s %q: failed for good by a transient error", got.State, got.LastError)
			}
			if rec, _ := e.journal.Get(act.ID); rec.State != tt.wantState {
				t.Errorf("journal: %s, want %s", rec.State, tt.wantState)
			}
			if d, _ := e.journal.Get(dep.ID); d.State != plan.StatePending {
				t.Errorf("dependent is %s, want pending", d.State)
			}
			if len(res.Unresolved) != 1 || res.Unresolved[0].Op.ID != act.ID {
				t.Fatalf("unresolved %+v, want the activation", res.Unresolved)
			}
			var ue *exec.UnresolvedError
			if err := res.UnresolvedError(); !errors.As(err, &ue) || !strings.Contains(err.Error(), "oneuc") {
				t.Errorf("UnresolvedError() = %v, want one naming oneuc", err)
			}
			if el := clock.Now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); el < 30*time.Second || el > 2*time.Minute {
				t.Errorf("gave up after %s of a 1m budget", el)
			}
		})
	}
}

// An assign whose answer was lost, and whose number meanwhile showed up in
// another program, is resent with the number's live id and place as
// Before, so the client moves it instead of creating it twice.
func TestUnknownRefreshesBefore(t *testing.T) {
	num := numbers(1, 0)[0]
	op := assign(num, "bu1", "p1")
	var e *env
	hook := func(ctx context.Context, seq int, _ []plan.Op) {
		if seq == 1 {
			e.fo.Seed(plan.State{Number: num, BusinessUnit: "bu1", Program: "p2", Channel: plan.ChannelCallerName})
		}
	}
	e = newEnv(plantest.Config{}, plantest.Config{Hook: hook}).withOps(op)
	e.fo.InjectOp(op.ID, 1, plantest.FaultUnknown)
	res := e.mustRun(t, e.config(1))
	if !res.Complete() {
		t.Fatalf("not complete: %+v", res.Ops)
	}
	got := stateOf(t, res, op.ID)
	live, _ := e.fo.Get(num)
	if got.Op.Before.ID == "" || got.Op.Before.ID != live.ID || got.Op.Before.Program != "p2" {
		t.Errorf("Before = %+v, want the live id %s in p2", got.Op.Before, live.ID)
	}
	if live.Program != "p1" {
		t.Errorf("number ended in %q, want p1", live.Program)
	}
}

func TestCheckReadFailures(t *testing.T) {
	num := numbers(1, 0)[0]
	op := activate(num)
	tests := []struct {
		name           string
		readErrs       int
		transient      bool
		wantState      plan.OpState
		wantUnresolved int
	}{
		{"transient read failure retried", 2, true, plan.StateDone, 0},
		{"reads keep failing past attempts: retried within the budget", 12, true, plan.StateDone, 0},
		{"reads keep failing until the budget is spent: left sent", 1000, true, plan.StateSent, 1},
		{"permanent read failure: left sent", 1, false, plan.StateSent, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(op)
			e.ou.InjectOp(op.ID, 1, plantest.FaultAppliedUnknown)
			for i := 1; i <= tt.readErrs; i++ {
				e.ou.InjectRead(i, &plan.VendorError{Vendor: plan.OneUC, Code: "boom", Temporary: tt.transient})
			}
			cfg := e.config(1)
			fakeClock(&cfg, time.Minute)
			res := e.mustRun(t, cfg)
			if got := stateOf(t, res, op.ID); got.State != tt.wantState {
				t.Errorf("state %s (%q), want %s", got.State, got.LastError, tt.wantState)
			}
			if len(res.Unresolved) != tt.wantUnresolved {
				t.Errorf("unresolved %d, want %d", len(res.Unresolved), tt.wantUnresolved)
			}
			if rec, _ := e.journal.Get(op.ID); rec.State != tt.wantState {
				t.Errorf("journal has %s, want %s", rec.State, tt.wantState)
			}
			if e.ou.Applications(op.ID) != 1 || e.ou.Deliveries(op.ID) != 1 {
				t.Errorf("sent %d, applied %d; want once", e.ou.Deliveries(op.ID), e.ou.Applications(op.ID))
			}
		})
	}
}

func TestResume(t *testing.T) {
	n := numbers(6, 0)
	doneOp := activate(n[0])
	sentApplied := activate(n[1])
	sentLost := activate(n[2])
	failedOp := activate(n[3])
	failedDep := assign(n[3], "bu1", "p1", failedOp.ID)
	pendingOp := assign(n[4], "bu1", "p1", doneOp.ID)
	e := newEnv(plantest.Config{}, plantest.Config{}).withRecords(
		plan.OpRecord{Op: doneOp, State: plan.StateDone, Attempts: 1},
		plan.OpRecord{Op: sentApplied, State: plan.StateSent, Attempts: 1},
		plan.OpRecord{Op: sentLost, State: plan.StateSent, Attempts: 1},
		plan.OpRecord{Op: failedOp, State: plan.StateFailed, Attempts: 1, LastError: "carrier fault"},
		plan.OpRecord{Op: failedDep, State: plan.StatePending},
		plan.OpRecord{Op: pendingOp, State: plan.StatePending},
	)
	// What the earlier, killed run left at the vendor.
	e.ou.Seed(plan.State{Number: n[0], Status: "in_service"}, plan.State{Number: n[1], Status: "in_service"})
	cfg := e.config(2)
	cfg.Verify = true
	res := e.mustRun(t, cfg)

	tests := []struct {
		name           string
		op             plan.Op
		want           plan.OpState
		wantDeliveries int
	}{
		{"done is not resent", doneOp, plan.StateDone, 0},
		{"sent and applied is checked, not resent", sentApplied, plan.StateDone, 0},
		{"sent and lost is resent", sentLost, plan.StateDone, 1},
		{"failed is not retried", failedOp, plan.StateFailed, 0},
		{"dependent of failed is skipped", failedDep, plan.StateSkipped, 0},
		{"pending after done dependency is sent", pendingOp, plan.StateDone, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stateOf(t, res, tt.op.ID)
			if got.State != tt.want {
				t.Errorf("state %s (%q), want %s", got.State, got.LastError, tt.want)
			}
			f := e.ou
			if tt.op.Vendor == plan.FirstOrion {
				f = e.fo
			}
			if d := f.Deliveries(tt.op.ID); d != tt.wantDeliveries {
				t.Errorf("sent %d times, want %d", d, tt.wantDeliveries)
			}
		})
	}
	if got := res.Summary.Totals(); got.Applied != 3 || got.Done != 4 {
		t.Errorf("totals %+v: want 4 done, 3 of them by this run", got)
	}
}

func TestStop(t *testing.T) {
	var ops []plan.Op
	for _, n := range numbers(10, 0) {
		ops = append(ops, cnam(n, "ACME"))
	}
	stop := make(chan struct{})
	release := make(chan struct{})
	var started atomic.Int32
	hook := func(ctx context.Context, seq int, _ []plan.Op) {
		// Both slots busy; stop while they are in flight, then let them end.
		if started.Add(1) == 2 {
			close(stop)
			close(release)
		}
		<-release
	}
	e := newEnv(plantest.Config{Hook: hook}, plantest.Config{}).withOps(ops...)
	for _, n := range numbers(10, 0) {
		e.ou.Seed(plan.State{Number: n, Status: "in_service"})
	}
	cfg := e.config(2)
	cfg.Verify = true
	res, err := e.run(t, stop, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Interrupted || !res.Summary.Interrupted {
		t.Error("result does not say it was interrupted")
	}
	if got := len(e.ou.Calls()); got != 2 {
		t.Errorf("%d requests sent, want the 2 in flight at stop", got)
	}
	st := e.journal.States()
	if st[plan.StateDone] != 2 || st[plan.StatePending] != 8 {
		t.Errorf("journal states %v, want 2 done (in flight, recorded) and 8 pending", st)
	}
	if e.ou.Reads() != 0 || e.ou.StateReads() != 0 {
		t.Error("verification ran on an interrupted run")
	}
}

func TestStopDuringBackoff(t *testing.T) {
	op := activate(numbers(1, 0)[0])
	e := newEnv(plantest.Config{}, plantest.Config{}).withOps(op)
	e.ou.InjectOp(op.ID, 1, plantest.FaultRetry)
	stop := make(chan struct{})
	cfg := e.config(1)
	var once sync.Once
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error {
		once.Do(func() { close(stop) })
		<-ctx.Done() // the pause lasts until the stop cuts it short
		return ctx.Err()
	}
	res, err := e.run(t, stop, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Error("not interrupted")
	}
	if rec, _ := e.journal.Get(op.ID); rec.State != plan.StatePending || rec.LastError == "" {
		t.Errorf("journal: %s %q, want pending with the 429's text", rec.State, rec.LastError)
	}
	if d := e.ou.Deliveries(op.ID); d != 1 {
		t.Errorf("sent %d times after stop, want 1", d)
	}
}

func TestJournalFailureAborts(t *testing.T) {
	var ops []plan.Op
	for _, n := range numbers(5, 0) {
		ops = append(ops, cnam(n, "ACME"))
	}
	tests := []struct {
		name      string
		failFrom  int
		wantCalls int
	}{
		{"mark sent fails: nothing sent", 1, 0},
		{"record fails: nothing more sent", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(ops...)
			for _, n := range numbers(5, 0) {
				e.ou.Seed(plan.State{Number: n, Status: "in_service"})
			}
			e.journal.FailFrom(tt.failFrom, errors.New("disk I/O error"))
			res, err := e.run(t, nil, e.config(1))
			if !errors.Is(err, exec.ErrJournal) {
				t.Fatalf("err = %v, want ErrJournal", err)
			}
			if res == nil {
				t.Fatal("no result with the error")
			}
			if got := len(e.ou.Calls()); got != tt.wantCalls {
				t.Errorf("%d requests, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	nums := numbers(3, 0)
	ops := []plan.Op{activate(nums[0]), activate(nums[1]), cnam(nums[2], "ACME")}
	e := newEnv(plantest.Config{}, plantest.Config{}).withOps(ops...)
	e.ou.Seed(plan.State{Number: nums[2], Status: "in_service"})
	e.ou.DropNumber(nums[1])
	e.ou.DropNumber(nums[2])
	cfg := e.config(2)
	cfg.Verify = true
	learned := map[string]plan.State{}
	cfg.OnState = func(v plan.VendorName, s plan.State) { learned[s.Number] = s }
	res := e.mustRun(t, cfg)
	if s := learned[nums[0]]; s.Status != "in_service" {
		t.Errorf("OnState did not pass on the read-back of %s: %+v", nums[0], s)
	}
	tests := []struct {
		op        plan.Op
		wantState plan.OpState
		wantErr   string
	}{
		{ops[0], plan.StateDone, ""},
		{ops[1], plan.StateFailed, "verify: live state differs: number not held"},
		{ops[2], plan.StateFailed, `verify: live state differs: cnam "", want "ACME"`},
	}
	for _, tt := range tests {
		t.Run(tt.op.ID, func(t *testing.T) {
			got, _ := e.journal.Get(tt.op.ID)
			if got.State != tt.wantState || got.LastError != tt.wantErr {
				t.Errorf("journal: %s %q, want %s %q", got.State, got.LastError, tt.wantState, tt.wantErr)
			}
		})
	}
	if vs := res.Summary.Vendors[0]; vs.Verified != 1 || vs.VerifyFailed != 2 {
		t.Errorf("verified %d, failed %d; want 1 and 2", vs.Verified, vs.VerifyFailed)
	}
}

func TestRejectsBadInput(t *testing.T) {
	a, b := activate("+12125550001"), activate("+12125550002")
	a.DependsOn, b.DependsOn = []string{b.ID}, []string{a.ID}
	other := a
	other.ID, other.Vendor = "elsewhere/activate/x", "elsewhere"
	tests := []struct {
		name string
		ops  []plan.Op
		want string
	}{
		{"cycle", []plan.Op{a, b}, "dependency cycle"},
		{"unknown vendor", []plan.Op{other}, "not configured"},
		{"duplicate", []plan.Op{activate("+12125550003"), activate("+12125550003")}, "given twice"},
		{"unknown state", []plan.Op{activate("+12125550004")}, "unknown state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(tt.ops[:1]...)
			recs := make([]plan.OpRecord, len(tt.ops))
			for i, op := range tt.ops {
				recs[i] = plan.OpRecord{Op: op, State: plan.StatePending}
				if tt.name == "unknown state" {
					recs[i].State = "half-sent"
				}
			}
			cfg := e.config(1)
			cfg.Journal = e.journal
			_, err := exec.Run(t.Context(), nil, cfg, recs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if len(e.ou.Calls()) != 0 {
				t.Error("something was sent")
			}
		})
	}
}

func TestStopDuringVerify(t *testing.T) {
	op := activate(numbers(1, 0)[0])
	e := newEnv(plantest.Config{}, plantest.Config{}).withOps(op)
	e.ou.InjectRead(1, &plan.VendorError{Vendor: plan.OneUC, Code: "timeout", Temporary: true})
	stop := make(chan struct{})
	cfg := e.config(1)
	cfg.Verify = true
	var once sync.Once
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error {
		once.Do(func() { close(stop) })
		<-ctx.Done()
		return ctx.Err()
	}
	res, err := e.run(t, stop, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Error("a run stopped during verification is not reported interrupted")
	}
	if vs := res.Summary.Vendors[0]; vs.Unverified != 1 || vs.Reads != 1 {
		t.Errorf("unverified %d reads %d, want 1 and 1", vs.Unverified, vs.Reads)
	}
	if got := stateOf(t, res, op.ID); got.State != plan.StateDone {
		t.Errorf("state %s, want done (unverified is not failed)", got.State)
	}
}

// TestRefreshedOpStaysSent is the chaos soak's finding: once a lost answer
// made the executor replace an operation's Before with the live state, the
// journal (which holds only the planned Before) must keep the operation
// "sent" until it is done. Journaled "pending", a process killed before the
// resend would resume from the planned Before, and a move would repeat a
// removal that already happened. Here the resend is throttled (Retry) and
// the run stopped: the operation must be left sent, to be read back first.
func TestRefreshedOpStaysSent(t *testing.T) {
	num := numbers(1, 0)[0]
	op := assign(num, "bu1", "p1")
	stop := make(chan struct{})
	var e *env
	hook := func(ctx context.Context, seq int, _ []plan.Op) {
		switch seq {
		case 1:
			// The lost answer: the number meanwhile sits elsewhere.
			e.fo.Seed(plan.State{Number: num, BusinessUnit: "bu1", Program: "p2", Channel: plan.ChannelCallerName})
		case 2:
			close(stop) // killed, as far as new sends go, during the resend
		}
	}
	e = newEnv(plantest.Config{}, plantest.Config{Hook: hook}).withOps(op)
	e.fo.InjectOp(op.ID, 1, plantest.FaultUnknown)
	e.fo.InjectOp(op.ID, 2, plantest.FaultRetry)
	res, err := e.run(t, stop, e.config(1))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Fatal("the run was not interrupted")
	}
	rec, _ := e.journal.Get(op.ID)
	if rec.State != plan.StateSent {
		t.Errorf("journal holds %s after the refresh and a throttled resend, want sent (checked on resume)", rec.State)
	}
}
