// Package vendorhttp is the small piece of HTTP plumbing both vendor clients
// share: one pacer per vendor that every request waits on, and the
// classification of transport failures. It knows no vendor's API.
package vendorhttp

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/numsync/numsync/internal/retry"
)

// Pacer paces every request of one vendor client: a token bucket (rps,
// burst) that all goroutines share, plus a pause that a 429 or a
// Retry-After imposes on all of them at once, not only on the request that
// was refused. After a 429 the rate is also halved for SlowFor, then
// restored, so a client that found the vendor's real ceiling below its
// configured one does not keep hitting it.
type Pacer struct {
	lim *rate.Limiter
	// held is a second bucket, at the vendor's own refill rate with room
	// for one request, in force while the vendor reports its bucket nearly
	// empty (Hold): requests then leave one by one at the rate the vendor
	// refills, instead of together when a pause ends. Unlimited otherwise.
	held *rate.Limiter

	mu         sync.Mutex
	base       rate.Limit
	pauseUntil time.Time
	slowUntil  time.Time
	throttled  int
	// now and sleep are the pacer's clock (SetClock).
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// SlowFor is how long the rate stays halved after a 429.
const SlowFor = 30 * time.Second

// NewPacer returns a pacer allowing rps requests per second with bursts of
// burst. rps <= 0 means unlimited (the labs unthrottled in benchmarks).
func NewPacer(rps float64, burst int) *Pacer {
	limit := rate.Limit(rps)
	if rps <= 0 {
		limit = rate.Inf
	}
	if burst < 1 {
		burst = 1
	}
	return &Pacer{lim: rate.NewLimiter(limit, burst), held: rate.NewLimiter(rate.Inf, 1), base: limit, now: time.Now, sleep: retry.Sleep}
}

// SetClock replaces the pacer's clock: every wait, pause and refill is
// measured on now, and sleep does the waiting. A test gives a fake clock
// whose sleep advances it, so pacing is checked without waiting. Call it
// before the pacer is used.
func (p *Pacer) SetClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now, p.sleep = now, sleep
}

// Wait blocks until the caller may send one request, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now, sleep := p.now(), p.sleep
		pause := p.pauseUntil.Sub(now)
		if !p.slowUntil.IsZero() && now.After(p.slowUntil) {
			p.lim.SetLimitAt(now, p.base)
			p.slowUntil = time.Time{}
		}
		var r, h *rate.Reservation
		if pause <= 0 {
			// The slot is taken under the lock, so a pause imposed after
			// it cannot be skipped by a reservation made before.
			r, h = p.lim.ReserveN(now, 1), p.held.ReserveN(now, 1)
		}
		p.mu.Unlock()
		if r == nil {
			if err := sleep(ctx, pause); err != nil {
				return err
			}
			continue
		}
		d := max(r.DelayFrom(now), h.DelayFrom(now))
		if d <= 0 {
			return ctx.Err()
		}
		if err := sleep(ctx, d); err != nil {
			p.mu.Lock()
			r.CancelAt(p.now())
			h.CancelAt(p.now())
			p.mu.Unlock()
			return err
		}
		return nil
	}
}

// Throttled records that the vendor answered 429. Every request waits at
// least retryAfter (or one second when the vendor gave none) and the rate is
// halved for SlowFor.
func (p *Pacer) Throttled(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttled++
	p.pauseLocked(retryAfter)
	if p.base != rate.Inf {
		p.lim.SetLimitAt(p.now(), p.base/2)
		p.slowUntil = p.now().Add(SlowFor)
	}
}

// Pause makes every request wait at least d from now, without changing the
// rate: for a vendor that reports its bucket is nearly empty.
func (p *Pacer) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauseLocked(d)
}

func (p *Pacer) pauseLocked(d time.Duration) {
	if until := p.now().Add(d); until.After(p.pauseUntil) {
		p.pauseUntil = until
	}
}

// Hold makes requests leave one at a time at rps (the vendor's refill
// rate) until Release: for a vendor that reports its bucket nearly empty,
// so the requests waiting on a pause do not all leave when it ends.
func (p *Pacer) Hold(rps float64) {
	if rps <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.held.Limit() != rate.Limit(rps) {
		p.held.SetLimitAt(now, rate.Limit(rps))
		p.held.SetBurstAt(now, 1)
	}
}

// Release lifts Hold: the vendor reports room in its bucket again.
func (p *Pacer) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held.Limit() != rate.Inf {
		p.held.SetLimitAt(p.now(), rate.Inf)
	}
}

// ThrottledCount returns how many 429s the pacer has been told of.
func (p *Pacer) ThrottledCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.throttled
}
