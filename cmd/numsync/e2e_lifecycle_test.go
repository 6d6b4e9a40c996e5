package main

import (
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
)

// TestSavedPlanAppliedTwice (issue 13): applying a saved plan that a run
// already applied says so, naming the run, sends nothing and exits 0. On
// main before the fix it said the plan was stale (every number it changed
// no longer looked as the plan saw it) and exited 6.
func TestSavedPlanAppliedTwice(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 5}, nil)
	c := newCLI(t, l.URL, nil)
	csv := c.sampleCSV()
	c.mustRun(0, "plan", "--desired", csv, "--out", c.path("p.json"))
	c.mustRun(ExitFailed, "apply", c.path("p.json"))

	w := l.writes()
	out, errOut := c.mustRun(0, "apply", c.path("p.json"))
	if !strings.Contains(out, "already applied in run 1") || !strings.Contains(out, "nothing was sent") {
		t.Errorf("stdout does not say the plan was applied in run 1:\n%s\nstderr:\n%s", out, errOut)
	}
	if !strings.Contains(out, "9 of its operations failed or were skipped") {
		t.Errorf("stdout does not point at run 1's failures:\n%s", out)
	}
	if strings.Contains(errOut, "stale") {
		t.Errorf("an applied plan was called stale:\n%s", errOut)
	}
	if got := l.writes(); got != w {
		t.Errorf("re-applying reached the labs: %+v, then %+v", w, got)
	}
	runs, _ := c.mustRun(0, "runs")
	if strings.Count(runs, "(saved plan)") != 1 {
		t.Errorf("re-applying journaled another run:\n%s", runs)
	}
}
