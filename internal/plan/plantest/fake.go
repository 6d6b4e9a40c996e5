package plantest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/numsync/numsync/internal/plan"
)

// Fault is a transient failure injected into an Apply call.
type Fault int

// The faults a Fake can inject. The zero value injects nothing.
const (
	_ Fault = iota
	// FaultRetry: the vendor did not act and said so (a 429): outcome Retry.
	FaultRetry
	// FaultUnknown: the answer was lost before the vendor acted: outcome
	// Unknown, nothing stored.
	FaultUnknown
	// FaultAppliedUnknown: the vendor acted, then the answer was lost:
	// outcome Unknown, the change stored.
	FaultAppliedUnknown
)

// Config configures a Fake.
type Config struct {
	// Name is the vendor's name; the zero value is plan.OneUC.
	Name plan.VendorName
	// BatchSize is the most operations one batched Apply takes (activate,
	// assign and delete batch; update, move and release do not, as at the
	// real vendors). Zero means 100.
	BatchSize int
	// Latency is how long every Apply and Read takes.
	Latency time.Duration
	// RPS, when positive, paces Apply and Read calls like a client's pacer
	// (burst Burst, at least 1), so benchmarks see a vendor's ceiling.
	RPS   float64
	Burst int
	// RetryAfter is attached to the errors of injected FaultRetry.
	RetryAfter time.Duration
	// ListPage is how many records List yields per page; 0 means one page
	// holding everything. A failure set by FailList is met at the next
	// page, as a vendor's outage is.
	ListPage int
	// Events, when set, receives every Apply, Read and ReadStates.
	Events *EventLog
	// Hook, when set, is called at the start of every Apply with the call's
	// sequence number (from 1) and operations, after the call is counted in
	// flight. Tests use it to block a call or to act while one is running.
	Hook func(ctx context.Context, seq int, ops []plan.Op)
}

// Call is one Apply call as the Fake received it.
type Call struct {
	// Seq is the call's order, from 1.
	Seq int
	// Key is the batch key of its operations.
	Key string
	// OpIDs are the operations in the order given.
	OpIDs []string
}

type opFault struct {
	attempt int
	fault   Fault
}

// Fake is an in-memory plan.Vendor. It applies each operation's After to
// its map of numbers, with the state rules a careful vendor has (an update
// needs the number, a move needs the right phone-number id, a create of a
// number already held is a duplicate), and records what it was asked so a
// test can assert that nothing was applied twice and no more than the
// allowed number of requests ran at once. It is safe for concurrent use.
type Fake struct {
	cfg  Config
	pace *rate.Limiter

	mu          sync.Mutex
	state       map[string]plan.State
	nextID      int
	failNumbers map[string]string
	dropNumbers map[string]bool
	callFaults  map[int]Fault
	opFaults    map[string][]opFault
	readFaults  map[int]error
	allFault    Fault // FailCalls: every Apply call
	listErr     error // FailList: every listing page
	calls       []Call
	reads       int // Read calls
	stateReads  int // ReadStates calls
	deliveries  map[string]int
	applied     map[string]int
	inFlight    int
	maxInFlight int
}

var (
	_ plan.Vendor      = (*Fake)(nil)
	_ plan.StateReader = (*Fake)(nil)
)

// New returns an empty Fake.
func New(cfg Config) *Fake {
	if cfg.Name == "" {
		cfg.Name = plan.OneUC
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	f := &Fake{
		cfg:         cfg,
		state:       map[string]plan.State{},
		failNumbers: map[string]string{},
		dropNumbers: map[string]bool{},
		callFaults:  map[int]Fault{},
		opFaults:    map[string][]opFault{},
		readFaults:  map[int]error{},
		deliveries:  map[string]int{},
		applied:     map[string]int{},
	}
	if cfg.RPS > 0 {
		f.pace = rate.NewLimiter(rate.Limit(cfg.RPS), max(cfg.Burst, 1))
	}
	return f
}

// Seed stores live states, replacing any for the same numbers. A First
// Orion-style state without an ID is given one.
func (f *Fake) Seed(states ...plan.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range states {
		if s.ID == "" && (s.BusinessUnit != "" || f.cfg.Name == plan.FirstOrion) {
			s.ID = f.newIDLocked()
		}
		f.state[s.Number] = s
	}
}

// FailNumber makes every operation on number fail for good with the
// vendor reason code.
func (f *Fake) FailNumber(number, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNumbers[number] = code
}

// DropNumber makes writes to number silently vanish: Apply answers Done
// but stores nothing, the lie verification exists to catch.
func (f *Fake) DropNumber(number string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropNumbers[number] = true
}

// InjectCall makes the seq-th Apply call (from 1) fail as a whole with
// fault.
func (f *Fake) InjectCall(seq int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callFaults[seq] = fault
}

// InjectOp makes the attempt-th delivery (from 1) of the operation fail
// with fault, whatever call carries it.
func (f *Fake) InjectOp(opID string, attempt int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opFaults[opID] = append(f.opFaults[opID], opFault{attempt: attempt, fault: fault})
}

// InjectRead makes the seq-th read (from 1) return err. Read and
// ReadStates calls are counted together, in the order they came, so a
// test of "the check's read fails" holds whichever of the two the code
// under test uses.
func (f *Fake) InjectRead(seq int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readFaults[seq] = err
}

// FailCalls makes every Apply call from now on fail as a whole with fault,
// until FailCalls(0) (InjectCall and InjectOp still take precedence).
func (f *Fake) FailCalls(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allFault = fault
}

// FailList makes every listing page from now on fail with err, until
// FailList(nil): a listing already under way returns err at its next page,
// after the records of the pages before it.
func (f *Fake) FailList(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr = err
}

// Calls returns the Apply calls received, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Reads returns how many Read calls were made (ReadStates not included).
func (f *Fake) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// StateReads returns how many ReadStates calls were made.
func (f *Fake) StateReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stateReads
}

// Deliveries returns how many times the operation was given to Apply.
func (f *Fake) Deliveries(opID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deliveries[opID]
}

// Applications returns how many times the operation took effect: the
// count "nothing applied twice" is about.
func (f *Fake) Applications(opID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[opID]
}

// MaxApplications returns the highest application count of any operation.
func (f *Fake) MaxApplications() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := 0
	for _, n := range f.applied {
		m = max(m, n)
	}
	return m
}

// MaxInFlight returns the most Apply and Read calls that ran at once.
func (f *Fake) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// Get returns the live state of number.
func (f *Fake) Get(number string) (plan.State, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.state[number]
	return s, ok
}

// Name implements plan.Vendor.
func (f *Fake) Name() plan.VendorName { return f.cfg.Name }

// List implements plan.Vendor: every number, in number order, in pages of
// Config.ListPage.
func (f *Fake) List(ctx context.Context, fn func(plan.State) error) error {
	f.mu.Lock()
	states := make([]plan.State, 0, len(f.state))
	for _, s := range f.state {
		states = append(states, s)
	}
	f.mu.Unlock()
	sort.Slice(states, func(i, j int) bool { return states[i].Number < states[j].Number })
	if len(states) == 0 {
		f.mu.Lock()
		err := f.listErr
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
	for i, s := range states {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i == 0 || (f.cfg.ListPage > 0 && i%f.cfg.ListPage == 0) {
			f.mu.Lock()
			err := f.listErr
			f.mu.Unlock()
			if err != nil {
				return err
			}
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// Read implements plan.Vendor: Detailed records, as OneUC's GETs give.
func (f *Fake) Read(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	f.cfg.Events.Add(EventRead, numbers...)
	return f.read(ctx, numbers, true)
}

// ReadStates implements plan.StateReader like OneUC's listing pass: the
// records are not Detailed and carry no CNAM or E911, so code that compares
// those through ReadStates instead of Read sees a difference, as it would
// against OneUC.
func (f *Fake) ReadStates(ctx context.Context, numbers []string) (map[string]plan.State, error) {
	f.cfg.Events.Add(EventReadStates, numbers...)
	return f.read(ctx, numbers, false)
}

// read serves Read (detailed) and ReadStates (not), counting them apart
// and injected faults across both.
func (f *Fake) read(ctx context.Context, numbers []string, detailed bool) (map[string]plan.State, error) {
	f.mu.Lock()
	if detailed {
		f.reads++
	} else {
		f.stateReads++
	}
	injected := f.readFaults[f.reads+f.stateReads]
	f.mu.Unlock()
	defer f.enter()()
	if err := f.wait(ctx); err != nil {
		return nil, &plan.VendorError{Vendor: f.cfg.Name, Code: "timeout", Temporary: true, Err: err}
	}
	if injected != nil {
		return nil, injected
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]plan.State, len(numbers))
	for _, n := range numbers {
		if s, ok := f.state[n]; ok {
			s.Detailed = detailed
			if !detailed {
				s.CNAM, s.E911 = nil, nil
			}
			out[n] = s
		}
	}
	return out, nil
}

// WithoutStateReader hides every optional ability of v, ReadStates
// included, so a test can drive code through plan.Vendor alone, as it
// would a vendor that implements none.
func WithoutStateReader(v plan.Vendor) plan.Vendor {
	return struct{ plan.Vendor }{v}
}

// BatchKey implements plan.Vendor the way the real vendors batch:
// activations together, creations per (business unit, program, channel),
// deletions together; updates, moves and releases one at a time.
func (f *Fake) BatchKey(op plan.Op) (string, int) {
	switch op.Action {
	case plan.Activate, plan.Delete:
		return string(op.Action), f.cfg.BatchSize
	case plan.Assign:
		return fmt.Sprintf("assign/%s/%s/%s", op.After.BusinessUnit, op.After.Program, op.After.Channel), f.cfg.BatchSize
	}
	return "", 1
}

// Apply implements plan.Vendor.
func (f *Fake) Apply(ctx context.Context, ops []plan.Op) []plan.Result {
	ids := make([]string, len(ops))
	for i, op := range ops {
		ids[i] = op.ID
	}
	f.cfg.Events.Add(EventApply, ids...)
	key := ""
	if len(ops) > 0 {
		key, _ = f.BatchKey(ops[0])
	}
	f.mu.Lock()
	seq := len(f.calls) + 1
	f.calls = append(f.calls, Call{Seq: seq, Key: key, OpIDs: ids})
	callFault := f.callFaults[seq]
	if callFault == 0 {
		callFault = f.allFault
	}
	f.mu.Unlock()
	defer f.enter()()
	if f.cfg.Hook != nil {
		f.cfg.Hook(ctx, seq, ops)
	}

	results := make([]plan.Result, len(ops))
	if err := f.wait(ctx); err != nil {
		// The answer never came: as far as the caller knows, the vendor
		// may have acted.
		for i, op := range ops {
			results[i] = f.transient(op, plan.Unknown, "timeout", err)
		}
		return results
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, op := range ops {
		f.deliveries[op.ID]++
		fault := callFault
		for _, of := range f.opFaults[op.ID] {
			if of.attempt == f.deliveries[op.ID] {
				fault = of.fault
			}
		}
		switch fault {
		case FaultRetry:
			results[i] = f.transient(op, plan.Retry, "too_many_requests", nil)
			continue
		case FaultUnknown:
			results[i] = f.transient(op, plan.Unknown, "connection lost", nil)
			continue
		}
		results[i] = f.applyLocked(op)
		if fault == FaultAppliedUnknown {
			results[i] = f.transient(op, plan.Unknown, "connection lost", nil)
		}
	}
	return results
}

// enter counts a call in flight and returns the function that ends it.
func (f *Fake) enter() func() {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}
}

// wait paces the call and spends its latency.
func (f *Fake) wait(ctx context.Context) error {
	if f.pace != nil {
		if err := f.pace.Wait(ctx); err != nil {
			return err
		}
	}
	if f.cfg.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(f.cfg.Latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *Fake) transient(op plan.Op, o plan.Outcome, code string, cause error) plan.Result {
	ve := &plan.VendorError{Vendor: f.cfg.Name, Number: op.Number, Code: code, Temporary: true, Err: cause}
	if o == plan.Retry {
		ve.Status = 429
		ve.RetryAfter = f.cfg.RetryAfter
	}
	return plan.Result{OpID: op.ID, Outcome: o, Err: ve}
}

func (f *Fake) refuse(op plan.Op, code, msg string) plan.Result {
	return plan.Result{OpID: op.ID, Outcome: plan.Failed, Err: &plan.VendorError{
		Vendor: f.cfg.Name, Number: op.Number, Status: 400, Code: code, Message: msg,
	}}
}

func (f *Fake) newIDLocked() string {
	f.nextID++
	return fmt.Sprintf("pn-%06d", f.nextID)
}

// applyLocked carries out one operation against the map.
func (f *Fake) applyLocked(op plan.Op) plan.Result {
	if code, ok := f.failNumbers[op.Number]; ok {
		return f.refuse(op, code, "refused by the fake vendor")
	}
	cur, present := f.state[op.Number]
	next := cur
	next.Number = op.Number
	a := op.After
	switch op.Action {
	case plan.Activate:
		next.Status = plan.StatusInService
	case plan.Release, plan.Delete:
		if !present {
			// Gone already, as asked: both vendors' clients answer Done
			// (OneUC's 404 bad_identifier, First Orion's NOT_FOUND), and
			// nothing is applied.
			return plan.Result{OpID: op.ID, Outcome: plan.Done}
		}
	case plan.Assign, plan.Move:
		switch {
		case op.Action == plan.Assign && present && op.Before.ID == "":
			return f.refuse(op, "DUPLICATE_NUMBER", "number already in the business")
		case op.Action == plan.Move && !present:
			return f.refuse(op, "NOT_FOUND", "number not in the business")
		case present && op.Before.ID != cur.ID:
			return f.refuse(op, "INVALID_RELATIONSHIP", "stale phone-number id "+op.Before.ID)
		}
		if next.ID == "" {
			next.ID = f.newIDLocked()
		}
		if next.Status == "" {
			next.Status = plan.StatusPending
		}
		next.BusinessUnit, next.Program, next.Channel = a.BusinessUnit, a.Program, a.Channel
		if a.Program == "" {
			next.Channel = ""
		}
		if a.CallPurpose != "" {
			next.CallPurpose = a.CallPurpose
		}
		if a.AuthCalls != nil {
			next.AuthCalls = a.AuthCalls
		}
	case plan.Update:
		if !present {
			return f.refuse(op, "NOT_FOUND", "number not held")
		}
		if a.CNAM != nil {
			next.CNAM = a.CNAM
		}
		if a.E911 != nil {
			next.E911 = a.E911
		}
		if a.CallPurpose != "" {
			next.CallPurpose = a.CallPurpose
		}
		if a.AuthCalls != nil {
			next.AuthCalls = a.AuthCalls
		}
	default:
		return plan.Result{OpID: op.ID, Outcome: plan.Failed,
			Err: fmt.Errorf("fake %s: %s: %w", f.cfg.Name, op.Action, plan.ErrNotSupported)}
	}
	if f.dropNumbers[op.Number] {
		return plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: next.ID}
	}
	f.applied[op.ID]++
	if op.Action == plan.Release || op.Action == plan.Delete {
		delete(f.state, op.Number)
		return plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: cur.ID}
	}
	f.state[op.Number] = next
	after := next
	return plan.Result{OpID: op.ID, Outcome: plan.Done, Ref: next.ID, After: &after}
}
