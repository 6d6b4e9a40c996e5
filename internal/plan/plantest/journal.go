package plantest

import (
	"context"
	"fmt"
	"sync"

	"github.com/numsync/numsync/internal/plan"
)

// Journal is an in-memory operation journal with the write methods the
// executor uses (MarkSent, Record), for tests and benchmarks. Like the
// SQLite journal it counts an attempt on every MarkSent, and it refuses to
// mark a done operation as sent again: a test driving it proves that no
// done operation is resent. It is safe for concurrent use.
type Journal struct {
	// Events, when set, receives every MarkSent and Record.
	Events *EventLog

	mu      sync.Mutex
	recs    map[string]*plan.OpRecord
	order   []string
	calls   int
	failAt  int
	failErr error
	marks   int
	records int
}

// NewJournal returns a journal holding the given operations as pending.
func NewJournal(ops ...plan.Op) *Journal {
	recs := make([]plan.OpRecord, len(ops))
	for i, op := range ops {
		recs[i] = plan.OpRecord{Op: op, State: plan.StatePending}
	}
	return NewJournalFrom(recs)
}

// NewJournalFrom returns a journal holding the given records, as a resumed
// run finds them.
func NewJournalFrom(recs []plan.OpRecord) *Journal {
	j := &Journal{recs: map[string]*plan.OpRecord{}}
	for _, r := range recs {
		j.recs[r.Op.ID] = &r
		j.order = append(j.order, r.Op.ID)
	}
	return j
}

// FailFrom makes the call-th write (MarkSent or Record, counted together
// from 1) and every later one fail with err.
func (j *Journal) FailFrom(call int, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failAt, j.failErr = call, err
}

// MarkSent marks the operations sent and counts an attempt for each.
func (j *Journal) MarkSent(ctx context.Context, runID int64, opIDs []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.failLocked(); err != nil {
		return err
	}
	for _, id := range opIDs {
		r, ok := j.recs[id]
		if !ok {
			return fmt.Errorf("journal: mark sent: unknown operation %s", id)
		}
		if r.State == plan.StateDone {
			return fmt.Errorf("journal: mark sent: operation %s is already done", id)
		}
	}
	for _, id := range opIDs {
		r := j.recs[id]
		r.State = plan.StateSent
		r.Attempts++
	}
	j.marks++
	j.Events.Add(EventMarkSent, opIDs...)
	return nil
}

// Record stores a batch of results at once.
func (j *Journal) Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.failLocked(); err != nil {
		return err
	}
	ids := make([]string, len(updates))
	for i, u := range updates {
		if _, ok := j.recs[u.OpID]; !ok {
			return fmt.Errorf("journal: record: unknown operation %s", u.OpID)
		}
		ids[i] = u.OpID
	}
	for _, u := range updates {
		r := j.recs[u.OpID]
		r.State = u.State
		if u.Ref != "" {
			r.Ref = u.Ref
		}
		if u.Error != "" || u.State == plan.StateDone {
			r.LastError = u.Error
		}
	}
	j.records++
	j.Events.Add(EventRecord, ids...)
	return nil
}

func (j *Journal) failLocked() error {
	j.calls++
	if j.failAt > 0 && j.calls >= j.failAt {
		return j.failErr
	}
	return nil
}

// Records returns every operation's record, in the order given.
func (j *Journal) Records() []plan.OpRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]plan.OpRecord, len(j.order))
	for i, id := range j.order {
		out[i] = *j.recs[id]
	}
	return out
}

// Get returns one operation's record.
func (j *Journal) Get(opID string) (plan.OpRecord, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.recs[opID]
	if !ok {
		return plan.OpRecord{}, false
	}
	return *r, true
}

// Counts returns how many MarkSent and Record calls succeeded.
func (j *Journal) Counts() (markSent, record int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.marks, j.records
}

// States counts the records by state.
func (j *Journal) States() map[plan.OpState]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := map[plan.OpState]int{}
	for _, r := range j.recs {
		out[r.State]++
	}
	return out
}
