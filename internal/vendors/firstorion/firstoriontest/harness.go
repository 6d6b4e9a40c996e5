// Package firstoriontest holds the contract suite every implementation of
// the First Orion Exchange API numsync talks to must pass with numsync's
// client: the lab in `go test`, and a real First Orion lab account behind
// the -firstorion-sandbox flag (see RunContract). It mirrors oneuctest.
package firstoriontest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	"github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// Setup is the state and behaviour one contract case needs.
type Setup struct {
	// Lab adjusts the lab (token lifetime, clock, rate limit); ignored by
	// a sandbox. The credentials are the harness's.
	Lab lab.Options
	// Options are extra client options.
	Options []firstorion.Option
}

// Env is one started case: a client against a fresh implementation, with
// a hierarchy of two business units, BU1 holding programs P1 and P2 (on
// different channels) and BU2 holding P3.
type Env struct {
	Client *firstorion.Client
	// Lab is the implementation when it is the lab, seeded with
	// lab.BaseSeed; nil against a real
	// account, where cases that need fault injection or short tokens are
	// skipped.
	Lab *lab.Lab
	// URL is the base URL the client talks to, so a case can build a
	// second client (with its own clock) against the same implementation.
	URL string
	// Config is the configuration the client was built with.
	Config firstorion.Config

	BU1, BU2   string
	P1, P2, P3 plan.Program
	// Num returns the i-th test number of this environment (0 ≤ i < 40).
	Num func(i int) string
	// Place puts numbers where the seed says, before the case proper.
	Place func(t *testing.T, nums []lab.SeedNumber)
}

// NeedLab skips the case unless it runs against the lab.
func (e *Env) NeedLab(t *testing.T, why string) *lab.Lab {
	t.Helper()
	if e.Lab == nil {
		t.Skip(why + ": lab only")
	}
	return e.Lab
}

// Harness builds the implementation under test for each case.
type Harness struct {
	// Start returns a client against a fresh implementation.
	Start func(t *testing.T, s Setup) *Env
}

// LabClient returns a client of the lab served at url with test-friendly
// settings (no client-side rate limit, batches of 100, quick list
// retries); mod adjusts the configuration.
func LabClient(t testing.TB, l *lab.Lab, url string, mod func(*firstorion.Config), opts ...firstorion.Option) *firstorion.Client {
	t.Helper()
	o := l.Options()
	cfg := firstorion.Config{URL: url, BusinessID: o.BusinessID, APIKey: o.APIKey, SecretKey: o.SecretKey,
		RPS: -1, BatchSize: 100, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	opts = append([]firstorion.Option{firstorion.WithListRetries(4, 10*time.Millisecond)}, opts...)
	c, err := firstorion.New(cfg, opts...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// StartLab serves a lab seeded with seed over loopback HTTP and returns it
// with its URL; the server stops when the test ends.
func StartLab(t testing.TB, opts lab.Options, seed lab.Seed) (*lab.Lab, string) {
	t.Helper()
	l := lab.New(opts)
	if err := l.Seed(seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// LabHarness runs each case against a fresh lab served by httptest, and
// fails the case if the lab saw a delete-all call.
func LabHarness() Harness {
	return Harness{Start: func(t *testing.T, s Setup) *Env {
		t.Helper()
		opts := s.Lab
		opts.BusinessID, opts.APIKey, opts.SecretKey = "", "", ""
		l, url := StartLab(t, opts, lab.BaseSeed())
		var cfg firstorion.Config
		c := LabClient(t, l, url, func(c *firstorion.Config) { cfg = *c }, s.Options...)
		t.Cleanup(func() {
			if n := l.DeleteAllCalls(); n != 0 {
				t.Errorf("lab received %d delete-all calls", n)
			}
			for _, r := range l.Requests() {
				if r.DeleteAll {
					t.Errorf("delete-all request: %s %s", r.Method, r.Path)
				}
			}
		})
		return &Env{
			Client: c, Lab: l, URL: url, Config: cfg, BU1: "bu-1", BU2: "bu-2",
			P1: plan.Program{ID: "p-1", Channel: "callerName"}, P2: plan.Program{ID: "p-2", Channel: "callerImage"},
			P3:  plan.Program{ID: "p-3", Channel: "callerName"},
			Num: func(i int) string { return fmt.Sprintf("+1201555%04d", i) },
			Place: func(t *testing.T, nums []lab.SeedNumber) {
				if err := l.Seed(lab.Seed{Numbers: nums}); err != nil {
					t.Fatalf("seed: %v", err)
				}
			},
		}
	}}
}

// sandboxBlock hands each sandbox environment its own block of
// sandboxNumbers numbers.
var sandboxBlock atomic.Int64

// sandboxNumbers is how many numbers each sandbox environment may create.
const sandboxNumbers = 40

// SandboxHarness runs the suite against a real First Orion account: the
// hierarchy is read from it (two business units, the first with at least
// two programs), numbers are created under prefix (four digits appended)
// and deleted again when each case ends.
func SandboxHarness(url, business, key, secret, prefix string, rps float64) Harness {
	return Harness{Start: func(t *testing.T, s Setup) *Env {
		t.Helper()
		cfg := firstorion.Config{URL: url, BusinessID: business, APIKey: key, SecretKey: secret, RPS: rps, BatchSize: 100, Timeout: 30 * time.Second}
		c, err := firstorion.New(cfg, s.Options...)
		if err != nil {
			t.Fatalf("new client: %v", err)
		}
		ctx := context.Background()
		bus, err := c.BusinessUnits(ctx)
		if err != nil {
			t.Fatalf("business units: %v", err)
		}
		env := &Env{Client: c, URL: url, Config: cfg}
		for _, b := range bus {
			switch {
			case env.BU1 == "" && len(b.Programs) >= 2:
				env.BU1, env.P1, env.P2 = b.ID, b.Programs[0], b.Programs[1]
			case env.BU2 == "" && len(b.Programs) >= 1:
				env.BU2, env.P3 = b.ID, b.Programs[0]
			}
		}
		if env.BU1 == "" || env.BU2 == "" {
			t.Skip("sandbox needs two business units, the first with two programs")
		}
		base := int(sandboxBlock.Add(1)) * sandboxNumbers
		env.Num = func(i int) string { return fmt.Sprintf("%s%04d", prefix, base+i) }
		env.Place = func(t *testing.T, nums []lab.SeedNumber) {
			for _, n := range nums {
				bu := n.BusinessUnitID
				if bu == "" {
					bu = env.BU1
				}
				ch := n.Channel
				if n.ProgramID != "" && ch == "" {
					for _, p := range []plan.Program{env.P1, env.P2, env.P3} {
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
				for i := 0; i < sandboxNumbers; i++ {
					if s.Number == env.Num(i) {
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

// FakeClock is a clock tests move by hand, shared by a lab and a client.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock standing at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
