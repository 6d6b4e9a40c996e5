package vendorhttp

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeClock is the pacer's injected clock. Pauses are measured on it, so a
// test decides when a pause is over by advancing it, not by sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestPacer(rps float64, burst int) (*Pacer, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	p := NewPacer(rps, burst)
	p.now = clk.Now
	return p, clk
}

// blocked reports whether Wait is held back: with a short deadline, a held
// Wait returns the deadline error; a free one returns nil at once. A slow
// machine can only make a held Wait return later, never change the verdict.
func blocked(t *testing.T, p *Pacer) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.Wait(ctx)
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded):
		return true
	default:
		t.Fatalf("Wait: unexpected error %v", err)
		return false
	}
}

// free asserts Wait lets the caller through; it waits without a deadline, so
// a wrongly held Wait shows up as a test timeout rather than a flaky verdict.
func free(t *testing.T, p *Pacer) {
	t.Helper()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func TestNewPacerLimit(t *testing.T) {
	tests := []struct {
		name      string
		rps       float64
		burst     int
		wantLimit rate.Limit
		wantBurst int
	}{
		{"limited", 10, 5, 10, 5},
		{"zero rps is unlimited", 0, 5, rate.Inf, 5},
		{"negative rps is unlimited", -3, 5, rate.Inf, 5},
		{"burst below one is one", 10, 0, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPacer(tt.rps, tt.burst)
			if got := p.lim.Limit(); got != tt.wantLimit {
				t.Errorf("limit = %v, want %v", got, tt.wantLimit)
			}
			if got := p.lim.Burst(); got != tt.wantBurst {
				t.Errorf("burst = %d, want %d", got, tt.wantBurst)
			}
		})
	}
}

func TestWaitUnlimitedNeverBlocks(t *testing.T) {
	for _, rps := range []float64{0, -1} {
		p, _ := newTestPacer(rps, 1)
		// Far more than any burst: an unlimited pacer hands them all out.
		for range 10000 {
			free(t, p)
		}
	}
}

func TestWaitCancelledContext(t *testing.T) {
	tests := []struct {
		name  string
		pause time.Duration
	}{
		{"no pause", 0},
		{"pause in force", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestPacer(0, 1)
			p.Pause(tt.pause)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait = %v, want context.Canceled", err)
			}
		})
	}
}

func TestPauseHoldsUntilClockPasses(t *testing.T) {
	tests := []struct {
		name    string
		pause   time.Duration
		advance time.Duration
		blocked bool
	}{
		{"no pause", 0, 0, false},
		{"negative pause is none", -time.Second, 0, false},
		{"pause in force", 10 * time.Second, 0, true},
		{"pause partly elapsed", 10 * time.Second, 9 * time.Second, true},
		{"pause exactly elapsed", 10 * time.Second, 10 * time.Second, false},
		{"pause over", 10 * time.Second, 11 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk := newTestPacer(0, 1)
			p.Pause(tt.pause)
			clk.Advance(tt.advance)
			if got := blocked(t, p); got != tt.blocked {
				t.Fatalf("blocked = %v, want %v", got, tt.blocked)
			}
		})
	}
}

func TestPauseNeverShortens(t *testing.T) {
	tests := []struct {
		name   string
		pauses []time.Duration
		want   time.Duration // resulting pause, from the start
	}{
		{"shorter after longer keeps longer", []time.Duration{10 * time.Second, time.Second}, 10 * time.Second},
		{"longer after shorter extends", []time.Duration{time.Second, 10 * time.Second}, 10 * time.Second},
		{"zero keeps existing", []time.Duration{5 * time.Second, 0}, 5 * time.Second},
		{"negative keeps existing", []time.Duration{5 * time.Second, -time.Hour}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk := newTestPacer(0, 1)
			start := clk.Now()
			for _, d := range tt.pauses {
				p.Pause(d)
			}
			if got := p.pauseUntil.Sub(start); got != tt.want {
				t.Fatalf("pause = %v, want %v", got, tt.want)
			}
			clk.Advance(tt.want - time.Millisecond)
			if !blocked(t, p) {
				t.Fatalf("Wait free %v before the pause ends", time.Millisecond)
			}
			clk.Advance(time.Millisecond)
			free(t, p)
		})
	}
}

func TestThrottledPauses(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		wantPause  time.Duration
	}{
		{"vendor's Retry-After", 7 * time.Second, 7 * time.Second},
		{"none given waits one second", 0, time.Second},
		{"negative waits one second", -time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Unlimited, so only the pause can hold Wait back.
			p, clk := newTestPacer(0, 1)
			p.Throttled(tt.retryAfter)
			clk.Advance(tt.wantPause - time.Millisecond)
			if !blocked(t, p) {
				t.Fatal("Wait free before the pause ends")
			}
			clk.Advance(time.Millisecond)
			free(t, p)
		})
	}
}

func TestThrottledPauseNeverShortens(t *testing.T) {
	p, clk := newTestPacer(0, 1)
	p.Pause(time.Minute)
	p.Throttled(time.Second)
	clk.Advance(30 * time.Second)
	if !blocked(t, p) {
		t.Fatal("a 429's short Retry-After cut a longer pause")
	}
}

func TestThrottledHalvesRateForSlowFor(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration // after the 429's pause is over
		want    rate.Limit
	}{
		{"just after the pause", time.Second, 50},
		{"exactly at SlowFor", SlowFor, 50},
		{"after SlowFor", SlowFor + time.Nanosecond, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk := newTestPacer(100, 100)
			p.Throttled(time.Second)
			if got := p.lim.Limit(); got != 50 {
				t.Fatalf("limit right after 429 = %v, want 50", got)
			}
			clk.Advance(tt.advance)
			// The restore happens on the way through Wait.
			free(t, p)
			if got := p.lim.Limit(); got != tt.want {
				t.Fatalf("limit = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestThrottledRepeatedHalvesOnceAndExtends(t *testing.T) {
	p, clk := newTestPacer(100, 100)
	p.Throttled(time.Second)
	clk.Advance(SlowFor / 2)
	p.Throttled(time.Second)
	// Halved from the configured rate, not halved again.
	if got := p.lim.Limit(); got != 50 {
		t.Fatalf("limit after second 429 = %v, want 50", got)
	}
	// SlowFor counts from the latest 429.
	clk.Advance(SlowFor/2 + time.Second)
	free(t, p)
	if got := p.lim.Limit(); got != 50 {
		t.Fatalf("limit restored %v after the latest 429, want still 50", SlowFor/2+time.Second)
	}
	clk.Advance(SlowFor / 2)
	free(t, p)
	if got := p.lim.Limit(); got != 100 {
		t.Fatalf("limit = %v after SlowFor, want 100", got)
	}
}

func TestThrottledUnlimitedStaysUnlimited(t *testing.T) {
	p, clk := newTestPacer(0, 1)
	p.Throttled(time.Second)
	if got := p.lim.Limit(); got != rate.Inf {
		t.Fatalf("limit = %v, want Inf", got)
	}
	if !blocked(t, p) {
		t.Fatal("an unlimited pacer ignored a 429's pause")
	}
	clk.Advance(time.Second)
	free(t, p)
}

func TestThrottledCount(t *testing.T) {
	tests := []struct {
		name      string
		throttled int
		paused    int
	}{
		{"none", 0, 0},
		{"one", 1, 0},
		{"pauses are not 429s", 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTestPacer(10, 1)
			for range tt.throttled {
				p.Throttled(0)
			}
			for range tt.paused {
				p.Pause(time.Second)
			}
			if got := p.ThrottledCount(); got != tt.throttled {
				t.Fatalf("ThrottledCount = %d, want %d", got, tt.throttled)
			}
		})
	}
}

// TestPacerConcurrent is for -race: many clients share one pacer while 429s
// arrive and the clock moves.
func TestPacerConcurrent(t *testing.T) {
	p, clk := newTestPacer(0, 1)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				_ = p.Wait(ctx) // held or free, both fine; only races matter
				cancel()
			}
		})
	}
	for range 50 {
		p.Throttled(time.Second)
		p.Pause(time.Millisecond)
		clk.Advance(SlowFor)
		_ = p.ThrottledCount()
	}
	wg.Wait()
	if got := p.ThrottledCount(); got != 50 {
		t.Fatalf("ThrottledCount = %d, want 50", got)
	}
}

// TestSleep: a wait ends early, with the context's error, when the run is
// cancelled; a zero wait only reports the context.
// sleepClock is a fake clock whose sleep advances it, recording the total.
type sleepClock struct {
	fakeClock
	slept time.Duration
}

func (c *sleepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	c.mu.Lock()
	c.slept += d
	c.mu.Unlock()
	return nil
}

func TestHoldSpacesRequestsAtTheRefillRate(t *testing.T) {
	clk := &sleepClock{fakeClock: fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	p := NewPacer(1000, 100) // the client's own rate is far above the vendor's
	p.SetClock(clk.Now, clk.Sleep)
	p.Hold(10)
	for range 11 {
		free(t, p)
	}
	// Held at 10/s with room for one: 11 requests take at least 1 s, not
	// one burst.
	if clk.slept < time.Second-time.Millisecond {
		t.Errorf("11 held requests slept %s, want about 1s (one per 100ms)", clk.slept)
	}
	p.Release()
	before := clk.slept
	for range 50 {
		free(t, p)
	}
	if d := clk.slept - before; d > 10*time.Millisecond {
		t.Errorf("released, 50 requests slept %s: the hold was not lifted", d)
	}
}
