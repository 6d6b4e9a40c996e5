package main

// Binary tests of issue 13's operator-side leftovers: where plan's output
// goes, what completion, validate and plan say about a wrong argument,
// complete usage lines, plan --report, plurals, failure lines that say each
// context once and name a workbook's row, and a journal that cannot be
// reached named once.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/plan"
)

// TestPlanOutJSONGoesToTheFileOnly: plan --format json --out F writes the
// JSON to F only (it also went to standard output) and says on standard
// error where; the text rendering still goes to standard output beside
// the saved plan.
func TestPlanOutJSONGoesToTheFileOnly(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 41}, smallSeed(3, 3))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("five.csv", smallCSV(5))
	saved := c.path("plan.json")

	out, errOut := c.binMust(0, "plan", csv, "--format", "json", "--out", saved)
	if out != "" {
		t.Errorf("plan --format json --out wrote to standard output too:\n%.300s", out)
	}
	if !strings.Contains(errOut, "plan saved to "+saved) {
		t.Errorf("standard error does not say where the plan went:\n%s", errOut)
	}
	if p := readPlanFile(t, saved); p.Changes() == 0 {
		t.Errorf("the saved plan has no operations")
	}

	out, _ = c.binMust(0, "plan", csv, "--out", saved)
	if !strings.Contains(out, "Summary:") || strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("plan --out (text): the reviewed plan is not on standard output:\n%s", out)
	}
}

// TestCompletionUnknownShell: a shell completion does not support is named
// with the shells it does, not with a --shell flag that does not exist.
func TestCompletionUnknownShell(t *testing.T) {
	t.Parallel()
	code, out, errOut := runBin(t, "", nil, "completion", "tcsh")
	if code != ExitError || out != "" {
		t.Errorf("completion tcsh: exit %d, stdout %q", code, out)
	}
	if strings.Contains(errOut, "--shell") || !strings.Contains(errOut, `"tcsh"`) || !strings.Contains(errOut, "bash, zsh, fish, powershell") {
		t.Errorf("completion tcsh:\n%s", errOut)
	}
}

// TestUsageNamesEveryFlag: every command's usage line (the first line of
// its --help) names every flag the command accepts (plan, apply and
// validate lacked --sheet and --delimiter), and no flag's value is shown
// as a bare Go type.
func TestUsageNamesEveryFlag(t *testing.T) {
	t.Parallel()
	flagLine := regexp.MustCompile(`^  --([a-z][a-z-]*)(?: (\S+))?$`)
	for _, cmd := range [][]string{{"validate"}, {"plan"}, {"apply"}, {"export"}, {"runs"}, {"show"}, {"check"},
		{"journal", "prune"}, {"journal", "migrate"}, {"completion"}, {"version"}, {"demo"}, {"lab"}} {
		code, out, errOut := runBin(t, "", nil, append(cmd, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d\n%s", cmd, code, errOut)
		}
		usage := strings.SplitN(strings.SplitN(out, "Usage:\n  ", 2)[1], "\n", 2)[0]
		flags := strings.SplitN(out, "\nFlags:\n", 2)
		if len(flags) < 2 {
			continue
		}
		for _, line := range strings.Split(strings.SplitN(flags[1], "\n\n", 2)[0], "\n") {
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if !regexp.MustCompile(`--` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(usage) {
				t.Errorf("%s: the usage line lacks --%s: %s", strings.Join(cmd, " "), m[1], usage)
			}
			if m[2] == "string" || m[2] == "int" || m[2] == "duration" {
				t.Errorf("%s: --%s's value is shown as %q", strings.Join(cmd, " "), m[1], m[2])
			}
		}
	}
}

// TestSavedPlanGivenToValidateOrPlan: validate and plan given a saved plan
// say it is one and what to run, exit 1 (a bad argument, SPEC §3), instead
// of reading its "{" as an unknown column.
func TestSavedPlanGivenToValidateOrPlan(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 42}, smallSeed(3, 3))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("three.csv", smallCSV(3))
	saved := c.path("plan.json")
	c.binMust(0, "plan", csv, "--out", saved)
	before := labRequests(l)
	for _, cmd := range [][]string{{"validate", saved}, {"plan", saved}, {"plan", "--desired", saved}, {"validate", saved, "--format", "json"}} {
		code, out, errOut := c.bin(cmd...)
		if code != ExitError || out != "" {
			t.Errorf("%v: exit %d, stdout %q", cmd, code, out)
		}
		if strings.Contains(errOut, "unknown column") || !strings.Contains(errOut, saved+" is a saved plan") ||
			!strings.Contains(errOut, "numsync apply "+saved) || !strings.Contains(errOut, "numsync show") {
			t.Errorf("%v:\n%s", cmd, errOut)
		}
	}
	if n := labRequests(l); n != before {
		t.Errorf("%d vendor requests for a plan that was refused its input", n-before)
	}
}

// TestPlanReport: the global --report, given to plan, writes the plan's
// summary as JSON (it wrote nothing).
func TestPlanReport(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 43}, smallSeed(3, 3))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("five.csv", smallCSV(5))
	rep := c.path("report.json")
	c.binMust(0, "--report", rep, "plan", csv)
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatalf("plan --report wrote nothing: %v", err)
	}
	var got planReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	ou, fo := got.Vendors[plan.OneUC], got.Vendors[plan.FirstOrion]
	if got.Command != "plan" || got.CSV.Path != csv || got.Changes != 4 || got.Refused || ou == nil || fo == nil ||
		ou.Held != 3 || ou.Counts[plan.Activate] != 2 || fo.Counts[plan.Assign] != 2 {
		t.Errorf("report:\n%s", b)
	}
}

// TestCountsSayOneInTheSingular: counts of one read "1 run", "1
// operation", never "1 runs" (journal prune said "Pruned 1 runs …
// keeping the newest 1 runs").
func TestCountsSayOneInTheSingular(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 44}, smallSeed(1, 1))
	c := newCLI(t, l.URL, nil)
	c.binMust(0, "apply", c.writeFile("one.csv", "phone_number,cnam\n"+smallNumber(0)+",ACME ONE\n"))
	c.binMust(0, "apply", c.writeFile("two.csv", "phone_number,cnam\n"+smallNumber(0)+",ACME TWO\n"))
	out, _ := c.binMust(0, "journal", "prune", "--keep-runs", "1")
	if !strings.Contains(out, "Pruned 1 run (1) with 1 operation (keeping the newest 1 run,") {
		t.Errorf("journal prune:\n%s", out)
	}
	if regexp.MustCompile(`\b1 [a-z]+s\b`).MatchString(out) {
		t.Errorf("a plural after 1:\n%s", out)
	}
}

// TestFailureLinesSayEachContextOnce: apply's failed and skipped lines for
// a workbook name the sheet and row (as validate does), not "line N"; the
// vendor's reason does not repeat the vendor and number the line names,
// and a skipped operation's reason does not say "skipped" again.
func TestFailureLinesSayEachContextOnce(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 45}, nil)
	c := newCLI(t, l.URL, nil)
	book := c.copyInto(filepath.Join("testdata", "workbooks", "openpyxl", "desired.xlsx"), "numbers.xlsx")
	_, errOut := c.binMust(ExitFailed, "apply", book)
	lines := failureLines(errOut)
	if len(lines) == 0 {
		t.Fatalf("no failure lines:\n%s", errOut)
	}
	place := regexp.MustCompile(`^(failed|skipped): (oneuc|firstorion) [a-z]+ (\+\d+) \(Numbers row \d+\): (.+)$`)
	var skipped int
	for _, line := range strings.Split(errOut, "\n") {
		if !strings.HasPrefix(line, "failed: ") && !strings.HasPrefix(line, "skipped: ") {
			continue
		}
		m := place.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("not VENDOR ACTION NUMBER (Numbers row N): %s", line)
			continue
		}
		if reason := m[4]; strings.Contains(reason, m[3]) || strings.HasPrefix(reason, m[2]+" ") || strings.Contains(reason, "skipped") {
			t.Errorf("the reason repeats the line's context: %s", line)
		}
		if m[1] == "skipped" {
			skipped++
			if !strings.Contains(m[4], "activate it waits on failed") {
				t.Errorf("skipped without the failed operation it waited on: %s", line)
			}
		}
	}
	if skipped == 0 {
		t.Errorf("no skipped line (the samples' failed activations have dependents):\n%s", errOut)
	}
}

// TestJournalConnectionErrorOnce: a PostgreSQL journal that refuses says
// so in one line naming the address once (in the URL), without the
// password, instead of one "dial error" line per connection attempt.
func TestJournalConnectionErrorOnce(t *testing.T) {
	t.Parallel()
	addr := strings.TrimPrefix(closedURL(t), "http://")
	url := "postgres://numsync:s3cret-pw@" + addr + "/numsync"
	code, out, errOut := runBin(t, t.TempDir(), nil, "runs", "--journal", url)
	if code != ExitError || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || strings.Count(errOut, "dial") > 1 || strings.Count(errOut, "connection refused") != 1 ||
		strings.Count(errOut, addr) != 1 || strings.Contains(errOut, "s3cret-pw") ||
		!strings.Contains(errOut, "journal: open postgres://numsync:xxxxx@"+addr+"/numsync: could not connect to PostgreSQL: connection refused") {
		t.Errorf("journal connection error:\n%s", errOut)
	}
}
