package firstorion

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// The client's tests use the lab package directly: firstoriontest imports
// this package, so these tests cannot import it.

// labSeedBase is the hierarchy the tests start from.
func labSeedBase() folab.Seed { return folab.BaseSeed() }

// startLab serves a lab over loopback HTTP and returns it with its URL.
func startLab(t testing.TB, opts folab.Options, seed folab.Seed) (*folab.Lab, string) {
	t.Helper()
	lab := folab.New(opts)
	if err := lab.Seed(seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewServer(lab)
	t.Cleanup(srv.Close)
	return lab, srv.URL
}

// newLabClient returns a client of lab at url with test-friendly settings.
func newLabClient(t testing.TB, lab *folab.Lab, url string, mod func(*Config), opts ...Option) *Client {
	t.Helper()
	o := lab.Options()
	cfg := Config{URL: url, BusinessID: o.BusinessID, APIKey: o.APIKey, SecretKey: o.SecretKey,
		RPS: -1, BatchSize: 100, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	opts = append([]Option{WithListRetries(4, 10*time.Millisecond)}, opts...)
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// labSeedRules is the base hierarchy with a number at each level.
func labSeedRules() folab.Seed {
	s := labSeedBase()
	s.Numbers = []folab.SeedNumber{
		{ID: "in-p1", PhoneNumber: "+12025550001", BusinessUnitID: "bu-1", ProgramID: "p-1"},
		{ID: "at-bu1", PhoneNumber: "+12025550002", BusinessUnitID: "bu-1"},
		{ID: "at-business", PhoneNumber: "+12025550003"},
	}
	return s
}

// fakeClock is a clock tests move by hand, shared by a lab and a client.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func fbool(b bool) *bool { return &b }

func assignOp(num, bu, prog, ch string) plan.Op {
	return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Assign, num), Vendor: plan.FirstOrion, Action: plan.Assign, Number: num,
		After: plan.State{BusinessUnit: bu, Program: prog, Channel: ch, CallPurpose: "CS", AuthCalls: fbool(false)}}
}

func moveOp(before plan.State, bu, prog, ch string) plan.Op {
	return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Move, before.Number), Vendor: plan.FirstOrion, Action: plan.Move, Number: before.Number,
		Before: plan.State{ID: before.ID, BusinessUnit: before.BusinessUnit, Program: before.Program, Channel: before.Channel},
		After:  plan.State{BusinessUnit: bu, Program: prog, Channel: ch}}
}

// live reads numbers and fails the test on error.
func live(t *testing.T, c *Client, nums ...string) map[string]plan.State {
	t.Helper()
	got, err := c.Read(context.Background(), nums)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}

func wantOutcome(t *testing.T, r plan.Result, want plan.Outcome, code string) {
	t.Helper()
	if r.Outcome != want {
		t.Fatalf("%s: outcome %v, want %v (err %v)", r.OpID, r.Outcome, want, r.Err)
	}
	if code != "" {
		var ve *plan.VendorError
		if !errors.As(r.Err, &ve) || ve.Code != code {
			t.Fatalf("%s: error %v, want code %s", r.OpID, r.Err, code)
		}
	}
}

// writePaths lists the lab's mutating requests as "METHOD path".
func writePaths(lab *folab.Lab) []string {
	var out []string
	for _, r := range lab.Requests() {
		if r.Method != http.MethodGet && !strings.HasPrefix(r.Path, "/v1/auth") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}
