package journal

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

func TestHistory(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	for _, tc := range []struct {
		name   string
		set    map[plan.VendorName]int
		vendor plan.VendorName
		want   int
		wantOK bool
	}{
		{"no history yet", nil, plan.OneUC, 0, false},
		{"first count", map[plan.VendorName]int{plan.OneUC: 1200}, plan.OneUC, 1200, true},
		{"other vendor still has none", nil, plan.FirstOrion, 0, false},
		{"replaced", map[plan.VendorName]int{plan.OneUC: 1180}, plan.OneUC, 1180, true},
		{"zero is a count", map[plan.VendorName]int{plan.FirstOrion: 0}, plan.FirstOrion, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for v, n := range tc.set {
				if err := j.SetCount(ctx, v, n); err != nil {
					t.Fatal(err)
				}
			}
			n, ok, err := j.LastCount(ctx, tc.vendor)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want || ok != tc.wantOK {
				t.Errorf("LastCount = %d, %v; want %d, %v", n, ok, tc.want, tc.wantOK)
			}
		})
	}
	if err := j.SetCount(ctx, plan.OneUC, -1); err == nil {
		t.Error("SetCount accepted a negative count")
	}
}

func ptr[T any](v T) *T { return &v }

func TestDetailCacheRoundTrip(t *testing.T) {
	ctx := context.Background()
	// When each entry was saved comes back too (the drift marker's date).
	saved := time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)
	j := openTest(t, WithClock(func() time.Time { return saved }))
	entries := []plan.CachedState{
		{Number: "+12125554200", Updated: 63900000001, State: plan.State{
			Number: "+12125554200", Status: "in_service", Updated: 63900000001,
			Features: []string{"cnam", "e911", "local"}, Detailed: true,
			CNAM: ptr("ACME SALES"),
			E911: &plan.Address{StreetAddress: "1 MAIN ST", ExtendedAddress: "STE 200", Locality: "NEW YORK",
				Region: "NY", PostalCode: "10001", CallerName: "ACME"},
		}},
		{Number: "+12125554201", Updated: 63900000002, State: plan.State{
			Number: "+12125554201", Status: "in_service", Updated: 63900000002, Detailed: true,
			CNAM: ptr(""), // none, as opposed to unknown
		}},
		{Number: "+12125554202", Updated: 5, State: plan.State{
			Number: "+12125554202", Status: "reserved", Updated: 5, // nothing known beyond the listing
		}},
		{Number: "+12125554203", Updated: 7, State: plan.State{
			Number: "+12125554203", Updated: 7, Status: "APPROVED", ID: "pn-1", BusinessUnit: "bu", Program: "pg",
			Channel: "callerName", CallPurpose: "CS", AuthCalls: ptr(false),
		}},
	}
	if err := j.SaveDetails(ctx, plan.OneUC, entries); err != nil {
		t.Fatal(err)
	}
	got, err := j.Details(ctx, plan.OneUC)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d entries, want %d", len(got), len(entries))
	}
	for _, e := range entries {
		e.SavedAt = saved
		t.Run(e.Number, func(t *testing.T) {
			if !reflect.DeepEqual(got[e.Number], e) {
				t.Errorf("got  %+v\nwant %+v", got[e.Number], e)
			}
		})
	}

	// Upsert: a later save replaces one entry and leaves the rest; another
	// vendor's cache is separate.
	changed := plan.CachedState{Number: "+12125554200", Updated: 63900000099, State: plan.State{
		Number: "+12125554200", Status: "in_service", Updated: 63900000099, Detailed: true, CNAM: ptr("NEW NAME"),
	}, SavedAt: saved}
	if err := j.SaveDetails(ctx, plan.OneUC, []plan.CachedState{changed}); err != nil {
		t.Fatal(err)
	}
	if err := j.SaveDetails(ctx, plan.FirstOrion, entries[3:]); err != nil {
		t.Fatal(err)
	}
	got, err = j.Details(ctx, plan.OneUC)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) || !reflect.DeepEqual(got[changed.Number], changed) {
		t.Errorf("after upsert: %d entries, %+v", len(got), got[changed.Number])
	}
	fo, err := j.Details(ctx, plan.FirstOrion)
	if err != nil {
		t.Fatal(err)
	}
	if len(fo) != 1 {
		t.Errorf("First Orion cache has %d entries, want 1", len(fo))
	}
}

func TestDetailCacheFeatureSlicesNotShared(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	var entries []plan.CachedState
	for i := range 3 {
		n := fmt.Sprintf("+1212555000%d", i)
		entries = append(entries, plan.CachedState{Number: n, State: plan.State{Number: n, Features: []string{"cnam", "local"}}})
	}
	if err := j.SaveDetails(ctx, plan.OneUC, entries); err != nil {
		t.Fatal(err)
	}
	got, err := j.Details(ctx, plan.OneUC)
	if err != nil {
		t.Fatal(err)
	}
	got["+12125550000"].State.Features[0] = "changed"
	if f := got["+12125550001"].State.Features[0]; f != "cnam" {
		t.Errorf("changing one entry's features changed another's: %q", f)
	}
}

func TestDetailCacheLarge(t *testing.T) {
	// Several insert chunks, a partial one, and duplicates within one call
	// (the last wins).
	ctx := context.Background()
	j := openTest(t)
	const n = insertChunk*5 + 3
	entries := make([]plan.CachedState, 0, n+1)
	for i := range n {
		num := fmt.Sprintf("+1646%07d", i)
		entries = append(entries, plan.CachedState{Number: num, Updated: int64(i), State: plan.State{Number: num, Updated: int64(i), Status: "in_service"}})
	}
	entries = append(entries, plan.CachedState{Number: "+16460000000", Updated: 99, State: plan.State{Number: "+16460000000", Updated: 99}})
	if err := j.SaveDetails(ctx, plan.OneUC, entries); err != nil {
		t.Fatal(err)
	}
	got, err := j.Details(ctx, plan.OneUC)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	if got["+16460000000"].Updated != 99 {
		t.Errorf("duplicate in one save: Updated %d, want the last (99)", got["+16460000000"].Updated)
	}
	if err := j.SaveDetails(ctx, plan.OneUC, []plan.CachedState{{}}); err == nil {
		t.Error("SaveDetails accepted an entry without a number")
	}
}
