package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// The progress log. While a run is applied, its operations' state changes
// are not written into their rows: each commit appends one row to the
// run's log (op_log) holding that commit's changes, in order. A sent mark
// is then one small insert whatever the batch size, and so is a batch of
// results. Rewriting an operation's row costs the pure-Go SQLite about
// 20 µs and PostgreSQL about 10 µs (docs/benchmarks.md §6); with every
// operation written twice on the executor's path (sent, then its result)
// that alone took the journal past its 5 % of apply's wall time. Appending
// costs about 0.6 µs an operation.
//
// The log is folded into the rows (Fold, each operation written once with
// its final state) by the apply lock's holder only: when it finishes a
// run, when it resumes one (before reading it, so a run whose holder was
// killed or lost its lock is folded by the next one) and, best effort,
// when it starts one (any run left unfolded by a crash and not resumed).
// Every reader lays the log over the rows it reads (Overlay), in one
// snapshot, so what it sees is what the rows would hold had every change
// been written in place; a log entry is never applied twice, because a
// fold deletes the entries it applied in the same transaction.
//
// The guarantees are the ones behind.go states, unchanged: a mark's row is
// committed and synced before its request, a batch's results are in one
// row, and a row written without a sync can only be lost along with every
// later one.

// FoldRows is how many log rows (commits) one fold transaction takes, so
// that a run's fold at its end or resume is transactions of a bounded size,
// each well within its store's timeout whatever the run's size: a few tens
// of thousands of operations, a fraction of a second.
const FoldRows = 256

// FoldInParts runs part, which folds up to FoldRows of a run's oldest log
// rows in one transaction and returns how many it folded, until a part
// folds fewer: the log is then empty. It stops between two parts when ctx
// is done (a caller that must not stop passes context.WithoutCancel).
func FoldInParts(ctx context.Context, part func() (int, error)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := part()
		if err != nil || n < FoldRows {
			return err
		}
	}
}

// While a run is applied, the background write of results (behind.go)
// also folds up to FoldBehindRows of the oldest rows of the run's log
// while it is longer than FoldBehindAt rows. That write runs when the
// executor is idle (no mark came within the queue's delay), so a run's log
// is mostly folded while it is applied and its Finish is left a bounded
// fold whatever the run's size. It folds one row a transaction and stops
// as soon as a mark waits for it (ResultQueue.Waiting): a mark waits for
// one row's fold at most.
const (
	// FoldBehindAt is the log length, in rows, past which the background
	// write folds.
	FoldBehindAt = 64
	// FoldBehindRows is how many rows one background write folds at most.
	FoldBehindRows = 16
)

// FoldBehind is the background write's fold of a run's log of n rows:
// while the log is longer than FoldBehindAt and no mark waits for this
// write (waiting), it calls one, which folds the oldest row in a
// transaction of its own, up to FoldBehindRows times.
func FoldBehind(n int, waiting func() bool, one func() error) error {
	for k := 0; k < FoldBehindRows && n-k > FoldBehindAt && !waiting(); k++ {
		if err := one(); err != nil {
			return fmt.Errorf("fold progress log behind: %w", err)
		}
	}
	return nil
}

// LogEntry is one change to a run's operations, in the order it was made:
// either a sent mark (Sent: one attempt more each) or a batch of results
// (Results).
type LogEntry struct {
	// At is when the change was made, in Unix nanoseconds (UTC).
	At int64 `json:"t"`
	// Sent lists the operations marked sent.
	Sent []string `json:"s,omitempty"`
	// Results are [id, state, ref, error] per operation; an empty ref
	// keeps the one recorded before, the error replaces the last one
	// (cleared when empty).
	Results [][4]string `json:"r,omitempty"`
}

// LogRow is one log row to append: a run and its entries, encoded.
type LogRow struct {
	RunID int64
	Data  []byte
}

// LogRows encodes staged results and then, when ids is not empty, a sent
// mark of run's ids, as one row per run (in practice one: a journal
// applies one run at a time), each holding its entries in order.
func LogRows(at time.Time, staged []Staged, run int64, ids []string) ([]LogRow, error) {
	t := at.UnixNano()
	var order []int64
	byRun := map[int64][]LogEntry{}
	add := func(id int64, e LogEntry) {
		if _, ok := byRun[id]; !ok {
			order = append(order, id)
		}
		byRun[id] = append(byRun[id], e)
	}
	for _, st := range staged {
		// Within one batch only an id's last update counts, its empty ref
		// included (what Record promises): the earlier ones are dropped
		// here rather than folded in turn.
		last := make(map[string]int, len(st.Updates))
		for i, u := range st.Updates {
			if !validState(u.State) {
				return nil, fmt.Errorf("operation %s: invalid state %q", u.OpID, u.State)
			}
			last[u.OpID] = i
		}
		e := LogEntry{At: t, Results: make([][4]string, 0, len(last))}
		for i, u := range st.Updates {
			if last[u.OpID] == i {
				e.Results = append(e.Results, [4]string{u.OpID, string(u.State), u.Ref, u.Error})
			}
		}
		add(st.RunID, e)
	}
	if len(ids) > 0 {
		add(run, LogEntry{At: t, Sent: ids})
	}
	rows := make([]LogRow, 0, len(order))
	for _, id := range order {
		data, err := json.Marshal(byRun[id])
		if err != nil {
			return nil, err
		}
		rows = append(rows, LogRow{RunID: id, Data: data})
	}
	return rows, nil
}

// Change is what a run's log does to one operation.
type Change struct {
	// ID is the operation's id.
	ID string
	// State is its last state in the log.
	State plan.OpState
	// Attempts is how many times the log marks it sent.
	Attempts int
	// Ref is the last non-empty reference the log gives it ("" keeps the
	// row's).
	Ref string
	// Err is the error of its last result, when ErrSet.
	Err    string
	ErrSet bool
	// At is when it last changed, in Unix nanoseconds.
	At int64
}

// Fold gathers the changes of a run's log rows, read in the order they
// were appended.
type Fold struct {
	changes map[string]*Change
}

// NewFold returns an empty Fold.
func NewFold() *Fold { return &Fold{changes: map[string]*Change{}} }

// Add applies one log row's entries.
func (f *Fold) Add(data []byte) error {
	var entries []LogEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return fmt.Errorf("decode progress log: %w", err)
	}
	for _, e := range entries {
		for _, id := range e.Sent {
			c := f.change(id)
			c.State, c.At = plan.StateSent, e.At
			c.Attempts++
		}
		for _, r := range e.Results {
			st := plan.OpState(r[1])
			if !validState(st) {
				return fmt.Errorf("progress log: operation %s: invalid state %q", r[0], r[1])
			}
			c := f.change(r[0])
			c.State, c.At = st, e.At
			if r[2] != "" {
				c.Ref = r[2]
			}
			c.Err, c.ErrSet = r[3], true
		}
	}
	return nil
}

func (f *Fold) change(id string) *Change {
	c, ok := f.changes[id]
	if !ok {
		c = &Change{ID: id}
		f.changes[id] = c
	}
	return c
}

// Len is the number of operations the log changes.
func (f *Fold) Len() int { return len(f.changes) }

// Changes returns the changes sorted by operation id, the order of the
// SQLite journal's primary key, so a fold walks its b-tree forwards.
func (f *Fold) Changes() []Change {
	out := make([]Change, 0, len(f.changes))
	for _, c := range f.changes {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Change) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// apply lays c over an operation's recorded progress.
func (c *Change) apply(rec *plan.OpRecord) {
	rec.State = c.State
	rec.Attempts += c.Attempts
	if c.Ref != "" {
		rec.Ref = c.Ref
	}
	if c.ErrSet {
		rec.LastError = c.Err
	}
	rec.UpdatedAt = time.Unix(0, c.At).UTC()
}

// Overlay lays f over a run's progress rows (read in the same snapshot as
// the log) and, when failedOnly, keeps only the failed and skipped ones.
// keyOf gives the key a store names an operation by. A change to an
// operation the rows do not hold is an error: the log and the rows
// disagree.
func Overlay[K comparable](ps []OpProgress[K], f *Fold, keyOf func(id string) K, failedOnly bool) ([]OpProgress[K], error) {
	if f.Len() > 0 {
		byKey := make(map[K]*Change, f.Len())
		for _, c := range f.changes {
			byKey[keyOf(c.ID)] = c
		}
		matched := 0
		for i := range ps {
			if c, ok := byKey[ps[i].Key]; ok {
				c.apply(&ps[i].Rec)
				matched++
			}
		}
		if matched != len(byKey) {
			return nil, fmt.Errorf("progress log: %d of its %d operations are not in the run", len(byKey)-matched, len(byKey))
		}
	}
	if !failedOnly {
		return ps, nil
	}
	kept := ps[:0]
	for _, p := range ps {
		if p.Rec.State == plan.StateFailed || p.Rec.State == plan.StateSkipped {
			kept = append(kept, p)
		}
	}
	return kept, nil
}

// OverlayCounts lays f over a run's operation states (by key, every one of
// its operations) and sets r's counts from the result.
func OverlayCounts[K comparable](r *Run, states map[K]plan.OpState, f *Fold, keyOf func(id string) K) error {
	for s := range r.Counts {
		r.Counts[s] = 0
	}
	for _, c := range f.changes {
		k := keyOf(c.ID)
		if _, ok := states[k]; !ok {
			return fmt.Errorf("progress log of run %d: operation %s is not in the run", r.ID, c.ID)
		}
		states[k] = c.State
	}
	for _, s := range states {
		r.Counts[string(s)]++
	}
	return nil
}
