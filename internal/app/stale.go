package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
		if d := beforeDiffers(op, s, present); d != "" {
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

// beforeDiffers compares the live state with the op's Before on the fields
// the operation concerns; "" when they agree.
func beforeDiffers(op plan.Op, live plan.State, present bool) string {
	b := op.Before
	if op.Vendor == plan.OneUC && op.Action == plan.Update {
		// An update's Before carries only the fields it changes. After an
		// activation, the activation's own check covers the number;
		// otherwise the plan saw it in service.
		if len(op.DependsOn) > 0 {
			return ""
		}
		b.Status = plan.StatusInService
	}
	var d []string
	held := b.Status != "" || b.ID != ""
	switch {
	case !held && present && (op.Vendor != plan.OneUC || inService(live)):
		// The plan saw no number here (or, at OneUC, one not yet in
		// service) and now there is one.
		d = append(d, "now held ("+describe(live)+")")
	case held && !present:
		d = append(d, "no longer held")
	}
	if held && present {
		if op.Vendor == plan.OneUC {
			if b.Status != live.Status {
				d = append(d, fmt.Sprintf("state %s → %s", b.Status, live.Status))
			}
			if op.After.CNAM != nil && deref(b.CNAM) != deref(live.CNAM) {
				d = append(d, fmt.Sprintf("cnam %q → %q", deref(b.CNAM), deref(live.CNAM)))
			}
			if op.After.E911 != nil && !b.E911.Equal(live.E911) {
				d = append(d, "e911 address changed")
			}
		} else {
			if b.ID != live.ID {
				d = append(d, "phone-number id changed")
			}
			if op.Action != plan.Update && (b.BusinessUnit != live.BusinessUnit || b.Program != live.Program || b.Channel != live.Channel) {
				d = append(d, fmt.Sprintf("place %s → %s", place(b), place(live)))
			}
			// An update's Before carries only the fields it changes.
			cpChanged := op.After.CallPurpose != "" && b.CallPurpose != live.CallPurpose
			authChanged := op.After.AuthCalls != nil && deref(b.AuthCalls) != deref(live.AuthCalls)
			if op.Action == plan.Update && (cpChanged || authChanged) {
				d = append(d, fmt.Sprintf("call purpose %s/%v → %s/%v", b.CallPurpose, deref(b.AuthCalls), live.CallPurpose, deref(live.AuthCalls)))
			}
		}
	}
	return strings.Join(d, "; ")
}

func inService(s plan.State) bool { return s.Status == "in_service" }

func place(s plan.State) string {
	switch {
	case s.Program != "":
		return s.BusinessUnit + "/" + s.Program + "/" + s.Channel
	case s.BusinessUnit != "":
		return s.BusinessUnit
	}
	return "business level"
}

func describe(s plan.State) string {
	if s.Status != "" {
		return s.Status
	}
	return "present"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
