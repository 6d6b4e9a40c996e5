package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/plan"
)

// clock is a fake clock that advances by a second each reading.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Second); return c.t }

func gaugeOf(t *testing.T, path, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := ParseFile(path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	for _, m := range families[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && got[labels[i]] == labels[i+1]
		}
		if ok {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestLastSuccessCarriesOver: a success sets the last success to the
// run's end; a failure keeps the previous file's value; a first failure
// writes 0 (never), and plan's and apply's files keep their own.
func TestLastSuccessCarriesOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "numsync.prom")
	c := &clock{t: time.Unix(1_800_000_000, 0)}

	if err := New("apply", c.now).Write(path, Failed, 3); err != nil {
		t.Fatal(err)
	}
	if v, ok := gaugeOf(t, path, LastSuccess, "command", "apply"); !ok || v != 0 {
		t.Errorf("first failure: last success %v, %v; want 0", v, ok)
	}
	if err := New("apply", c.now).Write(path, Done, 0); err != nil {
		t.Fatal(err)
	}
	success, _ := gaugeOf(t, path, LastSuccess, "command", "apply")
	end, _ := gaugeOf(t, path, "numsync_last_run_timestamp_seconds", "command", "apply")
	if success != end || success < 1_800_000_000 {
		t.Errorf("success: last success %v, run end %v", success, end)
	}
	for _, o := range []Outcome{Refused, Stale, Interrupted, Locked, Error, Failed} {
		if err := New("apply", c.now).Write(path, o, 1); err != nil {
			t.Fatal(err)
		}
		if v, _ := gaugeOf(t, path, LastSuccess, "command", "apply"); v != success {
			t.Errorf("after %s: last success %v, want %v", o, v, success)
		}
		if v, _ := gaugeOf(t, path, "numsync_last_run_outcome", "outcome", string(o)); v != 1 {
			t.Errorf("after %s: its outcome series is %v", o, v)
		}
	}
	// A plan writing to the apply file does not take apply's success.
	if err := New("plan", c.now).Write(path, Error, 1); err != nil {
		t.Fatal(err)
	}
	if v, _ := gaugeOf(t, path, LastSuccess, "command", "plan"); v != 0 {
		t.Errorf("plan's last success %v, want 0", v)
	}
}

// TestWriteIsWholeAndClean: the file is replaced whole, with no temporary
// file left beside it, and a file that is not Prometheus text is not
// read as a previous success.
func TestWriteIsWholeAndClean(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "numsync.prom")
	if err := os.WriteFile(path, []byte("garbage {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	r := New("apply", c.now)
	r.AddVendor("oneuc")
	r.ObserveRequest("oneuc", 200, nil)
	r.ObserveRequest("oneuc", 429, nil)
	r.ObserveRequest("oneuc", 503, nil)
	r.ObserveRequest("firstorion", 0, errors.New("connection refused"))
	r.Plan(&plan.Plan{Vendors: map[plan.VendorName]*plan.VendorSummary{
		plan.OneUC: {Held: 3, Counts: map[plan.Action]int{plan.Activate: 2}, Safety: plan.Verdict{OK: true}},
	}, Ops: []plan.Op{{Vendor: plan.OneUC, Action: plan.Activate, Number: "+1"}, {Vendor: plan.OneUC, Action: plan.Activate, Number: "+2"}}})
	r.Apply(7, &exec.Summary{Vendors: []exec.VendorSummary{{Vendor: plan.OneUC, Retries: 4, Actions: []exec.ActionSummary{{Action: plan.Activate, Total: 2, Done: 1, Failed: 1}}}}})
	if err := r.Write(path, Failed, 3); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{LastSuccess, nil, 0},
		{"numsync_vendor_requests", []string{"vendor", "oneuc"}, 3},
		{"numsync_vendor_throttled", []string{"vendor", "oneuc"}, 1},
		{"numsync_vendor_request_errors", []string{"vendor", "oneuc"}, 1},
		{"numsync_vendor_request_errors", []string{"vendor", "firstorion"}, 1},
		{"numsync_vendor_throttled", []string{"vendor", "firstorion"}, 0},
		{"numsync_operation_retries", []string{"vendor", "oneuc"}, 4},
		{"numsync_operation_retries", []string{"vendor", "firstorion"}, 0},
		{"numsync_operations", []string{"vendor", "oneuc", "action", "activate", "state", "failed"}, 1},
		{"numsync_operations", []string{"vendor", "oneuc", "action", "activate", "state", "pending"}, 0},
		{"numsync_numbers_out_of_step", []string{"vendor", "oneuc"}, 2},
		{"numsync_run_id", nil, 7},
		{"numsync_last_run_exit_code", nil, 3},
	} {
		if got, ok := gaugeOf(t, path, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "# TYPE numsync_last_run_timestamp_seconds ") != 1 {
		t.Errorf("numsync_last_run_timestamp_seconds is not written once:\n%s", b)
	}
}
