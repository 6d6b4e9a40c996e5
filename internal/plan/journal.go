package plan

import (
	"context"
	"time"
)

// OpState is an operation's place in its run, as the journal keeps it.
type OpState string

// The states of SPEC section 5: pending → sent → done | failed. Skipped is
// a failed operation's dependent that was never sent (its reason names the
// operation it waited for).
const (
	StatePending OpState = "pending"
	StateSent    OpState = "sent"
	StateDone    OpState = "done"
	StateFailed  OpState = "failed"
	StateSkipped OpState = "skipped"
)

// Terminal reports whether an operation in this state is finished for this
// run (done, failed or skipped).
func (s OpState) Terminal() bool {
	return s == StateDone || s == StateFailed || s == StateSkipped
}

// OpRecord is one journaled operation with its progress.
type OpRecord struct {
	Op       Op
	State    OpState
	Attempts int
	// Ref is the vendor's reference once known (First Orion phone-number id).
	Ref string
	// LastError is the last failure's text (the vendor's reason).
	LastError string
	UpdatedAt time.Time
}

// OpUpdate is one change of an operation's journaled state.
type OpUpdate struct {
	OpID  string
	State OpState
	// Ref, when not empty, replaces the journaled reference.
	Ref string
	// Error is the failure's text for failed and skipped operations, and
	// the last transient error for operations going back to pending.
	Error string
}

// CachedState is what numsync last saw of a number at a vendor, with the
// listing's `updated` stamp at that moment.
type CachedState struct {
	Number  string
	Updated int64
	State   State
	// SavedAt is when numsync read or wrote the state (set by Details;
	// zero when the cache does not keep it).
	SavedAt time.Time
}

// DetailCache remembers OneUC details (CNAM and E911) from the last time
// numsync read or wrote each number, so a nightly plan over an unchanged
// inventory fetches no number whose listing `updated` has not moved. The
// journal implements it.
type DetailCache interface {
	// Details returns everything cached for the vendor, keyed by number.
	Details(ctx context.Context, v VendorName) (map[string]CachedState, error)
	// SaveDetails stores (replacing) the given numbers' entries in one
	// transaction.
	SaveDetails(ctx context.Context, v VendorName, states []CachedState) error
}

// History tells how many numbers a vendor held at the end of the last
// successful run, so a listing that collapsed (an outage answering "no
// numbers") is refused before deletions are planned from it.
type History interface {
	// LastCount returns the count and true, or false when the vendor has no
	// history yet (a first run against it).
	LastCount(ctx context.Context, v VendorName) (count int, ok bool, err error)
}
