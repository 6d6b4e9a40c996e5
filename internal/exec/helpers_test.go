package exec_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

// env is one test's vendors, journal and shared event log.
type env struct {
	log     *plantest.EventLog
	ou, fo  *plantest.Fake
	journal *plantest.Journal

	mu     sync.Mutex
	sleeps []time.Duration
}

func newEnv(ou, fo plantest.Config) *env {
	e := &env{log: &plantest.EventLog{}}
	ou.Name, fo.Name = plan.OneUC, plan.FirstOrion
	ou.Events, fo.Events = e.log, e.log
	e.ou, e.fo = plantest.New(ou), plantest.New(fo)
	return e
}

// config returns a Config whose Sleep records the pause and returns at
// once (or with ctx's error), so backoffs cost tests nothing.
func (e *env) config(concurrency int) exec.Config {
	return exec.Config{
		Vendors: map[plan.VendorName]exec.VendorConfig{
			plan.OneUC:      {Vendor: e.ou, Concurrency: concurrency},
			plan.FirstOrion: {Vendor: e.fo, Concurrency: concurrency},
		},
		RunID:       7,
		MaxAttempts: 4,
		BaseBackoff: 100 * time.Millisecond,
		MaxBackoff:  time.Second,
		Rand:        rand.New(rand.NewPCG(1, 2)),
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return ctx.Err()
		},
	}
}

// run runs the executor over the journal's records and checks the rule
// every run must keep: each send was journaled as sent before it left.
func (e *env) run(t *testing.T, stop <-chan struct{}, cfg exec.Config) (*exec.Result, error) {
	t.Helper()
	if cfg.Journal == nil {
		cfg.Journal = e.journal
	}
	res, err := exec.Run(t.Context(), stop, cfg, e.journal.Records())
	if bad := e.log.SentBeforeApplied(); len(bad) > 0 {
		t.Errorf("operations applied without a MarkSent before: %v", bad)
	}
	return res, err
}

// mustRun is run for a run that must not fail as a whole.
func (e *env) mustRun(t *testing.T, cfg exec.Config) *exec.Result {
	t.Helper()
	res, err := e.run(t, nil, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func (e *env) withOps(ops ...plan.Op) *env {
	e.journal = plantest.NewJournal(ops...)
	e.journal.Events = e.log
	return e
}

func (e *env) withRecords(recs ...plan.OpRecord) *env {
	e.journal = plantest.NewJournalFrom(recs)
	e.journal.Events = e.log
	return e
}

func numbers(n, from int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1212555%04d", from+i)
	}
	return out
}

func activate(num string) plan.Op {
	return plan.Op{
		ID: plan.OpID(plan.OneUC, plan.Activate, num), Vendor: plan.OneUC, Action: plan.Activate, Number: num,
		Before: plan.State{Number: num}, After: plan.State{Number: num, Status: "in_service"},
	}
}

func release(num string, deps ...string) plan.Op {
	return plan.Op{
		ID: plan.OpID(plan.OneUC, plan.Release, num), Vendor: plan.OneUC, Action: plan.Release, Number: num,
		Before: plan.State{Number: num, Status: "in_service"}, DependsOn: deps,
	}
}

func cnam(num, name string) plan.Op {
	return plan.Op{
		ID: plan.OpID(plan.OneUC, plan.Update, num), Vendor: plan.OneUC, Action: plan.Update, Number: num,
		After: plan.State{Number: num, CNAM: &name},
	}
}

func assign(num, bu, program string, deps ...string) plan.Op {
	after := plan.State{Number: num, BusinessUnit: bu, Program: program}
	if program != "" {
		after.Channel = plan.ChannelCallerName
	}
	return plan.Op{
		ID: plan.OpID(plan.FirstOrion, plan.Assign, num), Vendor: plan.FirstOrion, Action: plan.Assign, Number: num,
		Before: plan.State{Number: num}, After: after, DependsOn: deps,
	}
}

// firstApply returns the position in the log of the first Apply carrying
// each operation, and of the Record that first committed it done.
func positions(log []plantest.Event, j *plantest.Journal) (applied, recorded map[string]int) {
	applied, recorded = map[string]int{}, map[string]int{}
	for _, e := range log {
		for _, id := range e.IDs {
			switch e.Kind {
			case plantest.EventApply:
				if _, ok := applied[id]; !ok {
					applied[id] = e.Seq
				}
			case plantest.EventRecord:
				if r, ok := j.Get(id); ok && r.State == plan.StateDone {
					recorded[id] = e.Seq // the last Record naming it is the one that made it done
				}
			}
		}
	}
	return applied, recorded
}

func stateOf(t *testing.T, res *exec.Result, id string) plan.OpRecord {
	t.Helper()
	i := slices.IndexFunc(res.Ops, func(r plan.OpRecord) bool { return r.Op.ID == id })
	if i < 0 {
		t.Fatalf("operation %s not in the result", id)
	}
	return res.Ops[i]
}
