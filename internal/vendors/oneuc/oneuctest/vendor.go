package oneuctest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/vendortest"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// VendorHarness runs the shared plan.Vendor suite (vendortest) through the
// real client against a fresh lab: creating is activating numbers a
// carrier search returns (+1555010…), removing is releasing, and the
// refused number is one no search returns (…0000, the lab's rule).
func VendorHarness() vendortest.Harness {
	return vendortest.Harness{Start: func(t *testing.T) *vendortest.Env {
		// Reads that keep failing give up at once, so the partial-listing
		// case does not wait out the retry budget.
		quick := oneuc.WithGetRetries(2, time.Millisecond)
		env := LabHarness().Start(t, Setup{Seed: lab.Seed{Available: []string{"+1555010"}},
			Options: []oneuc.Option{quick}})
		l := env.Lab
		held := 0
		newClient := func(t *testing.T, url, key string) plan.Vendor {
			c, err := oneuc.New(oneuc.Config{URL: url, AccountID: l.AccountID(), APIKey: key, RPS: -1,
				Timeout: 5 * time.Second}, quick)
			if err != nil {
				t.Fatalf("new client: %v", err)
			}
			return c
		}
		return &vendortest.Env{
			Vendor:  env.Client,
			Fresh:   func(i int) string { return fmt.Sprintf("+155501001%02d", i) },
			Refused: "+15550100000",
			Create: func(n string) plan.Op {
				return plan.Op{ID: plan.OpID(plan.OneUC, plan.Activate, n), Vendor: plan.OneUC, Action: plan.Activate,
					Number: n, After: plan.State{Status: "in_service"}}
			},
			Remove: func(live plan.State) plan.Op {
				return plan.Op{ID: plan.OpID(plan.OneUC, plan.Release, live.Number), Vendor: plan.OneUC,
					Action: plan.Release, Number: live.Number, Before: live}
			},
			Hold: func(t *testing.T, count int) []string {
				var seed lab.Seed
				var out []string
				for range count {
					n := fmt.Sprintf("+1555020%04d", held)
					held++
					seed.Numbers = append(seed.Numbers, lab.SeedNumber{Number: n, State: "in_service"})
					out = append(out, n)
				}
				if err := l.Seed(seed); err != nil {
					t.Fatalf("seed: %v", err)
				}
				return out
			},
			ListPage:     1000, // the page_size the client asks for
			BreakListing: func() { l.SetFaults(1, 0) },
			Throttle: func() {
				l.Inject(lab.Fault{Method: http.MethodPut, PathContains: "/activate", Kind: lab.FaultThrottle})
			},
			LoseAnswers: func() func() {
				l.SetFaults(0, 1)
				return func() { l.SetFaults(0, 0) }
			},
			Unreachable: func(t *testing.T) plan.Vendor {
				srv := httptest.NewServer(nil)
				srv.Close()
				return newClient(t, srv.URL, env.APIKey)
			},
			Refusing: func(t *testing.T) plan.Vendor {
				srv := httptest.NewServer(l)
				t.Cleanup(srv.Close)
				return newClient(t, srv.URL, "wrong-"+env.APIKey)
			},
			Secrets: []string{env.APIKey, "wrong-" + env.APIKey},
		}
	}}
}
