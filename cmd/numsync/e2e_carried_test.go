package main

import (
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
)

// TestSavedPlanCarriesFailures is the reviewed nightly change after a
// night with permanent failures: apply --desired fails the samples' known
// operations for good; plan --out then holds only those, and applying that
// saved plan (twice) sends none of them again: they stay failed until their
// row changes or --retry-failed, whichever input names them. The labs'
// request logs are the judge.
func TestSavedPlanCarriesFailures(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 8}, nil)
	c := newCLI(t, l.URL, nil)
	csv := c.sampleCSV()

	_, errOut := c.mustRun(ExitFailed, "apply", "--desired", csv)
	checkFailures(t, errOut)
	c.mustRun(0, "plan", "--desired", csv, "--out", c.path("p.json"))
	onlyKnownFailures(t, readPlanFile(t, c.path("p.json")))

	w := l.writes()
	activations := l.OneUC.Counts("+16462199999").ActivateRequests
	// The first apply carries the failures into its run (exit 3, as the
	// night before); the second finds that run applied the plan already.
	for night, want := range []int{ExitFailed, 0} {
		_, errOut = c.mustRun(want, "apply", c.path("p.json"))
		if got := l.writes(); got != w {
			t.Errorf("apply of the saved plan #%d wrote to the labs: %+v, then %+v\n%s", night+1, w, got, errOut)
		}
		if got := l.OneUC.Counts("+16462199999").ActivateRequests; got != activations {
			t.Errorf("apply of the saved plan #%d sent the failed activation again (%d requests, then %d)", night+1, activations, got)
		}
		if night == 0 && (!strings.Contains(errOut, "failed in run 1") || !strings.Contains(errOut, "not sent again")) {
			t.Errorf("the first apply of the saved plan does not say why nothing was sent:\n%s", errOut)
		}
	}
}
