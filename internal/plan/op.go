package plan

import (
	"fmt"
	"strings"
)

// What an operation means, in one place: the fields it changes, whether a
// live state already satisfies it, whether the live state has moved since
// the plan saw it, and whether two operations want the same thing. The
// executor (lost answers, resume, verification), the lifecycle (the stale
// check, carried failures) and the vendor clients ask these instead of
// comparing fields themselves.

// Fields is a set of the things an operation changes at its vendor.
type Fields uint8

// The fields of a State an operation can change.
const (
	// FieldStatus is OneUC's state word: in service or not.
	FieldStatus Fields = 1 << iota
	// FieldCNAM is OneUC's caller name.
	FieldCNAM
	// FieldE911 is OneUC's emergency address.
	FieldE911
	// FieldPlace is where First Orion holds the number: business unit,
	// program and channel, or nowhere.
	FieldPlace
	// FieldCallPurpose is First Orion's call purpose code.
	FieldCallPurpose
	// FieldAuthCalls is First Orion's authenticated-calls flag.
	FieldAuthCalls
)

// Has reports whether f holds any of g.
func (f Fields) Has(g Fields) bool { return f&g != 0 }

// Changes returns the fields op sets: an activation or release OneUC's
// state, a OneUC update the CNAM and address its After sets, an assignment
// the place and the call purpose and flag it is created with, a move or
// delete the place, a First Orion update the call purpose and flag its
// After sets. In After a nil pointer or an empty code is "not concerned".
func (op Op) Changes() Fields {
	a := op.After
	var f Fields
	switch op.Action {
	case Activate, Release:
		f = FieldStatus
	case Move, Delete:
		f = FieldPlace
	case Assign:
		f = FieldPlace
		if a.CallPurpose != "" {
			f |= FieldCallPurpose
		}
		if a.AuthCalls != nil {
			f |= FieldAuthCalls
		}
	case Update:
		if a.CNAM != nil {
			f |= FieldCNAM
		}
		if a.E911 != nil {
			f |= FieldE911
		}
		if a.CallPurpose != "" {
			f |= FieldCallPurpose
		}
		if a.AuthCalls != nil {
			f |= FieldAuthCalls
		}
	}
	return f
}

// NeedsDetails reports whether checking op against live state needs the
// number's CNAM and E911, which only Vendor.Read returns: a OneUC update
// that sets either. Everything else Mismatch compares (state, presence, a
// First Orion number's place, call purpose and flag) a StateReader returns
// too, so those operations can be checked from one bulk read.
func (op Op) NeedsDetails() bool {
	return op.Action == Update && op.Changes().Has(FieldCNAM|FieldE911)
}

// Columns returns the desired-state columns whose cells ask for what op
// changes, the most specific first: where in the CSV a failure of op is
// shown. A OneUC update names cnam and the E911 address (by its street
// cell); a First Orion operation the brand cell whose value moves the
// number (program before business unit before channel), then the call
// purpose and authenticated-calls cells it sets; a delete the business
// unit cell. An activation or release sets no cell's value (the row being
// there is the request), so it names none.
func (op Op) Columns() []string {
	b, a := op.Before, op.After
	var out []string
	if op.Vendor == OneUC {
		if a.CNAM != nil {
			out = append(out, ColCNAM)
		}
		if a.E911 != nil {
			out = append(out, ColE911StreetAddress)
		}
		return out
	}
	if op.Action == Delete {
		return []string{ColBrandBusinessUnit}
	}
	if a.Program != b.Program {
		out = append(out, ColBrandProgram)
	}
	if a.BusinessUnit != b.BusinessUnit {
		out = append(out, ColBrandBusinessUnit)
	}
	if a.Channel != "" && a.Channel != b.Channel {
		out = append(out, ColBrandChannel)
	}
	if a.CallPurpose != "" && a.CallPurpose != b.CallPurpose {
		out = append(out, ColCallPurposeCode)
	}
	if a.AuthCalls != nil {
		out = append(out, ColAuthenticatedCalls)
	}
	return out
}

// HeldChange is how a done op changes the count of numbers its vendor
// holds: +1 for an assignment and for an activation of a number the account
// did not hold (one found by a search), -1 for a release or delete, 0
// otherwise. The journal's history of each vendor's size follows it.
func (op Op) HeldChange() int {
	switch {
	case op.Action == Assign, op.Action == Activate && op.Before.Status == "":
		return 1
	case op.Action == Release, op.Action == Delete:
		return -1
	}
	return 0
}

// SatisfiedBy reports whether a number's live state (present says whether
// the vendor holds it at all) already is what op must leave. It settles
// operations whose outcome was lost, operations journaled as sent when a
// run resumes, and verifies every operation done. See Mismatch.
func (op Op) SatisfiedBy(live State, present bool) bool {
	return op.Mismatch(live, present) == ""
}

// Mismatch is SatisfiedBy with a reason: "" when live satisfies op, else
// the first differences for the journal and the operator ("program \"p2\",
// want \"p1\"").
//
// Only what the operation is for counts: an activation is satisfied by an
// in-service number, a release by a number no longer in service, an
// update by every field its After sets, an assignment or move by the
// number sitting in After's business unit, program and channel (program ""
// is the business-unit level, where the channel does not apply; the call
// purpose and flag an assignment is created with are an update's to
// correct), a delete by the number being gone.
func (op Op) Mismatch(live State, present bool) string {
	a := op.After
	switch op.Action {
	case Activate:
		if !present {
			return "number not held"
		}
		if !InService(live) {
			return fmt.Sprintf("status %q, want %q", live.Status, StatusInService)
		}
		return ""
	case Release:
		if present && InService(live) {
			return "number still in service"
		}
		return ""
	case Delete:
		if present {
			return "number still present"
		}
		return ""
	case Assign, Move:
		if !present {
			return "number not present"
		}
		var d diffs
		d.str("business unit", live.BusinessUnit, a.BusinessUnit)
		d.str("program", live.Program, a.Program)
		if a.Program != "" && a.Channel != "" {
			d.str("channel", live.Channel, a.Channel)
		}
		return d.String()
	case Update:
		if !present {
			return "number not present"
		}
		f := op.Changes()
		var d diffs
		if f.Has(FieldCNAM) {
			d.str("cnam", deref(live.CNAM), *a.CNAM)
		}
		if f.Has(FieldE911) && !a.E911.Equal(live.E911) {
			d = append(d, "e911 address differs")
		}
		if f.Has(FieldCallPurpose) {
			d.str("call purpose code", live.CallPurpose, a.CallPurpose)
		}
		if f.Has(FieldAuthCalls) && deref(live.AuthCalls) != *a.AuthCalls {
			d = append(d, fmt.Sprintf("authenticated calls %t, want %t", deref(live.AuthCalls), *a.AuthCalls))
		}
		return d.String()
	}
	return fmt.Sprintf("unknown action %q", op.Action)
}

// Stale compares a number's live state with what the plan saw (op.Before)
// on the fields op concerns: "" when they agree, else what changed, for
// people ("cnam \"OLD\" → \"BY HAND\""). Applying a plan to a state it did
// not see could undo someone else's change, so a saved plan with any stale
// operation is not applied.
//
// An update's Before carries only the fields it changes, so the fields it
// leaves alone are not compared. A OneUC update was planned against a
// number in service; after an activation in the same plan, the
// activation's own check covers the number. An operation whose Before
// holds no state and no id was planned against a number the vendor did
// not hold (or, at OneUC, did not hold in service).
func (op Op) Stale(live State, present bool) string {
	b := op.Before
	if op.Vendor == OneUC && op.Action == Update {
		if len(op.DependsOn) > 0 {
			return ""
		}
		b.Status = StatusInService
	}
	var d []string
	held := b.Status != "" || b.ID != ""
	switch {
	case !held && present && (op.Vendor != OneUC || InService(live)):
		d = append(d, "now held ("+heldAs(live)+")")
	case held && !present:
		d = append(d, "no longer held")
	}
	if !held || !present {
		return strings.Join(d, "; ")
	}
	f := op.Changes()
	if op.Vendor == OneUC {
		if b.Status != live.Status {
			d = append(d, fmt.Sprintf("state %s → %s", b.Status, live.Status))
		}
		if f.Has(FieldCNAM) && deref(b.CNAM) != deref(live.CNAM) {
			d = append(d, fmt.Sprintf("cnam %q → %q", deref(b.CNAM), deref(live.CNAM)))
		}
		if f.Has(FieldE911) && !b.E911.Equal(live.E911) {
			d = append(d, "e911 address changed")
		}
		return strings.Join(d, "; ")
	}
	if b.ID != live.ID {
		d = append(d, "phone-number id changed")
	}
	if op.Action != Update && !samePlace(b, live) {
		d = append(d, fmt.Sprintf("place %s → %s", b.Place(), live.Place()))
	}
	if op.Action == Update {
		cpChanged := f.Has(FieldCallPurpose) && b.CallPurpose != live.CallPurpose
		authChanged := f.Has(FieldAuthCalls) && deref(b.AuthCalls) != deref(live.AuthCalls)
		if cpChanged || authChanged {
			d = append(d, fmt.Sprintf("call purpose %s/%v → %s/%v", b.CallPurpose, deref(b.AuthCalls), live.CallPurpose, deref(live.AuthCalls)))
		}
	}
	return strings.Join(d, "; ")
}

// SameIntent reports whether op and o want the same thing: the same action
// on the same number at the same vendor, leaving the same After (addresses
// compared as Address.Equal does). A failure carried from an earlier run
// stands for an operation of today's plan only when they share an intent.
func (op Op) SameIntent(o Op) bool {
	a, b := op.After, o.After
	return op.Vendor == o.Vendor && op.Action == o.Action && op.Number == o.Number &&
		a.Status == b.Status && ptrEqual(a.CNAM, b.CNAM) && a.E911.Equal(b.E911) &&
		samePlace(a, b) && a.CallPurpose == b.CallPurpose && ptrEqual(a.AuthCalls, b.AuthCalls)
}

// Place names where First Orion holds a number, for people:
// "unit/program/channel", "unit" at the business-unit level, or "business
// level".
func (s State) Place() string {
	switch {
	case s.Program != "":
		return s.BusinessUnit + "/" + s.Program + "/" + s.Channel
	case s.BusinessUnit != "":
		return s.BusinessUnit
	}
	return "business level"
}

func samePlace(a, b State) bool {
	return a.BusinessUnit == b.BusinessUnit && a.Program == b.Program && a.Channel == b.Channel
}

// heldAs describes a number found held: its state word, or "present".
func heldAs(s State) string {
	if s.Status != "" {
		return s.Status
	}
	return "present"
}

type diffs []string

func (d *diffs) str(field, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s %q, want %q", field, got, want))
	}
}

func (d diffs) String() string { return strings.Join(d, "; ") }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
