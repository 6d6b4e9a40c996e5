package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numsync/numsync/internal/labserver"
)

// TestDemo runs `numsync demo` as a user would (Run, the process
// environment, no config): it exits 0 and its output walks through the
// three steps, lists the samples' deliberate failures, and ends with a
// plan that holds only them. TestMain takes out the demo's deliberate
// pacing (about 20 s at a user's terminal): the steps are the same.
func TestDemo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // hang guard only
	defer cancel()
	var out, errb bytes.Buffer
	if code := Run(ctx, []string{"demo", "--no-progress"}, &out, &errb); code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	stdout := out.String()
	i1 := strings.Index(stdout, "=== 1. numsync plan --desired samples/desired.csv")
	i2 := strings.Index(stdout, "=== 2. numsync apply --desired samples/desired.csv")
	i3 := strings.Index(stdout, "=== 3. numsync plan again: only the permanent failures remain")
	if i1 < 0 || i2 < i1 || i3 < i2 {
		t.Fatalf("the three steps are missing or out of order:\n%s", stdout)
	}
	first, second := stdout[i1:i2], stdout[i3:]
	if !strings.Contains(first, "oneuc: 62 activate, 94 update, 0 release") || !strings.Contains(first, "firstorion: 63 assign, 20 move, 12 update, 4 delete") {
		t.Errorf("the first plan's summary:\n%s", first)
	}
	if !strings.Contains(stdout[i2:i3], "apply exited 3: 9 operations failed for good (run 1)") {
		t.Errorf("the apply step does not report the known failures:\n%s", stdout[i2:i3])
	}
	checkFailures(t, errb.String())
	for _, w := range []string{
		"oneuc: 2 activate, 4 update, 0 release",
		"firstorion: 3 assign, 0 move, 0 update, 0 delete",
		"+ oneuc activate +16462190000", "+ oneuc activate +16462199999",
		"~ oneuc update +12126341211", "~ oneuc update +14153921212",
		"+ firstorion assign +15012149020",
		"The demo is done. Run 1 applied the plan",
	} {
		if !strings.Contains(second, w) {
			t.Errorf("the second plan lacks %q:\n%s", w, second)
		}
	}
	if n := strings.Count(second, "\n    + ") + strings.Count(second, "\n    ~ ") + strings.Count(second, "\n    - "); n != 9 {
		t.Errorf("the second plan lists %d operations, want the 9 known:\n%s", n, second)
	}
	for _, s := range labSecrets {
		if strings.Contains(stdout, s) || strings.Contains(errb.String(), s) {
			t.Errorf("the demo printed a lab credential")
		}
	}
}

// TestDemoKeepsJournal: with --journal the demo keeps its journal and its
// closing hint names a command that works as printed (run here through
// the built binary); each of the samples' warnings is said once, not once
// per step; "1 operation", not "1 operations".
func TestDemoKeepsJournal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // hang guard only
	defer cancel()
	dir := t.TempDir()
	journalPath := filepath.Join(dir, "demo.db")
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"demo", "--no-progress", "--journal", journalPath}, &out, &errb, func(string) string { return "" }); code != 0 {
		t.Fatalf("demo exited %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "journal in "+journalPath) {
		t.Errorf("the demo does not say where the journal is:\n%s", out.String())
	}
	m := regexp.MustCompile(`'(numsync [^']*show 1 --failed --format csv)'`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no show command in the closing lines:\n%s", out.String())
	}
	args := strings.Fields(m[1])[1:]
	code, csvOut, csvErr := runBin(t, t.TempDir(), nil, args...)
	if code != 0 || !strings.Contains(strings.SplitN(csvOut, "\n", 2)[0], ",numsync_failed,numsync_reason") || strings.Count(csvOut, "\n") != 6 {
		t.Errorf("%s: exit %d\n%s%s", m[1], code, csvOut, csvErr)
	}
	all := out.String() + errb.String()
	for _, number := range []string{"+13127241213", "+16178811220"} {
		if n := strings.Count(all, number+": blank E911 cells"); n != 1 {
			t.Errorf("the warning on %s is said %d times:\n%s", number, n, errb.String())
		}
	}
}

// TestShowUnknownRun: a run id the journal does not hold points at
// numsync runs and says which is the latest.
func TestShowUnknownRun(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 27}, smallSeed(5, 3))
	c := newCLI(t, l.URL, nil)
	c.mustRun(0, "apply", c.writeFile("four.csv", smallCSV(4)))
	code, _, errOut := c.bin("show", "999")
	if code != 1 || !strings.Contains(errOut, "no run 999 in the journal (the latest is run 1): 'numsync runs' lists them") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	out, _ := c.mustRun(0, "show", "1")
	if !strings.Contains(out, ": 1 operation\n") {
		t.Errorf("show 1:\n%s", out)
	}
}
