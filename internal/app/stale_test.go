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
