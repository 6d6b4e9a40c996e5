package main

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/plan"
)

// numberGETs counts the GETs of single OneUC numbers among reqs, by
// number.
func numberGETs(l *e2eLab, from int) map[string]int {
	out := map[string]int{}
	for _, r := range l.OneUC.Requests()[from:] {
		if r.Method != http.MethodGet {
			continue
		}
		if _, n, ok := strings.Cut(r.Path, "/phone_numbers/%2B"); ok && !strings.Contains(n, "/") {
			out["+"+n]++
		}
	}
	return out
}

// TestApplyRemembersWhatItWrote (#2): after an apply, the next plan reads
// none of the OneUC numbers the apply activated or updated and verified:
// the detail cache holds what numsync last read or wrote (SPEC section
// 4), not only what the planner read. On main before the fix the plan
// fetched every one of them again.
func TestApplyRemembersWhatItWrote(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 4}, nil)
	c := newCLI(t, l.URL, nil)
	csv := c.sampleCSV()

	p := c.planJSON(0, "--desired", csv)
	c.mustRun(ExitFailed, "apply", "--desired", csv)
	written := map[string]bool{}
	for _, op := range p.Ops {
		if op.Vendor == plan.OneUC && (op.Action == plan.Activate || op.Action == plan.Update) && sampleFailures[op.ID] == "" {
			written[op.Number] = true
		}
	}
	if len(written) < 5 {
		t.Fatalf("the samples should activate or update several OneUC numbers, got %d", len(written))
	}

	mark := len(l.OneUC.Requests())
	c.planJSON(0, "--desired", csv)
	var again []string
	gets := numberGETs(l, mark)
	for n := range gets {
		if written[n] {
			again = append(again, n)
		}
	}
	t.Logf("the plan after the apply read %d OneUC numbers one by one; the apply wrote %d", len(gets), len(written))
	sort.Strings(again)
	if len(again) > 0 {
		t.Errorf("the plan after the apply read again %d of the %d OneUC numbers the apply wrote: %v", len(again), len(written), again)
	}
}
