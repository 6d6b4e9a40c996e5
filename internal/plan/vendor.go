package plan

import (
	"context"
	"errors"
)

// Vendor is how numsync reads and changes one vendor. Both vendor packages
// implement it (var _ plan.Vendor = (*Client)(nil)); the plan and the
// executor know vendors only through it.
//
// Implementations must:
//   - be safe for concurrent use by many goroutines;
//   - pace every request they make, listing and reads included, through one
//     limiter shared by the whole client, slowing down after a 429 and
//     obeying Retry-After or the vendor's remaining-token count;
//   - re-authenticate once on a 401 and repeat the request;
//   - never log, return or embed in an error a key, secret or token;
//   - never read the environment or global state: configuration is passed
//     to their constructor;
//   - classify every error they return with the helpers of errors.go, so
//     the executor can decide between retrying and giving up.
type Vendor interface {
	// Name is the vendor's name, as used in operation ids.
	Name() VendorName

	// List streams every number the vendor holds to fn, page by page, in
	// the vendor's order. A nil return means the listing was complete: every
	// page was read and the last one said it was the last. Any error means
	// the records already given to fn are a partial inventory, from which no
	// deletion may be planned. An error from fn stops the listing and is
	// returned as is.
	//
	// OneUC records carry Status, Updated and Features but not CNAM or E911
	// (Detailed is false); First Orion records carry everything the plan
	// compares.
	List(ctx context.Context, fn func(State) error) error

	// Read returns the live state of the given numbers, keyed by number; a
	// number the vendor does not hold is absent from the map (not an error).
	// OneUC answers with Detailed records (CNAM and E911 read). It is used
	// to fill in details for the plan, to check operations whose outcome is
	// unknown, to check a saved plan for staleness and to verify a run. The
	// error is for the read as a whole (after which no record may be
	// trusted); it is classified like any other.
	Read(ctx context.Context, numbers []string) (map[string]State, error)

	// BatchKey says which operations may travel in one request: operations
	// with equal keys may be given to one Apply call together, at most max
	// of them. A key of "" never batches (max is then 1).
	BatchKey(op Op) (key string, max int)

	// Apply carries out a batch of operations that share one BatchKey and
	// returns exactly one Result per operation, in the same order. It never
	// returns early for a per-number failure: a batch of 100 with 3
	// rejected numbers gives 97 Done and 3 Failed.
	//
	// When the request could not be sent or its answer was lost, Apply says
	// so per operation (Retry when the vendor certainly did not act, such
	// as a 429; Unknown when it may have). The executor then checks Unknown
	// operations with Read (or StateReader.ReadStates, where the states
	// suffice) before sending them again, and gives Apply the
	// live state it read as the operation's Before, so a multi-step change
	// (a First Orion move) starts again from where the number now is.
	Apply(ctx context.Context, ops []Op) []Result
}

// StateReader is the optional ability of a vendor to read the states of
// many numbers in one pass, without details. Reading every number an
// executor verified one GET at a time costs a request per number where a
// listing returns a thousand per request, and a vendor that can only list
// pays its whole listing once per Read: the executor therefore asks a
// StateReader once, for all the numbers it needs, wherever the states alone
// decide (an activation, a release, a First Orion assign, move or delete).
// Both vendor packages implement it.
//
// ReadStates has Read's semantics, with one exception:
//   - the answer is keyed by number; a number the vendor does not hold is
//     absent from the map (not an error);
//   - the error is for the read as a whole (no record may then be trusted)
//     and is classified like any other (errors.go);
//   - but OneUC records need not be Detailed: CNAM and E911 may be missing
//     (State.Detailed says whether they were read), so a caller that
//     compares them must use Read.
//
// Implementations choose how to read: per-number requests or one listing
// pass filtered to the numbers asked, whichever costs fewer requests for
// that many numbers. That choice only pays when it sees the whole set, so
// callers must give ReadStates all the numbers they need at once rather
// than in chunks; duplicates are allowed. Like every method of a Vendor,
// ReadStates is safe for concurrent use and paced by the client's limiter.
type StateReader interface {
	ReadStates(ctx context.Context, numbers []string) (map[string]State, error)
}

// Hierarchy is the optional ability of a vendor to list its business units
// and programs. First Orion implements it; the plan uses it to resolve the
// names written in the CSV to ids, and export to write names.
type Hierarchy interface {
	BusinessUnits(ctx context.Context) ([]BusinessUnit, error)
}

// BusinessUnit is a First Orion business unit with its programs.
type BusinessUnit struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Programs []Program `json:"programs,omitempty"`
}

// Program is a First Orion program. A program has one delivery channel.
type Program struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Channel     string `json:"channel"`
	Active      bool   `json:"active"`
	CallPurpose string `json:"call_purpose_code,omitempty"`
}

// Outcome is what became of one operation in one Apply call.
type Outcome int

// The outcomes. The zero value is invalid so a Result nobody filled in is
// caught.
const (
	_ Outcome = iota
	// Done: the vendor confirmed the change.
	Done
	// Failed: the vendor refused the change for good (a permanent error);
	// Reason says why. The operation is not retried without --retry-failed.
	Failed
	// Retry: the vendor certainly did not act (429, a 503 it answered
	// before acting, a request that never left); safe to send again after
	// a pause.
	Retry
	// Unknown: the request may have taken effect but its answer was lost
	// (timeout, dropped connection, 5xx after sending) or the answer did not
	// mention the number. Check live state before sending again.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Done:
		return "done"
	case Failed:
		return "failed"
	case Retry:
		return "retry"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// Result is the outcome of one operation of a batch.
type Result struct {
	// OpID is the operation's id.
	OpID    string
	Outcome Outcome
	// Ref is the vendor's reference for the number when the answer gave one
	// (First Orion phone-number id), for the journal.
	Ref string
	// After is the state the vendor reported after the change, when it
	// reported one.
	After *State
	// Err explains Failed, Retry and Unknown. It names the number and
	// carries the vendor's reason; it is classified (errors.go), so
	// RetryAfter tells how long the vendor asked to wait.
	Err error
}

// ErrNotSupported is returned (wrapped) by a vendor asked for an operation
// it does not implement.
var ErrNotSupported = errors.New("not supported")
