package firstoriontest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/firstorion"
	"github.com/numsync/numsync/internal/vendors/firstorion/lab"
)

// The authentication endpoints, as the contract names them (vendors.md).
const (
	pathAuth    = "/v1/auth"
	pathRefresh = "/v1/auth/refresh"
)

// RunContract runs the First Orion contract suite: every behaviour of the
// Exchange API that numsync relies on, through the client's plan.Vendor
// methods, against the implementation h starts. Cases that need thousands
// of numbers, fault injection or short tokens run only against the lab.
func RunContract(t *testing.T, h Harness) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, h)
		})
	}
}

type contractCase struct {
	name string
	run  func(t *testing.T, h Harness)
}

var cases = []contractCase{
	{"create with partial rejection", caseCreateWithPartialRejection},
	{"move between programs", caseMoveBetweenPrograms},
	{"move between business units", caseMoveBetweenBusinessUnits},
	{"business-unit-only assignment", caseBusinessUnitOnlyAssignment},
	{"update", caseUpdate},
	{"batch delete", caseBatchDelete},
	{"paging across several pages", casePaging},
	{"token refresh and expiry during a long listing", caseTokenRefresh},
	{"429 handling", case429},
	{"lost answer", caseLostAnswer},
	{"no delete-all and no empty id", caseNoDeleteAll},
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
func live(t *testing.T, c *firstorion.Client, nums ...string) map[string]plan.State {
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
func writePaths(l *lab.Lab) []string {
	var out []string
	for _, r := range l.Requests() {
		if r.Method != http.MethodGet && !strings.HasPrefix(r.Path, "/v1/auth") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func caseCreateWithPartialRejection(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	held := env.Num(0)
	env.Place(t, []lab.SeedNumber{{PhoneNumber: held, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"}})
	ops := []plan.Op{
		assignOp(env.Num(1), env.BU1, env.P1.ID, env.P1.Channel),
		assignOp("+123", env.BU1, env.P1.ID, env.P1.Channel),
		assignOp(held, env.BU1, env.P1.ID, env.P1.Channel),
		assignOp(env.Num(2), env.BU1, env.P1.ID, env.P1.Channel),
	}
	if env.Lab != nil {
		ops = append(ops, assignOp("+15012149020", env.BU1, env.P1.ID, env.P1.Channel))
	}
	res := env.Client.Apply(ctx, ops)
	if len(res) != len(ops) {
		t.Fatalf("%d results for %d ops", len(res), len(ops))
	}
	wantOutcome(t, res[0], plan.Done, "")
	wantOutcome(t, res[1], plan.Failed, firstorion.ReasonInvalidNumber)
	wantOutcome(t, res[2], plan.Failed, firstorion.ReasonDuplicate)
	wantOutcome(t, res[3], plan.Done, "")
	if res[0].Ref == "" || res[0].After == nil || res[0].After.Program != env.P1.ID || res[0].After.Channel != env.P1.Channel {
		t.Fatalf("done result lacks ref or after: %+v", res[0])
	}
	if env.Lab != nil {
		wantOutcome(t, res[4], plan.Failed, firstorion.ReasonAllocated)
		if !strings.Contains(res[4].Err.Error(), "other-business") {
			t.Fatalf("allocated error does not name the owner: %v", res[4].Err)
		}
		if n := len(writePaths(env.Lab)); n != 1 {
			t.Fatalf("%d write requests, want one batch", n)
		}
	}
	got := live(t, env.Client, env.Num(1), env.Num(2))
	s, ok := got[env.Num(1)]
	wantPlace(t, s, ok, env.BU1, env.P1.ID, env.P1.Channel)
	if s.ID != res[0].Ref {
		t.Fatalf("listed id %s, result ref %s", s.ID, res[0].Ref)
	}
}

func caseMoveBetweenPrograms(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	n := env.Num(0)
	env.Place(t, []lab.SeedNumber{{PhoneNumber: n, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"}})
	before := live(t, env.Client, n)[n]
	r := env.Client.Apply(ctx, []plan.Op{moveOp(before, env.BU1, env.P2.ID, env.P2.Channel)})[0]
	wantOutcome(t, r, plan.Done, "")
	s, ok := live(t, env.Client, n)[n]
	wantPlace(t, s, ok, env.BU1, env.P2.ID, env.P2.Channel)
	if env.Lab != nil {
		want := []string{
			"DELETE /exchange/v1/businesses/" + env.Config.BusinessID + "/business-units/bu-1/programs/p-1/delivery-channels/callerName/a-numbers/" + before.ID,
			"PUT /exchange/v1/businesses/" + env.Config.BusinessID + "/business-units/bu-1/programs/p-2/delivery-channels/callerImage/a-numbers",
		}
		if got := writePaths(env.Lab); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func caseMoveBetweenBusinessUnits(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	a, b := env.Num(0), env.Num(1)
	env.Place(t, []lab.SeedNumber{
		{PhoneNumber: a, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"},
		{PhoneNumber: b, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"},
	})
	st := live(t, env.Client, a, b)
	// Into a program of another unit (three steps), and into another
	// unit only (the seed's three-step recipe).
	r := env.Client.Apply(ctx, []plan.Op{moveOp(st[a], env.BU2, env.P3.ID, env.P3.Channel)})[0]
	wantOutcome(t, r, plan.Done, "")
	r = env.Client.Apply(ctx, []plan.Op{moveOp(st[b], env.BU2, "", "")})[0]
	wantOutcome(t, r, plan.Done, "")
	got := live(t, env.Client, a, b)
	sa, ok := got[a]
	wantPlace(t, sa, ok, env.BU2, env.P3.ID, env.P3.Channel)
	sb, ok := got[b]
	wantPlace(t, sb, ok, env.BU2, "", "")
	if env.Lab != nil {
		w := writePaths(env.Lab)
		if len(w) != 6 || !strings.Contains(w[0], "/a-numbers/"+st[a].ID) || !strings.Contains(w[1], "/business-units/bu-1/phone-numbers/"+st[a].ID) ||
			!strings.HasPrefix(w[2], "PUT ") || !strings.HasSuffix(w[5], "/business-units/bu-2/phone-numbers") {
			t.Fatalf("requests out of the documented order:\n%s", strings.Join(w, "\n"))
		}
	}
}

func caseBusinessUnitOnlyAssignment(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	a, b := env.Num(0), env.Num(1)
	env.Place(t, []lab.SeedNumber{{PhoneNumber: b, BusinessUnitID: env.BU1, ProgramID: env.P2.ID, CallPurposeCode: "CS"}})
	r := env.Client.Apply(ctx, []plan.Op{assignOp(a, env.BU2, "", "")})[0]
	wantOutcome(t, r, plan.Done, "")
	before := live(t, env.Client, b)[b]
	r = env.Client.Apply(ctx, []plan.Op{moveOp(before, env.BU1, "", "")})[0]
	wantOutcome(t, r, plan.Done, "")
	got := live(t, env.Client, a, b)
	sa, ok := got[a]
	wantPlace(t, sa, ok, env.BU2, "", "")
	sb, ok := got[b]
	wantPlace(t, sb, ok, env.BU1, "", "")
	if env.Lab != nil {
		// Out of a program into its own unit's level is the removal
		// alone: no put repeating where the number already is.
		w := writePaths(env.Lab)
		if len(w) != 2 || !strings.HasPrefix(w[0], "POST ") || !strings.HasSuffix(w[1], "/a-numbers/"+before.ID) {
			t.Fatalf("requests:\n%s", strings.Join(w, "\n"))
		}
	}
}

func caseUpdate(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	n := env.Num(0)
	env.Place(t, []lab.SeedNumber{{PhoneNumber: n, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"}})
	before := live(t, env.Client, n)[n]
	op := plan.Op{ID: plan.OpID(plan.FirstOrion, plan.Update, n), Vendor: plan.FirstOrion, Action: plan.Update, Number: n,
		Before: plan.State{ID: before.ID, CallPurpose: "CS", AuthCalls: fbool(false)},
		After:  plan.State{CallPurpose: "SA", AuthCalls: fbool(true)}}
	if key, max := env.Client.BatchKey(op); key != "" || max != 1 {
		t.Fatalf("update batch key %q/%d, want no batching", key, max)
	}
	r := env.Client.Apply(ctx, []plan.Op{op})[0]
	wantOutcome(t, r, plan.Done, "")
	s := live(t, env.Client, n)[n]
	if s.CallPurpose != "SA" || s.AuthCalls == nil || !*s.AuthCalls || s.Program != env.P1.ID {
		t.Fatalf("after update: %+v", s)
	}
}

func caseBatchDelete(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	a, b, gone := env.Num(0), env.Num(1), env.Num(2)
	env.Place(t, []lab.SeedNumber{
		{PhoneNumber: a, BusinessUnitID: env.BU1, ProgramID: env.P1.ID, CallPurposeCode: "CS"},
		{PhoneNumber: b, BusinessUnitID: env.BU2, CallPurposeCode: "CS"},
	})
	st := live(t, env.Client, a, b)
	ops := []plan.Op{deleteOp(st[a]), deleteOp(st[b]),
		deleteOp(plan.State{Number: gone, ID: "00000000-0000-4000-8000-000000000000"})}
	if k1, _ := env.Client.BatchKey(ops[0]); k1 != "delete" {
		t.Fatalf("delete batch key %q", k1)
	}
	res := env.Client.Apply(ctx, ops)
	for _, r := range res {
		wantOutcome(t, r, plan.Done, "")
	}
	if got := live(t, env.Client, a, b); len(got) != 0 {
		t.Fatalf("numbers still held after delete: %v", got)
	}
	if env.Lab != nil {
		w := writePaths(env.Lab)
		if len(w) != 1 || w[0] != "POST /exchange/v1/businesses/"+env.Config.BusinessID+"/phone-numbers/DELETE" {
			t.Fatalf("requests: %v", w)
		}
	}
}

func casePaging(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	if env.Lab == nil {
		t.Skip("needs thousands of numbers: lab only")
	}
	var seed []lab.SeedNumber
	for i := 0; i < 2*firstorion.MaxPageLimit+345; i++ {
		seed = append(seed, lab.SeedNumber{PhoneNumber: fmt.Sprintf("+1303555%04d", i), BusinessUnitID: "bu-1"})
	}
	env.Place(t, seed)
	seen := map[string]bool{}
	err := env.Client.List(ctx, func(s plan.State) error {
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
	for _, r := range env.Lab.Requests() {
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
}

func caseTokenRefresh(t *testing.T, h Harness) {
	ctx := context.Background()
	clock := NewFakeClock(time.Unix(1_700_000_000, 0))
	env := h.Start(t, Setup{Lab: lab.Options{TokenTTL: 6 * time.Second, Clock: clock.Now}})
	if env.Lab == nil {
		t.Skip("needs short tokens and a fake clock: lab only")
	}
	l := env.Lab
	c := LabClient(t, l, env.URL, nil, firstorion.WithClock(clock.Now), firstorion.WithPageLimit(10))
	var seed []lab.SeedNumber
	for i := 0; i < 400; i++ {
		seed = append(seed, lab.SeedNumber{PhoneNumber: fmt.Sprintf("+1303555%04d", i)})
	}
	env.Place(t, seed)
	// 40 pages, 200 ms of (fake) time each: 8 s, longer than the 6 s
	// token. The refresh is due 1 s before expiry; its first two tries
	// fail, and the client must go on with its still-valid token,
	// retrying every 100 ms.
	l.Inject(lab.Fault{PathContains: pathRefresh, Kind: lab.FaultUnavailable, Times: 2})
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
		for _, r := range l.Requests() {
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
	l.Inject(lab.Fault{PathContains: pathRefresh, Kind: lab.FaultUnavailable, Times: 1000})
	list()
	if logins, _, _, refused := count(); logins != 2 || refused != 0 {
		t.Fatalf("after failing refreshes: logins %d, 401s %d; want 2, 0", logins, refused)
	}
	// An expired token (as after a suspended process) gets one 401 and
	// a fresh login.
	l.ExpireTokens()
	mark := len(l.Requests())
	if _, err := c.Read(ctx, []string{seed[0].PhoneNumber}); err != nil {
		t.Fatalf("read after expiry: %v", err)
	}
	tail := l.Requests()[mark : mark+3]
	if tail[0].Status != http.StatusUnauthorized || tail[1].Path != pathAuth || tail[2].Status != http.StatusOK {
		t.Fatalf("after expiry want 401, login, 200; got %d %s, %d %s, %d %s", tail[0].Status, tail[0].Path, tail[1].Status, tail[1].Path, tail[2].Status, tail[2].Path)
	}
}

func case429(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	if env.Lab == nil {
		t.Skip("needs fault injection: lab only")
	}
	// A listing page refused with 429 is retried after Retry-After.
	env.Lab.Inject(lab.Fault{Method: http.MethodGet, PathContains: "/phone-numbers", Kind: lab.FaultThrottle, Times: 1})
	if _, err := env.Client.Read(ctx, []string{env.Num(0)}); err != nil {
		t.Fatalf("read through a 429: %v", err)
	}
	if env.Client.Pacer().ThrottledCount() != 1 {
		t.Fatalf("pacer not told of the 429")
	}
	// A write refused with 429 is Retry, with the vendor's pause, and
	// changed nothing.
	env.Lab.Inject(lab.Fault{Method: http.MethodPost, Kind: lab.FaultThrottle, Times: 1, RetryAfter: 2 * time.Second})
	r := env.Client.Apply(ctx, []plan.Op{assignOp(env.Num(1), env.BU1, env.P1.ID, env.P1.Channel)})[0]
	wantOutcome(t, r, plan.Retry, "too_many_requests")
	if d := plan.RetryAfter(r.Err); d != 2*time.Second {
		t.Fatalf("RetryAfter %v, want 2s", d)
	}
	if !plan.IsTransient(r.Err) {
		t.Fatalf("429 not transient")
	}
	if _, ok := env.Lab.Number(env.Num(1)); ok {
		t.Fatalf("a refused write was applied")
	}
}

func caseLostAnswer(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	if env.Lab == nil {
		t.Skip("needs fault injection: lab only")
	}
	a, b, m := env.Num(0), env.Num(1), env.Num(2)
	env.Place(t, []lab.SeedNumber{{PhoneNumber: m, BusinessUnitID: env.BU1, ProgramID: env.P1.ID}})
	// Applied, then a 503: Unknown, and the number is there.
	env.Lab.Inject(lab.Fault{Method: http.MethodPost, PathContains: "/a-numbers", Kind: lab.FaultLost})
	r := env.Client.Apply(ctx, []plan.Op{assignOp(a, env.BU1, env.P1.ID, env.P1.Channel)})[0]
	wantOutcome(t, r, plan.Unknown, "")
	// Applied, then the connection dropped: Unknown.
	env.Lab.Inject(lab.Fault{Method: http.MethodPost, PathContains: "/phone-numbers", Kind: lab.FaultDrop})
	r = env.Client.Apply(ctx, []plan.Op{assignOp(b, env.BU2, "", "")})[0]
	wantOutcome(t, r, plan.Unknown, "")
	got := live(t, env.Client, a, b)
	if _, ok := got[a]; !ok {
		t.Fatalf("lost-answer create not applied")
	}
	if _, ok := got[b]; !ok {
		t.Fatalf("dropped-answer create not applied")
	}
	// A move whose put is lost after its removal succeeded: Unknown;
	// resent with the live state as Before (as the executor does), it
	// completes without applying anything twice.
	before := live(t, env.Client, m)[m]
	env.Lab.Inject(lab.Fault{Method: http.MethodPut, Kind: lab.FaultUnavailable})
	r = env.Client.Apply(ctx, []plan.Op{moveOp(before, env.BU1, env.P2.ID, env.P2.Channel)})[0]
	wantOutcome(t, r, plan.Unknown, "")
	now := live(t, env.Client, m)[m]
	wantPlace(t, now, true, env.BU1, "", "")
	r = env.Client.Apply(ctx, []plan.Op{moveOp(now, env.BU1, env.P2.ID, env.P2.Channel)})[0]
	wantOutcome(t, r, plan.Done, "")
	for _, num := range []string{a, b} {
		if n := env.Lab.Mutations(num); n != 1 {
			t.Fatalf("%s changed %d times, want 1", num, n)
		}
	}
	if n := env.Lab.Mutations(m); n != 2 {
		t.Fatalf("moved number changed %d times, want 2 (removal, put)", n)
	}
}

func caseNoDeleteAll(t *testing.T, h Harness) {
	ctx := context.Background()
	env := h.Start(t, Setup{})
	n := env.Num(0)
	noID := plan.State{Number: n}
	ops := []plan.Op{
		deleteOp(noID),
		{ID: "u", Vendor: plan.FirstOrion, Action: plan.Update, Number: n, After: plan.State{CallPurpose: "SA"}},
		moveOp(plan.State{Number: n, BusinessUnit: env.BU1}, env.BU2, "", ""),
		moveOp(plan.State{Number: n, ID: " ", BusinessUnit: env.BU1}, env.BU2, "", ""),
	}
	var before int
	if env.Lab != nil {
		before = len(env.Lab.Requests())
	}
	for _, op := range ops {
		r := env.Client.Apply(ctx, []plan.Op{op})[0]
		wantOutcome(t, r, plan.Failed, "invalid_operation")
	}
	if env.Lab != nil && len(env.Lab.Requests()) != before {
		t.Fatalf("a request was sent for an operation without an id")
	}
}
