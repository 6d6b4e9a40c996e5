// Package exec applies a plan: it sends the operations to the vendors in
// batches, as many at once as each vendor allows, in the order their
// dependencies demand, retries what failed for a passing reason, settles
// operations whose answer was lost by reading the live state instead of
// sending them twice, journals every step before the next depends on it,
// and reads back what it did.
//
// Reading back costs requests, and most comparisons need only a number's
// state: when a vendor implements plan.StateReader, the numbers whose
// operations need no details (everything but a CNAM or E911 update) are
// read with one ReadStates call per read-back, and only the rest with Read
// in chunks of Config.ReadBatch.
//
// It knows vendors only through plan.Vendor and the journal only through
// the two methods of Journal. Request pacing is not its business: each
// vendor client owns one pacer shared by all its requests (adding a second
// limiter here would throttle twice). The executor owns concurrency,
// batching, retries and backoff.
package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/numsync/numsync/internal/plan"
)

// Journal is what the executor writes to: the run's operation states.
// journal.Store implements it. Calls come from one goroutine at a time.
type Journal interface {
	// MarkSent records, in one committed transaction, that the operations
	// are about to be sent, and counts an attempt for each. The executor
	// calls it before the request goes out, so a crash mid-request leaves
	// them "sent" (outcome unknown), to be checked on resume.
	MarkSent(ctx context.Context, runID int64, opIDs []string) error
	// Record commits a batch's results in one transaction.
	Record(ctx context.Context, runID int64, updates []plan.OpUpdate) error
}

// VendorConfig is one vendor as the executor drives it.
type VendorConfig struct {
	Vendor plan.Vendor
	// Concurrency is the most requests (Apply or Read) in flight at once;
	// at least 1, default 4.
	Concurrency int
}

// Config configures Run. Zero values take the defaults given.
type Config struct {
	// Vendors maps each vendor name the operations use to its client.
	Vendors map[plan.VendorName]VendorConfig
	// Journal receives every state change; required.
	Journal Journal
	// RunID is the journal's run, passed through to Journal.
	RunID int64
	// MaxAttempts is how many times one operation may be sent in one Run
	// (and how many times a failing read is tried); default 6.
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the exponential backoff between
	// tries; defaults 500ms and 30s. A vendor's Retry-After wins when
	// longer.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// ReadBatch is the most numbers asked of one Read; default 100. It does
	// not bound ReadStates (plan.StateReader), which is given every number
	// needing only its state at once, so the vendor can pick the cheapest
	// way to read them.
	ReadBatch int
	// Verify reads back every number of a done operation after the last
	// operation and fails those whose live state differs from the plan.
	Verify bool
	// OnProgress, when set, is called from the executor's loop each time
	// the counts change. It must return quickly.
	OnProgress func(Progress)
	// OnState, when set, is called from the executor's loop with every
	// live state it learns of a number: a vendor's answer after a change
	// (when it gave one), a check of a lost answer, a verification read.
	// The caller can refresh its cache of OneUC details with them, from
	// the states whose Detailed is set: those read with
	// plan.StateReader.ReadStates may lack CNAM and E911.
	OnState func(v plan.VendorName, s plan.State)
	// Logger receives debug lines per retry and warnings; default discards.
	Logger *slog.Logger
	// Rand draws the backoff jitter; default seeded from the clock. It is
	// used from one goroutine only.
	Rand *rand.Rand
	// Sleep waits d or until ctx ends (returning its error); replaceable so
	// tests need not wait out backoffs. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for the summary's durations; default time.Now.
	Now func() time.Time
}

// Result is what a Run did.
type Result struct {
	Summary Summary
	// Interrupted is true when the stop channel closed (or the context
	// ended) before the run finished: in-flight requests were completed
	// and journaled, the rest is pending and a rerun resumes it.
	Interrupted bool
	// Ops is every operation's final record, in the order given.
	Ops []plan.OpRecord
	// Failed lists the failed and skipped operations with their reasons.
	Failed []plan.OpRecord
	// Unresolved lists operations sent whose outcome could not be read
	// back (the vendor's reads kept failing). They stay "sent" in the
	// journal, so the next run checks them before anything else.
	Unresolved []plan.OpRecord
}

// Complete reports whether every operation is done.
func (r *Result) Complete() bool {
	for _, o := range r.Ops {
		if o.State != plan.StateDone {
			return false
		}
	}
	return true
}

// ErrJournal marks a run stopped because the journal could not be written:
// going on unjournaled could apply an operation twice.
var ErrJournal = errors.New("journal write failed")

func (c *Config) defaults() error {
	if c.Journal == nil {
		return errors.New("exec: no journal")
	}
	for name, vc := range c.Vendors {
		if vc.Vendor == nil {
			return fmt.Errorf("exec: vendor %s has no client", name)
		}
		if vc.Concurrency <= 0 {
			vc.Concurrency = 4
			c.Vendors[name] = vc
		}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.BaseBackoff)
	if c.ReadBatch <= 0 {
		c.ReadBatch = 100
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		c.Rand = rand.New(rand.NewPCG(seed, seed>>1|1))
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
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

// backoff is the pause before try number attempt+1 of something that
// failed attempt times: exponential from BaseBackoff, capped at MaxBackoff,
// with "equal jitter" (half fixed, half random) so a herd of retries
// spreads out and none comes back at once. A Retry-After longer than that
// wins.
func (c *Config) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.BaseBackoff
	for i := 1; i < attempt && d < c.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxBackoff)
	d = d/2 + time.Duration(c.Rand.Int64N(int64(d/2)+1))
	return max(d, retryAfter)
}
