package journal

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/numsync/numsync/internal/plan"
)

// TestResultQueueOrder: a result queued for an operation that is then
// marked sent again goes into the mark's own transaction, ahead of it, so
// it can never land after the mark; a mark of other operations takes
// nothing and need not wait; Flush returns once every result is written.
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
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "a", State: plan.StatePending, Error: "503"}}); err != nil {
		t.Fatal(err)
	}
	staged, done, err := q.Take(1, []string{"b"})
	if err != nil || len(staged) != 0 {
		t.Fatalf("a mark of other operations took %v, %v", staged, err)
	}
	done(nil)
	staged, done, err = q.Take(1, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	bg := len(written)
	mu.Unlock()
	if bg == 0 && (len(staged) != 1 || staged[0].Updates[0].OpID != "a") {
		t.Fatalf("the retry's mark did not take the result ahead of it: %v", staged)
	}
	done(nil)
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
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
	if _, _, err := q.Take(1, []string{"b"}); !errors.Is(err, boom) {
		t.Errorf("Take = %v, want the write's error", err)
	}
	if err := q.Record(ctx, 1, []plan.OpUpdate{{OpID: "b", State: plan.StateDone}}); !errors.Is(err, boom) {
		t.Errorf("Record = %v, want the write's error", err)
	}
}
