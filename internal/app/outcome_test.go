package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

// TestOutcomeZeroIsInvalid: a result nobody decided cannot pass for any
// outcome, and every outcome has a name of its own.
func TestOutcomeZeroIsInvalid(t *testing.T) {
	var zero Outcome
	if zero.Valid() || zero.Success() {
		t.Errorf("the zero Outcome is valid (%v) or a success (%v)", zero.Valid(), zero.Success())
	}
	seen := map[string]Outcome{}
	for o := OutcomeDone; o <= OutcomeLocked; o++ {
		if !o.Valid() {
			t.Errorf("%d is not valid", o)
		}
		if prev, dup := seen[o.String()]; dup || o.String() == "" {
			t.Errorf("%d and %d are both named %q", prev, o, o.String())
		}
		seen[o.String()] = o
	}
	if (OutcomeLocked + 1).Valid() {
		t.Error("an outcome past the last is valid")
	}
	for _, o := range []Outcome{OutcomeDone, OutcomeNothingToDo, OutcomeAlreadyApplied} {
		if !o.Success() {
			t.Errorf("%s is not a success", o)
		}
	}
	for _, o := range []Outcome{OutcomeFailed, OutcomeUnresolved, OutcomeInterrupted, OutcomeLockLost, OutcomeRefused, OutcomeStale, OutcomeLocked} {
		if o.Success() {
			t.Errorf("%s is a success", o)
		}
	}
}

// refusingVendor fails the test if the lifecycle reads or sends anything.
type refusingVendor struct {
	plan.Vendor
	t *testing.T
}

func (v refusingVendor) Name() plan.VendorName { return plan.OneUC }
func (v refusingVendor) List(context.Context, func(plan.State) error) error {
	v.t.Error("the vendor was listed")
	return errors.New("no")
}

// TestApplyLockedReadsNothing: with another apply holding the journal's
// lock, Apply ends OutcomeLocked naming the holder, before reading any
// vendor, and leaves the lock to its holder.
func TestApplyLockedReadsNothing(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	other := journal.LockInfo{Host: "elsewhere", PID: 4242, Command: "apply nightly.csv"}
	lock, err := j.Lock(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release(ctx)

	res, err := Apply(ctx, ApplyRequest{
		Desired: &plan.Desired{SHA256: "abc"},
		Vendors: Vendors{OneUC: refusingVendor{t: t}},
		Journal: j,
		Holder:  journal.LockInfo{Host: "here", PID: 1, Command: "apply other.csv"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeLocked || res.Holder == nil || res.Holder.Holder != other {
		t.Fatalf("Apply = %v holder %+v, want locked by %+v", res.Outcome, res.Holder, other)
	}
	if _, err := j.Lock(ctx, journal.LockInfo{Host: "third", PID: 7}); err == nil {
		t.Error("the holder's lock was released by the apply it refused")
	}
}

// signalHandler is a slog handler that closes ch at the first record whose
// message is msg.
type signalHandler struct {
	msg  string
	once *sync.Once
	ch   chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// TestApplyStopsWhenItsLockIsTakenOver: the lifecycle owns the lock: when
// another apply takes it over (this one looked dead), the run stops
// sending after the batch in flight and ends OutcomeLockLost, resumable.
func TestApplyStopsWhenItsLockIsTakenOver(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.Open(ctx, path, journal.WithHeartbeat(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	// The other apply's clock is an hour ahead: this one's heartbeat looks
	// an hour old to it.
	later, err := journal.Open(ctx, path, journal.WithClock(func() time.Time { return time.Now().Add(time.Hour) }), journal.WithHeartbeat(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()

	stopped := signalHandler{msg: "another run took the journal's lock: stopping", once: new(sync.Once), ch: make(chan struct{})}
	var numbers []string
	for i := range 3 {
		numbers = append(numbers, fmt.Sprintf("+1212555010%d", i))
	}
	fake := plantest.New(plantest.Config{BatchSize: 1, Hook: func(ctx context.Context, seq int, _ []plan.Op) {
		if seq != 1 {
			return
		}
		if _, err := later.Lock(ctx, journal.LockInfo{Host: "other", PID: 99, Command: "apply"}); err != nil {
			t.Errorf("take over: %v", err)
		}
		select {
		case <-stopped.ch:
		case <-time.After(time.Minute): // hang guard only
			t.Error("the apply never learned its lock was taken over")
		}
	}})
	p := &plan.Plan{Version: plan.PlanVersion, Vendors: map[plan.VendorName]*plan.VendorSummary{plan.OneUC: {Held: 3, Complete: true}}}
	for _, n := range numbers {
		fake.Seed(plan.State{Number: n, Status: plan.StatusReserved})
		p.Ops = append(p.Ops, plan.Op{ID: plan.OpID(plan.OneUC, plan.Activate, n), Vendor: plan.OneUC, Action: plan.Activate, Number: n,
			Before: plan.State{Status: plan.StatusReserved}, After: plan.State{Status: plan.StatusInService}})
	}

	res, err := Apply(ctx, ApplyRequest{
		Saved:       p,
		Vendors:     Vendors{OneUC: fake},
		Journal:     j,
		Holder:      journal.LockInfo{Host: "here", PID: 1, Command: "apply p.json"},
		Concurrency: map[plan.VendorName]int{plan.OneUC: 1},
		Log:         slog.New(stopped),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeLockLost {
		t.Fatalf("outcome %s, want %s", res.Outcome, OutcomeLockLost)
	}
	if n := len(fake.Calls()); n != 1 {
		t.Errorf("%d batches sent, want 1: sending must stop once the lock is lost", n)
	}
	run, err := j.Run(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if !journal.Resumable(run.Outcome) || run.Counts[string(plan.StatePending)] != 2 {
		t.Errorf("run %d: outcome %q, counts %v; want it open with 2 pending", run.ID, run.Outcome, run.Counts)
	}
}

// logCapture keeps every record's message and attributes.
type logCapture struct {
	mu   *sync.Mutex
	recs *[]string
}

func (h logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h logCapture) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	h.mu.Lock()
	*h.recs = append(*h.recs, line)
	h.mu.Unlock()
	return nil
}
func (h logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logCapture) WithGroup(string) slog.Handler      { return h }

// TestTakeoverWarningSaysWhy: an apply that takes the lock over says why:
// the holder's process is gone from this host (a kill -9, then a rerun at
// once: its heartbeat is not even late), or the holder stopped
// heart-beating past the lease (another host, which cannot see its pid).
func TestTakeoverWarningSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		holder  journal.LockInfo
		ahead   time.Duration
		want    string
		notWant string
	}{
		{"killed on this host", journal.LockInfo{Host: "here", PID: 4242, Command: "apply"}, 0,
			"from a holder whose process is gone (no such process on this host) host=here pid=4242", "heart-beating"},
		{"silent on another host", journal.LockInfo{Host: "there", PID: 4242, Command: "apply"}, time.Hour,
			"from a holder that stopped heart-beating host=there pid=4242", "process is gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "j.db")
			alive := journal.WithProcessCheck(func(pid int) bool { return pid != 4242 })
			// The killed holder: its lock stays, and it never beats again.
			dead, err := journal.Open(ctx, path, alive, journal.WithHeartbeatTicks(make(chan time.Time)))
			if err != nil {
				t.Fatal(err)
			}
			defer dead.Close()
			if _, err := dead.Lock(ctx, tc.holder); err != nil {
				t.Fatal(err)
			}
			now := func() time.Time { return time.Now().Add(tc.ahead) }
			j, err := journal.Open(ctx, path, alive, journal.WithClock(now), journal.WithHeartbeat(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var (
				mu   sync.Mutex
				recs []string
			)
			p := &plan.Plan{Version: plan.PlanVersion, Vendors: map[plan.VendorName]*plan.VendorSummary{plan.OneUC: {Complete: true}}}
			res, err := Apply(ctx, ApplyRequest{
				Saved:   p,
				Vendors: Vendors{OneUC: plantest.New(plantest.Config{})},
				Journal: j,
				Holder:  journal.LockInfo{Host: "here", PID: 5000, Command: "apply p.json"},
				Log:     slog.New(logCapture{mu: &mu, recs: &recs}),
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.TookOver == nil || res.TookOver.Holder != tc.holder {
				t.Fatalf("TookOver = %+v, want %+v", res.TookOver, tc.holder)
			}
			mu.Lock()
			defer mu.Unlock()
			var warned string
			for _, r := range recs {
				if strings.HasPrefix(r, "took over the journal's lock") {
					warned = r
				}
			}
			if !strings.Contains(warned, tc.want) || strings.Contains(warned, tc.notWant) {
				t.Errorf("warning %q, want it to contain %q", warned, tc.want)
			}
		})
	}
}
