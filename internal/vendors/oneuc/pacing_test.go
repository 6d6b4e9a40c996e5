package oneuc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
	"github.com/numsync/numsync/internal/retry/retrytest"
	"github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

func TestRefillPause(t *testing.T) {
	tests := []struct {
		name      string
		remaining float64
		others    int64
		peak      int64
		reserve   int
		wantWait  time.Duration
		wantHold  bool
	}{
		{"plenty", 500, 3, 4, 0, 0, false},
		{"enough for those in flight, near the level: held", 6, 3, 4, 0, 0, true},
		{"short of those in flight: wait the difference", 1, 3, 4, 0, 300 * time.Millisecond, true},
		{"empty, nothing in flight", 0, 0, 1, 0, 100 * time.Millisecond, true},
		{"negative is empty", -5, 0, 1, 0, 100 * time.Millisecond, true},
		{"reserve adds to the need", 2, 0, 1, 2, 100 * time.Millisecond, true},
		{"one request at a time, two left: free", 2, 0, 1, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait, hold := refillPause(tc.remaining, tc.others, tc.peak, tc.reserve, 10)
			if wait != tc.wantWait || hold != tc.wantHold {
				t.Errorf("refillPause = %s, %v; want %s, %v", wait, hold, tc.wantWait, tc.wantHold)
			}
		})
	}
}

// TestPacingOnAnyBucket: against lab buckets of 10, 100 and 1,000 tokens
// refilled at 10/s, with the client's own rate far above (2,000/s), the
// client spends the bucket and then runs at the refill rate: at least 0.95
// of the requests the vendor admits in the time taken, with at most 1 %
// answered 429. The lab and the client share a fake clock, so the figures
// are exact and never depend on the machine. (Main paused whenever
// tokens.remaining was under a constant 20, which a bucket of 10 never
// exceeds: 0.19 of the ceiling.)
func TestPacingOnAnyBucket(t *testing.T) {
	tests := []struct {
		bucket int
		refill float64 // the lab's; the client assumes 10/s
	}{
		{10, 10}, {100, 10}, {1000, 10},
		// An operator's bucket that refills slower than the client
		// assumes: a 429 halves the client's estimate.
		{10, 2.5}, {100, 4},
	}
	for _, tc := range tests {
		bucket, refill := tc.bucket, tc.refill
		t.Run(fmt.Sprintf("%d+%g/s", bucket, refill), func(t *testing.T) {
			clock := retrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			l := lab.New(lab.Options{Bucket: bucket, RefillPerSec: refill, Clock: clock.Now, TokenTTL: 24 * time.Hour})
			const n = 600
			var seed lab.Seed
			for i := range n {
				seed.Numbers = append(seed.Numbers, lab.SeedNumber{Number: fmt.Sprintf("+1212555%04d", i), State: "in_service"})
			}
			if err := l.Seed(seed); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(l)
			defer srv.Close()
			c, err := New(Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(), RPS: 2000, Burst: 200},
				WithClock(clock.Now, clock.Sleep))
			if err != nil {
				t.Fatal(err)
			}
			start := clock.Now()
			for _, s := range seed.Numbers {
				if _, err := c.Read(context.Background(), []string{s.Number}); err != nil {
					t.Fatal(err)
				}
			}
			elapsed := clock.Now().Sub(start).Seconds()
			st := l.Stats()
			admitted := float64(bucket) + refill*elapsed // what the vendor allows in that time
			ratio := float64(st.Requests-st.Throttled) / min(admitted, float64(st.Requests))
			share429 := float64(st.Throttled) / float64(st.Requests)
			t.Logf("bucket %d: %d requests in %.1fs (fake), ratio %.3f of the ceiling, %.2f%% 429", bucket, st.Requests, elapsed, ratio, 100*share429)
			if ratio < 0.95 {
				t.Errorf("ran at %.3f of the ceiling, want at least 0.95", ratio)
			}
			if share429 > 0.01 {
				t.Errorf("%.2f%% of requests answered 429, want at most 1%%", 100*share429)
			}
		})
	}
}

// refusingDialer refuses the first n connections, as a vendor that is not
// listening does, then dials normally.
type refusingDialer struct {
	mu      sync.Mutex
	refuse  int
	refused int
}

func (d *refusingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	if d.refused < d.refuse {
		d.refused++
		d.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// TestUnreachableAtStartIsRetriedWithinTheBudget (defect #5): a vendor
// that refuses connections when the listing starts — 25 refusals in a row,
// far more than retry.max_attempts — is retried until it answers, within
// the budget; main gave up after four tries (~1.3 s). Once the budget is
// spent the listing fails with a transient error naming the address. A
// fake clock spends the pauses.
func TestUnreachableAtStartIsRetriedWithinTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuse  int
		wantErr bool
	}{
		{"back within the budget", 25, false},
		{"down for longer than the budget", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := retrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			l := lab.New(lab.Options{})
			srv := httptest.NewServer(l)
			defer srv.Close()
			d := &refusingDialer{refuse: tc.refuse}
			hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
			c, err := New(Config{URL: srv.URL, AccountID: l.AccountID(), APIKey: l.APIKey(), RPS: -1, HTTPClient: hc,
				Retry: retry.Policy{MaxElapsed: 5 * time.Minute}}, WithClock(clock.Now, clock.Sleep))
			if err != nil {
				t.Fatal(err)
			}
			start := clock.Now()
			err = c.List(context.Background(), func(plan.State) error { return nil })
			elapsed := clock.Now().Sub(start)
			switch {
			case !tc.wantErr && err != nil:
				t.Fatalf("List after %d refusals: %v (after %s)", d.refused, err, elapsed)
			case tc.wantErr && (err == nil || !plan.IsTransient(err) || !strings.Contains(err.Error(), "127.0.0.1")):
				t.Fatalf("List against a vendor down for good: %v, want a transient error naming the address", err)
			}
			if elapsed > 5*time.Minute {
				t.Errorf("retried for %s, over the 5m budget", elapsed)
			}
		})
	}
}
