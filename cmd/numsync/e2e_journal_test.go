package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/samples"
)

// sampleRecords reads samples/desired.csv as a spreadsheet would show it:
// the header and every line's cells, keyed by line number.
func sampleRecords(t *testing.T) (header []string, byLine map[int][]string) {
	t.Helper()
	b, err := samples.FS.ReadFile("desired.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	r.FieldsPerRecord = -1
	byLine = map[int][]string{}
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		line, _ := r.FieldPos(0)
		if header == nil {
			header = rec
			continue
		}
		byLine[line] = rec
	}
	return header, byLine
}

// TestRunsAndShowFailedCSV: after an apply, runs lists the run with its
// counts and outcome; show lists its operations; show --failed --format
// csv writes the failed lines as they were in the CSV, one row per line,
// with the reasons in two extra columns, and that file is accepted back
// by validate --allow-extra-columns.
func TestRunsAndShowFailedCSV(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 9}, nil)
	c := newCLI(t, l.URL, nil)
	csvPath := c.sampleCSV()
	c.mustRun(ExitFailed, "apply", "--desired", csvPath)

	out, _ := c.mustRun(0, "runs")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "RUN") {
		t.Fatalf("runs:\n%s", out)
	}
	// The plan has 255 operations; 9 of them failed or were skipped.
	if !regexp.MustCompile(`^1\s+\S+ \S+\s+\S+ \S+\s+038d11923bd7\s+246\s+9\s+0\s+failed$`).MatchString(lines[1]) {
		t.Errorf("runs row: %q", lines[1])
	}

	out, _ = c.mustRun(0, "show", "1")
	if !strings.HasPrefix(out, "Run 1 (failed), CSV "+csvPath+": 255 operations") {
		t.Errorf("show header:\n%.300s", out)
	}
	for _, w := range []string{
		"done     firstorion  move      +12063271240  273",
		// The reason does not repeat the vendor and number beside it.
		"failed   oneuc       activate  +16462199999  213   1      fault_by_carrier",
		"skipped  firstorion  assign    +16462190000  212",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("show:\n%s", out)
	}

	out, _ = c.mustRun(0, "show", "1", "--failed", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("show --failed --format csv is not CSV: %v\n%s", err, out)
	}
	header, byLine := sampleRecords(t)
	if got, want := strings.Join(recs[0], ","), strings.Join(header, ",")+",numsync_failed,numsync_reason"; got != want {
		t.Errorf("header:\n got %s\nwant %s", got, want)
	}
	// Lines 212 and 213 (activation failed: three operations each), 244,
	// 245 (address) and 290 (allocated elsewhere): one row each.
	wantLines := map[string]int{"+16462190000": 212, "+16462199999": 213, "+12126341211": 244, "+14153921212": 245, "+15012149020": 290}
	if len(recs) != 1+len(wantLines) {
		t.Errorf("%d rows, want %d:\n%s", len(recs)-1, len(wantLines), out)
	}
	seen := map[int]bool{}
	for _, rec := range recs[1:] {
		if len(rec) != len(header)+2 {
			t.Errorf("row has %d cells: %q", len(rec), rec)
			continue
		}
		cells := strings.Join(rec[:len(header)], ",")
		line := 0
		for _, l := range wantLines {
			if strings.Join(byLine[l], ",") == cells {
				line = l
			}
		}
		if line == 0 || seen[line] {
			t.Errorf("row is not one of the failed lines as written (or repeats one): %q", rec)
			continue
		}
		seen[line] = true
		if rec[len(header)] == "" || rec[len(header)+1] == "" {
			t.Errorf("line %d: no failure or reason: %q", line, rec)
		}
	}
	if !strings.Contains(out, "oneuc activate; oneuc update; firstorion assign") {
		t.Errorf("a failed activation's row does not list its three operations:\n%s", out)
	}

	fix := c.writeFile("fix.csv", out)
	vout, _ := c.mustRun(0, "validate", "--allow-extra-columns", fix)
	if !strings.Contains(vout, "5 rows, 5 valid numbers, valid") {
		t.Errorf("validate of the failed rows:\n%s", vout)
	}
}

// TestExportRoundTrip: export after a converging apply writes a CSV that
// validates and that plan finds in step with the vendors (exit 0 under
// --detailed-exitcode).
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 10}, nil)
	c := newCLI(t, l.URL, nil)
	c.mustRun(ExitFailed, "apply", "--desired", c.sampleCSV())

	_, errOut := c.mustRun(0, "export", "--out", c.path("e.csv"))
	if !regexp.MustCompile(`wrote \d+ numbers to `).MatchString(errOut) {
		t.Errorf("export's stderr:\n%s", errOut)
	}
	vout, _ := c.mustRun(0, "validate", c.path("e.csv"))
	if !strings.Contains(vout, "valid") {
		t.Errorf("validate:\n%s", vout)
	}
	pout, _ := c.mustRun(0, "plan", "--desired", c.path("e.csv"), "--detailed-exitcode")
	if !strings.Contains(pout, "oneuc: 0 activate, 0 update, 0 release") || !strings.Contains(pout, "firstorion: 0 assign, 0 move, 0 update, 0 delete") {
		t.Errorf("plan of an unedited export:\n%s", pout)
	}
	w := l.writes()
	c.mustRun(0, "apply", "--desired", c.path("e.csv"))
	if got := l.writes(); got != w {
		t.Errorf("applying an unedited export wrote to the labs: %+v, then %+v", w, got)
	}
}

// TestReportMetricsAndNoSecrets: --report writes the run's summary as
// JSON (run id, per-vendor counts, the failures) and --metrics-file the
// Prometheus text with numsync_apply_success; no lab credential and no
// token numsync was given appears in standard output or error (debug
// logging on), the report, the metrics, the saved plan or the journal's
// files.
func TestReportMetricsAndNoSecrets(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 11, TokenTTL: 2 * time.Second}, nil)
	c := newCLI(t, l.URL, nil)
	csvPath := c.sampleCSV()
	var outputs []string
	out, errOut := c.mustRun(0, "--log-level", "debug", "plan", "--desired", csvPath, "--out", c.path("p.json"))
	outputs = append(outputs, out, errOut)
	l.OneUC.ExpireTokens()
	l.FirstOrion.ExpireTokens()
	out, errOut = c.mustRun(ExitFailed, "--log-level", "debug", "--report", c.path("r.json"), "--metrics-file", c.path("m.prom"),
		"apply", "--desired", csvPath)
	outputs = append(outputs, out, errOut)

	var rep applyReport
	report := readFile(t, c.path("r.json"))
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, report)
	}
	if rep.RunID != 1 || rep.Outcome != "failed" || rep.Summary == nil || len(rep.Failed) != 9 {
		t.Errorf("report: run %d outcome %q failed %d", rep.RunID, rep.Outcome, len(rep.Failed))
	}
	counts := map[string][2]int{}
	if rep.Summary != nil {
		for _, v := range rep.Summary.Vendors {
			for _, a := range v.Actions {
				counts[string(v.Vendor)+" "+string(a.Action)] = [2]int{a.Done, a.Failed + a.Skipped}
			}
		}
	}
	for k, want := range map[string][2]int{"oneuc activate": {60, 2}, "oneuc update": {90, 4}, "firstorion assign": {60, 3}, "firstorion move": {20, 0}} {
		if counts[k] != want {
			t.Errorf("report %s: done, failed = %v, want %v", k, counts[k], want)
		}
	}
	metrics := readFile(t, c.path("m.prom"))
	if !strings.Contains(metrics, "\nnumsync_last_run_success{command=\"apply\"} 0\n") || !strings.Contains(metrics, "# TYPE numsync_last_run_success gauge") {
		t.Errorf("metrics:\n%s", metrics)
	}

	files := map[string]string{"report": report, "metrics": metrics, "plan": readFile(t, c.path("p.json"))}
	matches, _ := filepath.Glob(c.journal + "*")
	if len(matches) == 0 {
		t.Fatal("no journal files")
	}
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(m)] = string(b)
	}
	for i, o := range outputs {
		files["output "+string(rune('0'+i))] = o
	}
	secrets := l.secrets()
	t.Logf("%d secrets checked in %d files and outputs", len(secrets), len(files))
	if len(secrets) < len(labSecrets)+3 { // a OneUC token, a First Orion token and its refresh token at least
		t.Fatalf("recorded too few tokens: %d secrets", len(secrets))
	}
	for name, content := range files {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("%s holds a secret (%.6s…)", name, s)
			}
		}
	}
}
