// Package retry is numsync's one retry policy (SPEC §5): the backoff with
// jitter between tries, the tries of one request (retry.max_attempts) and
// the time budget of one operation (retry.max_elapsed). The executor and
// both vendor clients use it, and nothing else retries, so the time a
// failure costs is stated here and nowhere else.
//
// The rules:
//
//   - A request is tried up to MaxAttempts times in a row, each failed
//     try followed by an exponential pause (Base doubling up to Max, "equal
//     jitter": half fixed, half random). A vendor's Retry-After wins when
//     longer.
//   - A 429 is not a failed try: it is the vendor asking to slow down, which
//     the client's pacer does for every request (vendorhttp.Pacer). The
//     request waits its turn and goes again without spending a try.
//   - When a request's tries are spent and its error is still transient,
//     the operation is not failed: it pauses Max (the end of a round) and
//     its request gets a fresh round of tries, for as long as the
//     operation's budget (MaxElapsed, from the operation's first try)
//     lasts. A vendor outage shorter than the budget costs time, not a
//     failed night; what is still unresolved when the budget is spent is
//     left for the next run (exit 1), never called failed for good.
//   - Retries are never nested: a caller that runs an operation (the
//     executor) puts its policy and the operation's budget in the context
//     with Policy.WithBudget, and the client's Do follows that policy and
//     spends that same budget instead of starting one of its own, so an
//     inner loop never outlives the outer, and one policy (the
//     executor's) times every retry of a run.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Defaults of SPEC §2 and §5.
const (
	DefaultMaxAttempts = 6
	DefaultMaxElapsed  = 5 * time.Minute
	DefaultBase        = 500 * time.Millisecond
	DefaultMax         = 30 * time.Second
)

// Policy is the retry policy. Its zero value is the default policy; it is
// a value, safe to copy and to use from many goroutines (Rand must then be
// safe for concurrent use, as the default is).
type Policy struct {
	// MaxAttempts is how many times one request is tried in a row (one
	// round); default 6.
	MaxAttempts int
	// MaxElapsed is the budget of one operation; default 5m.
	MaxElapsed time.Duration
	// Base and Max bound the exponential pause between tries; defaults
	// 500ms and 30s. Max is also the pause between rounds.
	Base, Max time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends (returning its error); default a
	// timer. Tests replace Now and Sleep with a fake clock, so no test
	// waits out a backoff.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, n) for the jitter; default
	// math/rand/v2's Int64N.
	Rand func(n int64) int64
}

// WithDefaults returns p with every zero field set to its default.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.Base <= 0 {
		p.Base = DefaultBase
	}
	if p.Max <= 0 {
		p.Max = DefaultMax
	}
	p.Max = max(p.Max, p.Base)
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = Sleep
	}
	if p.Rand == nil {
		p.Rand = rand.Int64N
	}
	return p
}

// Backoff is the pause after a request failed its try-th try in a row
// (try counts from 1): exponential from Base, capped at Max, with equal
// jitter so a herd of retries spreads out; Max when try ends a round. A
// Retry-After longer than that wins. p must have its defaults.
func (p Policy) Backoff(try int, retryAfter time.Duration) time.Duration {
	if try >= 1 && try%p.MaxAttempts == 0 {
		return max(p.Max, retryAfter) // the round is over
	}
	n := max(try%p.MaxAttempts, 1)
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	d = d/2 + time.Duration(p.Rand(int64(d/2)+1))
	return max(d, retryAfter)
}

// Budget is the time one operation may keep being retried or re-checked.
// The zero Budget is unlimited.
type Budget struct {
	// Deadline is when the budget is spent.
	Deadline time.Time
}

// Start returns a budget of MaxElapsed from now. p must have its defaults.
func (p Policy) Start() Budget { return Budget{Deadline: p.Now().Add(p.MaxElapsed)} }

// Allows reports whether a pause of d starting at now still ends within
// the budget.
func (b Budget) Allows(now time.Time, d time.Duration) bool {
	return b.Deadline.IsZero() || !now.Add(d).After(b.Deadline)
}

// Spent reports whether the budget is over at now.
func (b Budget) Spent(now time.Time) bool {
	return !b.Deadline.IsZero() && !now.Before(b.Deadline)
}

type budgetKey struct{}

type budgetValue struct {
	p    Policy
	b    Budget
	stop <-chan struct{}
}

// WithBudget returns a context carrying p and an operation's budget, and
// stop, a channel whose closing ends every pause (nil for none): the
// executor's stop (SIGINT, --max-duration) must end a retry's wait without
// ending the request in flight. Do called with this context, on any
// policy, follows p and spends b instead of starting a budget of its own.
func (p Policy) WithBudget(ctx context.Context, b Budget, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, budgetKey{}, budgetValue{p: p.WithDefaults(), b: b, stop: stop})
}

func budgetOf(ctx context.Context) (budgetValue, bool) {
	v, ok := ctx.Value(budgetKey{}).(budgetValue)
	return v, ok
}

// ErrStopped is returned (wrapped with the last failure) by Do when the
// budget's stop channel closed during a pause.
var ErrStopped = errors.New("retry: stopped")

// final marks an error Do must return at once.
type final struct{ err error }

func (f *final) Error() string { return f.err.Error() }
func (f *final) Unwrap() error { return f.err }

// Final wraps err so Do returns it without retrying, even when it is
// transient: a write whose answer was lost may have acted, and only a
// check of the live state may decide whether to send it again.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &final{err}
}

// Throttled reports whether err is a vendor's 429: not a failed try.
func Throttled(err error) bool {
	var ve *plan.VendorError
	return errors.As(err, &ve) && ve.Status == http.StatusTooManyRequests
}

// Do runs try until it returns nil, a permanent error, an error wrapped by
// Final, or the budget is spent; it returns try's last error (unwrapped
// from Final). Transient errors (plan.IsTransient) are tried again after
// Backoff; a 429 goes again at once without spending a try, since the
// client's pacer holds the next request back. The policy and budget are
// the context's (WithBudget), else p with MaxElapsed from this call. A
// cancelled ctx ends it with the last error.
func (p Policy) Do(ctx context.Context, try func(ctx context.Context) error) error {
	bv, ok := budgetOf(ctx)
	if ok {
		p = bv.p
	} else {
		p = p.WithDefaults()
		bv.b = p.Start()
	}
	tries := 0
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		var f *final
		if errors.As(err, &f) {
			return f.err
		}
		if !plan.IsTransient(err) || ctx.Err() != nil {
			return err
		}
		var d time.Duration
		if Throttled(err) {
			// The pacer pauses every request for Retry-After; a short
			// floor keeps a vendor that gave none from being hammered by
			// a client without a pacer.
			d = min(p.Base, time.Second)
		} else {
			tries++
			d = p.Backoff(tries, plan.RetryAfter(err))
		}
		now := p.Now()
		if !bv.b.Allows(now, d) {
			return err
		}
		if werr := p.wait(ctx, bv.stop, d); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

func (p Policy) wait(ctx context.Context, stop <-chan struct{}, d time.Duration) error {
	if stop == nil {
		return p.Sleep(ctx, d)
	}
	select {
	case <-stop:
		return ErrStopped
	default:
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := p.Sleep(wctx, d); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrStopped
	}
	return nil
}

// Sleep waits d, or until ctx ends, whichever comes first, and returns
// ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Scope returns ctx with a budget of MaxElapsed from now, unless it
// already carries one: an operation a client runs on its own (a listing,
// a read for the plan) gets one budget for all its requests, and one the
// executor runs keeps the executor's.
func (p Policy) Scope(ctx context.Context) context.Context {
	if _, ok := budgetOf(ctx); ok {
		return ctx
	}
	p = p.WithDefaults()
	return p.WithBudget(ctx, p.Start(), nil)
}
