package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/metrics"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// promFile is a metrics file read back as node-exporter's textfile
// collector reads it.
type promFile map[string]*dto.MetricFamily

// readProm parses the file with prometheus/common's text parser (a file it
// refuses, the collector drops whole) and, when promtool is on PATH, lints
// it with 'promtool check metrics'.
func readProm(t *testing.T, path string) promFile {
	t.Helper()
	families, err := metrics.ParseFile(path)
	if err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("%s does not parse: %v\n%s", path, err, b)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		b, _ := os.ReadFile(path)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(string(b))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics %s: %v\n%s", path, err, out)
		}
	}
	return families
}

// value returns the gauge of name whose labels include want, and whether
// there is one.
func (f promFile) value(name string, want ...string) (float64, bool) {
	mf, ok := f[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				match = false
			}
		}
		if match {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// sum adds the gauges of name whose labels include want.
func (f promFile) sum(name string, want ...string) float64 {
	total := 0.0
	for _, m := range f[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				match = false
			}
		}
		if match {
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

// must returns value's gauge, failing the test when it is missing.
func (f promFile) must(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := f.value(name, labels...)
	if !ok {
		t.Errorf("no %s%v", name, labels)
	}
	return v
}

// checkRun checks what every metrics file must say of its run: the
// command and outcome, the exit code, a last-run time within the run, and
// the last success (now on success, else the value carried over).
func checkRun(t *testing.T, f promFile, command string, outcome metrics.Outcome, code int, from, to time.Time, lastSuccess float64) {
	t.Helper()
	for _, o := range metrics.Outcomes {
		want := 0.0
		if o == outcome {
			want = 1
		}
		if got := f.must(t, "numsync_last_run_outcome", "command", command, "outcome", string(o)); got != want {
			t.Errorf("%s: numsync_last_run_outcome{outcome=%q} = %v, want %v", command, o, got, want)
		}
	}
	if got := f.must(t, "numsync_last_run_exit_code", "command", command); got != float64(code) {
		t.Errorf("exit code metric %v, want %d", got, code)
	}
	at := f.must(t, "numsync_last_run_timestamp_seconds", "command", command)
	if at < float64(from.Unix()) || at > float64(to.Unix()+1) {
		t.Errorf("numsync_last_run_timestamp_seconds %v is not within the run (%d–%d)", at, from.Unix(), to.Unix())
	}
	last := f.must(t, metrics.LastSuccess, "command", command)
	if outcome.Success() {
		if last != at {
			t.Errorf("%s = %v on a success, want the run's end %v", metrics.LastSuccess, last, at)
		}
	} else if last != lastSuccess {
		t.Errorf("%s = %v after a %s, want %v carried over", metrics.LastSuccess, last, outcome, lastSuccess)
	}
}

// TestMetricsOnEveryPath runs the built binary through each way a run can
// end and reads every metrics file back: changes, nothing to do (the run
// that wrote numsync_apply_last_run_timestamp_seconds twice and
// -62135596800), failures, refused, stale, interrupted, locked out, a
// vendor unreachable, and plan with numbers out of step.
func TestMetricsOnEveryPath(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 31}, smallSeed(10, 6))
	c := newCLI(t, l.URL, nil)
	prom := c.path("numsync.prom")
	planProm := c.path("plan.prom")
	step := func(name string, want int, args ...string) (promFile, time.Time, time.Time) {
		t.Helper()
		from := time.Now()
		code, out, errOut := c.bin(append([]string{"--metrics-file", prom}, args...)...)
		to := time.Now()
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", name, code, want, out, errOut)
		}
		return readProm(t, prom), from, to
	}

	// plan: two numbers out of step at First Orion (6 held, 8 wanted).
	eight := c.writeFile("eight.csv", smallCSV(8))
	from := time.Now()
	if code, out, errOut := c.bin("--metrics-file", planProm, "plan", eight, "--detailed-exitcode"); code != ExitChanges {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	pf := readProm(t, planProm)
	checkRun(t, pf, "plan", metrics.Planned, ExitChanges, from, time.Now(), 0)
	if got := pf.must(t, "numsync_numbers_out_of_step", "command", "plan", "vendor", "firstorion"); got != 2 {
		t.Errorf("numbers out of step at firstorion: %v, want 2", got)
	}
	if got := pf.must(t, "numsync_plan_operations", "vendor", "firstorion", "action", "assign"); got != 2 {
		t.Errorf("planned assigns: %v, want 2", got)
	}
	if got := pf.must(t, "numsync_numbers_held", "vendor", "oneuc"); got != 10 {
		t.Errorf("held at oneuc: %v", got)
	}
	if got := pf.must(t, "numsync_vendor_requests", "command", "plan", "vendor", "firstorion"); got < 2 {
		t.Errorf("plan's requests to firstorion: %v", got)
	}

	// changes: both assigned.
	f, from, to := step("changes", 0, "apply", eight)
	checkRun(t, f, "apply", metrics.Done, 0, from, to, 0)
	success := f.must(t, metrics.LastSuccess, "command", "apply")
	if got := f.must(t, "numsync_operations", "vendor", "firstorion", "action", "assign", "state", "done"); got != 2 {
		t.Errorf("assigns done: %v", got)
	}
	for _, name := range []string{"numsync_vendor_requests", "numsync_vendor_throttled", "numsync_vendor_request_errors", "numsync_operation_retries"} {
		f.must(t, name, "vendor", "oneuc")
		f.must(t, name, "vendor", "firstorion")
	}
	if got := f.must(t, "numsync_run_id", "command", "apply"); got != 1 {
		t.Errorf("run id %v", got)
	}

	// nothing to do: valid, a success, timestamps of this run.
	f, from, to = step("nothing to do", 0, "apply", eight)
	checkRun(t, f, "apply", metrics.NothingToDo, 0, from, to, 0)
	if got := f.must(t, metrics.LastSuccess, "command", "apply"); got <= success {
		t.Errorf("nothing to do did not advance the last success: %v after %v", got, success)
	}
	success = f.must(t, metrics.LastSuccess, "command", "apply")

	// failures: numbers 10 and 11 are not to be had from the carrier.
	twelve := c.writeFile("twelve.csv", smallCSV(12))
	f, from, to = step("failures", ExitFailed, "apply", twelve)
	checkRun(t, f, "apply", metrics.Failed, ExitFailed, from, to, success)
	if got := f.must(t, "numsync_operations", "vendor", "oneuc", "action", "activate", "state", "failed"); got != 2 {
		t.Errorf("failed activations: %v", got)
	}

	// refused: pruning 8 of 10 is past the threshold; the plan's
	// operations are pending.
	two := c.writeFile("two.csv", smallCSV(2))
	f, from, to = step("refused", ExitRefused, "apply", two, "--prune")
	checkRun(t, f, "apply", metrics.Refused, ExitRefused, from, to, success)
	if got := f.must(t, "numsync_safety_refused", "vendor", "oneuc"); got != 1 {
		t.Errorf("safety refused at oneuc: %v", got)
	}
	if got := f.sum("numsync_operations", "vendor", "oneuc", "state", "pending"); got != 8 {
		t.Errorf("pending operations of a refused plan: %v", got)
	}

	// stale: a saved plan, then a change by hand at the vendor.
	saved := c.path("saved.json")
	c.mustRun(0, "plan", "--desired", c.writeFile("nine.csv", "phone_number,cnam\n"+smallNumber(0)+",NEW NAME\n"), "--out", saved)
	if err := l.OneUC.Seed(oulab.Seed{Numbers: []oulab.SeedNumber{{Number: smallNumber(0), State: "in_service", CNAM: "BY HAND"}}}); err != nil {
		t.Fatal(err)
	}
	f, from, to = step("stale", ExitStale, "apply", saved)
	checkRun(t, f, "apply", metrics.Stale, ExitStale, from, to, success)

	// interrupted: --max-duration ends the run before anything is sent.
	f, from, to = step("interrupted", ExitDuration, "apply", twelve, "--max-duration", "1ns")
	checkRun(t, f, "apply", metrics.Interrupted, ExitDuration, from, to, success)

	// a vendor unreachable: the address of a closed listener.
	down := filepath.Join(c.dir, "down.yaml")
	// An unreachable vendor is retried for retry.max_elapsed (5m by
	// default) before apply gives up: keep the budget short here.
	cfg := strings.ReplaceAll(readFile(t, c.config), l.URL, "http://127.0.0.1:1") + "retry:\n  max_elapsed: 2s\n"
	if err := os.WriteFile(down, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	from = time.Now()
	code, out, errOut := runBin(t, c.dir, c.env, "--config", down, "--journal", c.journal, "--no-progress", "--metrics-file", prom, "apply", eight)
	if code != ExitError {
		t.Fatalf("unreachable: exit %d\n%s%s", code, out, errOut)
	}
	f = readProm(t, prom)
	checkRun(t, f, "apply", metrics.Error, ExitError, from, time.Now(), success)
	if got := f.must(t, "numsync_vendor_request_errors", "vendor", "oneuc"); got < 1 {
		t.Errorf("request errors at an unreachable oneuc: %v", got)
	}
}
