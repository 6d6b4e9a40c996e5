// Package drift finds the planned operations that undo a change someone
// made at a vendor outside numsync: a number whose live state differs, on
// the fields the operation changes, from what numsync last wrote there or
// last read from it (Terraform's "objects have changed outside of
// Terraform"). It marks them in the plan (Op.ChangedOutside) and counts
// them per vendor; the plan's renderings and the metrics show them.
package drift

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Known is what numsync last knew of one number at one vendor.
type Known struct {
	// State is what numsync wrote (an operation's After) or read.
	State plan.State
	// Read is true for a state read whole from the vendor (the OneUC
	// detail cache): a field it leaves empty is known to be empty, if the
	// read was detailed. A write knows only the fields it set.
	Read bool
	// Run is the journal's run that wrote or read it; 0 when a plan read
	// it outside any run.
	Run int64
	// At is when.
	At time.Time
}

// Knowledge is what numsync last knew, by vendor and number.
type Knowledge map[plan.VendorName]map[string]Known

// Add records k for number at v unless something more recent is known.
func (kn Knowledge) Add(v plan.VendorName, number string, k Known) {
	m := kn[v]
	if m == nil {
		m = map[string]Known{}
		kn[v] = m
	}
	if old, ok := m[number]; ok && old.At.After(k.At) {
		return
	}
	m[number] = k
}

// field is one field an operation may change, as text for comparing.
type field struct {
	name string
	// get returns the field's value and whether the state sets it.
	get func(s plan.State) (string, bool)
	// detail is true for the OneUC fields only a detailed read knows.
	detail bool
}

var fields = []field{
	{name: "status", get: func(s plan.State) (string, bool) { return s.Status, s.Status != "" }},
	{name: "cnam", detail: true, get: func(s plan.State) (string, bool) {
		if s.CNAM == nil {
			return "", false
		}
		return *s.CNAM, true
	}},
	{name: "e911", detail: true, get: func(s plan.State) (string, bool) {
		if s.E911 == nil {
			return "", false
		}
		b, _ := json.Marshal(s.E911)
		return strings.ToUpper(string(b)), true
	}},
	{name: "business_unit", get: func(s plan.State) (string, bool) { return s.BusinessUnit, s.BusinessUnit != "" }},
	{name: "program", get: func(s plan.State) (string, bool) { return s.Program, s.Program != "" }},
	{name: "channel", get: func(s plan.State) (string, bool) { return s.Channel, s.Channel != "" }},
	{name: "call_purpose", get: func(s plan.State) (string, bool) { return s.CallPurpose, s.CallPurpose != "" }},
	{name: "authenticated_calls", get: func(s plan.State) (string, bool) {
		if s.AuthCalls == nil {
			return "", false
		}
		if *s.AuthCalls {
			return "true", true
		}
		return "false", true
	}},
}

// Mark sets ChangedOutside on every operation of p whose number's live
// state (the operation's Before) differs from what numsync last knew on a
// field the operation changes, and sets each vendor's ChangedOutside
// count. It returns the number of operations marked. What numsync never
// knew (a number it never wrote nor read) is not drift: the CSV simply
// asks for something new.
func Mark(p *plan.Plan, kn Knowledge) int {
	total := 0
	for _, s := range p.Vendors {
		s.ChangedOutside = 0
	}
	for i := range p.Ops {
		op := &p.Ops[i]
		op.ChangedOutside = nil
		k, ok := kn[op.Vendor][op.Number]
		if !ok || !changed(op, k) {
			continue
		}
		op.ChangedOutside = &plan.Outside{Run: k.Run, At: k.At}
		if s := p.Vendors[op.Vendor]; s != nil {
			s.ChangedOutside++
		}
		total++
	}
	return total
}

// changed compares, field by field of those op sets, the live value with
// the known one.
func changed(op *plan.Op, k Known) bool {
	for _, f := range fields {
		if _, sets := f.get(op.After); !sets {
			continue
		}
		known, knows := f.get(k.State)
		if !knows {
			// A detailed read knows an empty CNAM or address is empty; a
			// write or a listing-only read does not.
			if !k.Read || (f.detail && !k.State.Detailed) {
				continue
			}
		}
		live, _ := f.get(op.Before)
		if live != known {
			return true
		}
	}
	return false
}

// writesKnown are the actions whose After is what the vendor's listing
// shows afterwards, so that a later difference is someone else's doing.
// A release or a delete takes the number away; what comes back later is
// not numsync's write.
var writesKnown = []plan.Action{plan.Activate, plan.Update, plan.Assign, plan.Move}

// Journal is the part of the journal Learn reads.
type Journal interface {
	// RecentRuns lists up to limit runs, newest first.
	RecentRuns(ctx context.Context, limit int) ([]Run, error)
	// Ops lists the operations of run with their states.
	Ops(ctx context.Context, run int64) ([]plan.OpRecord, error)
}

// Run is a journaled run as Learn needs it.
type Run struct {
	ID                int64
	Started, Finished time.Time // Finished zero while open
}

// Writes learns what numsync wrote in the latest runs (up to runs of
// them), and what those runs read of the numbers they planned to change
// but did not: the done operations whose After the vendor's listing shows
// afterwards, and the Before (the live state the run's plan read) of
// operations that failed for good, were skipped, or were left pending by
// a stopped run. A read costs no journal write: the run's plan holds it.
// Not learnt: a sent operation (whether the vendor acted is unknown), a
// move that failed once sent (it may be half done), and
// one whose verify read back something else (neither what numsync read
// nor what it wrote is there). It returns the runs too, for Reads.
func Writes(ctx context.Context, j Journal, runs int) (Knowledge, []Run, error) {
	kn := Knowledge{}
	list, err := j.RecentRuns(ctx, runs)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range list {
		ops, err := j.Ops(ctx, r.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, rec := range ops {
			switch rec.State {
			case plan.StateDone:
				if !slices.Contains(writesKnown, rec.Op.Action) {
					continue
				}
				at := rec.UpdatedAt
				if at.IsZero() {
					at = r.Started
				}
				kn.Add(rec.Op.Vendor, rec.Op.Number, Known{State: rec.Op.After, Run: r.ID, At: at})
			case plan.StateFailed, plan.StateSkipped, plan.StatePending:
				if strings.HasPrefix(rec.LastError, verifyPrefix) {
					continue
				}
				// A First Orion move is two steps: one that failed after
				// it was sent may have taken the number from its old place
				// already, so its Before is no longer what numsync knows.
				if rec.Op.Action == plan.Move && rec.Attempts > 0 {
					continue
				}
				// Read when the run's plan was made, before anything
				// the run wrote: a write of the same run wins.
				kn.Add(rec.Op.Vendor, rec.Op.Number, Known{State: rec.Op.Before, Run: r.ID, At: r.Started})
			}
		}
	}
	return kn, list, nil
}

// verifyPrefix starts the reason of an operation whose read-back differed
// from what it wrote (internal/exec).
const verifyPrefix = "verify:"

// Reads adds what numsync last read of OneUC numbers during a run (one of
// runs): the detail cache as it was before this plan read anything. A
// read by a plan outside any run does not count: a plan that shows a
// change made outside numsync must not, by reading it, make the next plan
// take it for numsync's own.
func (kn Knowledge) Reads(cache map[string]plan.CachedState, runs []Run) {
	for n, c := range cache {
		if id, ok := InRun(c.SavedAt, runs); ok {
			kn.Add(plan.OneUC, n, Known{State: c.State, Read: true, Run: id, At: c.SavedAt})
		}
	}
}

// InRun returns the run (one of runs) during which something was saved at
// at. A zero time (a cache that keeps no date) is in none: it cannot say
// since when.
func InRun(at time.Time, runs []Run) (int64, bool) {
	if at.IsZero() {
		return 0, false
	}
	for _, r := range runs {
		if !at.Before(r.Started) && (r.Finished.IsZero() || !at.After(r.Finished)) {
			return r.ID, true
		}
	}
	return 0, false
}

// SameDetails reports whether two reads of a OneUC number agree on every
// field drift compares.
func SameDetails(a, b plan.State) bool {
	for _, f := range fields {
		va, sa := f.get(a)
		vb, sb := f.get(b)
		if sa != sb || va != vb {
			return false
		}
	}
	return true
}
