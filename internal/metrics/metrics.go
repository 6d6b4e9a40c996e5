// Package metrics is numsync's account of one run for Prometheus: a file
// for node-exporter's textfile collector, written whole and atomically by
// Prometheus's own client (prometheus.WriteToTextfile) and valid on every
// path a run can end on, a success or not. Every metric carries the
// command (plan, apply) as a label, so the files of both commands can sit
// in one collector directory without clashing.
package metrics

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
)

// Outcome is how a run ended, one of Outcomes.
type Outcome string

// The outcomes of a run, as numsync_last_run_outcome's outcome label.
const (
	// Done: apply did every operation.
	Done Outcome = "done"
	// NothingToDo: apply found every managed number in step.
	NothingToDo Outcome = "nothing_to_do"
	// AlreadyApplied: the saved plan was applied by an earlier run.
	AlreadyApplied Outcome = "already_applied"
	// Planned: plan made its plan (whether or not it has changes).
	Planned Outcome = "planned"
	// Failed: apply finished, some operations failed for good.
	Failed Outcome = "failed"
	// Unresolved: some operations were sent and their outcome could not
	// be read back; the next apply checks them first.
	Unresolved Outcome = "unresolved"
	// Refused: the safety threshold refused the plan; nothing was changed.
	Refused Outcome = "refused"
	// Stale: the saved plan no longer matched; nothing was changed.
	Stale Outcome = "stale"
	// Interrupted: apply stopped at --max-duration or a signal.
	Interrupted Outcome = "interrupted"
	// Locked: another run held the journal's lock.
	Locked Outcome = "locked"
	// LockLost: another run took the journal's lock over mid-run.
	LockLost Outcome = "lock_lost"
	// Error: anything else (config, CSV, a vendor unreachable).
	Error Outcome = "error"
)

// Outcomes lists every outcome: numsync_last_run_outcome has a series for
// each (1 for the run's, 0 for the others), so an alert can test one.
var Outcomes = []Outcome{Done, NothingToDo, AlreadyApplied, Planned, Failed, Unresolved, Refused, Stale, Interrupted, Locked, LockLost, Error}

// Success reports whether an outcome counts as a success for
// numsync_last_success_timestamp_seconds.
func (o Outcome) Success() bool {
	return o == Done || o == NothingToDo || o == AlreadyApplied || o == Planned
}

// opStates are the states numsync_operations reports for each vendor and
// action, all of them, zero included.
var opStates = []string{"done", "failed", "skipped", "pending", "unresolved"}

// LastSuccess is the metric a cron job's staleness alert reads.
const LastSuccess = "numsync_last_success_timestamp_seconds"

// Recorder collects one run's metrics. Its methods are safe for
// concurrent use (ObserveRequest is called from the HTTP transport).
type Recorder struct {
	command string
	now     func() time.Time
	started time.Time

	mu         sync.Mutex
	vendors    map[string]bool
	requests   map[string]int
	throttled  map[string]int
	httpErrors map[string]int
	plan       *plan.Plan
	summary    *exec.Summary
	runID      int64
}

// New starts the record of one run of command; now is the clock (time.Now
// outside tests).
func New(command string, now func() time.Time) *Recorder {
	return &Recorder{command: command, now: now, started: now(), vendors: map[string]bool{},
		requests: map[string]int{}, throttled: map[string]int{}, httpErrors: map[string]int{}}
}

// AddVendor declares a configured vendor, so its request counts are
// written (as 0) even when the run sent it nothing.
func (r *Recorder) AddVendor(vendor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vendors[vendor] = true
}

// ObserveRequest counts one HTTP request to vendor and how it was
// answered: status 429 is a throttle, 5xx or err an error.
func (r *Recorder) ObserveRequest(vendor string, status int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vendors[vendor] = true
	r.requests[vendor]++
	switch {
	case err != nil || status >= 500:
		r.httpErrors[vendor]++
	case status == 429:
		r.throttled[vendor]++
	}
}

// Plan records the plan the run made or read: planned operations, the
// numbers out of step, held and unmanaged, the safety verdicts.
func (r *Recorder) Plan(p *plan.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan = p
}

// Apply records what the executor did (s may be nil when nothing was
// sent) and the journal's run id (0 when none).
func (r *Recorder) Apply(runID int64, s *exec.Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runID, r.summary = runID, s
}

// Write writes the metrics of the run, which ended with outcome and exit
// code, to path, atomically. numsync_last_success_timestamp_seconds is
// now on a success; otherwise it keeps the value the previous file at
// path held (0 when there was none): the file is rewritten whole each
// run, and a failure must not make the last success look recent, nor
// forget it.
func (r *Recorder) Write(path string, outcome Outcome, exitCode int) error {
	reg, err := r.registry(path, outcome, exitCode)
	if err != nil {
		return err
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics: write %s: %w", path, err)
	}
	return nil
}

// registry builds the run's metrics in a registry of their own.
func (r *Recorder) registry(path string, outcome Outcome, exitCode int) (*prometheus.Registry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	reg := prometheus.NewRegistry()
	in := prometheus.WrapRegistererWith(prometheus.Labels{"command": r.command}, reg)
	gauge := func(name, help string, value float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(value)
		in.MustRegister(g)
	}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		in.MustRegister(g)
		return g
	}
	unix := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

	last := 0.0
	if outcome.Success() {
		last = unix(now)
	} else if prev, ok := previousSuccess(path, r.command); ok {
		last = prev
	}
	gauge(LastSuccess, "When the command last succeeded (apply: every operation done or nothing to do; plan: a plan made), in Unix seconds; 0 if never.", last)
	gauge("numsync_last_run_timestamp_seconds", "When the last run ended, in Unix seconds.", unix(now))
	gauge("numsync_last_run_duration_seconds", "Wall time of the last run.", now.Sub(r.started).Seconds())
	gauge("numsync_last_run_exit_code", "Exit code of the last run (see numsync's exit codes).", float64(exitCode))
	success := 0.0
	if outcome.Success() {
		success = 1
	}
	gauge("numsync_last_run_success", "1 when the last run succeeded, 0 otherwise.", success)
	outcomes := vec("numsync_last_run_outcome", "How the last run ended: 1 for its outcome, 0 for the others.", "outcome")
	for _, o := range Outcomes {
		v := 0.0
		if o == outcome {
			v = 1
		}
		outcomes.WithLabelValues(string(o)).Set(v)
	}
	if r.runID > 0 {
		gauge("numsync_run_id", "Journal id of the last apply run.", float64(r.runID))
	}

	vendors := map[string]bool{}
	for v := range r.vendors {
		vendors[v] = true
	}
	if r.plan != nil {
		for v := range r.plan.Vendors {
			vendors[string(v)] = true
		}
	}
	if r.summary != nil {
		for _, v := range r.summary.Vendors {
			vendors[string(v.Vendor)] = true
		}
	}
	names := sortedKeys(vendors)
	requests := vec("numsync_vendor_requests", "HTTP requests sent to the vendor in the last run.", "vendor")
	throttled := vec("numsync_vendor_throttled", "HTTP 429 (too many requests) answers from the vendor in the last run.", "vendor")
	httpErrors := vec("numsync_vendor_request_errors", "HTTP requests to the vendor that failed (no answer, or a 5xx) in the last run.", "vendor")
	for _, v := range names {
		requests.WithLabelValues(v).Set(float64(r.requests[v]))
		throttled.WithLabelValues(v).Set(float64(r.throttled[v]))
		httpErrors.WithLabelValues(v).Set(float64(r.httpErrors[v]))
	}

	if p := r.plan; p != nil {
		planned := vec("numsync_plan_operations", "Operations the last run's plan holds, by vendor and action.", "vendor", "action")
		outOfStep := vec("numsync_numbers_out_of_step", "Numbers the plan would change at the vendor (0: in step with the CSV).", "vendor")
		held := vec("numsync_numbers_held", "Numbers the vendor listed.", "vendor")
		unmanaged := vec("numsync_numbers_unmanaged", "Numbers the vendor holds and the CSV omits.", "vendor")
		refused := vec("numsync_safety_refused", "1 when the safety checks refuse the plan at the vendor (apply would exit 4).", "vendor")
		changed := vec("numsync_numbers_changed_outside", "Planned operations on numbers changed at the vendor outside numsync since numsync last wrote or read them.", "vendor")
		numbers := map[plan.VendorName]map[string]bool{}
		for _, op := range p.Ops {
			if numbers[op.Vendor] == nil {
				numbers[op.Vendor] = map[string]bool{}
			}
			numbers[op.Vendor][op.Number] = true
		}
		for _, name := range sortedKeys(p.Vendors) {
			s := p.Vendors[name]
			v := string(name)
			for _, a := range sortedKeys(s.Counts) {
				planned.WithLabelValues(v, string(a)).Set(float64(s.Counts[a]))
			}
			outOfStep.WithLabelValues(v).Set(float64(len(numbers[name])))
			held.WithLabelValues(v).Set(float64(s.Held))
			unmanaged.WithLabelValues(v).Set(float64(s.Unmanaged))
			bad := 0.0
			if !s.Safety.OK && !s.Safety.Forced {
				bad = 1
			}
			refused.WithLabelValues(v).Set(bad)
			changed.WithLabelValues(v).Set(float64(s.ChangedOutside))
		}
	}

	ops := vec("numsync_operations", "Operations of the last run by vendor, action and state (pending: not sent, as when the run was refused, stale or stopped).", "vendor", "action", "state")
	if r.command == "apply" {
		retries := vec("numsync_operation_retries", "Operation resends (a retry of an operation sent before) by vendor in the last run.", "vendor")
		attempts := vec("numsync_operation_attempts", "Operation sends by vendor in the last run.", "vendor")
		batches := vec("numsync_batch_requests", "Batch (apply) requests sent by vendor in the last run.", "vendor")
		byVendor := map[string]exec.VendorSummary{}
		if r.summary != nil {
			for _, v := range r.summary.Vendors {
				byVendor[string(v.Vendor)] = v
			}
		}
		for _, v := range names {
			retries.WithLabelValues(v).Set(float64(byVendor[v].Retries))
			attempts.WithLabelValues(v).Set(float64(byVendor[v].Attempts))
			batches.WithLabelValues(v).Set(float64(byVendor[v].Requests))
		}
	}
	switch {
	case r.summary != nil:
		s := r.summary
		rate := vec("numsync_numbers_per_second", "Operations applied per second by vendor and action in the last run.", "vendor", "action")
		for _, v := range s.Vendors {
			vn := string(v.Vendor)
			for _, a := range v.Actions {
				an := string(a.Action)
				for i, n := range []int{a.Done, a.Failed, a.Skipped, a.Pending, a.Unresolved} {
					ops.WithLabelValues(vn, an, opStates[i]).Set(float64(n))
				}
				rate.WithLabelValues(vn, an).Set(a.NumbersPerSecond)
			}
		}
		interrupted := 0.0
		if s.Interrupted {
			interrupted = 1
		}
		gauge("numsync_apply_interrupted", "1 when the last apply stopped before every operation was finished.", interrupted)
	case r.plan != nil && r.command == "apply":
		// Nothing was sent (refused, stale, locked, an error before the
		// executor): every planned operation is still pending.
		for _, name := range sortedKeys(r.plan.Vendors) {
			s := r.plan.Vendors[name]
			for _, a := range sortedKeys(s.Counts) {
				for _, st := range opStates {
					n := 0
					if st == "pending" {
						n = s.Counts[a]
					}
					ops.WithLabelValues(string(name), string(a), st).Set(float64(n))
				}
			}
		}
	}
	return reg, nil
}

// previousSuccess reads numsync_last_success_timestamp_seconds for command
// from the metrics file a previous run wrote at path.
func previousSuccess(path, command string) (float64, bool) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer fh.Close()
	families, err := Parse(fh)
	if err != nil {
		return 0, false
	}
	mf, ok := families[LastSuccess]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "command" && l.GetValue() == command && m.GetGauge() != nil {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// Parse reads a file in the Prometheus text format, as node-exporter's
// textfile collector does; an error means the collector would drop it.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// ParseFile is Parse of the file at path.
func ParseFile(path string) (map[string]*dto.MetricFamily, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return Parse(fh)
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, k int) bool { return out[i] < out[k] })
	return out
}
