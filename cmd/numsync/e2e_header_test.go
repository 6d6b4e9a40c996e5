package main

import (
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/plan"
)

// TestHeaderSpellingValidatesAndPlans: a header spelling validate accepts
// is one plan accepts too, and plans the same. "Brand  Channel" (two
// spaces) once validated and then failed to plan a row whose channel cell
// is empty under a callerImage program ("channel callerName is not the
// channel of program Promotions").
func TestHeaderSpellingValidatesAndPlans(t *testing.T) {
	l := newLab(t, labserver.Options{Seed: 11}, nil)
	c := newCLI(t, l.URL, nil)
	// +12126341001 sits in Store Lines (callerName), +14153921002 in
	// Promotions (callerImage) already: one move, one number in step.
	const rows = "+12126341001,Retail,Promotions,\n+14153921002,Retail,Promotions,\n"
	var plans []string
	for i, channel := range []string{"brand_channel", "Brand  Channel", "Brand - Channel"} {
		csv := c.writeFile("h"+string(rune('a'+i))+".csv", "phone_number,Brand Business Unit,Brand Program,"+channel+"\n"+rows)
		c.mustRun(0, "validate", "--desired", csv)
		p := c.planJSON(0, "--desired", csv)
		var got []string
		for _, op := range p.Ops {
			if op.Vendor == plan.FirstOrion {
				got = append(got, op.ID+" → "+op.After.Program+"/"+op.After.Channel)
			}
		}
		want := "firstorion/move/+12126341001 → b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a02/callerImage"
		if strings.Join(got, "\n") != want {
			t.Errorf("header %q: First Orion ops:\n%s\nwant:\n%s", channel, strings.Join(got, "\n"), want)
		}
		plans = append(plans, strings.Join(got, "\n"))
	}
	for i := 1; i < len(plans); i++ {
		if plans[i] != plans[0] {
			t.Errorf("header spellings plan differently:\n%s\n---\n%s", plans[0], plans[i])
		}
	}

	// A channel that is not the program's is refused with the file's line.
	bad := c.writeFile("bad.csv", "phone_number,Brand Business Unit,Brand Program,Brand  Channel\n+12126341001,Retail,Promotions,callerName\n")
	_, errOut := c.mustRun(1, "plan", "--desired", bad)
	if want := bad + `:2: brand_channel: channel "callerName" is not the channel of program "Promotions" (callerImage)`; !strings.Contains(errOut, want) {
		t.Errorf("stderr:\n%s\nwant a line %q", errOut, want)
	}
}
