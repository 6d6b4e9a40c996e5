package app

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
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
