package firstorion

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// The contract suite runs against the lab in every `go test`, and against a
// real First Orion lab account when given one:
//
//	go test ./internal/vendors/firstorion -run TestContractSandbox \
//	  -firstorion-sandbox https://api.forp-lab.com \
//	  -firstorion-business 719d140e-... -firstorion-prefix +1201555
//
// with FO_API_KEY and FO_SECRET_KEY in the environment (or -firstorion-key
// and -firstorion-secret). The account needs two business units, the first
// with at least two programs; numbers are created in the given prefix
// block and deleted again. Subtests that need the lab's fault injection or
// short tokens are skipped there.
var (
	sandboxURL      = flag.String("firstorion-sandbox", "", "First Orion base URL to run the contract suite against (skipped when empty)")
	sandboxBusiness = flag.String("firstorion-business", "", "business id for -firstorion-sandbox")
	sandboxKey      = flag.String("firstorion-key", "", "API key for -firstorion-sandbox (default $FO_API_KEY)")
	sandboxSecret   = flag.String("firstorion-secret", "", "secret key for -firstorion-sandbox (default $FO_SECRET_KEY)")
	sandboxRPS      = flag.Float64("firstorion-rps", 5, "requests per second for -firstorion-sandbox")
	sandboxPrefix   = flag.String("firstorion-prefix", "+1201555", "E.164 prefix of the numbers the sandbox suite may create (4 digits are appended)")
)

// contractEnv is one fresh environment for one subtest.
type contractEnv struct {
	c   *Client
	lab *Lab // nil against a sandbox
	// bu1 has programs p1 and p2; bu2 has p3.
	bu1, bu2   string
	p1, p2, p3 plan.Program
	// num returns the i-th test number of this environment.
	num func(i int) string
	// place puts numbers where the seed says, before the test proper.
	place func(t *testing.T, nums []SeedNumber)
}

// contractHarness builds environments: against the lab or a sandbox.
type contractHarness struct {
	setup func(t *testing.T, opts LabOptions) *contractEnv
}

func labHarness() contractHarness {
	return contractHarness{setup: func(t *testing.T, opts LabOptions) *contractEnv {
		lab, url := startLab(t, opts, labSeedBase())
		c := newLabClient(t, lab, url, nil)
		t.Cleanup(func() {
			if n := lab.DeleteAllCalls(); n != 0 {
				t.Errorf("lab received %d delete-all calls", n)
			}
			for _, r := range lab.Requests() {
				if r.DeleteAll {
					t.Errorf("delete-all request: %s %s", r.Method, r.Path)
				}
			}
		})
		return &contractEnv{
			c: c, lab: lab, bu1: "bu-1", bu2: "bu-2",
			p1: plan.Program{ID: "p-1", Channel: "callerName"}, p2: plan.Program{ID: "p-2", Channel: "callerImage"},
			p3:  plan.Program{ID: "p-3", Channel: "callerName"},
			num: func(i int) string { return fmt.Sprintf("+1201555%04d", i) },
			place: func(t *testing.T, nums []SeedNumber) {
				if err := lab.Seed(LabSeed{Numbers: nums}); err != nil {
					t.Fatalf("seed: %v", err)
				}
			},
		}
	}}
}

// sandboxBlock hands each sandbox environment its own block of numbers.
var sandboxBlock atomic.Int64

func sandboxHarness(url, business, key, secret, prefix string, rps float64) contractHarness {
	return contractHarness{setup: func(t *testing.T, _ LabOptions) *contractEnv {
		c, err := New(Config{URL: url, BusinessID: business, APIKey: key, SecretKey: secret, RPS: rps, BatchSize: 100, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("new client: %v", err)
		}
		ctx := context.Background()
		bus, err := c.BusinessUnits(ctx)
		if err != nil {
			t.Fatalf("business units: %v", err)
		}
		env := &contractEnv{c: c}
		for _, b := range bus {
			switch {
			case env.bu1 == "" && len(b.Programs) >= 2:
				env.bu1, env.p1, env.p2 = b.ID, b.Programs[0], b.Programs[1]
			case env.bu2 == "" && len(b.Programs) >= 1:
				env.bu2, env.p3 = b.ID, b.Programs[0]
			}
		}
		if env.bu1 == "" || env.bu2 == "" {
			t.Skip("sandbox needs two business units, the first with two programs")
		}
		base := int(sandboxBlock.Add(1)) * 20
		env.num = func(i int) string { return fmt.Sprintf("%s%04d", prefix, base+i) }
		env.place = func(t *testing.T, nums []SeedNumber) {
			for _, n := range nums {
				bu := n.BusinessUnitID
				if bu == "" {
					bu = env.bu1
				}
				ch := n.Channel
				if n.ProgramID != "" && ch == "" {
					for _, p := range []plan.Program{env.p1, env.p2, env.p3} {
						if p.ID == n.ProgramID {
							ch = p.Channel
						}
					}
				}
				auth := n.AuthenticatedCalls
				op := plan.Op{ID: "seed/" + n.PhoneNumber, Vendor: plan.FirstOrion, Action: plan.Assign, Number: n.PhoneNumber,
					After: plan.State{BusinessUnit: bu, Program: n.ProgramID, Channel: ch, CallPurpose: n.CallPurposeCode, AuthCalls: &auth}}
				r := c.Apply(ctx, []plan.Op{op})[0]
				if r.Outcome != plan.Done {
					t.Fatalf("seed %s: %v", n.PhoneNumber, r.Err)
				}
				if n.BusinessUnitID == "" {
					mv := plan.Op{ID: "seed-move/" + n.PhoneNumber, Vendor: plan.FirstOrion, Action: plan.Move, Number: n.PhoneNumber,
						Before: *r.After, After: plan.State{}}
					if r := c.Apply(ctx, []plan.Op{mv})[0]; r.Outcome != plan.Done {
						t.Fatalf("seed %s at business level: %v", n.PhoneNumber, r.Err)
					}
				}
			}
		}
		t.Cleanup(func() {
			var ops []plan.Op
			_ = c.List(ctx, func(s plan.State) error {
				for i := 0; i < 20; i++ {
					if s.Number == env.num(i) {
						ops = append(ops, plan.Op{ID: "cleanup/" + s.Number, Vendor: plan.FirstOrion, Action: plan.Delete, Number: s.Number, Before: s})
					}
				}
				return nil
			})
			if len(ops) > 0 {
				c.Apply(ctx, ops)
			}
		})
		return env
	}}
}

func TestContractLab(t *testing.T) {
	runContract(t, labHarness())
}

func TestContractSandbox(t *testing.T) {
	if *sandboxURL == "" {
		t.Skip("no -firstorion-sandbox URL given")
	}
	key, secret := *sandboxKey, *sandboxSecret
	if key == "" {
		key = os.Getenv("FO_API_KEY")
	}
	if secret == "" {
		secret = os.Getenv("FO_SECRET_KEY")
	}
	runContract(t, sandboxHarness(*sandboxURL, *sandboxBusiness, key, secret, *sandboxPrefix, *sandboxRPS))
}

// TestContractSandboxHarness runs the sandbox harness itself against a lab
// served over HTTP, so the path real accounts take is not left untested.
func TestContractSandboxHarness(t *testing.T) {
	lab, url := startLab(t, LabOptions{}, labSeedBase())
	o := lab.Options()
	runContract(t, sandboxHarness(url, o.BusinessID, o.APIKey, o.SecretKey, "+1201666", -1))
	if n := lab.DeleteAllCalls(); n != 0 {
		t.Fatalf("delete-all calls: %d", n)
	}
	if n := lab.Count(); n != 0 {
		t.Fatalf("sandbox cleanup left %d numbers", n)
	}
}

// Op builders.

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

func deleteOp(s plan.State) plan.Op {
	return plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Delete, s.Number), Vendor: plan.FirstOrion, Action: plan.Delete, Number: s.Number,
		Before: plan.State{ID: s.ID}}
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

func wantPlace(t *testing.T, s plan.State, ok bool, bu, prog, ch string) {
	t.Helper()
	if !ok {
		t.Fatalf("number not held")
	}
	if s.BusinessUnit != bu || s.Program != prog || s.Channel != ch {
		t.Fatalf("%s at (%q, %q, %q), want (%q, %q, %q)", s.Number, s.BusinessUnit, s.Program, s.Channel, bu, prog, ch)
	}
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

// writePaths lists the lab's mutating requests as "METHOD path" (lab only).
func writePaths(lab *Lab) []string {
	var out []string
	for _, r := range lab.Requests() {
		if r.Method != http.MethodGet && !strings.HasPrefix(r.Path, "/v1/auth") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func runContract(t *testing.T, h contractHarness) {
	ctx := context.Background()

	t.Run("create with partial rejection", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		held := env.num(0)
		env.place(t, []SeedNumber{{PhoneNumber: held, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"}})
		ops := []plan.Op{
			assignOp(env.num(1), env.bu1, env.p1.ID, env.p1.Channel),
			assignOp("+123", env.bu1, env.p1.ID, env.p1.Channel),
			assignOp(held, env.bu1, env.p1.ID, env.p1.Channel),
			assignOp(env.num(2), env.bu1, env.p1.ID, env.p1.Channel),
		}
		if env.lab != nil {
			ops = append(ops, assignOp("+15012149020", env.bu1, env.p1.ID, env.p1.Channel))
		}
		res := env.c.Apply(ctx, ops)
		if len(res) != len(ops) {
			t.Fatalf("%d results for %d ops", len(res), len(ops))
		}
		wantOutcome(t, res[0], plan.Done, "")
		wantOutcome(t, res[1], plan.Failed, ReasonInvalidNumber)
		wantOutcome(t, res[2], plan.Failed, ReasonDuplicate)
		wantOutcome(t, res[3], plan.Done, "")
		if res[0].Ref == "" || res[0].After == nil || res[0].After.Program != env.p1.ID || res[0].After.Channel != env.p1.Channel {
			t.Fatalf("done result lacks ref or after: %+v", res[0])
		}
		if env.lab != nil {
			wantOutcome(t, res[4], plan.Failed, ReasonAllocated)
			if !strings.Contains(res[4].Err.Error(), "other-business") {
				t.Fatalf("allocated error does not name the owner: %v", res[4].Err)
			}
			if n := len(writePaths(env.lab)); n != 1 {
				t.Fatalf("%d write requests, want one batch", n)
			}
		}
		got := live(t, env.c, env.num(1), env.num(2))
		s, ok := got[env.num(1)]
		wantPlace(t, s, ok, env.bu1, env.p1.ID, env.p1.Channel)
		if s.ID != res[0].Ref {
			t.Fatalf("listed id %s, result ref %s", s.ID, res[0].Ref)
		}
	})

	t.Run("move between programs", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		n := env.num(0)
		env.place(t, []SeedNumber{{PhoneNumber: n, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"}})
		before := live(t, env.c, n)[n]
		r := env.c.Apply(ctx, []plan.Op{moveOp(before, env.bu1, env.p2.ID, env.p2.Channel)})[0]
		wantOutcome(t, r, plan.Done, "")
		s, ok := live(t, env.c, n)[n]
		wantPlace(t, s, ok, env.bu1, env.p2.ID, env.p2.Channel)
		if env.lab != nil {
			want := []string{
				"DELETE /exchange/v1/businesses/" + LabBusinessID + "/business-units/bu-1/programs/p-1/delivery-channels/callerName/a-numbers/" + before.ID,
				"PUT /exchange/v1/businesses/" + LabBusinessID + "/business-units/bu-1/programs/p-2/delivery-channels/callerImage/a-numbers",
			}
			if got := writePaths(env.lab); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})

	t.Run("move between business units", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		a, b := env.num(0), env.num(1)
		env.place(t, []SeedNumber{
			{PhoneNumber: a, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"},
			{PhoneNumber: b, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"},
		})
		st := live(t, env.c, a, b)
		// Into a program of another unit (three steps), and into another
		// unit only (the seed's three-step recipe).
		r := env.c.Apply(ctx, []plan.Op{moveOp(st[a], env.bu2, env.p3.ID, env.p3.Channel)})[0]
		wantOutcome(t, r, plan.Done, "")
		r = env.c.Apply(ctx, []plan.Op{moveOp(st[b], env.bu2, "", "")})[0]
		wantOutcome(t, r, plan.Done, "")
		got := live(t, env.c, a, b)
		sa, ok := got[a]
		wantPlace(t, sa, ok, env.bu2, env.p3.ID, env.p3.Channel)
		sb, ok := got[b]
		wantPlace(t, sb, ok, env.bu2, "", "")
		if env.lab != nil {
			w := writePaths(env.lab)
			if len(w) != 6 || !strings.Contains(w[0], "/a-numbers/"+st[a].ID) || !strings.Contains(w[1], "/business-units/bu-1/phone-numbers/"+st[a].ID) ||
				!strings.HasPrefix(w[2], "PUT ") || !strings.HasSuffix(w[5], "/business-units/bu-2/phone-numbers") {
				t.Fatalf("requests out of the documented order:\n%s", strings.Join(w, "\n"))
			}
		}
	})

	t.Run("business-unit-only assignment", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		a, b := env.num(0), env.num(1)
		env.place(t, []SeedNumber{{PhoneNumber: b, BusinessUnitID: env.bu1, ProgramID: env.p2.ID, CallPurposeCode: "CS"}})
		r := env.c.Apply(ctx, []plan.Op{assignOp(a, env.bu2, "", "")})[0]
		wantOutcome(t, r, plan.Done, "")
		before := live(t, env.c, b)[b]
		r = env.c.Apply(ctx, []plan.Op{moveOp(before, env.bu1, "", "")})[0]
		wantOutcome(t, r, plan.Done, "")
		got := live(t, env.c, a, b)
		sa, ok := got[a]
		wantPlace(t, sa, ok, env.bu2, "", "")
		sb, ok := got[b]
		wantPlace(t, sb, ok, env.bu1, "", "")
		if env.lab != nil {
			// Out of a program into its own unit's level is the removal
			// alone: no put repeating where the number already is.
			w := writePaths(env.lab)
			if len(w) != 2 || !strings.HasPrefix(w[0], "POST ") || !strings.HasSuffix(w[1], "/a-numbers/"+before.ID) {
				t.Fatalf("requests:\n%s", strings.Join(w, "\n"))
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		n := env.num(0)
		env.place(t, []SeedNumber{{PhoneNumber: n, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"}})
		before := live(t, env.c, n)[n]
		op := plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Update, n), Vendor: plan.FirstOrion, Action: plan.Update, Number: n,
			Before: plan.State{ID: before.ID, CallPurpose: "CS", AuthCalls: fbool(false)},
			After:  plan.State{CallPurpose: "SA", AuthCalls: fbool(true)}}
		if key, max := env.c.BatchKey(op); key != "" || max != 1 {
			t.Fatalf("update batch key %q/%d, want no batching", key, max)
		}
		r := env.c.Apply(ctx, []plan.Op{op})[0]
		wantOutcome(t, r, plan.Done, "")
		s := live(t, env.c, n)[n]
		if s.CallPurpose != "SA" || s.AuthCalls == nil || !*s.AuthCalls || s.Program != env.p1.ID {
			t.Fatalf("after update: %+v", s)
		}
	})

	t.Run("batch delete", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		a, b, gone := env.num(0), env.num(1), env.num(2)
		env.place(t, []SeedNumber{
			{PhoneNumber: a, BusinessUnitID: env.bu1, ProgramID: env.p1.ID, CallPurposeCode: "CS"},
			{PhoneNumber: b, BusinessUnitID: env.bu2, CallPurposeCode: "CS"},
		})
		st := live(t, env.c, a, b)
		ops := []plan.Op{deleteOp(st[a]), deleteOp(st[b]),
			deleteOp(plan.State{Number: gone, ID: "00000000-0000-4000-8000-000000000000"})}
		if k1, _ := env.c.BatchKey(ops[0]); k1 != "delete" {
			t.Fatalf("delete batch key %q", k1)
		}
		res := env.c.Apply(ctx, ops)
		for _, r := range res {
			wantOutcome(t, r, plan.Done, "")
		}
		if got := live(t, env.c, a, b); len(got) != 0 {
			t.Fatalf("numbers still held after delete: %v", got)
		}
		if env.lab != nil {
			w := writePaths(env.lab)
			if len(w) != 1 || w[0] != "POST /exchange/v1/businesses/"+LabBusinessID+"/phone-numbers/DELETE" {
				t.Fatalf("requests: %v", w)
			}
		}
	})

	t.Run("paging across several pages", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		if env.lab == nil {
			t.Skip("needs thousands of numbers: lab only")
		}
		var seed []SeedNumber
		for i := 0; i < 2*MaxPageLimit+345; i++ {
			seed = append(seed, SeedNumber{PhoneNumber: fmt.Sprintf("+1303555%04d", i), BusinessUnitID: "bu-1"})
		}
		env.place(t, seed)
		seen := map[string]bool{}
		err := env.c.List(ctx, func(s plan.State) error {
			if seen[s.Number] {
				return fmt.Errorf("%s listed twice", s.Number)
			}
			seen[s.Number] = true
			return nil
		})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		if len(seen) != len(seed) {
			t.Fatalf("listed %d, want %d", len(seen), len(seed))
		}
		pages := 0
		for _, r := range env.lab.Requests() {
			if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/phone-numbers") {
				pages++
				if !strings.Contains(r.Query, "limit=1000") {
					t.Fatalf("page request without limit=1000: %s", r.Query)
				}
			}
		}
		if pages != 3 {
			t.Fatalf("%d pages, want 3", pages)
		}
	})

	t.Run("token refresh and expiry during a long listing", func(t *testing.T) {
		clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
		env := h.setup(t, LabOptions{TokenTTL: 6 * time.Second, Clock: clock.Now})
		if env.lab == nil {
			t.Skip("needs short tokens and a fake clock: lab only")
		}
		lab := env.lab
		url := env.c.cfg.URL
		c := newLabClient(t, lab, url, nil, WithClock(clock.Now), WithPageLimit(10))
		var seed []SeedNumber
		for i := 0; i < 400; i++ {
			seed = append(seed, SeedNumber{PhoneNumber: fmt.Sprintf("+1303555%04d", i)})
		}
		env.place(t, seed)
		// 40 pages, 200 ms of (fake) time each: 8 s, longer than the 6 s
		// token. The refresh is due 1 s before expiry; its first two tries
		// fail, and the client must go on with its still-valid token,
		// retrying every 100 ms.
		lab.Inject(LabFault{PathContains: pathRefresh, Kind: FaultUnavailable, Times: 2})
		list := func() {
			t.Helper()
			n := 0
			err := c.List(ctx, func(plan.State) error {
				n++
				if n%10 == 0 {
					clock.Advance(200 * time.Millisecond)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if n != len(seed) {
				t.Fatalf("listed %d, want %d", n, len(seed))
			}
		}
		count := func() (logins, refreshed, refreshFailed, refused int) {
			for _, r := range lab.Requests() {
				switch {
				case r.Path == pathAuth:
					logins++
				case r.Path == pathRefresh && r.Status == http.StatusOK:
					refreshed++
				case r.Path == pathRefresh:
					refreshFailed++
				case r.Status == http.StatusUnauthorized:
					refused++
				}
			}
			return
		}
		list()
		if logins, refreshed, failed, refused := count(); logins != 1 || refreshed != 1 || failed != 2 || refused != 0 {
			t.Fatalf("logins %d, refreshes %d (failed %d), 401s %d; want 1, 1 (2), 0", logins, refreshed, failed, refused)
		}
		// When refreshing keeps failing, the token is used to its end and
		// then replaced by a fresh login, still without a single 401.
		lab.Inject(LabFault{PathContains: pathRefresh, Kind: FaultUnavailable, Times: 1000})
		list()
		if logins, _, _, refused := count(); logins != 2 || refused != 0 {
			t.Fatalf("after failing refreshes: logins %d, 401s %d; want 2, 0", logins, refused)
		}
		// An expired token (as after a suspended process) gets one 401 and
		// a fresh login.
		lab.ExpireTokens()
		mark := len(lab.Requests())
		if _, err := c.Read(ctx, []string{seed[0].PhoneNumber}); err != nil {
			t.Fatalf("read after expiry: %v", err)
		}
		tail := lab.Requests()[mark : mark+3]
		if tail[0].Status != http.StatusUnauthorized || tail[1].Path != pathAuth || tail[2].Status != http.StatusOK {
			t.Fatalf("after expiry want 401, login, 200; got %d %s, %d %s, %d %s", tail[0].Status, tail[0].Path, tail[1].Status, tail[1].Path, tail[2].Status, tail[2].Path)
		}
	})

	t.Run("429 handling", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		if env.lab == nil {
			t.Skip("needs fault injection: lab only")
		}
		// A listing page refused with 429 is retried after Retry-After.
		env.lab.Inject(LabFault{Method: http.MethodGet, PathContains: "/phone-numbers", Kind: FaultThrottle, Times: 1})
		if _, err := env.c.Read(ctx, []string{env.num(0)}); err != nil {
			t.Fatalf("read through a 429: %v", err)
		}
		if env.c.Pacer().ThrottledCount() != 1 {
			t.Fatalf("pacer not told of the 429")
		}
		// A write refused with 429 is Retry, with the vendor's pause, and
		// changed nothing.
		env.lab.Inject(LabFault{Method: http.MethodPost, Kind: FaultThrottle, Times: 1, RetryAfter: 2 * time.Second})
		r := env.c.Apply(ctx, []plan.Op{assignOp(env.num(1), env.bu1, env.p1.ID, env.p1.Channel)})[0]
		wantOutcome(t, r, plan.Retry, "too_many_requests")
		if d := plan.RetryAfter(r.Err); d != 2*time.Second {
			t.Fatalf("RetryAfter %v, want 2s", d)
		}
		if !plan.IsTransient(r.Err) {
			t.Fatalf("429 not transient")
		}
		if _, ok := env.lab.Number(env.num(1)); ok {
			t.Fatalf("a refused write was applied")
		}
	})

	t.Run("lost answer", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		if env.lab == nil {
			t.Skip("needs fault injection: lab only")
		}
		a, b, m := env.num(0), env.num(1), env.num(2)
		env.place(t, []SeedNumber{{PhoneNumber: m, BusinessUnitID: env.bu1, ProgramID: env.p1.ID}})
		// Applied, then a 503: Unknown, and the number is there.
		env.lab.Inject(LabFault{Method: http.MethodPost, PathContains: "/a-numbers", Kind: FaultLost})
		r := env.c.Apply(ctx, []plan.Op{assignOp(a, env.bu1, env.p1.ID, env.p1.Channel)})[0]
		wantOutcome(t, r, plan.Unknown, "")
		// Applied, then the connection dropped: Unknown.
		env.lab.Inject(LabFault{Method: http.MethodPost, PathContains: "/phone-numbers", Kind: FaultDrop})
		r = env.c.Apply(ctx, []plan.Op{assignOp(b, env.bu2, "", "")})[0]
		wantOutcome(t, r, plan.Unknown, "")
		got := live(t, env.c, a, b)
		if _, ok := got[a]; !ok {
			t.Fatalf("lost-answer create not applied")
		}
		if _, ok := got[b]; !ok {
			t.Fatalf("dropped-answer create not applied")
		}
		// A move whose put is lost after its removal succeeded: Unknown;
		// resent with the live state as Before (as the executor does), it
		// completes without applying anything twice.
		before := live(t, env.c, m)[m]
		env.lab.Inject(LabFault{Method: http.MethodPut, Kind: FaultUnavailable})
		r = env.c.Apply(ctx, []plan.Op{moveOp(before, env.bu1, env.p2.ID, env.p2.Channel)})[0]
		wantOutcome(t, r, plan.Unknown, "")
		now := live(t, env.c, m)[m]
		wantPlace(t, now, true, env.bu1, "", "")
		r = env.c.Apply(ctx, []plan.Op{moveOp(now, env.bu1, env.p2.ID, env.p2.Channel)})[0]
		wantOutcome(t, r, plan.Done, "")
		for _, num := range []string{a, b} {
			if n := env.lab.Mutations(num); n != 1 {
				t.Fatalf("%s changed %d times, want 1", num, n)
			}
		}
		if n := env.lab.Mutations(m); n != 2 {
			t.Fatalf("moved number changed %d times, want 2 (removal, put)", n)
		}
	})

	t.Run("no delete-all and no empty id", func(t *testing.T) {
		env := h.setup(t, LabOptions{})
		n := env.num(0)
		noID := plan.State{Number: n}
		ops := []plan.Op{
			deleteOp(noID),
			{ID: "u", Vendor: plan.FirstOrion, Action: plan.Update, Number: n, After: plan.State{CallPurpose: "SA"}},
			moveOp(plan.State{Number: n, BusinessUnit: env.bu1}, env.bu2, "", ""),
			moveOp(plan.State{Number: n, ID: " ", BusinessUnit: env.bu1}, env.bu2, "", ""),
		}
		var before int
		if env.lab != nil {
			before = len(env.lab.Requests())
		}
		for _, op := range ops {
			r := env.c.Apply(ctx, []plan.Op{op})[0]
			wantOutcome(t, r, plan.Failed, "invalid_operation")
		}
		if env.lab != nil && len(env.lab.Requests()) != before {
			t.Fatalf("a request was sent for an operation without an id")
		}
	})
}
