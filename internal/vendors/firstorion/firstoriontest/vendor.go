package firstoriontest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/vendortest"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	"github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// vendorPage is the listing page the vendor harness's client asks for, so
// the listing cases span pages without thousands of numbers.
const vendorPage = 10

// VendorHarness runs the shared plan.Vendor suite (vendortest) through the
// real client against a fresh lab: creating is assigning a number to
// program p-1 of bu-1, removing is the batch delete, and the refused
// number is one that is not E.164 (INVALID_NUMBER).
func VendorHarness() vendortest.Harness {
	return vendortest.Harness{Start: func(t *testing.T) *vendortest.Env {
		env := LabHarness().Start(t, Setup{Options: []firstorion.Option{firstorion.WithPageLimit(vendorPage)}})
		l := env.Lab
		held := 0
		return &vendortest.Env{
			Vendor:  env.Client,
			Fresh:   func(i int) string { return fmt.Sprintf("+120255501%02d", i) },
			Refused: "+123",
			Create: func(n string) plan.Op {
				auth := false
				return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Assign, n), Vendor: plan.FirstOrion, Action: plan.Assign,
					Number: n, After: plan.State{BusinessUnit: env.BU1, Program: env.P1.ID, Channel: env.P1.Channel,
						CallPurpose: "CS", AuthCalls: &auth}}
			},
			Remove: func(live plan.State) plan.Op {
				return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Delete, live.Number), Vendor: plan.FirstOrion,
					Action: plan.Delete, Number: live.Number, Before: live}
			},
			Hold: func(t *testing.T, count int) []string {
				var nums []lab.SeedNumber
				var out []string
				for range count {
					n := fmt.Sprintf("+1303555%04d", held)
					held++
					nums = append(nums, lab.SeedNumber{PhoneNumber: n, BusinessUnitID: env.BU2})
					out = append(out, n)
				}
				env.Place(t, nums)
				return out
			},
			ListPage: vendorPage,
			BreakListing: func() {
				l.Inject(lab.Fault{Method: http.MethodGet, PathContains: "/phone-numbers", Kind: lab.FaultUnavailable, Times: 1 << 20})
			},
			Throttle: func() {
				l.Inject(lab.Fault{Method: http.MethodPost, PathContains: "/a-numbers", Kind: lab.FaultThrottle})
			},
			LoseAnswers: func() func() {
				l.Inject(lab.Fault{Method: http.MethodPost, Kind: lab.FaultLost, Times: 1 << 20})
				return l.ClearFaults
			},
			Unreachable: func(t *testing.T) plan.Vendor {
				srv := httptest.NewServer(nil)
				srv.Close()
				return LabClient(t, l, srv.URL, nil)
			},
			Refusing: func(t *testing.T) plan.Vendor {
				return LabClient(t, l, env.URL, func(c *firstorion.Config) { c.SecretKey = "wrong-" + c.SecretKey })
			},
			Secrets: []string{env.Config.APIKey, env.Config.SecretKey, "wrong-" + env.Config.SecretKey},
		}
	}}
}

// VendorSandboxHarness runs the shared plan.Vendor suite against a real
// First Orion account, through SandboxHarness: numbers are created under
// prefix and deleted when each case ends. The cases that need fault
// injection are skipped.
func VendorSandboxHarness(url, business, key, secret, prefix string, rps float64) vendortest.Harness {
	sandbox := SandboxHarness(url, business, key, secret, prefix, rps)
	return vendortest.Harness{Start: func(t *testing.T) *vendortest.Env {
		env := sandbox.Start(t, Setup{Options: []firstorion.Option{firstorion.WithPageLimit(vendorPage)}})
		held := 10 // Num(0..9) are the fresh numbers
		client := func(t *testing.T, mod func(*firstorion.Config)) plan.Vendor {
			cfg := env.Config
			mod(&cfg)
			c, err := firstorion.New(cfg, firstorion.WithPageLimit(vendorPage))
			if err != nil {
				t.Fatalf("new client: %v", err)
			}
			return c
		}
		return &vendortest.Env{
			Vendor:  env.Client,
			Fresh:   env.Num,
			Refused: "+123",
			Create: func(n string) plan.Op {
				auth := false
				return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Assign, n), Vendor: plan.FirstOrion, Action: plan.Assign,
					Number: n, After: plan.State{BusinessUnit: env.BU1, Program: env.P1.ID, Channel: env.P1.Channel,
						CallPurpose: "CS", AuthCalls: &auth}}
			},
			Remove: func(live plan.State) plan.Op {
				return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Delete, live.Number), Vendor: plan.FirstOrion,
					Action: plan.Delete, Number: live.Number, Before: live}
			},
			Hold: func(t *testing.T, count int) []string {
				if held+count > sandboxNumbers {
					t.Fatalf("the sandbox block holds %d numbers, %d asked", sandboxNumbers, held+count)
				}
				var nums []lab.SeedNumber
				var out []string
				for range count {
					n := env.Num(held)
					held++
					nums = append(nums, lab.SeedNumber{PhoneNumber: n, BusinessUnitID: env.BU2})
					out = append(out, n)
				}
				env.Place(t, nums)
				return out
			},
			ListPage: vendorPage,
			Shared:   true,
			Unreachable: func(t *testing.T) plan.Vendor {
				srv := httptest.NewServer(nil)
				srv.Close()
				return client(t, func(c *firstorion.Config) { c.URL = srv.URL })
			},
			Refusing: func(t *testing.T) plan.Vendor {
				return client(t, func(c *firstorion.Config) { c.SecretKey = "wrong-" + c.SecretKey })
			},
			Secrets: []string{env.Config.APIKey, env.Config.SecretKey, "wrong-" + env.Config.SecretKey},
		}
	}}
}
