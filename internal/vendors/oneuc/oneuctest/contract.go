package oneuctest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// RunContract runs the OneUC contract suite: every behaviour of issue #3
// that numsync relies on, through the client's plan.Vendor methods, against
// the implementation h starts. Cases that need seeded state or a look at
// the vendor's side run only against the lab.
func RunContract(t *testing.T, h Harness) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}

type contractCase struct {
	name string
	run  func(t *testing.T, h Harness)
}

var cases = []contractCase{
	{"auth/logs in once and reuses the token", caseLoginOnce},
	{"auth/refused key is permanent and never shown", caseWrongKey},
	{"auth/token expiry mid-listing logs in again", caseTokenExpiryMidListing},
	{"list/pages until next_start_key is absent", caseListPaging},
	{"list/read matches the listing", caseReadMatchesListing},
	{"read/cnam e911 state and absent numbers", caseRead},
	{"read/states: GETs for a few numbers, one listing for many", caseReadStates},
	{"activate/held numbers go straight to activation", caseActivateHeld},
	{"activate/one wide search per dense block, one of ten per sparse number", caseActivateDiscover},
	{"activate/a number a wide answer left out is found in its block of ten", caseActivateShortCarrier},
	{"activate/a number held since its search is no short answer", caseActivateNotShort},
	{"activate/partial failures shape 1", func(t *testing.T, h Harness) { casePartial(t, h, lab.ShapeSuccessError) }},
	{"activate/partial failures shape 2", func(t *testing.T, h Harness) { casePartial(t, h, lab.ShapeClientError) }},
	{"activate/unmentioned numbers are checked live", caseUnmentioned},
	{"activate/batches of batch_size", caseBatches},
	{"activate/missing_provider_url is permanent", caseMissingProvider},
	{"update/patch cnam keeps e911", casePatchCNAM},
	{"update/clear cnam sends null", caseClearCNAM},
	{"update/replace e911 drops fields the new address lacks", caseReplaceE911},
	{"update/e911 refusals carry the vendor's reason", caseE911Refusals},
	{"update/e911 needs an in_service number", caseE911State},
	{"release/delete then already gone", caseRelease},
	{"wire/numbers travel as url-encoded +E.164", caseEncoding},
	{"errors/429 on writes is retry and slows the pacer", case429Write},
	{"errors/429 on reads is retried", case429Read},
	{"errors/tokens.remaining pacing avoids 429", caseRemainingPacing},
	{"errors/503 before acting is unknown for writes", case503},
	{"errors/lost answer is unknown and took effect", caseLost},
	{"errors/unreachable vendor is retry", caseUnreachable},
	{"secrets/the key never reaches logs or errors", caseNoSecrets},
}

// Numbers used by the cases. The lab's pool covers +1555010xxxx.
const pool = "+1555010"

func seedNumber(n, state string) lab.SeedNumber { return lab.SeedNumber{Number: n, State: state} }

func activateOp(n, before string) plan.Op {
	return plan.Op{ID: plan.OpID(plan.OneUC, plan.Activate, n), Vendor: plan.OneUC, Action: plan.Activate,
		Number: n, Before: plan.State{Status: before}, After: plan.State{Status: "in_service"}}
}

func updateOp(n string, cnam *string, e911 *plan.Address) plan.Op {
	return plan.Op{ID: plan.OpID(plan.OneUC, plan.Update, n), Vendor: plan.OneUC, Action: plan.Update,
		Number: n, After: plan.State{CNAM: cnam, E911: e911}}
}

func releaseOp(n string) plan.Op {
	return plan.Op{ID: plan.OpID(plan.OneUC, plan.Release, n), Vendor: plan.OneUC, Action: plan.Release, Number: n}
}

func ptr(s string) *string { return &s }

// apply runs ops and checks the result count and order.
func apply(t *testing.T, c *oneuc.Client, ops ...plan.Op) map[string]plan.Result {
	t.Helper()
	res := c.Apply(context.Background(), ops)
	if len(res) != len(ops) {
		t.Fatalf("Apply returned %d results for %d ops", len(res), len(ops))
	}
	out := map[string]plan.Result{}
	for i, r := range res {
		if r.OpID != ops[i].ID {
			t.Fatalf("result %d is for %q, want %q", i, r.OpID, ops[i].ID)
		}
		if r.Outcome == 0 {
			t.Fatalf("result %d has no outcome", i)
		}
		out[ops[i].Number] = r
	}
	return out
}

func wantOutcome(t *testing.T, res map[string]plan.Result, n string, want plan.Outcome) plan.Result {
	t.Helper()
	r, ok := res[n]
	if !ok {
		t.Fatalf("no result for %s", n)
	}
	if r.Outcome != want {
		t.Fatalf("%s: outcome %v (%v), want %v", n, r.Outcome, r.Err, want)
	}
	return r
}

func listAll(t *testing.T, c *oneuc.Client) []plan.State {
	t.Helper()
	var out []plan.State
	if err := c.List(context.Background(), func(s plan.State) error { out = append(out, s); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	return out
}

// fakeClock is a lab clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func manyHeld(count int) []lab.SeedNumber {
	states := []string{"in_service", "in_service", "reserved", "port_in"}
	out := make([]lab.SeedNumber, count)
	for i := range out {
		out[i] = lab.SeedNumber{Number: fmt.Sprintf("+1212600%04d", i), State: states[i%len(states)],
			Features: []string{"local"}}
	}
	return out
}

func caseLoginOnce(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: manyHeld(3)}})
	listAll(t, env.Client)
	listAll(t, env.Client)
	if l := env.Lab; l != nil {
		if got := l.Stats().Logins; got != 1 {
			t.Fatalf("logins = %d, want 1", got)
		}
	}
}

func caseWrongKey(t *testing.T, h Harness) {
	env := h.Start(t, Setup{WrongKey: true})
	err := env.Client.List(context.Background(), func(plan.State) error { return nil })
	if err == nil {
		t.Fatal("List with a refused key succeeded")
	}
	if plan.IsTransient(err) {
		t.Fatalf("refused key classified transient: %v", err)
	}
	if strings.Contains(err.Error(), env.APIKey) {
		t.Fatalf("error shows the key: %v", err)
	}
	var ve *plan.VendorError
	if !errors.As(err, &ve) || ve.Vendor != plan.OneUC {
		t.Fatalf("error is not a oneuc VendorError: %#v", err)
	}
	if env.Lab == nil {
		return // never send a write to a real account
	}
	res := apply(t, env.Client, releaseOp("+12126000001"))
	if r := res["+12126000001"]; r.Outcome != plan.Failed {
		t.Fatalf("write with a refused key: %v, want Failed", r.Outcome)
	}
}

func caseTokenExpiryMidListing(t *testing.T, h Harness) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: manyHeld(2100)},
		Lab: lab.Options{TokenTTL: time.Minute, Clock: clk.Now}})
	l := env.NeedLab(t)
	seen := 0
	err := env.Client.List(context.Background(), func(plan.State) error {
		seen++
		if seen == 1000 || seen == 2000 {
			clk.Advance(2 * time.Minute) // the token dies between pages
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if seen != 2100 {
		t.Fatalf("listed %d, want 2100", seen)
	}
	if got := l.Stats().Logins; got != 3 {
		t.Fatalf("logins = %d, want 3 (one per expiry)", got)
	}
}

func caseListPaging(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: append(manyHeld(2500),
		lab.SeedNumber{Number: "+12126999999", State: "in_service", CNAM: "ACME",
			E911: &lab.Address{StreetAddress: "1 Main St", Locality: "Town", Region: "NY", PostalCode: "10001"}})}})
	l := env.NeedLab(t)
	got := listAll(t, env.Client)
	if len(got) != 2501 {
		t.Fatalf("listed %d numbers, want 2501", len(got))
	}
	pages := 0
	for _, r := range l.Requests() {
		if strings.HasSuffix(r.Path, "/phone_numbers") && r.Method == "GET" && strings.Contains(r.Path, "/accounts/") {
			pages++
			q, _ := url.ParseQuery(r.Query)
			if q.Get("page_size") != "1000" {
				t.Errorf("page_size = %q, want 1000", q.Get("page_size"))
			}
		}
	}
	if pages != 3 {
		t.Fatalf("listing took %d pages, want 3", pages)
	}
	byNum := map[string]plan.State{}
	for _, s := range got {
		if _, dup := byNum[s.Number]; dup {
			t.Fatalf("%s listed twice", s.Number)
		}
		byNum[s.Number] = s
	}
	now := time.Now().Unix()
	for _, tc := range []struct{ n, state string }{
		{"+12126000000", "in_service"}, {"+12126000002", "reserved"}, {"+12126000003", "port_in"},
	} {
		s := byNum[tc.n]
		ln, _ := l.Number(tc.n)
		if s.Status != tc.state || s.Updated != ln.Updated || s.Detailed {
			t.Errorf("%s: listed %+v, want state %s updated %d", tc.n, s, tc.state, ln.Updated)
		}
		if s.Updated < now-86400 || s.Updated > now+86400 {
			t.Errorf("%s: updated %d is not a Unix time near now (Gregorian not converted?)", tc.n, s.Updated)
		}
	}
	f := byNum["+12126999999"].Features
	if !contains(f, "cnam") || !contains(f, "e911") {
		t.Fatalf("features = %v, want cnam and e911", f)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func caseReadMatchesListing(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: manyHeld(5)}})
	listed := listAll(t, env.Client)
	if len(listed) > 20 {
		listed = listed[:20]
	}
	var nums []string
	for _, s := range listed {
		nums = append(nums, s.Number)
	}
	got, err := env.Client.Read(context.Background(), nums)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, s := range listed {
		r, ok := got[s.Number]
		if !ok {
			t.Fatalf("%s listed but not read", s.Number)
		}
		if !r.Detailed || r.CNAM == nil || r.Updated != s.Updated || r.Status != s.Status {
			t.Fatalf("%s: read %+v, listed %+v", s.Number, r, s)
		}
	}
}

func caseRead(t *testing.T, h Harness) {
	addr := &lab.Address{StreetAddress: "116 Natoma St", ExtendedAddress: "Apt 116", Locality: "San Francisco",
		Region: "CA", PostalCode: "94105", CallerName: "Michel Mabel"}
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{
		{Number: "+14155550101", State: "in_service", CNAM: "ACME SALES", E911: addr},
		{Number: "+14155550102", State: "reserved"},
	}}})
	env.NeedLab(t)
	got, err := env.Client.Read(context.Background(), []string{"+14155550101", "+14155550102", "+14155550199"})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if _, ok := got["+14155550199"]; ok {
		t.Fatal("a number the account does not hold was returned")
	}
	a := got["+14155550101"]
	want := &plan.Address{StreetAddress: addr.StreetAddress, ExtendedAddress: addr.ExtendedAddress,
		Locality: addr.Locality, Region: addr.Region, PostalCode: addr.PostalCode, CallerName: addr.CallerName}
	if !a.Detailed || a.Status != "in_service" || a.CNAM == nil || *a.CNAM != "ACME SALES" || !a.E911.Equal(want) {
		t.Fatalf("read %+v (e911 %+v)", a, a.E911)
	}
	b := got["+14155550102"]
	if b.Status != "reserved" || b.CNAM == nil || *b.CNAM != "" || b.E911 != nil {
		t.Fatalf("read %+v, want reserved with no CNAM or E911", b)
	}
}

// caseReadStates checks that ReadStates picks the cheaper way to read: a
// GET per number while they are no more than a listing's pages (50 pages
// assumed until the client has listed, then the real count), else one
// listing pass, and that both answer alike.
func caseReadStates(t *testing.T, h Harness) {
	held := manyHeld(2500) // three listing pages of 1,000
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: append(held,
		lab.SeedNumber{Number: "+12126999999", State: "in_service", CNAM: "ACME"})}})
	l := env.NeedLab(t)
	const absent = "+12126989999"
	// requests counts, by kind, the requests the lab received since the
	// last call (logins left out).
	seen := 0
	requests := func() (gets, pages int) {
		log := l.Requests()
		for _, r := range log[seen:] {
			switch {
			case r.Method != "GET":
			case strings.HasSuffix(r.Path, "/phone_numbers"):
				pages++
			case strings.Contains(r.Path, "/phone_numbers/"):
				gets++
			}
		}
		seen = len(log)
		return gets, pages
	}
	read := func(nums []string) map[string]plan.State {
		t.Helper()
		got, err := env.Client.ReadStates(context.Background(), nums)
		if err != nil {
			t.Fatalf("ReadStates(%d numbers): %v", len(nums), err)
		}
		if _, ok := got[absent]; ok {
			t.Fatal("a number the account does not hold was returned")
		}
		return got
	}
	want := func(got map[string]plan.State, nums []string, detailed bool) {
		t.Helper()
		if len(got) != len(nums) {
			t.Fatalf("read %d numbers, want %d", len(got), len(nums))
		}
		for i, n := range nums {
			s, ok := got[n]
			if !ok || s.Status != held[i].State || s.Detailed != detailed {
				t.Fatalf("%s: %+v, want state %s, detailed %v", n, s, held[i].State, detailed)
			}
		}
	}
	few := []string{held[0].Number, held[1].Number, absent, held[0].Number}
	want(read(few), few[:2], true)
	if gets, pages := requests(); gets != 3 || pages != 0 {
		t.Fatalf("3 numbers took %d GETs and %d listing pages, want 3 GETs", gets, pages)
	}
	many := make([]string, 0, 2001)
	for _, s := range held[:2000] {
		many = append(many, s.Number)
	}
	want(read(append(many, absent)), many, false)
	if gets, pages := requests(); gets != 0 || pages != 3 {
		t.Fatalf("2,001 numbers took %d GETs and %d listing pages, want one listing of 3 pages", gets, pages)
	}
	// The listing taught the client it costs 3 requests: 4 numbers now list.
	want(read([]string{held[0].Number, held[1].Number, held[2].Number}), []string{held[0].Number, held[1].Number, held[2].Number}, true)
	if gets, pages := requests(); gets != 3 || pages != 0 {
		t.Fatalf("3 numbers took %d GETs and %d pages, want 3 GETs", gets, pages)
	}
	four := []string{held[0].Number, held[1].Number, held[2].Number, held[3].Number}
	want(read(four), four, false)
	if gets, pages := requests(); gets != 0 || pages != 3 {
		t.Fatalf("4 numbers took %d GETs and %d pages, want a listing of 3 pages", gets, pages)
	}
	if _, err := env.Client.ReadStates(context.Background(), []string{"4155550101"}); err == nil {
		t.Fatal("a number not in E.164 was read without an error")
	}
	if gets, pages := requests(); gets+pages != 0 {
		t.Fatalf("an invalid number cost %d requests", gets+pages)
	}
}

func caseActivateHeld(t *testing.T, h Harness) {
	seed := lab.Seed{Numbers: []lab.SeedNumber{seedNumber("+12127000001", "reserved"),
		seedNumber("+12127000002", "available"), seedNumber("+12127000003", "port_in"), seedNumber("+12127000004", "aging")}}
	env := h.Start(t, Setup{Seed: seed})
	l := env.NeedLab(t)
	var ops []plan.Op
	for _, s := range seed.Numbers {
		ops = append(ops, activateOp(s.Number, s.State))
	}
	res := apply(t, env.Client, ops...)
	for _, s := range seed.Numbers {
		r := wantOutcome(t, res, s.Number, plan.Done)
		if r.After == nil || r.After.Status != "in_service" {
			t.Fatalf("%s: after %+v", s.Number, r.After)
		}
		if n, _ := l.Number(s.Number); n.State != "in_service" {
			t.Fatalf("%s: lab state %s", s.Number, n.State)
		}
	}
	if got := l.Stats().Searches; got != 0 {
		t.Fatalf("%d searches for numbers the account holds", got)
	}
}

func caseActivateDiscover(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Available: []string{pool}}})
	l := env.NeedLab(t)
	// 25 numbers in three blocks of ten of one block of a hundred
	// (+1555010000x, …001x, …002x): one wide search. Three sparse numbers,
	// each alone in its hundred: one search of its block of ten each, as
	// before wide searches, but for the batch's highest number, whose
	// hundred is searched whole for the batches after it.
	var ops []plan.Op
	for i := 1; i <= 25; i++ {
		ops = append(ops, activateOp(fmt.Sprintf("%s%04d", pool, i), ""))
	}
	sparse := []string{pool + "5005", pool + "7015", pool + "9025"}
	for _, n := range sparse {
		ops = append(ops, activateOp(n, ""))
	}
	res := apply(t, env.Client, ops...)
	for _, op := range ops {
		wantOutcome(t, res, op.Number, plan.Done)
	}
	searches := map[string]string{} // prefix -> quantity
	for _, r := range l.Requests() {
		if r.Path == "/v2/phone_numbers" {
			q, _ := url.ParseQuery(r.Query)
			searches[q.Get("prefix")] = q.Get("quantity")
		}
		if strings.HasSuffix(r.Path, "collection/activate") && !strings.Contains(r.Body, `"accept_charges":true`) {
			t.Fatalf("activation without accept_charges: %s", r.Body)
		}
	}
	want := map[string]string{pool + "00": "100", pool + "500": "10", pool + "701": "10", pool + "90": "100"}
	if fmt.Sprint(searches) != fmt.Sprint(want) || l.Stats().Searches != len(want) {
		t.Fatalf("%d searches %v, want %v", l.Stats().Searches, searches, want)
	}
	// The next batch reuses the answers: numbers the wide answers had, and
	// one in a block of ten searched alone.
	res = apply(t, env.Client, activateOp(pool+"0077", ""), activateOp(pool+"5006", ""), activateOp(pool+"9099", ""))
	for _, n := range []string{pool + "0077", pool + "5006", pool + "9099"} {
		wantOutcome(t, res, n, plan.Done)
	}
	if got := l.Stats().Searches; got != len(want) {
		t.Fatalf("%d searches after a batch the answers covered, want %d", got, len(want))
	}
}

func caseActivateShortCarrier(t *testing.T, h Harness) {
	// A carrier that answers wide searches with 5 numbers of the 99 it has.
	env := h.Start(t, Setup{Seed: lab.Seed{Available: []string{pool}}, Lab: lab.Options{WideAnswerMax: 5, Seed: 3}})
	l := env.NeedLab(t)
	// 60 numbers in six blocks of ten of one hundred, …0000 among them
	// (never available).
	var ops []plan.Op
	for i := range 60 {
		ops = append(ops, activateOp(fmt.Sprintf("%s%04d", pool, i), ""))
	}
	res := apply(t, env.Client, ops...)
	for _, op := range ops[1:] {
		wantOutcome(t, res, op.Number, plan.Done)
		if c := l.Counts(op.Number); c.Activated != 1 {
			t.Fatalf("%s activated %d times", op.Number, c.Activated)
		}
	}
	r := wantOutcome(t, res, pool+"0000", plan.Failed)
	var ve *plan.VendorError
	if !errors.As(r.Err, &ve) || ve.Code != "not_available" || !strings.Contains(ve.Message, pool+"000") {
		t.Fatalf("…0000: %v, want not_available naming its block of ten", r.Err)
	}
	// One wide search, then one search of each block of ten it left
	// numbers out of: all six.
	if got := l.Stats().Searches; got != 7 {
		t.Fatalf("%d searches, want 1 wide + 6 of ten", got)
	}
	// The carrier has shown it answers wide searches short: the next batch
	// (three blocks of ten of another hundred) searches blocks of ten only.
	ops = ops[:0]
	for i := 100; i < 130; i++ {
		ops = append(ops, activateOp(fmt.Sprintf("%s%04d", pool, i), ""))
	}
	res = apply(t, env.Client, ops...)
	for _, op := range ops {
		wantOutcome(t, res, op.Number, plan.Done)
	}
	if got := l.Stats().Searches; got != 7+3 {
		t.Fatalf("%d searches after a short wide answer, want 3 more (blocks of ten)", got-7)
	}
}

func caseActivateNotShort(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Available: []string{pool}}})
	l := env.NeedLab(t)
	activate := func(nums ...string) {
		t.Helper()
		var ops []plan.Op
		for _, n := range nums {
			ops = append(ops, activateOp(pool+n, ""))
		}
		res := apply(t, env.Client, ops...)
		for _, op := range ops {
			wantOutcome(t, res, op.Number, plan.Done)
		}
	}
	// …5005 is found by a search of its block of ten (it is neither end of
	// its batch) and activated; a later wide search of its hundred does
	// not return it, being held now. That is no short answer: the batch
	// after still searches wide.
	activate("0201", "5005", "9005")
	activate("5001", "5012", "5023")
	before := l.Stats().Searches
	activate("6001", "6012")
	if got := l.Stats().Searches - before; got != 1 {
		t.Fatalf("%d searches for two blocks of ten of one hundred, want one wide", got)
	}
	for _, r := range l.Requests()[len(l.Requests())-3:] {
		if r.Path == "/v2/phone_numbers" && !strings.Contains(r.Query, "quantity=100") {
			t.Fatalf("narrow search %s after an activation, as if the carrier answered short", r.Query)
		}
	}
}

func casePartial(t *testing.T, h Harness, shape int) {
	env := h.Start(t, Setup{Seed: lab.Seed{Available: []string{pool},
		Numbers: []lab.SeedNumber{seedNumber("+15550200001", "reserved")}},
		Lab: lab.Options{CollectionShape: shape}})
	l := env.NeedLab(t)
	ops := []plan.Op{
		activateOp(pool+"0001", ""),
		activateOp(pool+"0000", ""), // never returned by a search
		activateOp(pool+"9999", ""), // carrier fault
		activateOp(pool+"0002", ""),
		activateOp("+15550200001", "reserved"),
		activateOp("+15550300001", "available"), // claims held, is not: missing_provider_url
	}
	res := apply(t, env.Client, ops...)
	for _, n := range []string{pool + "0001", pool + "0002", "+15550200001"} {
		wantOutcome(t, res, n, plan.Done)
		if c := l.Counts(n); c.Activated != 1 {
			t.Fatalf("%s activated %d times", n, c.Activated)
		}
	}
	for n, reason := range map[string]string{
		pool + "0000":  "not available from the carrier",
		pool + "9999":  "fault by carrier",
		"+15550300001": "not available from the carrier",
	} {
		r := wantOutcome(t, res, n, plan.Failed)
		if r.Err == nil || !strings.Contains(r.Err.Error(), reason) || plan.IsTransient(r.Err) {
			t.Fatalf("%s: err %v, want a permanent error saying %q", n, r.Err, reason)
		}
		if !strings.Contains(r.Err.Error(), n) {
			t.Fatalf("%s: err %v does not name the number", n, r.Err)
		}
	}
}

func caseUnmentioned(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{
		seedNumber("+12127100001", "reserved"), seedNumber("+12127100002", "reserved")}}})
	l := env.NeedLab(t)
	l.OmitFromAnswers("+12127100002")
	res := apply(t, env.Client, activateOp("+12127100001", "reserved"), activateOp("+12127100002", "reserved"))
	wantOutcome(t, res, "+12127100001", plan.Done)
	r := wantOutcome(t, res, "+12127100002", plan.Done) // live state says in_service
	if r.After == nil || r.After.Status != "in_service" {
		t.Fatalf("after %+v", r.After)
	}
	if c := l.Counts("+12127100002"); c.ActivateRequests != 1 {
		t.Fatalf("unmentioned number was sent %d times", c.ActivateRequests)
	}
}

func caseBatches(t *testing.T, h Harness) {
	var seed lab.Seed
	var ops []plan.Op
	for i := range 7 {
		n := fmt.Sprintf("+1212720000%d", i)
		seed.Numbers = append(seed.Numbers, seedNumber(n, "reserved"))
		ops = append(ops, activateOp(n, "reserved"))
	}
	env := h.Start(t, Setup{Seed: seed, BatchSize: 3})
	l := env.NeedLab(t)
	if key, max := env.Client.BatchKey(ops[0]); key == "" || max != 3 {
		t.Fatalf("BatchKey(activate) = %q, %d", key, max)
	}
	if key, max := env.Client.BatchKey(releaseOp("+12127200000")); key != "" || max != 1 {
		t.Fatalf("BatchKey(release) = %q, %d", key, max)
	}
	res := apply(t, env.Client, ops...)
	for _, op := range ops {
		wantOutcome(t, res, op.Number, plan.Done)
	}
	batches := 0
	for _, r := range l.Requests() {
		if strings.HasSuffix(r.Path, "collection/activate") {
			batches++
		}
	}
	if batches != 3 {
		t.Fatalf("%d collection requests, want 3", batches)
	}
}

func caseMissingProvider(t *testing.T, h Harness) {
	env := h.Start(t, Setup{})
	env.NeedLab(t)
	// The plan believed the account held it; it does not, and no search
	// returned it.
	res := apply(t, env.Client, activateOp("+12127300001", "reserved"))
	r := wantOutcome(t, res, "+12127300001", plan.Failed)
	var ve *plan.VendorError
	if !errors.As(r.Err, &ve) || ve.Code != "missing_provider_url" || ve.Temporary {
		t.Fatalf("err %#v, want permanent missing_provider_url", r.Err)
	}
}

var natoma = &lab.Address{StreetAddress: "116 Natoma St", ExtendedAddress: "Apt 116", Locality: "San Francisco",
	Region: "CA", PostalCode: "94105", CallerName: "Michel Mabel"}

func casePatchCNAM(t *testing.T, h Harness) {
	const n = "+12127400001"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{
		{Number: n, State: "in_service", CNAM: "OLD NAME", E911: natoma}}}})
	l := env.NeedLab(t)
	before, _ := l.Number(n)
	res := apply(t, env.Client, updateOp(n, ptr("NEW NAME"), nil))
	r := wantOutcome(t, res, n, plan.Done)
	after, _ := l.Number(n)
	if after.CNAM != "NEW NAME" || after.E911 == nil || *after.E911 != *before.E911 {
		t.Fatalf("after PATCH: cnam %q e911 %+v (before %+v)", after.CNAM, after.E911, before.E911)
	}
	if r.After == nil || r.After.Updated != after.Updated || after.Updated <= before.Updated {
		t.Fatalf("updated stamp: result %+v, lab %d, before %d", r.After, after.Updated, before.Updated)
	}
	for _, q := range l.Requests() {
		if q.Method == "POST" {
			t.Fatalf("client used POST: %s", q.Path)
		}
		if q.Method == "PATCH" && !strings.Contains(q.Body, `"accept_charges":true`) {
			t.Fatalf("PATCH without accept_charges: %s", q.Body)
		}
	}
	if c := l.Counts(n); c.Patched != 1 {
		t.Fatalf("patched %d times", c.Patched)
	}
}

func caseClearCNAM(t *testing.T, h Harness) {
	const n = "+12127400002"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{{Number: n, State: "in_service", CNAM: "GONE SOON"}}}})
	l := env.NeedLab(t)
	res := apply(t, env.Client, updateOp(n, ptr(""), nil))
	wantOutcome(t, res, n, plan.Done)
	got, _ := l.Number(n)
	if got.CNAM != "" || contains(got.Features, "cnam") {
		t.Fatalf("CNAM not cleared: %+v", got)
	}
	found := false
	for _, q := range l.Requests() {
		if q.Method == "PATCH" && strings.Contains(q.Body, `"cnam":null`) {
			found = true
		}
	}
	if !found {
		t.Fatal(`no PATCH carried "cnam":null`)
	}
}

func caseReplaceE911(t *testing.T, h Harness) {
	const n = "+12127400003"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{{Number: n, State: "in_service", CNAM: "KEEP ME", E911: natoma}}}})
	l := env.NeedLab(t)
	want := &plan.Address{StreetAddress: "500 Howard St", Locality: "San Francisco", Region: "CA", PostalCode: "94105"}
	res := apply(t, env.Client, updateOp(n, nil, want))
	r := wantOutcome(t, res, n, plan.Done)
	got, _ := l.Number(n)
	if got.E911 == nil || got.E911.ExtendedAddress != "" || got.E911.CallerName != "" || got.CNAM != "KEEP ME" {
		t.Fatalf("after replacing the address: %+v / %+v", got, got.E911)
	}
	if got.E911Fields["status"] != "PROVISIONED" {
		t.Fatalf("address not provisioned: %v", got.E911Fields)
	}
	if r.After == nil || !r.After.E911.Equal(want) {
		t.Fatalf("result after %+v", r.After)
	}
}

func caseE911Refusals(t *testing.T, h Harness) {
	const bad, vague = "+12127400004", "+12127400005"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{
		seedNumber(bad, "in_service"), seedNumber(vague, "in_service")}}})
	l := env.NeedLab(t)
	res := apply(t, env.Client,
		updateOp(bad, nil, &plan.Address{StreetAddress: "1 Nowhere Lane", Locality: "Void", Region: "NV", PostalCode: "89000"}),
		updateOp(vague, nil, &plan.Address{StreetAddress: "Main Street", Locality: "Springfield", Region: "IL", PostalCode: "62701"}))
	for _, tc := range []struct {
		n, code string
		parts   []string
	}{
		{bad, "e911_invalid", []string{"Location is not geocoded", "1 Nowhere Lane"}},
		{vague, "multiple_choice", []string{"1) 1 MAIN STREET", "2) 100 MAIN STREET", "SPRINGFIELD"}},
	} {
		r := wantOutcome(t, res, tc.n, plan.Failed)
		var ve *plan.VendorError
		if !errors.As(r.Err, &ve) || ve.Code != tc.code || ve.Temporary {
			t.Fatalf("%s: err %#v, want permanent %s", tc.n, r.Err, tc.code)
		}
		for _, p := range tc.parts {
			if !strings.Contains(r.Err.Error(), p) {
				t.Fatalf("%s: reason %q lacks %q", tc.n, r.Err, p)
			}
		}
		if got, _ := l.Number(tc.n); got.E911 != nil {
			t.Fatalf("%s: refused address stored", tc.n)
		}
	}
}

func caseE911State(t *testing.T, h Harness) {
	const n = "+12127400006"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{seedNumber(n, "reserved")}}})
	env.NeedLab(t)
	res := apply(t, env.Client, updateOp(n, nil, &plan.Address{StreetAddress: "1 Main St", Locality: "Town", Region: "NY", PostalCode: "10001"}))
	r := wantOutcome(t, res, n, plan.Failed)
	if !strings.Contains(r.Err.Error(), "in_service") {
		t.Fatalf("reason %q does not say why", r.Err)
	}
}

func caseRelease(t *testing.T, h Harness) {
	const n = "+12127500001"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{seedNumber(n, "in_service")}}})
	l := env.NeedLab(t)
	wantOutcome(t, apply(t, env.Client, releaseOp(n)), n, plan.Done)
	wantOutcome(t, apply(t, env.Client, releaseOp(n)), n, plan.Done) // 404 bad_identifier: already gone
	if c := l.Counts(n); c.Released != 1 {
		t.Fatalf("released %d times", c.Released)
	}
	if len(listAll(t, env.Client)) != 0 {
		t.Fatal("released number still listed")
	}
	got, err := env.Client.Read(context.Background(), []string{n})
	if err != nil || len(got) != 0 {
		t.Fatalf("Read after release: %v, %v", got, err)
	}
	dels := 0
	for _, q := range l.Requests() {
		if q.Method == "DELETE" {
			dels++
		}
	}
	if dels != 2 {
		t.Fatalf("%d DELETEs, want 2", dels)
	}
}

func caseEncoding(t *testing.T, h Harness) {
	const n = "+12127600001"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{seedNumber(n, "in_service")}}})
	l := env.NeedLab(t)
	if _, err := env.Client.Read(context.Background(), []string{n}); err != nil {
		t.Fatal(err)
	}
	apply(t, env.Client, updateOp(n, ptr("X Y Z"), nil), releaseOp(n))
	checked := 0
	for _, q := range l.Requests() {
		if strings.Contains(q.Path, "12127600001") {
			checked++
			if !strings.HasSuffix(q.Path, "/phone_numbers/%2B12127600001") {
				t.Fatalf("number path %q is not URL-encoded +E.164", q.Path)
			}
		}
	}
	if checked != 3 {
		t.Fatalf("%d requests named the number, want 3", checked)
	}
}

func case429Write(t *testing.T, h Harness) {
	var seed lab.Seed
	var ops []plan.Op
	for i := range 6 {
		n := fmt.Sprintf("+1212770000%d", i)
		seed.Numbers = append(seed.Numbers, seedNumber(n, "in_service"))
		ops = append(ops, releaseOp(n))
	}
	// A bucket of 4 that barely refills: login and three releases fit.
	env := h.Start(t, Setup{Seed: seed, Lab: lab.Options{Bucket: 4, RefillPerSec: 0.001},
		Options: []oneuc.Option{oneuc.WithBucket(-1, 0)}}) // no pacing on remaining: the 429 itself is tested
	l := env.NeedLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var retry int
	for _, op := range ops[:4] {
		r := env.Client.Apply(ctx, []plan.Op{op})[0]
		switch r.Outcome {
		case plan.Done:
		case plan.Retry:
			retry++
			var ve *plan.VendorError
			if !errors.As(r.Err, &ve) || ve.Status != 429 || !plan.IsTransient(r.Err) {
				t.Fatalf("429 result err %#v", r.Err)
			}
		default:
			t.Fatalf("outcome %v: %v", r.Outcome, r.Err)
		}
	}
	if retry != 1 {
		t.Fatalf("%d Retry outcomes, want 1", retry)
	}
	if env.Client.Pacer().ThrottledCount() != 1 || l.Stats().Throttled != 1 {
		t.Fatalf("pacer saw %d 429s, lab sent %d", env.Client.Pacer().ThrottledCount(), l.Stats().Throttled)
	}
}

func case429Read(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: manyHeld(12)},
		Lab:     lab.Options{Bucket: 5, RefillPerSec: 20},
		Options: []oneuc.Option{oneuc.WithBucket(20, 0), oneuc.WithGetRetries(8, 10*time.Millisecond)}})
	l := env.NeedLab(t)
	var nums []string
	for _, s := range manyHeld(12) {
		nums = append(nums, s.Number)
	}
	got, err := env.Client.Read(context.Background(), nums)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 12 {
		t.Fatalf("read %d numbers", len(got))
	}
	if l.Stats().Throttled == 0 {
		t.Fatal("the lab never answered 429: the case tests nothing")
	}
}

func caseRemainingPacing(t *testing.T, h Harness) {
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: manyHeld(60)},
		Lab:     lab.Options{Bucket: 30, RefillPerSec: 200},
		Options: []oneuc.Option{oneuc.WithBucket(200, 15)}})
	l := env.NeedLab(t)
	var nums []string
	for _, s := range manyHeld(60) {
		nums = append(nums, s.Number)
	}
	if _, err := env.Client.Read(context.Background(), nums); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := l.Stats().Throttled; got != 0 {
		t.Fatalf("%d requests answered 429 despite tokens.remaining pacing", got)
	}
}

func case503(t *testing.T, h Harness) {
	const n = "+12127800001"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{{Number: n, State: "in_service", CNAM: "BEFORE"}}},
		Options: []oneuc.Option{oneuc.WithGetRetries(2, time.Millisecond)}})
	l := env.NeedLab(t)
	if _, err := env.Client.Read(context.Background(), []string{n}); err != nil { // logs in
		t.Fatal(err)
	}
	l.SetFaults(1, 0)
	res := apply(t, env.Client, updateOp(n, ptr("AFTER"), nil), activateOp("+12127800002", "reserved"))
	for _, m := range []string{n, "+12127800002"} {
		r := wantOutcome(t, res, m, plan.Unknown)
		if !plan.IsTransient(r.Err) {
			t.Fatalf("%s: 503 not transient: %v", m, r.Err)
		}
	}
	if got, _ := l.Number(n); got.CNAM != "BEFORE" {
		t.Fatalf("the lab acted despite the fault: %q", got.CNAM)
	}
	_, err := env.Client.Read(context.Background(), []string{n})
	if err == nil || !plan.IsTransient(err) {
		t.Fatalf("Read during an outage: %v, want a transient error", err)
	}
}

func caseLost(t *testing.T, h Harness) {
	nums := []string{"+12127900001", "+12127900002", "+12127900003", "+12127900004"}
	var seed lab.Seed
	for _, n := range nums {
		seed.Numbers = append(seed.Numbers, seedNumber(n, "reserved"))
	}
	env := h.Start(t, Setup{Seed: seed, Lab: lab.Options{Seed: 7}})
	l := env.NeedLab(t)
	if _, err := env.Client.Read(context.Background(), nums[:1]); err != nil { // logs in
		t.Fatal(err)
	}
	l.SetFaults(0, 1)
	// Single activations, so both ways of losing an answer (a 503 after
	// acting, a closed connection) are met with the lab's seed; both must
	// be Unknown.
	for _, n := range nums {
		res := apply(t, env.Client, activateOp(n, "reserved"))
		wantOutcome(t, res, n, plan.Unknown)
	}
	l.SetFaults(0, 0)
	got, err := env.Client.Read(context.Background(), nums)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nums {
		if got[n].Status != "in_service" {
			t.Fatalf("%s: live %q: the lost activation should have taken effect", n, got[n].Status)
		}
		if c := l.Counts(n); c.Activated != 1 {
			t.Fatalf("%s activated %d times", n, c.Activated)
		}
	}
	lost, closed := 0, 0
	for _, q := range l.Requests() {
		if q.Lost && q.Applied {
			lost++
			if q.Status == 0 {
				closed++
			}
		}
	}
	if lost != len(nums) || closed == 0 || closed == lost {
		t.Fatalf("lab logged %d lost answers, %d by closing the connection: want both ways", lost, closed)
	}
}

func caseUnreachable(t *testing.T, h Harness) {
	env := h.Start(t, Setup{})
	env.NeedLab(t)
	srv := httptest.NewServer(nil)
	dead := srv.URL
	srv.Close()
	c, err := oneuc.New(oneuc.Config{URL: dead, AccountID: env.Lab.AccountID(), APIKey: env.APIKey, RPS: -1},
		oneuc.WithGetRetries(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	res := apply(t, c, releaseOp("+12128000001"), updateOp("+12128000002", ptr("X"), nil), activateOp("+12128000003", "reserved"))
	for n, r := range res {
		if r.Outcome != plan.Retry || !plan.IsTransient(r.Err) {
			t.Fatalf("%s: %v %v, want Retry with a transient error", n, r.Outcome, r.Err)
		}
	}
	if err := c.List(context.Background(), func(plan.State) error { return nil }); err == nil || !plan.IsTransient(err) {
		t.Fatalf("List against a dead vendor: %v", err)
	}
}

func caseNoSecrets(t *testing.T, h Harness) {
	const n = "+12128100001"
	env := h.Start(t, Setup{Seed: lab.Seed{Numbers: []lab.SeedNumber{seedNumber(n, "in_service")}}})
	l := env.NeedLab(t)
	listAll(t, env.Client)
	l.ExpireTokens()
	res := apply(t, env.Client, updateOp(n, ptr("NAME"), nil))
	wantOutcome(t, res, n, plan.Done)
	if strings.Contains(env.Logs(), env.APIKey) {
		t.Fatal("the API key was logged")
	}
	if strings.Contains(env.Logs(), "X-Auth-Token") || strings.Contains(env.Logs(), "auth_token") {
		t.Fatal("a token was logged")
	}
	for _, q := range l.Requests() {
		if strings.Contains(q.Body, env.APIKey) {
			t.Fatal("the lab's request log holds the API key")
		}
	}
	if !strings.Contains(env.Logs(), "logging in again") {
		t.Fatal("the expired token was not noticed")
	}
}
