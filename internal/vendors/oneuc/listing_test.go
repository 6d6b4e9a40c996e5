package oneuc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// TestListingPagesDoNotLeak lists an account of 2,500 numbers (three
// pages) whose states and features alternate: pages are decoded into a
// reused buffer and page map, and a state or feature of one page must never
// show up on a number of the next that lacks it, nor a number be lost or
// listed twice.
func TestListingPagesDoNotLeak(t *testing.T) {
	l := lab.New(lab.Options{})
	var seed lab.Seed
	states := []string{"in_service", "reserved", "in_service", "port_in"}
	for i := 0; i < 2500; i++ {
		n := lab.SeedNumber{Number: fmt.Sprintf("+1212%07d", 5550000+i), State: states[i%len(states)]}
		if i%3 == 0 {
			n.CNAM = "ACME"
		}
		if i%5 == 0 && n.State == "in_service" {
			n.E911 = &lab.Address{StreetAddress: "1 Main St", Locality: "New York", Region: "NY", PostalCode: "10001"}
		}
		seed.Numbers = append(seed.Numbers, n)
	}
	if err := l.Seed(seed); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	defer srv.Close()
	c, err := oneuc.New(oneuc.Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(), RPS: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]plan.State{}
	err = c.List(context.Background(), func(s plan.State) error {
		if _, dup := got[s.Number]; dup {
			t.Errorf("%s listed twice", s.Number)
		}
		got[s.Number] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(seed.Numbers) {
		t.Fatalf("listed %d numbers, want %d", len(got), len(seed.Numbers))
	}
	for _, n := range l.Numbers() {
		s := got[n.Number]
		if s.Status != n.State || s.Updated != n.Updated || !slices.Equal(sorted(s.Features), sorted(n.Features)) {
			t.Errorf("%s listed as %s %d %v, lab holds %s %d %v", n.Number, s.Status, s.Updated, s.Features, n.State, n.Updated, n.Features)
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
