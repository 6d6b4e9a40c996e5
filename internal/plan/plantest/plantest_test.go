package plantest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

const num = "+12125554200"

func op(v plan.VendorName, a plan.Action, before, after plan.State) plan.Op {
	before.Number, after.Number = num, num
	return plan.Op{ID: plan.OpID(v, a, num), Vendor: v, Action: a, Number: num, Before: before, After: after}
}

func TestFakeApply(t *testing.T) {
	cs := "ACME"
	tests := []struct {
		name     string
		vendor   plan.VendorName
		seed     *plan.State
		op       plan.Op
		want     plan.Outcome
		wantCode string
		present  bool
	}{
		{"activate new", plan.OneUC, nil, op(plan.OneUC, plan.Activate, plan.State{}, plan.State{Status: "in_service"}), plan.Done, "", true},
		{"update cnam", plan.OneUC, &plan.State{Status: "in_service"}, op(plan.OneUC, plan.Update, plan.State{}, plan.State{CNAM: &cs}), plan.Done, "", true},
		{"update absent", plan.OneUC, nil, op(plan.OneUC, plan.Update, plan.State{}, plan.State{CNAM: &cs}), plan.Failed, "NOT_FOUND", false},
		{"release", plan.OneUC, &plan.State{Status: "in_service"}, op(plan.OneUC, plan.Release, plan.State{}, plan.State{}), plan.Done, "", false},
		{"release absent", plan.OneUC, nil, op(plan.OneUC, plan.Release, plan.State{}, plan.State{}), plan.Done, "", false},
		{"assign new", plan.FirstOrion, nil, op(plan.FirstOrion, plan.Assign, plan.State{}, plan.State{BusinessUnit: "bu", Program: "p", Channel: "callerName"}), plan.Done, "", true},
		{"assign duplicate", plan.FirstOrion, &plan.State{ID: "pn-1", BusinessUnit: "bu"}, op(plan.FirstOrion, plan.Assign, plan.State{}, plan.State{BusinessUnit: "bu"}), plan.Failed, "DUPLICATE_NUMBER", true},
		{"assign with live id moves", plan.FirstOrion, &plan.State{ID: "pn-1", BusinessUnit: "bu"}, op(plan.FirstOrion, plan.Assign, plan.State{ID: "pn-1"}, plan.State{BusinessUnit: "bu", Program: "p"}), plan.Done, "", true},
		{"move stale id", plan.FirstOrion, &plan.State{ID: "pn-1", BusinessUnit: "bu"}, op(plan.FirstOrion, plan.Move, plan.State{ID: "pn-0"}, plan.State{BusinessUnit: "bu2"}), plan.Failed, "INVALID_RELATIONSHIP", true},
		{"move absent", plan.FirstOrion, nil, op(plan.FirstOrion, plan.Move, plan.State{ID: "pn-1"}, plan.State{BusinessUnit: "bu2"}), plan.Failed, "NOT_FOUND", false},
		{"delete", plan.FirstOrion, &plan.State{ID: "pn-1", BusinessUnit: "bu"}, op(plan.FirstOrion, plan.Delete, plan.State{ID: "pn-1"}, plan.State{}), plan.Done, "", false},
		{"delete absent", plan.FirstOrion, nil, op(plan.FirstOrion, plan.Delete, plan.State{}, plan.State{}), plan.Done, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := plantest.New(plantest.Config{Name: tt.vendor})
			if tt.seed != nil {
				s := *tt.seed
				s.Number = num
				f.Seed(s)
			}
			res := f.Apply(t.Context(), []plan.Op{tt.op})
			if len(res) != 1 || res[0].OpID != tt.op.ID || res[0].Outcome != tt.want {
				t.Fatalf("results %+v, want one %s", res, tt.want)
			}
			if tt.wantCode != "" {
				var ve *plan.VendorError
				if !errors.As(res[0].Err, &ve) || ve.Code != tt.wantCode || plan.IsTransient(res[0].Err) {
					t.Errorf("err %v, want permanent %s", res[0].Err, tt.wantCode)
				}
			}
			if _, ok := f.Get(num); ok != tt.present {
				t.Errorf("present after = %v, want %v", ok, tt.present)
			}
		})
	}
}

func TestFakeFaults(t *testing.T) {
	activate := op(plan.OneUC, plan.Activate, plan.State{}, plan.State{Status: "in_service"})
	tests := []struct {
		name        string
		setup       func(f *plantest.Fake)
		want        plan.Outcome
		wantApplied int
		wantStored  bool
	}{
		{"retry", func(f *plantest.Fake) { f.InjectOp(activate.ID, 1, plantest.FaultRetry) }, plan.Retry, 0, false},
		{"unknown", func(f *plantest.Fake) { f.InjectCall(1, plantest.FaultUnknown) }, plan.Unknown, 0, false},
		{"applied then unknown", func(f *plantest.Fake) { f.InjectOp(activate.ID, 1, plantest.FaultAppliedUnknown) }, plan.Unknown, 1, true},
		{"dropped", func(f *plantest.Fake) { f.DropNumber(num) }, plan.Done, 0, false},
		{"permanent", func(f *plantest.Fake) { f.FailNumber(num, "fault by carrier") }, plan.Failed, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := plantest.New(plantest.Config{RetryAfter: 2e9})
			tt.setup(f)
			res := f.Apply(t.Context(), []plan.Op{activate})
			if res[0].Outcome != tt.want {
				t.Fatalf("outcome %s, want %s", res[0].Outcome, tt.want)
			}
			if tt.want == plan.Retry && plan.RetryAfter(res[0].Err) != 2e9 {
				t.Errorf("RetryAfter = %v", plan.RetryAfter(res[0].Err))
			}
			if (tt.want == plan.Retry || tt.want == plan.Unknown) && !plan.IsTransient(res[0].Err) {
				t.Errorf("%v is not transient", res[0].Err)
			}
			if got := f.Applications(activate.ID); got != tt.wantApplied {
				t.Errorf("applications %d, want %d", got, tt.wantApplied)
			}
			if _, ok := f.Get(num); ok != tt.wantStored {
				t.Errorf("stored = %v, want %v", ok, tt.wantStored)
			}
			if f.Deliveries(activate.ID) != 1 || len(f.Calls()) != 1 {
				t.Errorf("deliveries %d calls %d, want 1 and 1", f.Deliveries(activate.ID), len(f.Calls()))
			}
		})
	}
}

func TestFakeReadAndList(t *testing.T) {
	f := plantest.New(plantest.Config{Name: plan.FirstOrion})
	f.Seed(plan.State{Number: "+12125550002", BusinessUnit: "bu"}, plan.State{Number: "+12125550001", BusinessUnit: "bu"})
	var listed []string
	if err := f.List(t.Context(), func(s plan.State) error {
		if s.ID == "" {
			t.Errorf("%s listed without an id", s.Number)
		}
		listed = append(listed, s.Number)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, []string{"+12125550001", "+12125550002"}) {
		t.Errorf("listed %v", listed)
	}
	got, err := f.Read(t.Context(), []string{"+12125550001", "+19999999999"})
	if err != nil || len(got) != 1 || got["+12125550001"].BusinessUnit != "bu" {
		t.Errorf("Read = %v, %v", got, err)
	}
	f.InjectRead(2, errors.New("boom"))
	if _, err := f.Read(t.Context(), []string{"+12125550001"}); err == nil {
		t.Error("injected read error not returned")
	}
	if f.Reads() != 2 {
		t.Errorf("reads = %d", f.Reads())
	}
}

func TestFakeReadStates(t *testing.T) {
	cs := "ACME"
	f := plantest.New(plantest.Config{})
	f.Seed(plan.State{Number: num, Status: "in_service", CNAM: &cs, E911: &plan.Address{StreetAddress: "1 Main St"}})
	got, err := f.ReadStates(t.Context(), []string{num, "+19999999999"})
	if err != nil || len(got) != 1 {
		t.Fatalf("ReadStates = %v, %v", got, err)
	}
	if s := got[num]; s.Status != "in_service" || s.Detailed || s.CNAM != nil || s.E911 != nil {
		t.Errorf("ReadStates gave %+v, want the state without details, as OneUC's listing", s)
	}
	if s, _ := f.Read(t.Context(), []string{num}); !s[num].Detailed || s[num].CNAM == nil {
		t.Errorf("Read gave %+v, want details", s[num])
	}
	// Faults count Read and ReadStates together: the third read fails.
	f.InjectRead(3, errors.New("boom"))
	if _, err := f.ReadStates(t.Context(), []string{num}); err == nil {
		t.Error("injected read error not returned by ReadStates")
	}
	if f.Reads() != 1 || f.StateReads() != 2 {
		t.Errorf("reads %d, state reads %d; want 1 and 2", f.Reads(), f.StateReads())
	}
	if _, ok := plantest.WithoutStateReader(f).(plan.StateReader); ok {
		t.Error("WithoutStateReader still offers ReadStates")
	}
}

func TestFakeBatchKey(t *testing.T) {
	f := plantest.New(plantest.Config{Name: plan.FirstOrion, BatchSize: 50})
	a := op(plan.FirstOrion, plan.Assign, plan.State{}, plan.State{BusinessUnit: "bu", Program: "p", Channel: "callerName"})
	if k, m := f.BatchKey(a); k == "" || m != 50 {
		t.Errorf("assign key %q max %d", k, m)
	}
	u := op(plan.FirstOrion, plan.Update, plan.State{}, plan.State{CallPurpose: "CS"})
	if k, m := f.BatchKey(u); k != "" || m != 1 {
		t.Errorf("update key %q max %d, want unbatched", k, m)
	}
}

func TestFakeCancelledContext(t *testing.T) {
	f := plantest.New(plantest.Config{Latency: 1 << 40})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := f.Apply(ctx, []plan.Op{op(plan.OneUC, plan.Activate, plan.State{}, plan.State{})})
	if res[0].Outcome != plan.Unknown {
		t.Errorf("outcome %s, want unknown", res[0].Outcome)
	}
}

func TestJournal(t *testing.T) {
	a := op(plan.OneUC, plan.Activate, plan.State{}, plan.State{})
	log := &plantest.EventLog{}
	j := plantest.NewJournal(a)
	j.Events = log
	ctx := t.Context()
	if err := j.MarkSent(ctx, 1, []string{a.ID}); err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, 1, []plan.OpUpdate{{OpID: a.ID, State: plan.StateDone, Ref: "r1"}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := j.Get(a.ID); r.State != plan.StateDone || r.Attempts != 1 || r.Ref != "r1" {
		t.Errorf("record %+v", r)
	}
	if err := j.MarkSent(ctx, 1, []string{a.ID}); err == nil || !strings.Contains(err.Error(), "already done") {
		t.Errorf("resending a done operation: err %v", err)
	}
	if err := j.MarkSent(ctx, 1, []string{"nope"}); err == nil {
		t.Error("unknown operation accepted")
	}
	j.FailFrom(1, errors.New("disk full"))
	if err := j.Record(ctx, 1, nil); err == nil {
		t.Error("FailFrom had no effect")
	}
	if m, r := j.Counts(); m != 1 || r != 1 {
		t.Errorf("counts %d %d", m, r)
	}
	if len(log.Events()) != 2 {
		t.Errorf("events %v", log.Events())
	}
}

func TestSentBeforeApplied(t *testing.T) {
	tests := []struct {
		name   string
		events [][2]string
		bad    []string
	}{
		{"ok", [][2]string{{plantest.EventMarkSent, "a"}, {plantest.EventApply, "a"}}, nil},
		{"apply first", [][2]string{{plantest.EventApply, "a"}, {plantest.EventMarkSent, "a"}}, []string{"a"}},
		{"resend without mark", [][2]string{{plantest.EventMarkSent, "a"}, {plantest.EventApply, "a"}, {plantest.EventApply, "a"}}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l plantest.EventLog
			for _, e := range tt.events {
				l.Add(e[0], e[1])
			}
			if got := l.SentBeforeApplied(); !slices.Equal(got, tt.bad) {
				t.Errorf("got %v, want %v", got, tt.bad)
			}
		})
	}
}
