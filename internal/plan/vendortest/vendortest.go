// Package vendortest is the contract suite every plan.Vendor must pass,
// whatever vendor it speaks to: the OneUC and First Orion clients against
// their labs (oneuctest.VendorHarness, firstoriontest.VendorHarness) and
// the in-memory fake of plantest. It checks what the executor and the
// planner rely on through the interface alone, in the manner of
// litestream's RunWithReplicaClient and rclone's fstests: one result per
// operation in order, absent numbers absent, a failed listing reported as
// partial, cancellation, Retry against Unknown, and no secret in any error.
//
// Each vendor's own suite (oneuctest, firstoriontest) goes on checking the
// wire: paths, bodies, paging, tokens. This one checks the contract those
// details serve, so the fake the executor's tests use cannot drift from
// the clients it stands for.
package vendortest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Env is one fresh implementation for one case, and what the suite needs
// to know of it. Fields marked optional may be nil where the
// implementation cannot do that; the cases needing them are then skipped.
type Env struct {
	// Vendor is the implementation under test: for a lab, the real client
	// talking to it over HTTP.
	Vendor plan.Vendor
	// Fresh returns the i-th of ten distinct numbers (0 ≤ i < 10) the
	// vendor does not hold and takes on through Create.
	Fresh func(i int) string
	// Refused is a number the vendor does not hold and refuses for good to
	// take on through Create (OneUC: one no carrier search returns; First
	// Orion: an invalid number).
	Refused string
	// Create returns the operation taking on a number the vendor does not
	// hold (OneUC: activate; First Orion: assign to a program). Operations
	// Create returns for different numbers share one BatchKey.
	Create func(number string) plan.Op
	// Remove returns the operation giving up a held number, given its live
	// state (OneUC: release; First Orion: delete).
	Remove func(live plan.State) plan.Op
	// Hold makes the vendor hold count numbers it did not hold (none of
	// them Fresh or Refused), without going through Apply, and returns
	// them.
	Hold func(t *testing.T, count int) []string
	// ListPage is how many records one listing page carries, so the
	// listing cases hold more than two pages.
	ListPage int
	// Shared says the vendor may hold numbers the case did not put there
	// (a real sandbox account, shared by cases running at once): listings
	// are then checked for the case's own numbers only.
	Shared bool

	// BreakListing (optional) makes every listing page requested from now
	// on fail with a vendor error (a 503, say).
	BreakListing func()
	// Throttle (optional) makes the next write be refused with a 429
	// before the vendor acts.
	Throttle func()
	// LoseAnswers (optional) makes every write from now on take effect and
	// lose its answer, until the function it returns is called.
	LoseAnswers func() (restore func())
	// Unreachable (optional) returns the same vendor configured against an
	// address where nothing answers.
	Unreachable func(t *testing.T) plan.Vendor
	// Refusing (optional) returns the same vendor with credentials the
	// implementation refuses.
	Refusing func(t *testing.T) plan.Vendor
	// Secrets are the credentials the vendor was given (for Refusing, the
	// wrong ones too); no error the suite sees may contain one.
	Secrets []string
}

// Harness starts a fresh implementation for each case.
type Harness struct {
	Start func(t *testing.T) *Env
}

// Run runs the suite against the implementation h starts. Cases run in
// parallel, each against its own implementation.
func Run(t *testing.T, h Harness) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := h.Start(t)
			c.run(t, newSuite(t, env))
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, s *suite)
}{
	{"apply/one result per operation, in order", caseOrder},
	{"read/absent numbers are absent", caseAbsent},
	{"apply/removing a number already gone is Done", caseRemoveTwice},
	{"list/every number once and a nil error", caseListComplete},
	{"list/a failed listing is partial", caseListPartial},
	{"list/an error from fn stops it and is returned", caseListStop},
	{"cancel/a cancelled context changes nothing", caseCancelled},
	{"cancel/cancelling stops a listing", caseCancelListing},
	{"outcome/429 is Retry and changed nothing", caseThrottle},
	{"outcome/lost answer is Unknown and took effect", caseLost},
	{"outcome/unreachable vendor is Retry", caseUnreachable},
	{"secrets/refused credentials are permanent and never shown", caseRefused},
}

// suite is one case's view of its Env: every error the vendor returns
// passes through check, which fails the test on a secret.
type suite struct {
	t   *testing.T
	env *Env
	v   plan.Vendor
}

func newSuite(t *testing.T, env *Env) *suite {
	s := &suite{t: t, env: env}
	s.v = s.watch(env.Vendor)
	return s
}

// check fails the test if err, or any error it wraps, shows a secret.
func (s *suite) check(err error) {
	s.t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		text := e.Error() + fmt.Sprintf(" %+v", e)
		for _, secret := range s.env.Secrets {
			if secret != "" && strings.Contains(text, secret) {
				s.t.Fatalf("an error shows a secret: %v", err)
			}
		}
	}
}

// watch wraps v so that every error it returns is checked for secrets.
func (s *suite) watch(v plan.Vendor) plan.Vendor {
	return watched{v: v, s: s}
}

type watched struct {
	v plan.Vendor
	s *suite
}

func (w watched) Name() plan.VendorName { return w.v.Name() }

func (w watched) List(ctx context.Context, fn func(plan.State) error) error {
	err := w.v.List(ctx, fn)
	w.s.check(err)
	return err
}

func (w watched) Read(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	got, err := w.v.Read(ctx, numbers)
	w.s.check(err)
	return got, err
}

func (w watched) BatchKey(op plan.Op) (string, int) { return w.v.BatchKey(op) }

func (w watched) Apply(ctx context.Context, ops []plan.Op) []plan.Result {
	res := w.v.Apply(ctx, ops)
	for _, r := range res {
		w.s.check(r.Err)
	}
	return res
}

// readStates reads through StateReader when v implements it.
func (s *suite) readStates(ctx context.Context, numbers []string) (map[string]plan.State, bool, error) {
	sr, ok := s.env.Vendor.(plan.StateReader)
	if !ok {
		return nil, false, nil
	}
	got, err := sr.ReadStates(ctx, numbers)
	s.check(err)
	return got, true, err
}

// read reads numbers and fails the test on error.
func (s *suite) read(numbers ...string) map[string]plan.State {
	s.t.Helper()
	got, err := s.v.Read(context.Background(), numbers)
	if err != nil {
		s.t.Fatalf("read %v: %v", numbers, err)
	}
	return got
}

// apply applies one batch and checks there is one result per operation,
// in order.
func (s *suite) apply(ctx context.Context, v plan.Vendor, ops ...plan.Op) []plan.Result {
	s.t.Helper()
	res := v.Apply(ctx, ops)
	if len(res) != len(ops) {
		s.t.Fatalf("%d results for %d operations", len(res), len(ops))
	}
	for i, r := range res {
		if r.OpID != ops[i].ID {
			s.t.Fatalf("result %d is for %q, want %q (results out of order)", i, r.OpID, ops[i].ID)
		}
	}
	return res
}

func (s *suite) want(r plan.Result, outcome plan.Outcome) {
	s.t.Helper()
	if r.Outcome != outcome {
		s.t.Fatalf("%s: %v (%v), want %v", r.OpID, r.Outcome, r.Err, outcome)
	}
	if outcome != plan.Done && r.Err == nil {
		s.t.Fatalf("%s: %v without an error saying why", r.OpID, r.Outcome)
	}
}

// wantHeld checks that exactly the numbers of held are present in got.
func (s *suite) wantHeld(got map[string]plan.State, held, absent []string) {
	s.t.Helper()
	for _, n := range held {
		st, ok := got[n]
		if !ok {
			s.t.Fatalf("%s: not held, want held", n)
		}
		if st.Number != n {
			s.t.Fatalf("%s: record keyed %s is for %q", n, n, st.Number)
		}
	}
	for _, n := range absent {
		if st, ok := got[n]; ok {
			s.t.Fatalf("%s: present (%+v), want absent", n, st)
		}
	}
	if len(got) != len(held) {
		s.t.Fatalf("%d records, want %d: %v", len(got), len(held), got)
	}
}

func caseOrder(t *testing.T, s *suite) {
	e := s.env
	f0, f1, f2 := e.Fresh(0), e.Fresh(1), e.Fresh(2)
	ops := []plan.Op{e.Create(f2), e.Create(e.Refused), e.Create(f0), e.Create(f1)}
	key, max := s.v.BatchKey(ops[0])
	if key == "" || max < len(ops) {
		t.Fatalf("creations batch as %q, at most %d: want a batch of at least %d", key, max, len(ops))
	}
	for _, op := range ops[1:] {
		if k, _ := s.v.BatchKey(op); k != key {
			t.Fatalf("%s batches as %q, %s as %q", op.ID, k, ops[0].ID, key)
		}
	}
	res := s.apply(context.Background(), s.v, ops...)
	for i, want := range []plan.Outcome{plan.Done, plan.Failed, plan.Done, plan.Done} {
		s.want(res[i], want)
	}
	if plan.IsTransient(res[1].Err) {
		t.Fatalf("a refusal for good is marked transient: %v", res[1].Err)
	}
	s.wantHeld(s.read(f0, f1, f2, e.Refused), []string{f0, f1, f2}, []string{e.Refused})
}

func caseAbsent(t *testing.T, s *suite) {
	e := s.env
	held := e.Hold(t, 2)
	never := e.Fresh(3)
	asked := []string{held[0], never, held[1]}
	s.wantHeld(s.read(asked...), held, []string{never})
	if got, ok, err := s.readStates(context.Background(), append(asked, held[0])); ok {
		if err != nil {
			t.Fatalf("ReadStates: %v", err)
		}
		s.wantHeld(got, held, []string{never})
	}
	if got := s.read(); len(got) != 0 {
		t.Fatalf("reading no numbers returned %v", got)
	}
	// A number given up is absent too: from Read, and from the listing.
	live := s.read(held[0])[held[0]]
	s.want(s.apply(context.Background(), s.v, e.Remove(live))[0], plan.Done)
	s.wantHeld(s.read(held...), held[1:], held[:1])
	err := s.v.List(context.Background(), func(st plan.State) error {
		if st.Number == held[0] || st.Number == never {
			return fmt.Errorf("%s listed, but the vendor does not hold it", st.Number)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
}

// caseRemoveTwice: giving up a number the vendor no longer holds is
// Done, not a failure (OneUC answers 404 bad_identifier, First Orion
// NOT_FOUND): the executor sends a removal again after a lost answer, and
// the number being gone is what it asked for.
func caseRemoveTwice(t *testing.T, s *suite) {
	held := s.env.Hold(t, 1)
	live := s.read(held...)[held[0]]
	for round := range 2 {
		r := s.apply(context.Background(), s.v, s.env.Remove(live))[0]
		if r.Outcome != plan.Done {
			t.Fatalf("removal %d of %s: %v (%v), want Done", round+1, held[0], r.Outcome, r.Err)
		}
	}
	s.wantHeld(s.read(held...), nil, held)
}

// listAll lists and counts the records, failing on a number listed twice.
func (s *suite) listAll(ctx context.Context, each func(n int)) (map[string]bool, error) {
	seen := map[string]bool{}
	err := s.v.List(ctx, func(st plan.State) error {
		if seen[st.Number] {
			s.t.Errorf("%s listed twice", st.Number)
		}
		seen[st.Number] = true
		if each != nil {
			each(len(seen))
		}
		return nil
	})
	return seen, err
}

func caseListComplete(t *testing.T, s *suite) {
	held := s.env.Hold(t, 2*s.env.ListPage+1)
	seen, err := s.listAll(context.Background(), nil)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, n := range held {
		if !seen[n] {
			t.Fatalf("%s held but not listed", n)
		}
	}
	if len(seen) != len(held) && !s.env.Shared {
		t.Fatalf("listed %d, hold %d", len(seen), len(held))
	}
}

func caseListPartial(t *testing.T, s *suite) {
	if s.env.BreakListing == nil {
		t.Skip("the implementation cannot break a listing")
	}
	held := s.env.Hold(t, 2*s.env.ListPage+1)
	seen, err := s.listAll(context.Background(), func(n int) {
		if n == 1 {
			s.env.BreakListing()
		}
	})
	if err == nil {
		t.Fatalf("a listing whose later pages failed returned nil after %d of %d records: "+
			"a partial inventory taken for a complete one plans deletions", len(seen), len(held))
	}
	if len(seen) == 0 || (len(seen) >= len(held) && !s.env.Shared) {
		t.Fatalf("listed %d of %d before failing, want some but not all", len(seen), len(held))
	}
	if !plan.IsTransient(err) {
		t.Fatalf("a vendor outage during a listing is not transient: %v", err)
	}
}

func caseListStop(t *testing.T, s *suite) {
	s.env.Hold(t, 2*s.env.ListPage+1)
	stop := errors.New("stop here")
	calls := 0
	err := s.v.List(context.Background(), func(plan.State) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("list returned %v, want fn's error", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times after returning an error", calls)
	}
}

func caseCancelled(t *testing.T, s *suite) {
	e := s.env
	held := e.Hold(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.v.List(ctx, func(plan.State) error { return nil }); err == nil {
		t.Fatal("list with a cancelled context returned nil")
	}
	if _, err := s.v.Read(ctx, held); err == nil {
		t.Fatal("read with a cancelled context returned nil")
	}
	n := e.Fresh(4)
	live := s.read(held...)[held[0]]
	res := s.apply(ctx, s.v, e.Create(n))
	res = append(res, s.apply(ctx, s.v, e.Remove(live))...)
	for _, r := range res {
		if r.Outcome != plan.Retry && r.Outcome != plan.Unknown {
			t.Fatalf("%s with a cancelled context: %v (%v), want Retry or Unknown", r.OpID, r.Outcome, r.Err)
		}
	}
	s.wantHeld(s.read(n, held[0]), held, []string{n})
}

func caseCancelListing(t *testing.T, s *suite) {
	held := s.env.Hold(t, 2*s.env.ListPage+1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen, err := s.listAll(ctx, func(n int) {
		if n == 1 {
			cancel()
		}
	})
	if err == nil {
		t.Fatalf("a listing cancelled after one record returned nil (%d of %d listed)", len(seen), len(held))
	}
	if len(seen) > s.env.ListPage {
		t.Fatalf("%d records listed after cancelling on the first, more than the page (%d)", len(seen), s.env.ListPage)
	}
}

func caseThrottle(t *testing.T, s *suite) {
	if s.env.Throttle == nil {
		t.Skip("the implementation cannot throttle")
	}
	n := s.env.Fresh(5)
	s.env.Throttle()
	r := s.apply(context.Background(), s.v, s.env.Create(n))[0]
	s.want(r, plan.Retry)
	if !plan.IsTransient(r.Err) {
		t.Fatalf("429 not transient: %v", r.Err)
	}
	s.wantHeld(s.read(n), nil, []string{n})
	// Retry means safe to send again: it now goes through.
	s.want(s.apply(context.Background(), s.v, s.env.Create(n))[0], plan.Done)
	s.wantHeld(s.read(n), []string{n}, nil)
}

func caseLost(t *testing.T, s *suite) {
	if s.env.LoseAnswers == nil {
		t.Skip("the implementation cannot lose answers")
	}
	e := s.env
	n := e.Fresh(6)
	held := e.Hold(t, 1)
	live := s.read(held...)[held[0]]
	restore := e.LoseAnswers()
	res := []plan.Result{s.apply(context.Background(), s.v, e.Create(n))[0],
		s.apply(context.Background(), s.v, e.Remove(live))[0]}
	restore()
	for _, r := range res {
		s.want(r, plan.Unknown)
		if !plan.IsTransient(r.Err) {
			t.Fatalf("%s: a lost answer is not transient: %v", r.OpID, r.Err)
		}
	}
	s.wantHeld(s.read(n, held[0]), []string{n}, held)
}

func caseUnreachable(t *testing.T, s *suite) {
	if s.env.Unreachable == nil {
		t.Skip("the implementation has no address")
	}
	v := s.watch(s.env.Unreachable(t))
	r := s.apply(context.Background(), v, s.env.Create(s.env.Fresh(7)))[0]
	s.want(r, plan.Retry)
	if !plan.IsTransient(r.Err) {
		t.Fatalf("unreachable vendor: not transient: %v", r.Err)
	}
	// A client retries an unreachable vendor for its whole retry budget
	// (retry.max_elapsed, minutes); the context bounds the wait here, and
	// what ends it must still read as transient.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := v.List(ctx, func(plan.State) error { return nil }); err == nil || !plan.IsTransient(err) {
		t.Fatalf("list from an unreachable vendor: %v, want a transient error", err)
	}
}

func caseRefused(t *testing.T, s *suite) {
	if s.env.Refusing == nil {
		t.Skip("the implementation has no credentials")
	}
	v := s.watch(s.env.Refusing(t))
	err := v.List(context.Background(), func(plan.State) error { return nil })
	if err == nil || plan.IsTransient(err) {
		t.Fatalf("list with refused credentials: %v, want a permanent error", err)
	}
	if _, err := v.Read(context.Background(), []string{s.env.Fresh(8)}); err == nil || plan.IsTransient(err) {
		t.Fatalf("read with refused credentials: %v, want a permanent error", err)
	}
	r := s.apply(context.Background(), v, s.env.Create(s.env.Fresh(9)))[0]
	if r.Outcome == plan.Done || r.Err == nil {
		t.Fatalf("create with refused credentials: %v (%v)", r.Outcome, r.Err)
	}
	s.wantHeld(s.read(s.env.Fresh(9)), nil, []string{s.env.Fresh(9)})
}
