package plantest_test

import (
	"fmt"
	"testing"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
	"github.com/numsync/numsync/internal/plan/vendortest"
)

// fakeHarness runs the shared vendor suite against the fake, speaking as
// vendor: the executor's and the lifecycle's tests stand on the fake, so
// it must keep the contract the real clients keep.
func fakeHarness(vendor plan.VendorName) vendortest.Harness {
	return vendortest.Harness{Start: func(t *testing.T) *vendortest.Env {
		const page = 10
		f := plantest.New(plantest.Config{Name: vendor, ListPage: page})
		refused := "+12025550999"
		f.FailNumber(refused, "INVALID_NUMBER")
		held := 0
		env := &vendortest.Env{
			Vendor:   f,
			Fresh:    func(i int) string { return fmt.Sprintf("+120255501%02d", i) },
			Refused:  refused,
			ListPage: page,
			Hold: func(t *testing.T, count int) []string {
				var out []string
				for range count {
					n := fmt.Sprintf("+1303555%04d", held)
					held++
					st := plan.State{Number: n, Status: "in_service"}
					if vendor == plan.FirstOrion {
						st = plan.State{Number: n, BusinessUnit: "bu-1", Status: "APPROVED"}
					}
					f.Seed(st)
					out = append(out, n)
				}
				return out
			},
			BreakListing: func() {
				f.FailList(&plan.VendorError{Vendor: vendor, Status: 503, Code: "service unavailable", Temporary: true})
			},
			Throttle: func() { f.InjectCall(len(f.Calls())+1, plantest.FaultRetry) },
			LoseAnswers: func() func() {
				f.FailCalls(plantest.FaultAppliedUnknown)
				return func() { f.FailCalls(0) }
			},
		}
		env.Create = func(n string) plan.Op {
			if vendor == plan.FirstOrion {
				return plan.Op{ID: plan.OpID(vendor, plan.Assign, n), Vendor: vendor, Action: plan.Assign, Number: n,
					After: plan.State{BusinessUnit: "bu-1", Program: "p-1", Channel: "callerName"}}
			}
			return plan.Op{ID: plan.OpID(vendor, plan.Activate, n), Vendor: vendor, Action: plan.Activate, Number: n,
				After: plan.State{Status: "in_service"}}
		}
		env.Remove = func(live plan.State) plan.Op {
			a := plan.Release
			if vendor == plan.FirstOrion {
				a = plan.Delete
			}
			return plan.Op{ID: plan.OpID(vendor, a, live.Number), Vendor: vendor, Action: a, Number: live.Number, Before: live}
		}
		return env
	}}
}

func TestVendorContract(t *testing.T) {
	for _, v := range []plan.VendorName{plan.OneUC, plan.FirstOrion} {
		t.Run(string(v), func(t *testing.T) { vendortest.Run(t, fakeHarness(v)) })
	}
}
