package journal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// TestResultQueueOrder: every result queued before a mark goes into the
// mark's own transaction, ahead of it, whichever operations the mark names
// (the dependent of an activation as much as a retry of the same
// operation), so no request goes out before the results it may depend on
// are committed; a mark with nothing queued takes nothing; Flush returns
// once every result is written.
func TestResultQueueOrder(t *testing.T) {
	ctx := context.Background()
	var (
		mu      sync.Mutex
		written [][]Staged
	)
	q := NewResultQueue(func(_ context.Context, st []Staged) error {
		mu.Lock()
		written = append(written, st)
		mu.Unlock()
		return nil
	}, func(context.Context, int64) ([]string, error) { return []string{"a", "b", "c"}, nil })
	// No background write before the marks: what they take is decided by
	// the queue alone, not by how fast the machine is.
	q.delay = time.Hour
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "a", State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	// "b" depends on "a": its mark carries a's result.
	staged, done, err := q.Take()
	if err != nil {
		t.Fatal(err)
	}
	if len(staged) != 1 || staged[0].Updates[0].OpID != "a" {
		t.Fatalf("the mark of a dependent did not take the result ahead of it: %v", staged)
	}
	done(nil)
	staged, done, err = q.Take()
	if err != nil || len(staged) != 0 {
		t.Fatalf("a mark with nothing queued took %v, %v", staged, err)
	}
	done(nil)
	// A retry's result, then its mark: taken ahead of it too.
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "c", State: plan.StatePending, Error: "503"}}); err != nil {
		t.Fatal(err)
	}
	if staged, done, err = q.Take(); err != nil || len(staged) != 1 {
		t.Fatalf("the retry's mark took %v, %v", staged, err)
	}
	// A mark whose transaction fails gives its results back: Flush writes
	// them.
	done(errors.New("rolled back"))
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(written) != 1 || written[0][0].Updates[0].OpID != "c" {
		t.Errorf("after a failed mark, Flush wrote %v, want c's result", written)
	}
	mu.Unlock()
	// Bad batches are refused at once and queue nothing.
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "zz", State: plan.StateDone}}); err == nil {
		t.Error("an unknown id was queued")
	}
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "a", State: "bogus"}}); err == nil {
		t.Error("an invalid state was queued")
	}
}

// TestResultQueueFailureStops: a background write that fails is returned
// by the next Flush, Take (MarkSent) and Record, so the executor stops
// instead of sending on top of a journal that lost results.
func TestResultQueueFailureStops(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("disk full")
	q := NewResultQueue(func(context.Context, []Staged) error { return boom },
		func(context.Context, int64) ([]string, error) { return []string{"a", "b"}, nil })
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "a", State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	if err := q.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want the write's error", err)
	}
	if _, _, err := q.Take(); !errors.Is(err, boom) {
		t.Errorf("Take = %v, want the write's error", err)
	}
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "b", State: plan.StateDone}}); !errors.Is(err, boom) {
		t.Errorf("Record = %v, want the write's error", err)
	}
}

// TestResultQueueWaiting: a mark waiting for the background write under
// way is seen by that write (so a fold it does can stop for the mark); a
// read waiting in Flush is not.
func TestResultQueueWaiting(t *testing.T) {
	ctx := context.Background()
	inWrite := make(chan struct{})
	release := make(chan struct{})
	var q *ResultQueue
	sawMark := make(chan bool, 1)
	q = NewResultQueue(func(context.Context, []Staged) error {
		close(inWrite)
		// Until the test lets go: each poll says whether a mark waits.
		for {
			select {
			case <-release:
				sawMark <- q.Waiting()
				return nil
			case <-time.After(time.Millisecond):
			}
		}
	}, func(context.Context, int64) ([]string, error) { return []string{"a"}, nil })
	q.delay = time.Hour
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "a", State: plan.StateDone}}); err != nil {
		t.Fatal(err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- q.Flush() }()
	<-inWrite
	if q.Waiting() {
		t.Error("a Flush counts as a waiting mark")
	}
	took := make(chan error, 1)
	go func() {
		_, done, err := q.Take()
		if err == nil {
			done(nil)
		}
		took <- err
	}()
	for !q.Waiting() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if !<-sawMark {
		t.Error("the write did not see the mark waiting for it")
	}
	if err := <-took; err != nil {
		t.Fatal(err)
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if q.Waiting() {
		t.Error("Waiting after every mark went through")
	}
}
