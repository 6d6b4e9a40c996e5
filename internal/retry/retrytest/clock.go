// Package retrytest holds a fake clock for tests of code that retries: its
// Sleep advances the clock at once instead of waiting, so a test can spend
// a five-minute budget in microseconds and never depends on wall time.
package retrytest

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock. Sleep advances it by d and returns at once (or
// returns ctx's error when ctx has ended). It is safe for concurrent use;
// concurrent sleepers each advance it, so elapsed time is an upper bound
// of what a real clock would show.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	sleeps int
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep advances the clock by d, unless ctx has ended.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

// Slept returns the total of every Sleep and how many there were.
func (c *Clock) Slept() (time.Duration, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept, c.sleeps
}
