package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/journal"
	"github.com/numsync/numsync/internal/labserver"
	folab "github.com/numsync/numsync/internal/vendors/firstorion/lab"
	oulab "github.com/numsync/numsync/internal/vendors/oneuc/lab"
)

// Small Go-built seed: one business unit with one program.
const (
	smallBU      = "6c1f3a52-5d0e-4b8e-9a51-2f7c1e0a9b01"
	smallProgram = "b7d4e8a0-1c2d-4e5f-8a9b-0c1d2e3f4a01"
)

// smallNumber is the i-th number of the small seeds.
func smallNumber(i int) string { return fmt.Sprintf("+1212555%04d", 1000+i) }

// smallSeed seeds OneUC with numbers 0..ou-1 in service and First Orion
// with numbers 0..fo-1 in the Retail / Store Lines program.
func smallSeed(ou, fo int) func(*labserver.Server) error {
	return func(s *labserver.Server) error {
		var on []oulab.SeedNumber
		for i := 0; i < ou; i++ {
			on = append(on, oulab.SeedNumber{Number: smallNumber(i), State: "in_service"})
		}
		if err := s.OneUC.Seed(oulab.Seed{Numbers: on}); err != nil {
			return err
		}
		seed := folab.Seed{BusinessUnits: []folab.SeedBusinessUnit{{
			ID: smallBU, Name: "Retail",
			Programs: []folab.SeedProgram{{ID: smallProgram, Name: "Store Lines", Channel: "callerName", CallPurposeCode: "CS"}},
		}}}
		for i := 0; i < fo; i++ {
			seed.Numbers = append(seed.Numbers, folab.SeedNumber{PhoneNumber: smallNumber(i), BusinessUnitID: smallBU,
				ProgramID: smallProgram, CallPurposeCode: "CS"})
		}
		return s.FirstOrion.Seed(seed)
	}
}

// smallCSV lists numbers 0..n-1 in Retail / Store Lines.
func smallCSV(n int) string {
	var b strings.Builder
	b.WriteString("phone_number,brand_business_unit,brand_program\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s,Retail,Store Lines\n", smallNumber(i))
	}
	return b.String()
}

// TestSafetyThresholdRefuses: pruning would release and delete more than
// max_delete (10% of 10) at each vendor. plan shows the verdict and warns
// that apply would refuse (SPEC §4: plan reports, apply refuses); apply
// --prune exits 4 and sends nothing to either vendor, also with a
// --max-delete still too low; --force applies.
func TestSafetyThresholdRefuses(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 4}, smallSeed(10, 10))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("keep.csv", smallCSV(5))

	out, errOut := c.mustRun(ExitOK, "plan", "--desired", csv, "--prune")
	for _, w := range []string{
		"oneuc: 0 activate, 0 update, 5 release; 10 held, 5 unmanaged; safety REFUSED",
		"5 releases exceed max_delete 10% (1 of the 10 numbers held)",
		"firstorion: 0 assign, 0 move, 0 update, 5 delete; 10 held, 5 unmanaged; safety REFUSED",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("plan lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errOut, "apply would refuse this plan (exit 4)") {
		t.Errorf("plan's stderr does not say it was refused:\n%s", errOut)
	}

	w := l.writes()
	_, errOut = c.mustRun(ExitRefused, "apply", "--desired", csv, "--prune")
	if !strings.Contains(errOut, "firstorion: 5 deletions exceed max_delete 10%") || !strings.Contains(errOut, "oneuc: 5 releases exceed max_delete 10%") {
		t.Errorf("apply's refusal does not give the reasons:\n%s", errOut)
	}
	c.mustRun(ExitRefused, "apply", "--desired", csv, "--prune", "--max-delete", "4")
	if got := l.writes(); got != w || got.oneuc+got.firstorion != 0 {
		t.Errorf("a refused apply wrote to the labs: %+v, then %+v", w, got)
	}
	if len(l.FirstOrion.Numbers()) != 10 {
		t.Errorf("First Orion lost numbers on a refusal")
	}

	c.mustRun(ExitOK, "apply", "--desired", csv, "--prune", "--force")
	for i := 0; i < 10; i++ {
		n := smallNumber(i)
		ou, _ := l.OneUC.Number(n)
		_, atFO := l.FirstOrion.Number(n)
		if keep := i < 5; ou.Held != keep || atFO != keep {
			t.Errorf("%s: held at OneUC %v, at First Orion %v; want %v", n, ou.Held, atFO, keep)
		}
	}
	if l.FirstOrion.DeleteAllCalls() != 0 {
		t.Error("pruning used First Orion's delete-all")
	}
}

// TestMaxDeleteOverride: a higher --max-delete for this run lets the same
// prune through without --force; a saved plan is judged by the threshold
// of the day it is applied.
func TestMaxDeleteOverride(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 4}, smallSeed(10, 10))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("keep.csv", smallCSV(7))
	c.mustRun(ExitRefused, "apply", "--desired", csv, "--prune")
	c.mustRun(ExitOK, "plan", "--desired", csv, "--prune", "--out", c.path("p.json"))
	_, errOut := c.mustRun(ExitRefused, "apply", c.path("p.json"))
	if !strings.Contains(errOut, "3 deletions exceed max_delete 10%") {
		t.Errorf("a saved plan over the threshold:\n%s", errOut)
	}
	if w := l.writes(); w.oneuc+w.firstorion != 0 {
		t.Errorf("a refused apply wrote to the labs: %+v", w)
	}
	out, _ := c.mustRun(ExitOK, "apply", c.path("p.json"), "--max-delete", "30%")
	if !strings.Contains(out, "every operation done") {
		t.Errorf("apply did not finish:\n%s", out)
	}
	if got := len(l.FirstOrion.Numbers()); got != 7 {
		t.Errorf("First Orion holds %d numbers, want 7", got)
	}
}

// TestCollapsedInventoryRefuses: the journal saw First Orion hold 10
// numbers at the end of the last run; today it lists 3 (an outage that
// looks like an empty account). apply refuses with exit 4 and sends
// nothing; --force applies.
func TestCollapsedInventoryRefuses(t *testing.T) {
	t.Parallel()
	l1 := newLab(t, labserver.Options{Seed: 5}, smallSeed(10, 10))
	c := newCLI(t, l1.URL, nil)
	csv := c.writeFile("all.csv", smallCSV(10))
	out, _ := c.mustRun(ExitOK, "apply", "--desired", csv)
	if !strings.Contains(out, "Nothing to do") {
		t.Fatalf("the first apply should have nothing to do:\n%s", out)
	}

	// Same journal, and the vendor now lists 3 of the 10.
	l2 := newLab(t, labserver.Options{Seed: 5}, smallSeed(10, 3))
	c.writeFile("numsync.yaml", strings.ReplaceAll(readFile(t, c.config), l1.URL, l2.URL))
	out, _ = c.mustRun(ExitOK, "plan", "--desired", csv)
	if !strings.Contains(out, "the listing collapsed: 3 numbers listed, 10 held at the end of the last successful run") {
		t.Errorf("plan does not warn of the collapse:\n%s", out)
	}
	_, errOut := c.mustRun(ExitRefused, "apply", "--desired", csv)
	if !strings.Contains(errOut, "firstorion: the listing collapsed") {
		t.Errorf("apply's refusal does not name the collapse:\n%s", errOut)
	}
	if w := l2.writes(); w.oneuc+w.firstorion != 0 {
		t.Errorf("a refused apply wrote to the labs: %+v", w)
	}
	c.mustRun(ExitOK, "apply", "--desired", csv, "--force")
	if got := len(l2.FirstOrion.Numbers()); got != 10 {
		t.Errorf("after --force First Orion holds %d numbers, want 10", got)
	}
}

// TestLockedJournal: while another live process holds the journal's lock,
// apply exits 5 naming the holder's host, pid and since, and sends
// nothing.
func TestLockedJournal(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 5}, smallSeed(3, 0))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("all.csv", smallCSV(3))

	ctx := context.Background()
	j, err := journal.Open(ctx, c.journal)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	host, _ := os.Hostname()
	holder := os.Getppid() // alive for as long as this test runs
	lock, err := j.Lock(ctx, journal.LockInfo{Host: host, PID: holder, Command: "apply nightly.csv"})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().UTC()

	_, errOut := c.mustRun(ExitLocked, "apply", "--desired", csv)
	for _, w := range []string{"host " + host, "(pid " + strconv.Itoa(holder) + ")", "since " + since.Format("2006-01-02T15"), "apply nightly.csv"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if w := l.writes(); w.oneuc+w.firstorion != 0 {
		t.Errorf("a locked-out apply wrote to the labs: %+v", w)
	}

	// Released: the same command goes through.
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	c.mustRun(ExitOK, "apply", "--desired", csv)
	if got := len(l.FirstOrion.Numbers()); got != 3 {
		t.Errorf("First Orion holds %d numbers, want 3", got)
	}
}
