package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/vendors/oneuc"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// byHand changes a number's CNAM at the OneUC lab through its API, as
// someone in the carrier's portal would: outside numsync.
func byHand(t *testing.T, l *e2eLab, number, cnam string) {
	t.Helper()
	c, err := oneuc.New(oneuc.Config{URL: l.URL + labserver.OneUCPrefix, AccountID: labserver.OneUCAccountID, APIKey: labserver.OneUCAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	op := plan.Op{ID: plan.OpID(plan.OneUC, plan.Update, number), Vendor: plan.OneUC, Action: plan.Update, Number: number,
		After: plan.State{CNAM: &cnam}}
	for _, r := range c.Apply(context.Background(), []plan.Op{op}) {
		if r.Err != nil {
			t.Fatalf("change by hand: %v", r.Err)
		}
	}
}

// TestDriftMarked: after run 1 set the CNAMs, someone renames one number
// at OneUC by hand. The next plan, through the binary, marks the operation
// that would undo it "changed outside numsync since run 1 (DATE)" in text,
// flags it in JSON and CSV, counts it in the summary and in the metrics;
// an operation the CSV asks for (a new name) is not marked.
func TestDriftMarked(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 28}, smallSeed(3, 0))
	c := newCLI(t, l.URL, nil)
	csv := func(names ...string) string {
		var b strings.Builder
		b.WriteString("phone_number,cnam\n")
		for i, n := range names {
			b.WriteString(smallNumber(i) + "," + n + "\n")
		}
		return c.writeFile("names.csv", b.String())
	}
	c.mustRun(0, "apply", csv("ACME ONE", "ACME TWO", "ACME THREE"))
	byHand(t, l, smallNumber(0), "BY HAND")
	names := csv("ACME ONE", "ACME 2", "ACME THREE") // the CSV renames number 1

	code, out, errOut := c.bin("--metrics-file", c.path("plan.prom"), "plan", names)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	var marked, unmarked string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, smallNumber(0)):
			marked = line
		case strings.Contains(line, smallNumber(1)):
			unmarked = line
		}
	}
	if !strings.Contains(marked, `cnam: "BY HAND" → "ACME ONE"`) || !strings.Contains(marked, "[changed outside numsync since run 1 (") {
		t.Errorf("the undoing operation is not marked: %q\n%s", marked, out)
	}
	if unmarked == "" || strings.Contains(unmarked, "changed outside") {
		t.Errorf("the CSV's own change: %q", unmarked)
	}
	if !strings.Contains(out, "3 held, 0 unmanaged, 1 changed outside numsync") {
		t.Errorf("the summary does not count it:\n%s", out)
	}
	if got := readProm(t, c.path("plan.prom")).must(t, "numsync_numbers_changed_outside", "vendor", "oneuc"); got != 1 {
		t.Errorf("numsync_numbers_changed_outside = %v", got)
	}

	code, out, _ = c.bin("plan", names, "--format", "json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil {
		t.Fatalf("json plan: exit %d, %v", code, err)
	}
	for _, op := range p.Ops {
		if want := op.Number == smallNumber(0); (op.ChangedOutside != nil) != want || want && op.ChangedOutside.Run != 1 {
			t.Errorf("json: %s changed_outside %+v", op.ID, op.ChangedOutside)
		}
	}
	if p.Vendors[plan.OneUC].ChangedOutside != 1 {
		t.Errorf("json summary: %+v", p.Vendors[plan.OneUC])
	}
	code, out, _ = c.bin("plan", names, "--format", "csv")
	if code != 0 || !strings.HasSuffix(strings.SplitN(out, "\n", 2)[0], ",changed_outside") ||
		!strings.Contains(out, smallNumber(0)) || strings.Count(out, "changed outside numsync since run 1") != 1 {
		t.Errorf("csv plan:\n%s", out)
	}
	_ = os.Remove(c.path("plan.prom"))
}

// TestDriftSinceARunRead: what an apply read and left as it was counts as
// numsync's knowledge too (SPEC §3: "since numsync last wrote or read
// it"). Run 1 finds number 0 in step (its name is the CSV's) and fails to
// change number 2 (the vendor refuses its E911 address); someone then
// renames both by hand. The next plan marks both operations "changed
// outside numsync since run 1"; it marked neither, knowing only what
// numsync wrote. A number the CSV asks to rename is still not marked.
func TestDriftSinceARunRead(t *testing.T) {
	t.Parallel()
	seed := func(s *labserver.Server) error {
		var on []oulab.SeedNumber
		for i, name := range []string{"ACME ONE", "OLD TWO", "OLD THREE"} {
			on = append(on, oulab.SeedNumber{Number: smallNumber(i), State: "in_service", CNAM: name})
		}
		return s.OneUC.Seed(oulab.Seed{Numbers: on})
	}
	l := newLab(t, labserver.Options{Seed: 46}, seed)
	c := newCLI(t, l.URL, nil)
	const header = "phone_number,cnam,e911_street_address,e911_locality,e911_region,e911_postal_code,e911_caller_name\n"
	csv := c.writeFile("names.csv", header+
		smallNumber(0)+",ACME ONE,,,,,\n"+
		smallNumber(1)+",ACME TWO,,,,,\n"+
		smallNumber(2)+",ACME THREE,12 Nowhere Lane,Springfield,IL,62701,Acme Corp\n")
	_, errOut := c.binMust(ExitFailed, "apply", csv)
	if !strings.Contains(errOut, "failed: oneuc update "+smallNumber(2)) {
		t.Fatalf("run 1 did not fail number 2's update:\n%s", errOut)
	}
	byHand(t, l, smallNumber(0), "BY HAND")
	byHand(t, l, smallNumber(2), "BY HAND TOO")
	renamed := c.writeFile("renamed.csv", header+
		smallNumber(0)+",ACME ONE,,,,,\n"+
		smallNumber(1)+",ACME 2,,,,,\n"+
		smallNumber(2)+",ACME THREE,12 Nowhere Lane,Springfield,IL,62701,Acme Corp\n")
	out, _ := c.binMust(0, "plan", renamed)
	for i, want := range []bool{true, false, true} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, smallNumber(i)) && strings.Contains(l, "~ oneuc update") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no update of %s planned:\n%s", smallNumber(i), out)
			continue
		}
		if got := strings.Contains(line, "[changed outside numsync since run 1 ("); got != want {
			t.Errorf("%s marked %v, want %v: %s", smallNumber(i), got, want, line)
		}
	}
	if !strings.Contains(out, "2 changed outside numsync") {
		t.Errorf("the summary does not count both:\n%s", out)
	}
	// A plan's own read is not a run's: the second plan still marks them.
	again, _ := c.binMust(0, "plan", renamed)
	if !strings.Contains(again, "2 changed outside numsync") {
		t.Errorf("the marks went after a plan read the numbers:\n%s", again)
	}
}
