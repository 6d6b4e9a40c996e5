package retry_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
	"github.com/numsync/numsync/internal/retry/retrytest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func policy(clock *retrytest.Clock) retry.Policy {
	return retry.Policy{MaxAttempts: 3, MaxElapsed: time.Minute, Base: time.Second, Max: 8 * time.Second,
		Now: clock.Now, Sleep: clock.Sleep}.WithDefaults()
}

var (
	errDown = &plan.VendorError{Vendor: plan.OneUC, Code: "could not connect", Temporary: true}
	err503  = &plan.VendorError{Vendor: plan.OneUC, Status: http.StatusServiceUnavailable, Code: "503", Temporary: true}
	err429  = &plan.VendorError{Vendor: plan.OneUC, Status: http.StatusTooManyRequests, Code: "too_many_requests", Temporary: true}
	errBad  = &plan.VendorError{Vendor: plan.OneUC, Status: http.StatusBadRequest, Code: "400"}
)

func TestBackoff(t *testing.T) {
	p := policy(retrytest.NewClock(t0))
	tests := []struct {
		name       string
		try        int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"first try", 1, 0, 500 * time.Millisecond, time.Second},
		{"second doubles", 2, 0, time.Second, 2 * time.Second},
		{"end of a round pauses Max", 3, 0, 8 * time.Second, 8 * time.Second},
		{"next round starts again", 4, 0, 500 * time.Millisecond, time.Second},
		{"retry-after wins", 1, 20 * time.Second, 20 * time.Second, 20 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				if d := p.Backoff(tc.try, tc.retryAfter); d < tc.lo || d > tc.hi {
					t.Fatalf("Backoff(%d) = %s, want in [%s, %s]", tc.try, d, tc.lo, tc.hi)
				}
			}
		})
	}
}

// A transient failure is tried again, round after round, for as long as
// the budget lasts: attempts running out never ends it early.
func TestDoKeepsGoingWhileBudgetRemains(t *testing.T) {
	clock := retrytest.NewClock(t0)
	p := policy(clock)
	tries := 0
	err := p.Do(context.Background(), func(context.Context) error {
		tries++
		if clock.Now().Sub(t0) < 45*time.Second { // an outage of 45 s
			return errDown
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Do = %v after %d tries, want success once the outage ends", err, tries)
	}
	if tries <= 3 {
		t.Errorf("%d tries: the outage outlasts one round, so more than MaxAttempts were needed", tries)
	}
}

func TestDoStopsWhenBudgetIsSpent(t *testing.T) {
	clock := retrytest.NewClock(t0)
	p := policy(clock)
	tries := 0
	err := p.Do(context.Background(), func(context.Context) error { tries++; return err503 })
	if !errors.Is(err, err503) {
		t.Fatalf("Do = %v, want the last error", err)
	}
	if el := clock.Now().Sub(t0); el > time.Minute {
		t.Errorf("spent %s, over the 1m budget", el)
	}
	if el := clock.Now().Sub(t0); el < 40*time.Second {
		t.Errorf("gave up after %s, well before the 1m budget", el)
	}
}

func TestDoThrottledIsNotATry(t *testing.T) {
	clock := retrytest.NewClock(t0)
	p := policy(clock)
	p.MaxElapsed = time.Hour
	calls := 0
	// 20 429s, then one failure to connect, then success: with attempts
	// counting 429s, the round (3 tries) would have ended long before.
	err := p.Do(context.Background(), func(context.Context) error {
		calls++
		switch {
		case calls <= 20:
			return err429
		case calls == 21:
			return errDown
		}
		return nil
	})
	if err != nil || calls != 22 {
		t.Fatalf("Do = %v after %d calls, want success after 22", err, calls)
	}
	// 20 short waits and one first-try backoff: no round-end pause (Max).
	if el := clock.Now().Sub(t0); el >= 8*time.Second+20*time.Second {
		t.Errorf("spent %s: 429s were counted as failed tries", el)
	}
}

func TestDoStopsAtOnce(t *testing.T) {
	tests := []struct {
		name      string
		err, want error
	}{
		{"permanent", errBad, errBad},
		{"final transient", retry.Final(errDown), errDown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := retrytest.NewClock(t0)
			calls := 0
			err := policy(clock).Do(context.Background(), func(context.Context) error { calls++; return tc.err })
			if calls != 1 || err != tc.want {
				t.Fatalf("%d calls, err %v; want one call and %v", calls, err, tc.want)
			}
		})
	}
}

// The executor's budget, in the context, is the one Do spends: an inner
// loop never starts a budget of its own.
func TestDoSpendsTheContextsBudget(t *testing.T) {
	clock := retrytest.NewClock(t0)
	p := policy(clock)
	ctx := p.WithBudget(context.Background(), retry.Budget{Deadline: t0.Add(5 * time.Second)}, nil)
	_ = p.Do(ctx, func(context.Context) error { return errDown })
	if el := clock.Now().Sub(t0); el > 5*time.Second {
		t.Errorf("spent %s, over the context's 5s budget", el)
	}
}

func TestDoStopChannelEndsThePause(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	p := retry.Policy{Base: time.Hour, Max: time.Hour}.WithDefaults() // a real sleep: the stop must cut it
	ctx := p.WithBudget(context.Background(), retry.Budget{}, stop)
	calls := 0
	err := p.Do(ctx, func(context.Context) error { calls++; return errDown })
	if calls != 1 || !errors.Is(err, retry.ErrStopped) || !errors.Is(err, errDown) {
		t.Fatalf("%d calls, err %v; want one call, stopped, with the last error", calls, err)
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := retry.Sleep(ctx, time.Millisecond); err != nil {
		t.Errorf("a short sleep: %v", err)
	}
	cancel()
	if err := retry.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("a sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := retry.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("a zero sleep on a cancelled context = %v", err)
	}
}
