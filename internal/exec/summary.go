package exec

import (
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Progress is a snapshot of a run's counts, given to Config.OnProgress each
// time they change.
type Progress struct {
	// Vendors holds one entry per vendor with operations, in name order.
	Vendors []VendorProgress
}

// VendorProgress counts one vendor's operations by where they stand.
type VendorProgress struct {
	Vendor plan.VendorName
	// Total is every operation of the run at this vendor, including those
	// done by an earlier, interrupted attempt at the same run.
	Total   int
	Done    int
	Failed  int
	Skipped int
	// Remaining is Total less the finished (done, failed, skipped).
	Remaining int
}

// Totals sums the vendors.
func (p Progress) Totals() VendorProgress {
	var t VendorProgress
	for _, v := range p.Vendors {
		t.Total += v.Total
		t.Done += v.Done
		t.Failed += v.Failed
		t.Skipped += v.Skipped
		t.Remaining += v.Remaining
	}
	return t
}

// Summary is the account of one Run, per vendor and action. It is plain
// data for --report (JSON) and, through internal/metrics, --metrics-file.
type Summary struct {
	RunID    int64     `json:"run_id"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// DurationSeconds is the wall time of this Run call.
	DurationSeconds float64 `json:"duration_seconds"`
	// Interrupted is true when the stop channel or the context ended the
	// run before every operation was finished.
	Interrupted bool            `json:"interrupted"`
	Vendors     []VendorSummary `json:"vendors"`
}

// VendorSummary is one vendor's part of a Summary.
type VendorSummary struct {
	Vendor plan.VendorName `json:"vendor"`
	// Requests is the number of Apply calls (batches) sent.
	Requests int `json:"requests"`
	// Reads is the number of Read calls: checks of lost answers and
	// verification.
	Reads int `json:"reads"`
	// Attempts is the number of times an operation was sent.
	Attempts int `json:"attempts"`
	// Retries is how many of those attempts were for an operation sent
	// before (in this run or an interrupted earlier part of it).
	Retries int `json:"retries"`
	// Unknown counts answers lost (outcome Unknown), each later settled by
	// reading the live state.
	Unknown int `json:"unknown"`
	// Checked counts operations settled by reading the live state; of
	// those, CheckedDone had taken effect and were not sent again.
	Checked     int `json:"checked"`
	CheckedDone int `json:"checked_done"`
	// Verified counts operations read back after the run and found as
	// planned; VerifyFailed those found otherwise (also counted Failed).
	Verified     int `json:"verified"`
	VerifyFailed int `json:"verify_failed"`
	// Unverified counts done operations verification could not read.
	Unverified int             `json:"unverified"`
	Actions    []ActionSummary `json:"actions"`
}

// ActionSummary counts one vendor's operations of one action.
type ActionSummary struct {
	Action plan.Action `json:"action"`
	Total  int         `json:"total"`
	// Done counts every operation done, including those done by an earlier
	// part of a resumed run; Applied only those done by this Run call.
	Done    int `json:"done"`
	Applied int `json:"applied"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Pending counts operations left to do (interrupted run), Unresolved
	// those sent whose outcome could not be read back.
	Pending    int `json:"pending"`
	Unresolved int `json:"unresolved"`
	// DurationSeconds runs from this action's first send to its last
	// answer in this Run call; NumbersPerSecond is Applied over it.
	DurationSeconds  float64 `json:"duration_seconds"`
	NumbersPerSecond float64 `json:"numbers_per_second"`
}

// Totals sums the vendors' actions.
func (s Summary) Totals() ActionSummary {
	var t ActionSummary
	for _, v := range s.Vendors {
		for _, a := range v.Actions {
			t.Total += a.Total
			t.Done += a.Done
			t.Applied += a.Applied
			t.Failed += a.Failed
			t.Skipped += a.Skipped
			t.Pending += a.Pending
			t.Unresolved += a.Unresolved
		}
	}
	return t
}
