package exec

import (
	"github.com/numsync/numsync/internal/plan"
)

// What live state satisfies an operation, and which operations need a
// detail read to tell, is the plan's to say (plan.Op.Mismatch,
// SatisfiedBy, NeedsDetails): the executor settles lost answers, resumes
// sent operations and verifies with those.

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
