package journaltest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/plan"
)

// Workload is a run as a large nightly apply journals it: half OneUC
// activations with CNAM and E911, half First Orion assigns that depend on
// them, every operation with its CSV row (13 cells), and the saved plan.
type Workload struct {
	Ops     []plan.Op
	Records map[string][]string
	Plan    []byte
	Header  []string
}

// NewWorkload returns a workload of n operations.
func NewWorkload(n int) *Workload {
	w := &Workload{Records: make(map[string][]string, n), Header: []string{"Phone Number", "CNAM",
		"E911 Street Address", "E911 Extended Address", "E911 Locality", "E911 Region", "E911 Postal Code",
		"E911 Caller Name", "Brand Business Unit", "Brand Program", "Brand Channel", "Call Purpose Code", "Authenticated Calls"}}
	p := &plan.Plan{Records: map[int][]string{}}
	for i := range n {
		num := fmt.Sprintf("+1212%07d", 2000000+i/2)
		line := i/2 + 2
		var op plan.Op
		street := fmt.Sprintf("%d %s", 1+i%997, []string{"5th Ave", "Market St", "Main St", "Broadway"}[i%4])
		if i%2 == 0 {
			op = plan.Op{Vendor: plan.OneUC, Action: plan.Activate, Number: num, Line: line,
				After: plan.State{Number: num, Status: "in_service", CNAM: ptr(fmt.Sprintf("ACME STORE %d", i%500)),
					E911: &plan.Address{StreetAddress: street, ExtendedAddress: fmt.Sprintf("Suite %d", i%300),
						Locality: "New York", Region: "NY", PostalCode: fmt.Sprintf("10%03d", i%300), CallerName: "Acme Corp"}}}
		} else {
			op = plan.Op{Vendor: plan.FirstOrion, Action: plan.Assign, Number: num, Line: line,
				After:     plan.State{Number: num, BusinessUnit: "bu-east", Program: "p-east-1", Channel: "callerName", CallPurpose: "CS"},
				DependsOn: []string{plan.OpID(plan.OneUC, plan.Activate, num)}}
		}
		op.ID = plan.OpID(op.Vendor, op.Action, num)
		p.Ops = append(p.Ops, op)
		rec := []string{num, fmt.Sprintf("ACME STORE %d", i%500), street, fmt.Sprintf("Suite %d", i%300), "New York", "NY",
			fmt.Sprintf("10%03d", i%300), "Acme Corp", "East", "East Sales", "callerName", "CS", "false"}
		p.Records[line] = rec
		w.Records[op.ID] = rec
	}
	w.Ops = p.Ops
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		panic(err) // a plan of our own making always encodes
	}
	w.Plan = buf.Bytes()
	return w
}

// Start journals the workload's run, every operation pending, and returns
// its id.
func (w *Workload) Start(tb testing.TB, j journal.Store) int64 {
	tb.Helper()
	a, err := j.Start(context.Background(), journal.NewRun{Info: journal.RunInfo{CSVPath: "desired.csv", CSVDigest: "workload",
		Header: w.Header, Args: []string{"apply", "--desired", "desired.csv"}, Plan: w.Plan}, Ops: w.Ops, Records: w.Records})
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

// Apply journals the workload as an apply does: Start, then per batch of
// 100 a MarkSent and a Record (done, First Orion with its reference), then
// Finish. It returns the run's id.
func (w *Workload) Apply(tb testing.TB, j journal.Store) int64 {
	tb.Helper()
	ctx := context.Background()
	id := w.Start(tb, j)
	for s := 0; s < len(w.Ops); s += 100 {
		batch := w.Ops[s:min(len(w.Ops), s+100)]
		ids := make([]string, len(batch))
		ups := make([]plan.OpUpdate, len(batch))
		for i, op := range batch {
			ids[i] = op.ID
			ups[i] = plan.OpUpdate{OpID: op.ID, State: plan.StateDone}
			if op.Vendor == plan.FirstOrion {
				ups[i].Ref = fmt.Sprintf("6f1c2a7e-%04x-4d2b-9c1e-%012x", i, s+i)
			}
		}
		if err := j.MarkSent(ctx, id, ids); err != nil {
			tb.Fatal(err)
		}
		if err := j.Record(ctx, id, ups); err != nil {
			tb.Fatal(err)
		}
	}
	if err := j.Finish(ctx, id, journal.End{Outcome: journal.OutcomeDone, Counts: map[string]int{"done": len(w.Ops)}}); err != nil {
		tb.Fatal(err)
	}
	return id
}
