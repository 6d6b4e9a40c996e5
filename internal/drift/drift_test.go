package drift

import (
	"context"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

func ptr[T any](v T) *T { return &v }

var (
	t1 = time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	t2 = t1.Add(24 * time.Hour)
)

func TestMark(t *testing.T) {
	const n = "+12125550100"
	tests := []struct {
		name  string
		op    plan.Op
		known []Known
		want  int64 // the run marked; 0: not marked
	}{
		{"cnam renamed by hand after numsync wrote it",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{CNAM: ptr("BY HAND")}, After: plan.State{CNAM: ptr("ACME")}},
			[]Known{{State: plan.State{CNAM: ptr("ACME")}, Run: 3, At: t1}}, 3},
		{"the CSV asks for a new name: numsync's own value is live",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{CNAM: ptr("ACME")}, After: plan.State{CNAM: ptr("ACME 2")}},
			[]Known{{State: plan.State{CNAM: ptr("ACME")}, Run: 3, At: t1}}, 0},
		{"released by hand after numsync activated it",
			plan.Op{Vendor: plan.OneUC, Action: plan.Activate, Before: plan.State{Status: "reserved"}, After: plan.State{Status: plan.StatusInService}},
			[]Known{{State: plan.State{Status: plan.StatusInService}, Run: 2, At: t1}}, 2},
		{"moved by hand at First Orion after numsync assigned it",
			plan.Op{Vendor: plan.FirstOrion, Action: plan.Move, Before: plan.State{BusinessUnit: "bu-1", Program: "p-other", Channel: "callerName"},
				After: plan.State{BusinessUnit: "bu-1", Program: "p-1", Channel: "callerName"}},
			[]Known{{State: plan.State{BusinessUnit: "bu-1", Program: "p-1", Channel: "callerName", CallPurpose: "CS"}, Run: 4, At: t1}}, 4},
		{"a write knows only what it set",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{E911: &plan.Address{StreetAddress: "1 MAIN ST"}}, After: plan.State{E911: &plan.Address{StreetAddress: "2 Main St"}}},
			[]Known{{State: plan.State{CNAM: ptr("ACME")}, Run: 3, At: t1}}, 0},
		{"a detailed read knows an empty name is empty",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{CNAM: ptr("BY HAND")}, After: plan.State{CNAM: ptr("")}},
			[]Known{{State: plan.State{Detailed: true}, Read: true, Run: 5, At: t1}}, 5},
		{"the most recent knowledge wins",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{CNAM: ptr("SECOND")}, After: plan.State{CNAM: ptr("THIRD")}},
			[]Known{{State: plan.State{CNAM: ptr("SECOND")}, Run: 6, At: t2}, {State: plan.State{CNAM: ptr("FIRST")}, Run: 5, At: t1}}, 0},
		{"a number numsync never knew",
			plan.Op{Vendor: plan.OneUC, Action: plan.Update, Before: plan.State{CNAM: ptr("X")}, After: plan.State{CNAM: ptr("Y")}},
			nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := tt.op
			op.Number, op.ID = n, plan.OpID(op.Vendor, op.Action, n)
			p := &plan.Plan{Vendors: map[plan.VendorName]*plan.VendorSummary{op.Vendor: {}}, Ops: []plan.Op{op}}
			kn := Knowledge{}
			for _, k := range tt.known {
				kn.Add(op.Vendor, n, k)
			}
			got := Mark(p, kn)
			switch {
			case tt.want == 0 && (got != 0 || p.Ops[0].ChangedOutside != nil):
				t.Errorf("marked %+v", p.Ops[0].ChangedOutside)
			case tt.want != 0 && (got != 1 || p.Ops[0].ChangedOutside == nil || p.Ops[0].ChangedOutside.Run != tt.want || p.Vendors[op.Vendor].ChangedOutside != 1):
				t.Errorf("Mark = %d, %+v, want run %d", got, p.Ops[0].ChangedOutside, tt.want)
			}
		})
	}
}

type fakeJournal struct {
	runs []Run
	ops  map[int64][]plan.OpRecord
}

func (f fakeJournal) RecentRuns(context.Context, int) ([]Run, error) { return f.runs, nil }
func (f fakeJournal) Ops(_ context.Context, id int64) ([]plan.OpRecord, error) {
	return f.ops[id], nil
}

// TestLearn: writes are learnt from runs (not releases and deletes), and a
// cached read counts only when it happened during a run.
func TestLearn(t *testing.T) {
	j := fakeJournal{runs: []Run{{ID: 2, Started: t2, Finished: t2.Add(time.Minute)}, {ID: 1, Started: t1, Finished: t1.Add(time.Minute)}},
		ops: map[int64][]plan.OpRecord{
			1: {{Op: plan.Op{Vendor: plan.OneUC, Action: plan.Update, Number: "+1", After: plan.State{CNAM: ptr("A")}}, State: plan.StateDone, UpdatedAt: t1.Add(time.Second)}},
			2: {{Op: plan.Op{Vendor: plan.OneUC, Action: plan.Release, Number: "+2", After: plan.State{Status: "released"}}, State: plan.StateDone, UpdatedAt: t2},
				// Read by run 2's plan and not changed: what it read is known.
				{Op: plan.Op{Vendor: plan.FirstOrion, Action: plan.Move, Number: "+5", Before: plan.State{Program: "p-old"}, After: plan.State{Program: "p-new"}}, State: plan.StateFailed, LastError: "INVALID_PROGRAM"},
				{Op: plan.Op{Vendor: plan.FirstOrion, Action: plan.Assign, Number: "+6", Before: plan.State{}, After: plan.State{Program: "p"}}, State: plan.StateSkipped},
				// Sent without an answer, or read back as something else:
				// nothing is known of them.
				{Op: plan.Op{Vendor: plan.FirstOrion, Action: plan.Move, Number: "+7", Before: plan.State{Program: "p-old"}, After: plan.State{Program: "p-new"}}, State: plan.StateSent},
				{Op: plan.Op{Vendor: plan.OneUC, Action: plan.Update, Number: "+8", Before: plan.State{CNAM: ptr("OLD")}, After: plan.State{CNAM: ptr("NEW")}}, State: plan.StateFailed, LastError: "verify: live state differs: cnam"},
				// A move refused after it was sent may have left its old
				// program already (two steps at First Orion).
				{Op: plan.Op{Vendor: plan.FirstOrion, Action: plan.Move, Number: "+9", Before: plan.State{Program: "p-old"}, After: plan.State{Program: "p-new"}}, State: plan.StateFailed, Attempts: 1, LastError: "INVALID_PROGRAM"},
			},
		}}
	kn, runs, err := Writes(context.Background(), j, 20)
	if err != nil {
		t.Fatal(err)
	}
	kn.Reads(map[string]plan.CachedState{
		"+3": {Number: "+3", State: plan.State{CNAM: ptr("IN RUN")}, SavedAt: t2.Add(30 * time.Second)},
		"+4": {Number: "+4", State: plan.State{CNAM: ptr("BY A PLAN")}, SavedAt: t2.Add(time.Hour)},
	}, runs)
	if k, ok := kn[plan.OneUC]["+1"]; !ok || k.Run != 1 || *k.State.CNAM != "A" {
		t.Errorf("+1: %+v", k)
	}
	if _, ok := kn[plan.OneUC]["+2"]; ok {
		t.Error("a release was learnt as a write")
	}
	if k, ok := kn[plan.OneUC]["+3"]; !ok || k.Run != 2 || !k.Read {
		t.Errorf("+3: %+v", k)
	}
	if _, ok := kn[plan.OneUC]["+4"]; ok {
		t.Error("a read by a plan outside any run was learnt")
	}
	if k, ok := kn[plan.FirstOrion]["+5"]; !ok || k.Run != 2 || k.State.Program != "p-old" || !k.At.Equal(t2) {
		t.Errorf("+5 (failed: its Before was read by run 2): %+v", k)
	}
	if _, ok := kn[plan.FirstOrion]["+6"]; !ok {
		t.Error("+6 (skipped: its Before was read by run 2) was not learnt")
	}
	for _, n := range []string{"+7", "+8", "+9"} {
		if k, ok := kn[plan.FirstOrion][n]; ok {
			t.Errorf("%s learnt: %+v", n, k)
		}
		if k, ok := kn[plan.OneUC][n]; ok {
			t.Errorf("%s learnt: %+v", n, k)
		}
	}
}
