package app

import (
	"context"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

// TestBeforeDiffers: the stale check compares the live state with what
// the plan saw on the fields each operation concerns, and only those: an
// update's Before carries only what it changes, so the fields it leaves
// alone (and a OneUC update's in-service state) are not differences.
func TestBeforeDiffers(t *testing.T) {
	addr := &plan.Address{StreetAddress: "1 MARKET ST", Locality: "SAN FRANCISCO", Region: "CA", PostalCode: "94105"}
	other := &plan.Address{StreetAddress: "350 5TH AVE", Locality: "NEW YORK", Region: "NY", PostalCode: "10118"}
	const num = "+14155550100"
	ouUpdate := plan.Op{ID: "oneuc/update/" + num, Vendor: plan.OneUC, Action: plan.Update, Number: num,
		Before: plan.State{CNAM: sp("OLD")}, After: plan.State{CNAM: sp("NEW")}}
	ouE911 := plan.Op{ID: "oneuc/update/" + num, Vendor: plan.OneUC, Action: plan.Update, Number: num,
		Before: plan.State{E911: addr}, After: plan.State{E911: other}}
	ouAfterActivate := ouUpdate
	ouAfterActivate.Before = plan.State{CNAM: sp("")}
	ouAfterActivate.DependsOn = []string{"oneuc/activate/" + num}
	discover := plan.Op{ID: "oneuc/activate/" + num, Vendor: plan.OneUC, Action: plan.Activate, Number: num,
		After: plan.State{Status: "in_service"}}
	reserved := discover
	reserved.Before = plan.State{Status: "reserved"}

	foAuth := plan.Op{ID: "firstorion/update/" + num, Vendor: plan.FirstOrion, Action: plan.Update, Number: num,
		Before: plan.State{ID: "id-1", AuthCalls: bp(true)}, After: plan.State{AuthCalls: bp(false)}}
	foCPC := plan.Op{ID: "firstorion/update/" + num, Vendor: plan.FirstOrion, Action: plan.Update, Number: num,
		Before: plan.State{ID: "id-1", CallPurpose: "SA"}, After: plan.State{CallPurpose: "CS"}}
	foMove := plan.Op{ID: "firstorion/move/" + num, Vendor: plan.FirstOrion, Action: plan.Move, Number: num,
		Before: plan.State{ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: "callerName"},
		After:  plan.State{BusinessUnit: "bu1", Program: "p2", Channel: "callerImage"}}
	foAssign := plan.Op{ID: "firstorion/assign/" + num, Vendor: plan.FirstOrion, Action: plan.Assign, Number: num,
		After: plan.State{BusinessUnit: "bu1", Program: "p1", Channel: "callerName", CallPurpose: "CS", AuthCalls: bp(false)}}
	foDelete := plan.Op{ID: "firstorion/delete/" + num, Vendor: plan.FirstOrion, Action: plan.Delete, Number: num,
		Before: plan.State{ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: "callerName"}}
	foLive := plan.State{Number: num, ID: "id-1", BusinessUnit: "bu1", Program: "p1", Channel: "callerName", CallPurpose: "SA", AuthCalls: bp(true)}

	tests := []struct {
		name    string
		op      plan.Op
		live    plan.State
		present bool
		want    string // "" or a substring of the difference
	}{
		{"oneuc update unchanged", ouUpdate, plan.State{Status: "in_service", CNAM: sp("OLD"), E911: addr}, true, ""},
		{"oneuc update, cnam changed by hand", ouUpdate, plan.State{Status: "in_service", CNAM: sp("BY HAND")}, true, `cnam "OLD" → "BY HAND"`},
		{"oneuc update ignores e911 it does not set", ouUpdate, plan.State{Status: "in_service", CNAM: sp("OLD"), E911: other}, true, ""},
		{"oneuc e911 update unchanged", ouE911, plan.State{Status: "in_service", CNAM: sp("ANY"), E911: addr}, true, ""},
		{"oneuc e911 update, address changed", ouE911, plan.State{Status: "in_service", E911: other}, true, "e911 address changed"},
		{"oneuc update, number released", ouUpdate, plan.State{}, false, "no longer held"},
		{"oneuc update, number disconnected", ouUpdate, plan.State{Status: "disconnected", CNAM: sp("OLD")}, true, "state in_service → disconnected"},
		{"oneuc update after activation, still reserved", ouAfterActivate, plan.State{Status: "reserved"}, true, ""},
		{"oneuc update after activation of a number not yet held", ouAfterActivate, plan.State{}, false, ""},
		{"discovery, still not held", discover, plan.State{}, false, ""},
		{"discovery, now in service", discover, plan.State{Status: "in_service"}, true, "now held (in_service)"},
		{"reserved activation unchanged", reserved, plan.State{Status: "reserved"}, true, ""},
		{"reserved activation, activated meanwhile", reserved, plan.State{Status: "in_service"}, true, "state reserved → in_service"},
		{"first orion auth-only update unchanged", foAuth, foLive, true, ""},
		{"first orion auth-only update, auth changed", foAuth, func() plan.State { s := foLive; s.AuthCalls = bp(false); return s }(), true, "call purpose"},
		{"first orion auth-only update ignores call purpose", foAuth, func() plan.State { s := foLive; s.CallPurpose = "FR"; return s }(), true, ""},
		{"first orion cpc-only update unchanged", foCPC, foLive, true, ""},
		{"first orion cpc-only update, cpc changed", foCPC, func() plan.State { s := foLive; s.CallPurpose = "FR"; return s }(), true, "call purpose SA"},
		{"first orion update, number recreated", foCPC, func() plan.State { s := foLive; s.ID = "id-2"; return s }(), true, "phone-number id changed"},
		{"first orion move unchanged", foMove, foLive, true, ""},
		{"first orion move, moved by hand", foMove, func() plan.State { s := foLive; s.Program = "p3"; return s }(), true, "place bu1/p1/callerName → bu1/p3/callerName"},
		{"first orion assign, still absent", foAssign, plan.State{}, false, ""},
		{"first orion assign, now present", foAssign, foLive, true, "now held"},
		{"first orion delete, already gone", foDelete, plan.State{}, false, "no longer held"},
		{"first orion delete unchanged", foDelete, foLive, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := beforeDiffers(tt.op, tt.live, tt.present)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("stale (%q), want in step", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("difference %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestStaleCheck reads every number a saved plan touches, once per
// vendor, and reports exactly the ones that changed, in op id order.
func TestStaleCheck(t *testing.T) {
	ou := plantest.New(plantest.Config{Name: plan.OneUC})
	fo := plantest.New(plantest.Config{Name: plan.FirstOrion})
	ou.Seed(plan.State{Number: "+12125550001", Status: "in_service", CNAM: sp("A")},
		plan.State{Number: "+12125550002", Status: "in_service", CNAM: sp("B")})
	fo.Seed(plan.State{Number: "+12125550001", ID: "id-1", BusinessUnit: "bu1", CallPurpose: "CS", AuthCalls: bp(false)})
	p := &plan.Plan{Ops: []plan.Op{
		{ID: "oneuc/update/+12125550002", Vendor: plan.OneUC, Action: plan.Update, Number: "+12125550002",
			Before: plan.State{CNAM: sp("OLD")}, After: plan.State{CNAM: sp("NEW")}},
		{ID: "oneuc/update/+12125550001", Vendor: plan.OneUC, Action: plan.Update, Number: "+12125550001",
			Before: plan.State{CNAM: sp("A")}, After: plan.State{CNAM: sp("Z")}},
		{ID: "firstorion/update/+12125550001", Vendor: plan.FirstOrion, Action: plan.Update, Number: "+12125550001",
			Before: plan.State{ID: "id-1", CallPurpose: "CS"}, After: plan.State{CallPurpose: "SA"}},
		{ID: "firstorion/assign/+12125550003", Vendor: plan.FirstOrion, Action: plan.Assign, Number: "+12125550003",
			After: plan.State{BusinessUnit: "bu1"}},
	}}
	got, err := StaleCheck(context.Background(), Vendors{OneUC: ou, FirstOrion: fo}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OpID != "oneuc/update/+12125550002" || !strings.Contains(got[0].Differs, `cnam "OLD" → "B"`) {
		t.Errorf("stale: %+v", got)
	}
	if ou.Reads() != 1 || fo.Reads() != 1 {
		t.Errorf("reads: oneuc %d, firstorion %d; want one each", ou.Reads(), fo.Reads())
	}

	if _, err := StaleCheck(context.Background(), Vendors{OneUC: ou}, p); err == nil || !strings.Contains(err.Error(), "firstorion, which the configuration disables") {
		t.Errorf("a plan for a disabled vendor: %v", err)
	}
}
