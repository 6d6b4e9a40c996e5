package journal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Results are written behind the executor (Record returns once a batch is
// checked and queued) and ahead of the next sent mark (MarkSent commits
// the queued results in its own transaction, before its mark). This is
// safe because of what the journal guarantees and what it does not need
// to:
//
//   - The guarantee is the `sent` mark, durable before the request: a
//     MarkSent still commits (and syncs) before it returns. It first waits
//     for the results being written and takes the queued ones into its
//     own transaction, ahead of its mark, so every result recorded before
//     a request is committed (and synced) before that request goes out,
//     and a result never lands after a later mark of the same operation.
//     What the queue saves is the result's own commit and sync: results
//     ride on the next mark's, or are written without a sync by the
//     background drain when no mark comes within resultDelay.
//   - A batch's results stay in one transaction: a queued batch is
//     written whole, in one transaction with the batches queued with it.
//   - A result lost in a crash (queued, or committed without a sync)
//     leaves its operations `sent`, which a resume already handles: it
//     checks sent operations against the live state before sending
//     anything again. Since every later MarkSent syncs, and a sync makes
//     every earlier commit durable too (SQLite's WAL is one append-only
//     file; PostgreSQL's WAL is flushed in order), no result can be lost
//     while a later mark survives.
//   - Reads, Finish, Resume, Start and Close wait for the queue to be
//     written first (Flush), so every reader sees every result recorded
//     before it, as when Record committed before returning.
//   - A result that names an unknown operation or state is refused by
//     Record itself, as before, and changes nothing.
//
// A background write that fails is kept and returned by the next Flush,
// MarkSent or Record, so the executor stops instead of sending on top of a
// journal that lost results.

// Staged is one Record call's results, checked, in the order given (for
// an id given twice, the last update counts).
type Staged struct {
	RunID   int64
	Updates []plan.OpUpdate
}

// ResultQueue is the queue of results written behind the executor,
// shared by every Store implementation. The zero value is not usable:
// see NewResultQueue.
type ResultQueue struct {
	// write commits staged batches in one transaction, without waiting
	// for durability (see above).
	write func(ctx context.Context, staged []Staged) error
	// ids returns the operation ids of a run, to check Record's.
	ids func(ctx context.Context, runID int64) ([]string, error)
	// delay is how long a queued result waits for a MarkSent to take it
	// (one commit for both) before it is written on its own.
	delay time.Duration

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []Staged
	inflight bool // a writer (background or MarkSent) holds taken batches
	waiting  int  // Take calls (marks) waiting for the writer under way
	draining bool // a background drain is scheduled or running
	err      error
	known    map[int64]map[string]struct{}
}

// resultDelay is ResultQueue's default delay: long enough for the
// executor to reach the MarkSent that usually follows a Record (results
// free dependents), short against the time to the next answer.
const resultDelay = 2 * time.Millisecond

// NewResultQueue returns a queue that commits with write and checks ids
// with ids.
func NewResultQueue(write func(ctx context.Context, staged []Staged) error, ids func(ctx context.Context, runID int64) ([]string, error)) *ResultQueue {
	q := &ResultQueue{write: write, ids: ids, delay: resultDelay, known: map[int64]map[string]struct{}{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// SetDelay sets how long a queued result waits for a MarkSent before it is
// written on its own (WithResultDelay).
func (q *ResultQueue) SetDelay(d time.Duration) {
	q.mu.Lock()
	q.delay = d
	q.mu.Unlock()
}

// Known tells the queue the operation ids of a run (Start, Resume), so
// Record need not read them.
func (q *ResultQueue) Known(runID int64, ids []string) {
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	q.mu.Lock()
	// One run is applied at a time; the ids of older runs go.
	clear(q.known)
	q.known[runID] = set
	q.mu.Unlock()
}

// Check reports the first of ids that is not an operation of the run.
func (q *ResultQueue) Check(ctx context.Context, runID int64, ids []string) error {
	q.mu.Lock()
	set, ok := q.known[runID]
	q.mu.Unlock()
	if !ok {
		all, err := q.ids(ctx, runID)
		if err != nil {
			return err
		}
		q.Known(runID, all)
		q.mu.Lock()
		set = q.known[runID]
		q.mu.Unlock()
	}
	for _, id := range ids {
		if _, ok := set[id]; !ok {
			return fmt.Errorf("run %d has no operation %q", runID, id)
		}
	}
	return nil
}

// Record checks a batch of results (states, ids) and queues it. It
// returns an error for a bad batch, which is not queued, and for an
// earlier background write that failed.
func (q *ResultQueue) Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error {
	ids := make([]string, 0, len(updates))
	for _, u := range updates {
		if !validState(u.State) {
			return fmt.Errorf("operation %s: invalid state %q", u.OpID, u.State)
		}
		ids = append(ids, u.OpID)
	}
	if err := q.Check(ctx, runID, ids); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.queue = append(q.queue, Staged{RunID: runID, Updates: append([]plan.OpUpdate(nil), updates...)})
	if !q.draining {
		q.draining = true
		time.AfterFunc(q.delay, q.drain)
	}
	return nil
}

// drain writes the queue in the background until it is empty.
func (q *ResultQueue) drain() {
	for {
		q.mu.Lock()
		for q.inflight {
			q.cond.Wait()
		}
		if len(q.queue) == 0 {
			q.draining = false
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		}
		staged := q.queue
		q.queue = nil
		q.inflight = true
		q.mu.Unlock()

		ctx, cancel := detached(context.Background())
		err := q.write(ctx, staged)
		cancel()

		q.mu.Lock()
		q.inflight = false
		if err != nil && q.err == nil {
			q.err = fmt.Errorf("write results behind: %w", err)
		}
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

// Take prepares a MarkSent: it waits for the results being written and
// hands the caller the queued ones, to commit in its own transaction ahead
// of its mark, so every result recorded before a request is committed
// before that request goes out (SPEC §5: "a state change is committed
// before the next request that depends on it"; the journal does not know
// which requests depend on which results, so it treats each as depending
// on all of them). done must be called with the transaction's outcome; on
// failure the batches go back to the head of the queue, to be written by
// the next writer.
func (q *ResultQueue) Take() (staged []Staged, done func(error), err error) {
	q.mu.Lock()
	q.waiting++
	for q.inflight && q.err == nil {
		q.cond.Wait()
	}
	q.waiting--
	if q.err != nil {
		defer q.mu.Unlock()
		return nil, nil, q.err
	}
	if len(q.queue) == 0 {
		q.mu.Unlock()
		return nil, func(error) {}, nil
	}
	staged = q.queue
	q.queue = nil
	q.inflight = true
	q.mu.Unlock()
	return staged, func(err error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.inflight = false
		if err != nil {
			q.queue = append(staged, q.queue...)
			// At once, not after the delay: these results were due
			// already. A second drain beside a scheduled one is harmless
			// (each takes the queue under the lock).
			q.draining = true
			go q.drain()
		}
		q.cond.Broadcast()
	}, nil
}

// Flush waits until every queued result is committed and returns the
// error of a background write that failed, if any.
func (q *ResultQueue) Flush() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) > 0 {
		// Now, not when a scheduled drain's delay runs out.
		q.draining = true
		go q.drain()
	}
	// After a failed write the queue may never empty, but a write still
	// under way is waited for: Close must not shut the database under it.
	for q.inflight || (len(q.queue) > 0 && q.err == nil) {
		q.cond.Wait()
	}
	return q.err
}

// Waiting reports whether a MarkSent is waiting for the write under way,
// so that work a background write does beyond its results (a fold of the
// progress log, oplog.go) can stop and let the mark go first. A read or a
// Finish waiting in Flush does not count: its wait is not on the
// executor's path, and a Finish folds the rest itself.
func (q *ResultQueue) Waiting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting > 0
}

// OpIDs returns the operations' ids, for ResultQueue.Known.
func OpIDs(ops []plan.Op) []string {
	ids := make([]string, len(ops))
	for i := range ops {
		ids[i] = ops[i].ID
	}
	return ids
}

// RecordIDs returns the records' operation ids, for ResultQueue.Known.
func RecordIDs(recs []plan.OpRecord) []string {
	ids := make([]string, len(recs))
	for i := range recs {
		ids[i] = recs[i].Op.ID
	}
	return ids
}
