package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/numsync/numsync/internal/plan"
)

// Staleness is one number whose live state no longer matches what a saved
// plan saw.
type Staleness struct {
	Vendor plan.VendorName `json:"vendor"`
	Number string          `json:"number"`
	OpID   string          `json:"op"`
	// Differs says what changed, for people.
	Differs string `json:"differs"`
}

// readChunk bounds one Read call of the stale check.
const readChunk = 500

// StaleCheck reads the live state of every number a saved plan touches and
// returns those that changed since the plan was made. Applying a plan to a
// state it did not see could undo someone else's change, so any difference
// stops the apply.
func StaleCheck(ctx context.Context, vs Vendors, p *plan.Plan) ([]Staleness, error) {
	byVendor := map[plan.VendorName][]string{}
	for _, op := range p.Ops {
		byVendor[op.Vendor] = append(byVendor[op.Vendor], op.Number)
	}
	live := map[plan.VendorName]map[string]plan.State{}
	for name, nums := range byVendor {
		v := vs.Get(name)
		if v == nil {
			return nil, fmt.Errorf("the plan has operations for %s, which the configuration disables", name)
		}
		got := map[string]plan.State{}
		nums = dedupe(nums)
		for i := 0; i < len(nums); i += readChunk {
			part, err := v.Read(ctx, nums[i:min(i+readChunk, len(nums))])
			if err != nil {
				return nil, fmt.Errorf("stale check: %w", err)
			}
			for k, s := range part {
				got[k] = s
			}
		}
		live[name] = got
	}
	var out []Staleness
	for _, op := range p.Ops {
		s, present := live[op.Vendor][op.Number]
		if d := op.Stale(s, present); d != "" {
			out = append(out, Staleness{Vendor: op.Vendor, Number: op.Number, OpID: op.ID, Differs: d})
		}
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].OpID < out[k].OpID })
	return out, nil
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, n := range s {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
