package exec

import (
	"fmt"
	"strings"

	"github.com/numsync/numsync/internal/plan"
)

// statusInService is OneUC's state word for a number the account uses.
const statusInService = "in_service"

// Matches reports whether a number's live state (present says whether the
// vendor holds it at all) already is what op must leave. The executor uses
// it to settle operations whose outcome was lost, resume uses it for
// operations journaled as sent, and verification for every operation done.
//
// Only the fields the operation sets count: an activation is satisfied by
// an in-service number, an update by every field its After sets (a nil
// pointer or empty code is "not concerned"), a release by a number no
// longer in service, a First Orion assign or move by the number sitting in
// After's business unit, program and channel (program "" is the business
// unit level, where the channel does not apply), a delete by the number
// being gone.
func Matches(live plan.State, present bool, op plan.Op) bool {
	return Mismatch(live, present, op) == ""
}

// Mismatch is Matches with a reason: it returns "" when the live state
// matches op's After, else a short description of the first differences,
// for the journal and the operator ("program \"p2\", want \"p1\"").
func Mismatch(live plan.State, present bool, op plan.Op) string {
	a := op.After
	switch op.Action {
	case plan.Activate:
		if !present {
			return "number not held"
		}
		if live.Status != statusInService {
			return fmt.Sprintf("status %q, want %q", live.Status, statusInService)
		}
		return ""
	case plan.Release:
		if present && live.Status == statusInService {
			return "number still in service"
		}
		return ""
	case plan.Delete:
		if present {
			return "number still present"
		}
		return ""
	case plan.Assign, plan.Move:
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
	case plan.Update:
		if !present {
			return "number not present"
		}
		var d diffs
		if a.CNAM != nil {
			d.str("cnam", deref(live.CNAM), *a.CNAM)
		}
		if a.E911 != nil && !a.E911.Equal(live.E911) {
			d = append(d, "e911 address differs")
		}
		if a.CallPurpose != "" {
			d.str("call purpose code", live.CallPurpose, a.CallPurpose)
		}
		if a.AuthCalls != nil && derefBool(live.AuthCalls) != *a.AuthCalls {
			d = append(d, fmt.Sprintf("authenticated calls %t, want %t", derefBool(live.AuthCalls), *a.AuthCalls))
		}
		return d.String()
	}
	return fmt.Sprintf("unknown action %q", op.Action)
}

// needsDetails reports whether checking op's live state needs the
// number's details (CNAM, E911), which only plan.Vendor.Read promises: an
// update that sets either. Every other comparison Mismatch makes reads only
// fields a plan.StateReader returns too (status, presence, a First Orion
// number's place, call purpose and authenticated calls), so those
// operations are read back with one ReadStates call for all their numbers.
func needsDetails(op plan.Op) bool {
	return op.Action == plan.Update && (op.After.CNAM != nil || op.After.E911 != nil)
}

type diffs []string

func (d *diffs) str(field, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s %q, want %q", field, got, want))
	}
}

func (d diffs) String() string { return strings.Join(d, "; ") }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefBool(b *bool) bool { return b != nil && *b }

// refreshBefore gives op the live state as its Before, as plan.Vendor's
// Apply contract asks when an operation is sent again after its outcome was
// unknown: a First Orion move must start from where the number is now, and
// an assign whose number meanwhile appeared at the vendor (the lost request
// created it elsewhere, say) keeps its action but now carries the number's
// phone-number id and place, so the client can take it out and put it
// where it belongs instead of creating it twice. A number the vendor does
// not hold gets an empty Before.
func refreshBefore(op *plan.Op, live plan.State, present bool) {
	if !present {
		op.Before = plan.State{Number: op.Number}
		return
	}
	live.Number = op.Number
	op.Before = live
}
