package journal

import (
	"context"

	"github.com/numsync/numsync/internal/plan"
)

// Store is numsync's journal as every consumer sees it: the apply
// lifecycle (internal/app), the executor (through exec.Journal, a subset),
// the planner (plan.DetailCache, plan.History) and the read-only commands
// (`numsync runs`, `numsync show`). Consumers hold a Store, never a
// concrete journal, so the SQLite file (Open) and a server database are
// interchangeable.
//
// A checklist for implementations (golang-migrate's driver.go style; the
// method comments give each one's own contract):
//
//   - Safe for concurrent use by many goroutines, and by many processes on
//     one journal: every write that reads before it writes (Lock, Resume,
//     Start, migrations) is serialised against other writers, so of any
//     number of contenders exactly one sees the old state.
//   - Durable before return: when MarkSent returns nil, the "sent" mark
//     survives the process being killed; the executor relies on it to never
//     send an operation twice.
//   - Record, Finish and Lock.Release complete even when ctx is already
//     cancelled (bounded by their own timeout): an answer the vendor gave,
//     the end of a run and the release of the lock must be written.
//   - Never stores a secret: the arguments of a run go through RedactArgs
//     before they are written.
//   - Timestamps are returned in UTC; Run.Counts has every plan.OpState key,
//     zero included; run ids are positive, increase, and are never reused.
//   - Errors are wrapped with a "journal: " prefix and keep their cause
//     (%w); an unknown run id wraps ErrNoRun; a held lock is *LockedError.
//   - Reads no environment and no configuration: everything comes from the
//     constructor's arguments and options.
type Store interface {
	Lifecycle
	Locker
	Reader
	plan.DetailCache
	plan.History

	// SetCount records how many numbers a vendor holds after a run that
	// changed nothing (Finish records it for a run that did); LastCount
	// returns it to the next plan. A negative count is an error.
	SetCount(ctx context.Context, v plan.VendorName, n int) error
	// Close releases the store's connections and stops the heartbeats of
	// locks still held (without releasing them: release locks first).
	Close() error
}

// Lifecycle is the journal in the apply lifecycle's verbs: resume the
// unfinished run of an input or start a new one, record each operation's
// progress, finish the run. The caller holds the apply lock (Locker)
// throughout, so no other apply interleaves between these calls.
type Lifecycle interface {
	// Resume finds the run a rerun of the same input continues: the newest
	// Resumable run whose CSV digest or plan digest (whichever of in's is
	// not empty) matches. It is resumed only while no later run exists; a
	// later run (of another input) may have changed the numbers it was
	// planned against, so it is then finished as OutcomeSuperseded and
	// Resume reports it in Resumption.Superseded with no run to resume.
	// Resuming reopens the run (no finish time or outcome, one resume
	// more), first putting its failed and skipped operations back to
	// pending when in.RetryFailed, and returns it with its plan and every
	// operation's record. Nothing matching is not an error: the Resumption
	// has a nil Run.
	Resume(ctx context.Context, in ResumeRequest) (Resumption, error)

	// LastFailed returns the newest finished run whose CSV digest is
	// csvDigest or whose plan digest is planDigest (an empty digest matches
	// nothing; 0 when no run matches) and its operations that failed for
	// good (state failed, not skipped), in plan order. The lifecycle carries
	// them into the next run of the same input instead of sending them
	// again. The plan digest is what finds a saved-plan run, which is
	// journaled without a CSV digest.
	LastFailed(ctx context.Context, csvDigest, planDigest string) (runID int64, failed []plan.OpRecord, err error)

	// Start records a new run and all its operations, pending, with the
	// carried updates (NewRun.Carried) applied, in one transaction: either
	// all of it is journaled or none. It returns the run with every
	// operation's record in plan order. Operation ids must be unique and
	// not empty.
	Start(ctx context.Context, nr NewRun) (*Active, error)

	// MarkSent records, committed before it returns, that the operations
	// are about to be sent, one attempt more each (an id given twice counts
	// one). Every id must belong to the run, or nothing changes. Every
	// result Recorded before it is committed with it, ahead of the mark
	// (SPEC §5: a state change is committed before the next request that
	// depends on it; the store does not know which requests depend on
	// which results, so it treats each as depending on all of them).
	MarkSent(ctx context.Context, runID int64, opIDs []string) error

	// Record stores one batch's results in one transaction: each
	// operation's new state, its error text (cleared when empty) and, when
	// not empty, its vendor reference. An unknown id or an invalid state
	// changes nothing and is an error, returned at once; for an id given
	// twice the last update counts. The transaction may commit after
	// Record returns, without waiting for the disk (written behind the
	// executor, ResultQueue): every later read, Finish, Lock release and
	// MarkSent sees it, and the next MarkSent commits it, whatever
	// operations that mark names.
	// It completes even when ctx is cancelled.
	Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error

	// Finish closes a run with its outcome and summary counts and, in the
	// same transaction, records the vendors' counts of numbers held
	// (End.Held, as SetCount does). A run finished with a Resumable outcome
	// stays open to the next apply of the same input. It completes even
	// when ctx is cancelled.
	Finish(ctx context.Context, runID int64, end End) error
}

// Locker holds the journal's apply lock (SPEC section 5): one apply at a
// time per journal, whoever and wherever it runs.
type Locker interface {
	// Lock takes the apply lock for holder. When a live holder has it, the
	// error is a *LockedError naming that holder. A holder silent past the
	// stale limit (DefaultStaleAfter), or one that ran on this same host
	// under a process id that no longer exists (LockPolicy), is taken over:
	// the lock is granted and Lock.Previous names whom it was taken from.
	// Of any number of contenders exactly one wins. The lock's heartbeat
	// runs until Release.
	Lock(ctx context.Context, holder LockInfo) (Lock, error)
}

// Lock is a held apply lock.
type Lock interface {
	// TookOver reports the holder this lock was taken over from, if any.
	TookOver() (LockInfo, bool)
	// Previous returns the stale holder this lock was taken over from, with
	// when it took the lock and last beat, or nil.
	Previous() *LockedError
	// Lost is closed when a heartbeat finds the lock taken over by another
	// holder (this one was silent past the stale limit): the holder must
	// stop sending.
	Lost() <-chan struct{}
	// Release stops the heartbeat and gives the lock up. It is idempotent,
	// completes even when ctx is cancelled, and leaves a lock already taken
	// over to its new holder.
	Release(ctx context.Context) error
}

// Reader is the journal's read side, for `numsync runs` and `numsync
// show`.
type Reader interface {
	// Runs returns up to limit runs, newest first, with per-state counts
	// and without their plans. A limit of 0 or less means all.
	Runs(ctx context.Context, limit int) ([]Run, error)
	// Run returns one run with its plan and per-state counts.
	Run(ctx context.Context, id int64) (*Run, error)
	// Ops returns a run's operations with their progress, in plan order.
	Ops(ctx context.Context, runID int64) ([]plan.OpRecord, error)
	// FailedOps returns a run's failed and skipped operations, in plan
	// order, each with the CSV record of its row.
	FailedOps(ctx context.Context, runID int64) ([]FailedOp, error)
	// CSVHeader returns the CSV header row stored with a run.
	CSVHeader(ctx context.Context, runID int64) ([]string, error)
}

// ResumeRequest names the input an apply was given.
type ResumeRequest struct {
	// CSVDigest is the hex SHA-256 of the desired-state CSV, "" for a
	// saved plan.
	CSVDigest string
	// PlanDigest is the saved plan's digest, "" for apply --desired.
	PlanDigest string
	// RetryFailed puts the resumed run's failed and skipped operations
	// back to pending (--retry-failed).
	RetryFailed bool
}

// Resumption is what Resume found.
type Resumption struct {
	// Run is the run to continue, nil when there is none.
	Run *Active
	// Superseded is the unfinished run of this input that Resume closed as
	// OutcomeSuperseded because SupersededBy came after it; 0 when none.
	Superseded, SupersededBy int64
}

// NewRun is a run about to start.
type NewRun struct {
	Info RunInfo
	// Ops is the plan's operations, in plan order.
	Ops []plan.Op
	// Records maps an operation id to the original CSV record of its row;
	// it may be nil.
	Records map[string][]string
	// Carried are updates applied as the run starts: failures carried over
	// from the previous run of the same CSV, not sent again.
	Carried []plan.OpUpdate
}

// Active is a run being applied: started or resumed.
type Active struct {
	ID int64
	// Resumed is set when the run was continued rather than started.
	Resumed bool
	// Plan is the saved-plan JSON the run was started with.
	Plan []byte
	// Ops is every operation's record, in plan order.
	Ops []plan.OpRecord
}

// End is how a run finishes.
type End struct {
	// Outcome is OutcomeDone, OutcomeFailed, …; any string is stored.
	Outcome string
	// Counts is the caller's summary (operations per state), stored as
	// given.
	Counts map[string]int
	// Held is how many numbers each vendor holds after the run, for the
	// next plan's collapsed-inventory check; vendors not in it keep their
	// count.
	Held map[plan.VendorName]int
}

// Compile-time proof that the SQLite journal is a Store.
var _ Store = (*SQLite)(nil)
