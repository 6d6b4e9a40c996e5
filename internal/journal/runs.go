package journal

import (
	"errors"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Outcomes a run is finished with. Any string is accepted by Finish;
// these are the ones numsync uses, and Resumable decides which of them leave
// the run open to a rerun.
const (
	// OutcomeDone: every operation done.
	OutcomeDone = "done"
	// OutcomeFailed: the run went through, some operations failed for good.
	OutcomeFailed = "failed"
	// OutcomeInterrupted: stopped by a signal or --max-duration; resumable.
	OutcomeInterrupted = "interrupted"
	// OutcomeRefused: refused by a safety check before anything was sent.
	OutcomeRefused = "refused"
	// OutcomeSuperseded: left unfinished, then overtaken by a later run
	// (Resume closes it rather than resume it).
	OutcomeSuperseded = "superseded"
)

// Resumable reports whether a run with this outcome is continued by a rerun
// with the same CSV or plan: a run never finished (the process died, outcome
// "") or one interrupted on purpose. A run that went through, with or
// without failures, is closed: the next run plans afresh from live state,
// which also corrects any drift since.
func Resumable(outcome string) bool {
	return outcome == "" || outcome == OutcomeInterrupted
}

// RunInfo describes a run as it starts.
type RunInfo struct {
	// CSVPath is the desired-state file as given on the command line.
	CSVPath string
	// CSVDigest is the hex SHA-256 of the CSV's bytes ("" for a run from a
	// saved plan whose CSV is not at hand).
	CSVDigest string
	// PlanDigest identifies the saved plan applied ("" for apply --desired).
	PlanDigest string
	// Args are the command-line arguments, secrets already stripped by the
	// caller; RedactArgs is applied again before they are stored.
	Args []string
	// Header is the CSV header row as written, for writing failed rows back.
	Header []string
	// Plan is the saved-plan JSON.
	Plan []byte
}

// Run is a journaled run.
type Run struct {
	ID         int64
	StartedAt  time.Time
	FinishedAt *time.Time // nil while the run is open
	CSVPath    string
	CSVDigest  string
	PlanDigest string
	Args       []string
	Header     []string
	// Outcome is "" while the run is open, else what finishRun was given.
	Outcome string
	// Counts holds the number of operations per state (every plan.OpState
	// key present, zero included), read from the operations themselves.
	Counts map[string]int
	// Summary is the counts map given to finishRun, as given.
	Summary map[string]int
	// Resumes is how many times the run was continued by a rerun.
	Resumes int
	// Plan is the saved-plan JSON. Runs leaves it nil (it can be large);
	// Run and findUnfinished fill it in.
	Plan []byte
}

// Total returns the number of operations in the run.
func (r *Run) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// FailedOp is a failed (or skipped) operation with the CSV record it came
// from, for writing it back to a spreadsheet.
type FailedOp struct {
	Record plan.OpRecord
	// CSVRecord is the row's original cells in header order, nil when the
	// operation came from no CSV row (prune) or none was given.
	CSVRecord []string
}

// ErrNoRun is returned (wrapped) when a run id is not in the journal.
var ErrNoRun = errors.New("no such run")

var allStates = []plan.OpState{plan.StatePending, plan.StateSent, plan.StateDone, plan.StateFailed, plan.StateSkipped}

func validState(s plan.OpState) bool {
	for _, v := range allStates {
		if s == v {
			return true
		}
	}
	return false
}
