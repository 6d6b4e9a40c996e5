package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVendor is an in-memory Vendor for Gather's tests: it lists its
// records, answers Read from its details, and records what it was asked.
type fakeVendor struct {
	name    VendorName
	records []State          // the listing, in listing order
	details map[string]State // what Read answers
	listErr error            // returned after the listing
	readErr error
	// beforeList, when set, runs first in List (to make one vendor wait
	// for the other).
	beforeList func(ctx context.Context) error

	mu    sync.Mutex
	reads [][]string
}

func (f *fakeVendor) Name() VendorName { return f.name }

func (f *fakeVendor) List(ctx context.Context, fn func(State) error) error {
	if f.beforeList != nil {
		if err := f.beforeList(ctx); err != nil {
			return err
		}
	}
	for _, r := range f.records {
		if err := fn(r); err != nil {
			return err
		}
	}
	return f.listErr
}

func (f *fakeVendor) Read(ctx context.Context, numbers []string) (map[string]State, error) {
	f.mu.Lock()
	f.reads = append(f.reads, slices.Clone(numbers))
	f.mu.Unlock()
	if f.readErr != nil {
		return nil, f.readErr
	}
	out := map[string]State{}
	for _, n := range numbers {
		if s, ok := f.details[n]; ok {
			out[n] = s
		}
	}
	return out, nil
}

func (f *fakeVendor) BatchKey(Op) (string, int)            { return "", 1 }
func (f *fakeVendor) Apply(context.Context, []Op) []Result { return nil }

// readNumbers returns every number Read was asked for, sorted.
func (f *fakeVendor) readNumbers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reads {
		out = append(out, r...)
	}
	sort.Strings(out)
	return out
}

// fakeFirstOrion adds the hierarchy.
type fakeFirstOrion struct {
	*fakeVendor
	hierarchy []BusinessUnit
	hierErr   error
}

func (f *fakeFirstOrion) BusinessUnits(context.Context) ([]BusinessUnit, error) {
	return f.hierarchy, f.hierErr
}

var (
	_ Vendor    = (*fakeVendor)(nil)
	_ Hierarchy = (*fakeFirstOrion)(nil)
)

// memCache is an in-memory DetailCache.
type memCache struct {
	mu      sync.Mutex
	entries map[string]CachedState
	saveErr error
	saved   int
}

func (c *memCache) Details(context.Context, VendorName) (map[string]CachedState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]CachedState, len(c.entries))
	for k, v := range c.entries {
		out[k] = v
	}
	return out, nil
}

func (c *memCache) SaveDetails(_ context.Context, _ VendorName, states []CachedState) error {
	if c.saveErr != nil {
		return c.saveErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]CachedState{}
	}
	for _, s := range states {
		c.entries[s.Number] = s
	}
	c.saved += len(states)
	return nil
}

// memHistory is an in-memory History.
type memHistory map[VendorName]int

func (h memHistory) LastCount(_ context.Context, v VendorName) (int, bool, error) {
	n, ok := h[v]
	return n, ok, nil
}

func listed(n, status string, updated int64) State {
	return State{Number: n, Status: status, Updated: updated}
}

func TestGatherDetails(t *testing.T) {
	ou := &fakeVendor{
		name: OneUC,
		records: []State{
			listed(n1, "in_service", 100), // cached, unchanged: no read
			listed(n2, "in_service", 200), // cached, changed since: read
			listed(n3, "in_service", 300), // never cached: read
			listed(n4, "reserved", 400),   // being activated: no read
			listed(n5, "in_service", 500), // not in the CSV: no read
		},
		details: map[string]State{
			n2: {Number: n2, Status: "in_service", Detailed: true, CNAM: ptr("TWO NEW")},
			n3: {Number: n3, Status: "in_service", Detailed: true, E911: addr("3 Main St", "New York")},
		},
	}
	cache := &memCache{entries: map[string]CachedState{
		n1: {Number: n1, Updated: 100, State: State{Number: n1, CNAM: ptr("ONE")}},
		n2: {Number: n2, Updated: 150, State: State{Number: n2, CNAM: ptr("TWO OLD")}},
	}}
	d := desiredOf(Columns{CNAM: true}, Row{Number: n1}, Row{Number: n2}, Row{Number: n3}, Row{Number: n4})
	inv, err := Gather(context.Background(), Sources{OneUC: ou, Desired: d, Cache: cache, History: memHistory{OneUC: 4}, DetailBatch: 1})
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got, want := ou.readNumbers(), []string{n2, n3}; !slices.Equal(got, want) {
		t.Errorf("read %v, want %v", got, want)
	}
	recs := inv.OneUC.Records
	for _, tc := range []struct {
		n    string
		cnam string
		e911 bool
	}{{n1, "ONE", false}, {n2, "TWO NEW", false}, {n3, "", true}} {
		r, _ := recs.Get(tc.n)
		if !r.Detailed || r.CNAM == nil || *r.CNAM != tc.cnam || (r.E911 != nil) != tc.e911 {
			t.Errorf("%s: got detailed=%v cnam=%v e911=%v, want cnam %q e911 %v", tc.n, r.Detailed, r.CNAM, r.E911, tc.cnam, tc.e911)
		}
	}
	if r4, _ := recs.Get(n4); r4.Detailed {
		t.Error("numbers that need no details were read")
	}
	if r5, _ := recs.Get(n5); r5.Detailed {
		t.Error("numbers that need no details were read")
	}
	if got := len(inv.OneUC.Fresh); got != 2 || cache.saved != 2 {
		t.Errorf("fresh %d, saved %d; want 2 and 2", got, cache.saved)
	}
	if c := cache.entries[n2]; c.Updated != 200 || *c.State.CNAM != "TWO NEW" {
		t.Errorf("cache entry of %s = %+v, want the new details at updated 200", n2, c)
	}
	if !inv.OneUC.Complete || inv.OneUC.Held != 5 || !inv.OneUC.HasHistory || inv.OneUC.History != 4 {
		t.Errorf("inventory = complete %v held %d history %d/%v", inv.OneUC.Complete, inv.OneUC.Held, inv.OneUC.History, inv.OneUC.HasHistory)
	}
	if inv.OneUC.Fingerprint != Fingerprint(recs) {
		t.Error("fingerprint does not cover the detailed records")
	}

	// A second gather over the unchanged inventory reads nothing.
	ou.reads = nil
	if _, err := Gather(context.Background(), Sources{OneUC: ou, Desired: d, Cache: cache}); err != nil {
		t.Fatal(err)
	}
	if got := ou.readNumbers(); len(got) != 0 {
		t.Errorf("second gather read %v", got)
	}
}

func TestGatherNoDetailsWhenUnmanaged(t *testing.T) {
	ou := &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)}}
	d := desiredOf(Columns{BusinessUnit: true}, Row{Number: n1})
	if _, err := Gather(context.Background(), Sources{OneUC: ou, Desired: d}); err != nil {
		t.Fatal(err)
	}
	if len(ou.reads) != 0 {
		t.Errorf("read %v although the CSV manages no OneUC field", ou.reads)
	}
}

func TestGatherExportReadsEveryNumberInService(t *testing.T) {
	ou := &fakeVendor{name: OneUC,
		records: []State{listed(n1, "in_service", 1), listed(n2, "reserved", 1), listed(n3, "in_service", 1)},
		details: map[string]State{n1: {Number: n1, CNAM: ptr("A")}, n3: {Number: n3}},
	}
	inv, err := Gather(context.Background(), Sources{OneUC: ou, DetailBatch: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ou.readNumbers(); !slices.Equal(got, []string{n1, n3}) {
		t.Errorf("read %v", got)
	}
	if r, _ := inv.OneUC.Records.Get(n3); !r.Detailed || r.CNAM == nil || *r.CNAM != "" {
		t.Errorf("a number read without CNAM should have CNAM none, got %+v", r)
	}
}

func TestGatherVendorsDoNotWaitForEachOther(t *testing.T) {
	foListed := make(chan struct{})
	ou := &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)},
		beforeList: func(ctx context.Context) error {
			// OneUC's listing cannot end before First Orion's has: a
			// Gather listing one vendor after the other never gets here.
			select {
			case <-foListed:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
	fo := &fakeFirstOrion{fakeVendor: &fakeVendor{name: FirstOrion, records: []State{foRec(n1, "bu-sales", "", "", "CS", false)}}, hierarchy: testHierarchy()}
	wrapped := &closingList{fakeFirstOrion: fo, done: foListed}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv, err := Gather(ctx, Sources{OneUC: ou, FirstOrion: wrapped})
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if !inv.OneUC.Complete || !inv.FirstOrion.Complete {
		t.Fatalf("listings not complete: %v / %v", inv.OneUC.Err, inv.FirstOrion.Err)
	}
	if len(inv.Hierarchy) != len(testHierarchy()) {
		t.Errorf("hierarchy has %d units", len(inv.Hierarchy))
	}
}

// closingList closes done when its listing has ended.
type closingList struct {
	*fakeFirstOrion
	done chan struct{}
}

func (c *closingList) List(ctx context.Context, fn func(State) error) error {
	defer close(c.done)
	return c.fakeFirstOrion.List(ctx, fn)
}

func TestGatherFailures(t *testing.T) {
	d := desiredOf(Columns{CNAM: true}, Row{Number: n1})
	tests := []struct {
		name      string
		src       func() Sources
		wantErr   string // "" = Gather succeeds
		check     func(t *testing.T, inv *Inventories)
		cancelCtx bool
	}{
		{
			name: "listing fails: partial inventory, no error",
			src: func() Sources {
				return Sources{Desired: d, OneUC: &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)},
					details: map[string]State{n1: {Number: n1}}, listErr: errors.New("HTTP 502 on page 2")}}
			},
			check: func(t *testing.T, inv *Inventories) {
				if inv.OneUC.Complete || inv.OneUC.Err == nil || !strings.Contains(inv.OneUC.Err.Error(), "HTTP 502") {
					t.Errorf("inventory complete=%v err=%v", inv.OneUC.Complete, inv.OneUC.Err)
				}
				if inv.OneUC.Held != 1 {
					t.Errorf("held %d", inv.OneUC.Held)
				}
			},
		},
		{
			name: "detail read fails: error",
			src: func() Sources {
				return Sources{Desired: d, OneUC: &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)}, readErr: errors.New("boom")}}
			},
			wantErr: "oneuc: read details",
		},
		{
			name: "hierarchy fails: error",
			src: func() Sources {
				return Sources{FirstOrion: &fakeFirstOrion{fakeVendor: &fakeVendor{name: FirstOrion}, hierErr: errors.New("HTTP 500")}}
			},
			wantErr: "firstorion: list business units",
		},
		{
			name: "cache cannot be written: warning only",
			src: func() Sources {
				return Sources{Desired: d, Cache: &memCache{saveErr: errors.New("disk full")},
					OneUC: &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)}, details: map[string]State{n1: {Number: n1}}}}
			},
			check: func(t *testing.T, inv *Inventories) {
				if len(inv.Warnings) != 1 || !strings.Contains(inv.Warnings[0], "could not be cached") {
					t.Errorf("warnings %q", inv.Warnings)
				}
			},
		},
		{
			name:      "context cancelled: error",
			cancelCtx: true,
			src: func() Sources {
				return Sources{OneUC: &fakeVendor{name: OneUC, beforeList: func(ctx context.Context) error { return ctx.Err() }}}
			},
			wantErr: "context canceled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelCtx {
				cancel()
			}
			inv, err := Gather(ctx, tc.src())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			tc.check(t, inv)
		})
	}
}

func TestFingerprintIgnoresOrder(t *testing.T) {
	a := NewRecords()
	b := NewRecords()
	for i := range 50 {
		n := fmt.Sprintf("+1212555%04d", i)
		a.Set(State{Number: n, Status: "in_service", Updated: int64(i)})
	}
	for i := 49; i >= 0; i-- {
		n := fmt.Sprintf("+1212555%04d", i)
		b.Set(State{Number: n, Status: "in_service", Updated: int64(i)})
	}
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("fingerprint depends on insertion order")
	}
	b.Set(State{Number: "+12125550007", Status: "in_service", Updated: 8})
	if Fingerprint(a) == Fingerprint(b) {
		t.Error("fingerprint misses a changed record")
	}
}

// TestGatherFingerprintsBothInventories: a saved plan records a fingerprint
// of every inventory it was made from (SPEC section 4), First Orion's as
// well as OneUC's, and it changes when the vendor's records do.
func TestGatherFingerprintsBothInventories(t *testing.T) {
	foRecords := []State{foRec(n1, "bu-sales", "p-retail", ChannelCallerName, "CS", false), foRec(n2, "bu-sales", "", "", "CS", true)}
	gather := func(fo []State) *Plan {
		t.Helper()
		ou := &fakeVendor{name: OneUC, records: []State{listed(n1, "in_service", 1)}}
		fov := &fakeFirstOrion{fakeVendor: &fakeVendor{name: FirstOrion, records: fo}, hierarchy: testHierarchy()}
		d := desiredOf(Columns{BusinessUnit: true, Program: true}, Row{Number: n1, BusinessUnit: "Sales", Program: "Retail"})
		inv, err := Gather(context.Background(), Sources{OneUC: ou, FirstOrion: fov, Desired: d})
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		if want := Fingerprint(inv.FirstOrion.Records); inv.FirstOrion.Fingerprint != want {
			t.Errorf("firstorion fingerprint = %q, want %q", inv.FirstOrion.Fingerprint, want)
		}
		if want := Fingerprint(inv.OneUC.Records); inv.OneUC.Fingerprint != want {
			t.Errorf("oneuc fingerprint = %q, want %q", inv.OneUC.Fingerprint, want)
		}
		p, err := Diff(d, inv, Options{CreatedAt: testCreatedAt})
		if err != nil {
			t.Fatalf("Diff: %v", err)
		}
		return p
	}
	p := gather(foRecords)
	var saved struct {
		Vendors map[string]struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"vendors"`
	}
	var buf strings.Builder
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(buf.String()), &saved); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"oneuc", "firstorion"} {
		if fp := saved.Vendors[v].Fingerprint; len(fp) != 64 {
			t.Errorf("saved plan: vendors.%s.fingerprint = %q, want a SHA-256", v, fp)
		}
	}

	changed := slices.Clone(foRecords)
	changed[1].AuthCalls = ptr(false)
	if q := gather(changed); q.Vendors[FirstOrion].Fingerprint == p.Vendors[FirstOrion].Fingerprint {
		t.Error("firstorion fingerprint did not change with a record")
	}
}
