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
// batching, and what becomes of an operation whose request failed for a
// passing reason: under the one retry policy (internal/retry) it is sent
// again or checked against live state for as long as its budget
// (Config.MaxElapsed) lasts, and never failed for good for it. What is
// still unresolved when the budget is spent is left pending or sent in the
// journal, for the next run (Result.Unresolved, UnresolvedError).
package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/retry"
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
	// MaxAttempts is how many times in a row one request is tried before
	// its operation pauses MaxBackoff (a round, retry.Policy); default 6.
	// A 429 is not a try.
	MaxAttempts int
	// MaxElapsed is the budget of one operation: how long, from its first
	// send in this Run, it may keep being sent again or checked; default
	// 5m. A vendor that is down for less costs time, not a failed night.
	MaxElapsed time.Duration
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
	// Now is the clock of the summary's durations and of the budgets;
	// default time.Now.
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
	// Unresolved lists the operations whose budget was spent while their
	// vendor kept failing for a passing reason: sent ones whose outcome
	// could not be read back stay "sent" in the journal (the next run
	// checks them first), pending ones stay pending. None of them failed
	// for good; UnresolvedError says which vendor could not be reached.
	Unresolved []plan.OpRecord
	// Unreachable is, per vendor with unresolved operations, what the
	// executor last heard from it, in vendor order.
	Unreachable []Unreachable

	maxElapsed time.Duration
}

// Unreachable is one vendor the executor gave up on for this run.
type Unreachable struct {
	Vendor plan.VendorName
	// Endpoint is the vendor's address, when its client tells it
	// (Endpointer).
	Endpoint string
	// Operations counts its unresolved operations.
	Operations int
	// LastError is the last failure of its requests.
	LastError string
}

// Endpointer is the optional ability of a vendor client to say the
// address it talks to, for the message naming an unreachable vendor. Both
// vendor clients implement it; the address holds no secret.
type Endpointer interface {
	Endpoint() string
}

// UnresolvedError is the run's condition when operations were left
// unresolved: a vendor could not be reached (or read back) within
// retry.max_elapsed. The run is resumable: nothing failed for good, the
// next apply of the same input checks and sends what is left. SPEC §3 maps
// it to exit 1.
type UnresolvedError struct {
	RunID      int64
	MaxElapsed time.Duration
	Vendors    []Unreachable
}

func (e *UnresolvedError) Error() string {
	var b strings.Builder
	ops := 0
	for i, v := range e.Vendors {
		if i > 0 {
			b.WriteString("; ")
		}
		ops += v.Operations
		b.WriteString(string(v.Vendor))
		if v.Endpoint != "" {
			fmt.Fprintf(&b, " at %s", v.Endpoint)
		}
		fmt.Fprintf(&b, " could not be reached or read back within retry.max_elapsed (%s): %s unresolved", e.MaxElapsed, operations(v.Operations))
		if v.LastError != "" {
			fmt.Fprintf(&b, " (last error: %s)", v.LastError)
		}
	}
	fmt.Fprintf(&b, "; run %d stays open and is resumable: run the same command again once the vendor is back (%s to check or send)", e.RunID, operations(ops))
	return b.String()
}

func operations(n int) string { return english.Count(n, "operation") }

// UnresolvedError returns the *UnresolvedError of a run that left
// operations unresolved, or nil.
func (r *Result) UnresolvedError() error {
	if len(r.Unresolved) == 0 {
		return nil
	}
	return &UnresolvedError{RunID: r.Summary.RunID, MaxElapsed: r.maxElapsed, Vendors: r.Unreachable}
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
		c.MaxAttempts = retry.DefaultMaxAttempts
	}
	if c.MaxElapsed <= 0 {
		c.MaxElapsed = retry.DefaultMaxElapsed
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = retry.DefaultBase
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = retry.DefaultMax
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
		c.Sleep = retry.Sleep
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// policy is the retry policy of Config, its jitter drawn from Rand under
// mu (Rand is not safe for concurrent use; verification reads run
// concurrently).
func (c *Config) policy(mu *sync.Mutex) retry.Policy {
	return retry.Policy{
		MaxAttempts: c.MaxAttempts, MaxElapsed: c.MaxElapsed, Base: c.BaseBackoff, Max: c.MaxBackoff,
		Now: c.Now, Sleep: c.Sleep,
		Rand: func(n int64) int64 {
			mu.Lock()
			defer mu.Unlock()
			return c.Rand.Int64N(n)
		},
	}.WithDefaults()
}
