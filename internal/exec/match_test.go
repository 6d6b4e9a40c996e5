package exec_test

import (
	"testing"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
)

func ptr[T any](v T) *T { return &v }

func TestMatches(t *testing.T) {
	const num = "+12125554200"
	addr := &plan.Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
	geocoded := &plan.Address{StreetAddress: "1 MAIN  ST", Locality: "NEW YORK", Region: "NY", PostalCode: "10001"}
	op := func(v plan.VendorName, a plan.Action, after plan.State) plan.Op {
		return plan.Op{ID: plan.OpID(v, a, num), Vendor: v, Action: a, Number: num, After: after}
	}
	inService := plan.State{Number: num, Status: "in_service"}
	tests := []struct {
		name    string
		live    plan.State
		present bool
		op      plan.Op
		want    bool
	}{
		{"activate: in service", inService, true, op(plan.OneUC, plan.Activate, plan.State{Status: "in_service"}), true},
		{"activate: reserved", plan.State{Status: "reserved"}, true, op(plan.OneUC, plan.Activate, plan.State{}), false},
		{"activate: absent", plan.State{}, false, op(plan.OneUC, plan.Activate, plan.State{}), false},
		{"update: cnam equal", plan.State{CNAM: ptr("ACME")}, true, op(plan.OneUC, plan.Update, plan.State{CNAM: ptr("ACME")}), true},
		{"update: cnam differs", plan.State{CNAM: ptr("OLD")}, true, op(plan.OneUC, plan.Update, plan.State{CNAM: ptr("ACME")}), false},
		{"update: cnam cleared, none live", plan.State{}, true, op(plan.OneUC, plan.Update, plan.State{CNAM: ptr("")}), true},
		{"update: e911 not set live", plan.State{CNAM: ptr("X")}, true, op(plan.OneUC, plan.Update, plan.State{E911: addr}), false},
		{"update: e911 as geocoded", plan.State{CNAM: ptr("X"), E911: geocoded}, true, op(plan.OneUC, plan.Update, plan.State{E911: addr}), true},
		{"update: e911 and cnam", plan.State{CNAM: ptr("ACME"), E911: geocoded}, true, op(plan.OneUC, plan.Update, plan.State{CNAM: ptr("ACME"), E911: addr}), true},
		{"update: absent", plan.State{}, false, op(plan.OneUC, plan.Update, plan.State{CNAM: ptr("ACME")}), false},
		{"release: gone", plan.State{}, false, op(plan.OneUC, plan.Release, plan.State{}), true},
		{"release: available", plan.State{Status: "available"}, true, op(plan.OneUC, plan.Release, plan.State{}), true},
		{"release: still in service", inService, true, op(plan.OneUC, plan.Release, plan.State{}), false},
		{"assign: in program", plan.State{ID: "a", BusinessUnit: "bu", Program: "p", Channel: "callerName"}, true,
			op(plan.FirstOrion, plan.Assign, plan.State{BusinessUnit: "bu", Program: "p", Channel: "callerName"}), true},
		{"assign: wrong channel", plan.State{ID: "a", BusinessUnit: "bu", Program: "p", Channel: "blocking"}, true,
			op(plan.FirstOrion, plan.Assign, plan.State{BusinessUnit: "bu", Program: "p", Channel: "callerName"}), false},
		{"assign: business-unit level", plan.State{ID: "a", BusinessUnit: "bu"}, true,
			op(plan.FirstOrion, plan.Assign, plan.State{BusinessUnit: "bu"}), true},
		{"assign: still in a program", plan.State{ID: "a", BusinessUnit: "bu", Program: "p"}, true,
			op(plan.FirstOrion, plan.Assign, plan.State{BusinessUnit: "bu"}), false},
		{"assign: absent", plan.State{}, false, op(plan.FirstOrion, plan.Assign, plan.State{BusinessUnit: "bu"}), false},
		{"move: other unit", plan.State{ID: "a", BusinessUnit: "bu1"}, true, op(plan.FirstOrion, plan.Move, plan.State{BusinessUnit: "bu2"}), false},
		{"fo update: equal", plan.State{CallPurpose: "CS", AuthCalls: ptr(true)}, true,
			op(plan.FirstOrion, plan.Update, plan.State{CallPurpose: "CS", AuthCalls: ptr(true)}), true},
		{"fo update: auth calls unset live", plan.State{CallPurpose: "CS"}, true,
			op(plan.FirstOrion, plan.Update, plan.State{CallPurpose: "CS", AuthCalls: ptr(true)}), false},
		{"fo update: purpose differs", plan.State{CallPurpose: "SV"}, true, op(plan.FirstOrion, plan.Update, plan.State{CallPurpose: "CS"}), false},
		{"delete: gone", plan.State{}, false, op(plan.FirstOrion, plan.Delete, plan.State{}), true},
		{"delete: present", plan.State{ID: "a"}, true, op(plan.FirstOrion, plan.Delete, plan.State{}), false},
		{"invalid action", plan.State{}, true, op(plan.OneUC, "", plan.State{}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exec.Matches(tt.live, tt.present, tt.op); got != tt.want {
				t.Errorf("Matches = %v, want %v (mismatch %q)", got, tt.want, exec.Mismatch(tt.live, tt.present, tt.op))
			}
			if got := exec.Mismatch(tt.live, tt.present, tt.op) == ""; got != tt.want {
				t.Errorf("Mismatch disagrees with Matches")
			}
		})
	}
}
