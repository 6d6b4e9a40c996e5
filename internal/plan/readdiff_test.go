package plan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/plan"
)

// TestHeaderSpellingPlans follows a CSV through the reader (what validate
// runs) into the planner: every header spelling the reader accepts plans
// the same, because the defaults of an empty cell are applied once, by
// the plan, and not undone by re-reading the raw cell under a second
// header rule. A "Brand  Channel" header (two spaces) once validated, then
// failed to plan an empty channel under a callerImage program.
func TestHeaderSpellingPlans(t *testing.T) {
	hierarchy := []plan.BusinessUnit{{ID: "bu-sales", Name: "Sales", Programs: []plan.Program{
		{ID: "p-retail", Name: "Retail", Channel: plan.ChannelCallerName, Active: true},
		{ID: "p-logo", Name: "Logo", Channel: plan.ChannelCallerImage, Active: true},
	}}}
	const body = "+12125554200,Sales,Logo,\n" + // empty: the program's channel
		"+12125554201,Sales,Logo,CallerImage\n" + // named, any case
		"+12125554202,Sales,Retail,\n" +
		"+12125554203,Sales,,\n" // business-unit level: no channel
	want := []string{
		"firstorion/assign/+12125554200 bu-sales/p-logo/callerImage CS",
		"firstorion/assign/+12125554201 bu-sales/p-logo/callerImage CS",
		"firstorion/assign/+12125554202 bu-sales/p-retail/callerName CS",
		"firstorion/assign/+12125554203 bu-sales// CS",
	}
	for _, channel := range []string{"brand_channel", "Brand Channel", "Brand  Channel", "brand__channel", " BRAND -\tCHANNEL ", "Brand-Channel"} {
		t.Run(channel, func(t *testing.T) {
			csv := "phone_number,Brand Business Unit,brand_program," + channel + "\n" + body
			d, _, err := desired.Read(strings.NewReader(csv), desired.Options{Path: "brand.csv", FirstOrionEnabled: true})
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			if !d.Columns.Channel {
				t.Fatalf("header %q does not manage brand_channel", channel)
			}
			inv := &plan.Inventories{FirstOrion: plan.NewInventory(plan.FirstOrion, nil), Hierarchy: hierarchy}
			p, err := plan.Diff(d, inv, plan.Options{DefaultCallPurpose: "CS"})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			var got []string
			for _, op := range p.Ops {
				got = append(got, op.ID+" "+op.After.BusinessUnit+"/"+op.After.Program+"/"+op.After.Channel+" "+op.After.CallPurpose)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// A channel the row names that is not the program's is still
			// an error, located in the file.
			d, _, err = desired.Read(strings.NewReader("phone_number,brand_business_unit,brand_program,"+channel+"\n+12125554200,Sales,Logo,callerName\n"),
				desired.Options{Path: "brand.csv", FirstOrionEnabled: true})
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			_, err = plan.Diff(d, inv, plan.Options{})
			var rowErrs plan.RowErrors
			if !errors.As(err, &rowErrs) || len(rowErrs) != 1 ||
				rowErrs[0].Error() != `brand.csv:2: brand_channel: channel "callerName" is not the channel of program "Logo" (callerImage)` {
				t.Errorf("wrong channel: %v", err)
			}
		})
	}
}
