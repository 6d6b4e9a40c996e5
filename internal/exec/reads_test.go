package exec_test

import (
	"testing"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/plan/plantest"
)

// readCounts is what one vendor's fake was asked to read.
type readCounts struct{ reads, stateReads int }

func countsOf(f *plantest.Fake) readCounts { return readCounts{f.Reads(), f.StateReads()} }

// TestVerifyReads checks which read verification uses: one ReadStates call
// for every number whose operations need only states, Read in chunks of
// ReadBatch for numbers with a CNAM or E911 update (and for a vendor that
// has no StateReader), and never both for one number.
func TestVerifyReads(t *testing.T) {
	acts := func(nums []string) []plan.Op {
		var ops []plan.Op
		for _, n := range nums {
			ops = append(ops, activate(n))
		}
		return ops
	}
	cnams := func(nums []string) []plan.Op {
		var ops []plan.Op
		for _, n := range nums {
			ops = append(ops, cnam(n, "ACME"))
		}
		return ops
	}
	assigns := func(nums []string) []plan.Op {
		var ops []plan.Op
		for _, n := range nums {
			ops = append(ops, assign(n, "bu1", "p1"))
		}
		return ops
	}
	inService := func(nums []string) []plan.State {
		var out []plan.State
		for _, n := range nums {
			out = append(out, plan.State{Number: n, Status: "in_service"})
		}
		return out
	}
	// activateThenCNAM activates numbers and sets their CNAM once active.
	activateThenCNAM := func(nums []string) []plan.Op {
		var ops []plan.Op
		for _, n := range nums {
			a, u := activate(n), cnam(n, "ACME")
			u.DependsOn = []string{a.ID}
			ops = append(ops, a, u)
		}
		return ops
	}

	tests := []struct {
		name       string
		ops        []plan.Op
		seedOU     []plan.State
		drop       string // a number whose writes the OneUC fake drops
		plainOU    bool   // hide the OneUC fake's StateReader
		wantOU     readCounts
		wantFO     readCounts
		wantFailed int
	}{
		{
			name:   "1,000 activations: one ReadStates, no Read",
			ops:    acts(numbers(1000, 0)),
			wantOU: readCounts{0, 1},
		},
		{
			name:       "ReadStates still catches a dropped activation",
			ops:        acts(numbers(1000, 0)),
			drop:       numbers(1, 500)[0],
			wantOU:     readCounts{0, 1},
			wantFailed: 1,
		},
		{
			name:   "1,000 First Orion assigns: one ReadStates (one listing)",
			ops:    assigns(numbers(1000, 0)),
			wantFO: readCounts{0, 1},
		},
		{
			name:   "CNAM updates are verified through Read, in chunks",
			ops:    cnams(numbers(250, 0)),
			seedOU: inService(numbers(250, 0)),
			wantOU: readCounts{3, 0},
		},
		{
			name:   "mixed: activations by ReadStates, updates by Read",
			ops:    append(acts(numbers(500, 0)), cnams(numbers(150, 1000))...),
			seedOU: inService(numbers(150, 1000)),
			wantOU: readCounts{2, 1},
		},
		{
			name:   "a number with an update is read once, with Read",
			ops:    activateThenCNAM(numbers(10, 0)),
			wantOU: readCounts{1, 0},
		},
		{
			name:    "vendor without StateReader: Read in chunks as before",
			ops:     acts(numbers(1000, 0)),
			plainOU: true,
			wantOU:  readCounts{10, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(tt.ops...)
			e.ou.Seed(tt.seedOU...)
			if tt.drop != "" {
				e.ou.DropNumber(tt.drop)
			}
			cfg := e.config(4)
			cfg.Verify = true
			if tt.plainOU {
				cfg.Vendors[plan.OneUC] = exec.VendorConfig{Vendor: plantest.WithoutStateReader(e.ou), Concurrency: 4}
			}
			res := e.mustRun(t, cfg)
			if got := countsOf(e.ou); got != tt.wantOU {
				t.Errorf("OneUC reads %+v, want %+v", got, tt.wantOU)
			}
			if got := countsOf(e.fo); got != tt.wantFO {
				t.Errorf("First Orion reads %+v, want %+v", got, tt.wantFO)
			}
			var reads, verified, failed int
			for _, vs := range res.Summary.Vendors {
				reads += vs.Reads
				verified += vs.Verified
				failed += vs.VerifyFailed
			}
			if failed != tt.wantFailed || verified != len(tt.ops)-tt.wantFailed {
				t.Errorf("verified %d, failed %d; want %d and %d (%+v)",
					verified, failed, len(tt.ops)-tt.wantFailed, tt.wantFailed, res.Failed)
			}
			if want := tt.wantOU.reads + tt.wantOU.stateReads + tt.wantFO.reads + tt.wantFO.stateReads; reads != want {
				t.Errorf("summary counts %d reads, want %d", reads, want)
			}
		})
	}
}

// TestCheckReads checks which read settles operations whose answer was
// lost: ReadStates for all waiting checks that need only states (not one
// Read per ReadBatch), Read for a CNAM update.
func TestCheckReads(t *testing.T) {
	t.Run("lost activation answers: ReadStates, not a Read per chunk", func(t *testing.T) {
		var ops []plan.Op
		for _, n := range numbers(300, 0) {
			ops = append(ops, activate(n))
		}
		e := newEnv(plantest.Config{}, plantest.Config{}).withOps(ops...)
		for seq := 1; seq <= 3; seq++ {
			e.ou.InjectCall(seq, plantest.FaultAppliedUnknown)
		}
		cfg := e.config(3)
		cfg.ReadBatch = 10 // Read would take 30 calls
		res := e.mustRun(t, cfg)
		if !res.Complete() {
			t.Fatalf("not complete: %+v", res.Failed)
		}
		if got := countsOf(e.ou); got.reads != 0 || got.stateReads < 1 || got.stateReads > 3 {
			t.Errorf("reads %+v, want no Read and one ReadStates per lost batch at most", got)
		}
		for _, op := range ops {
			if d := e.ou.Deliveries(op.ID); d != 1 {
				t.Fatalf("%s sent %d times, want once (settled by the read)", op.ID, d)
			}
		}
		if cs := res.Summary.Vendors[0]; cs.CheckedDone != 300 {
			t.Errorf("checked done %d, want 300", cs.CheckedDone)
		}
	})
	tests := []struct {
		name   string
		op     plan.Op
		seed   *plan.State
		wantOU readCounts
		wantFO readCounts
	}{
		{"lost CNAM update: Read", cnam(numbers(1, 0)[0], "ACME"),
			&plan.State{Number: numbers(1, 0)[0], Status: "in_service"}, readCounts{1, 0}, readCounts{}},
		{"lost release: ReadStates", release(numbers(1, 0)[0]),
			&plan.State{Number: numbers(1, 0)[0], Status: "in_service"}, readCounts{0, 1}, readCounts{}},
		{"lost First Orion assign: ReadStates", assign(numbers(1, 0)[0], "bu1", "p1"),
			nil, readCounts{}, readCounts{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(plantest.Config{}, plantest.Config{}).withOps(tt.op)
			f := e.ou
			if tt.op.Vendor == plan.FirstOrion {
				f = e.fo
			}
			if tt.seed != nil {
				f.Seed(*tt.seed)
			}
			f.InjectOp(tt.op.ID, 1, plantest.FaultAppliedUnknown)
			res := e.mustRun(t, e.config(1))
			if got := stateOf(t, res, tt.op.ID); got.State != plan.StateDone {
				t.Fatalf("state %s (%q), want done", got.State, got.LastError)
			}
			if d := f.Deliveries(tt.op.ID); d != 1 {
				t.Errorf("sent %d times, want once", d)
			}
			if got := countsOf(e.ou); got != tt.wantOU {
				t.Errorf("OneUC reads %+v, want %+v", got, tt.wantOU)
			}
			if got := countsOf(e.fo); got != tt.wantFO {
				t.Errorf("First Orion reads %+v, want %+v", got, tt.wantFO)
			}
		})
	}
}
