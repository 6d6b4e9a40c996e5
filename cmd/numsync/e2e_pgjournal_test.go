package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/numsync/numsync/internal/labserver"
	"github.com/numsync/numsync/internal/pgtest"
)

// TestJournalURLIsNotAFile: --journal postgres://… is a PostgreSQL
// journal, never a SQLite file of that name (numsync used to create
// ./postgres:/… and journal into it). An unreachable server is an error
// naming the URL without its password, and nothing appears on disk.
func TestJournalURLIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := newCLI(t, "http://127.0.0.1:1", nil)
	c.journal = "postgres://numsync:hunter2@127.0.0.1:1/numsync?sslmode=disable&connect_timeout=2"
	csv := c.sampleCSV()
	for _, args := range [][]string{{"apply", "--desired", csv}, {"runs"}, {"journal", "prune"}} {
		code, out, errOut := c.run(args...)
		if code != ExitError {
			t.Errorf("%s: exit %d, want %d\n%s%s", args[0], code, ExitError, out, errOut)
		}
		if !strings.Contains(errOut, "journal: open postgres://numsync:") || strings.Contains(errOut+out, "hunter2") {
			t.Errorf("%s: stderr %q: want the URL named, without its password", args[0], errOut)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s appeared in the working directory", e.Name())
	}
}

// TestApplyOnPostgresJournal: apply, runs and show against a PostgreSQL
// journal, and a second apply finding nothing to do.
func TestApplyOnPostgresJournal(t *testing.T) {
	url := pgtest.URL(t)
	l := newLab(t, labserver.Options{Seed: 9}, nil)
	c := newCLI(t, l.URL, nil)
	c.journal = url
	csvPath := c.sampleCSV()
	p0 := c.planJSON(0, "--desired", csvPath)
	c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	out, _ := c.mustRun(0, "runs")
	if !regexp.MustCompile(`(?m)^1\s+.*\s246\s+9\s+0\s+failed$`).MatchString(out) {
		t.Errorf("runs:\n%s", out)
	}
	out, _ = c.mustRun(0, "show", "1", "--failed")
	if !regexp.MustCompile(`\+16462199999 .* fault_by_carrier`).MatchString(out) {
		t.Errorf("show --failed:\n%.500s", out)
	}
	// The failures of the last run are carried, the rest is in step.
	_, errOut := c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	if !strings.Contains(errOut, "not sent again") {
		t.Errorf("second apply stderr:\n%s", errOut)
	}
	checkConverged(t, l, p0, sampleFailures)
	checkNothingTwice(t, l, p0)
}

// TestJournalMigrateToPostgres: a SQLite journal copied into PostgreSQL
// reads back the same through runs and show, and a second copy into the
// now non-empty journal is refused.
func TestJournalMigrateToPostgres(t *testing.T) {
	url := pgtest.URL(t)
	l := newLab(t, labserver.Options{Seed: 9}, nil)
	c := newCLI(t, l.URL, nil)
	csvPath := c.sampleCSV()
	c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	runsSQLite, _ := c.mustRun(0, "runs")
	showSQLite, _ := c.mustRun(0, "show", "1")
	failedSQLite, _ := c.mustRun(0, "show", "1", "--failed", "--format", "csv")

	out, _ := c.mustRun(0, "journal", "migrate", "--to", url)
	if !strings.Contains(out, "Copied 2 runs (") || !strings.Contains(out, "the history of 2 vendors") {
		t.Errorf("migrate:\n%s", out)
	}
	sqlitePath := c.journal
	c.journal = url
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runs"}, runsSQLite},
		{[]string{"show", "1"}, showSQLite},
		{[]string{"show", "1", "--failed", "--format", "csv"}, failedSQLite},
	} {
		got, _ := c.mustRun(0, tc.args...)
		if got != tc.want {
			t.Errorf("%s from PostgreSQL differs from SQLite:\n%s\nwant:\n%s", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	// New runs continue the numbering; the source is untouched.
	c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	out, _ = c.mustRun(0, "runs", "--limit", "1")
	if !regexp.MustCompile(`(?m)^3\s`).MatchString(out) {
		t.Errorf("the first run in PostgreSQL after the copy is not run 3:\n%s", out)
	}
	c.journal = sqlitePath
	if again, _ := c.mustRun(0, "runs"); again != runsSQLite {
		t.Errorf("the SQLite journal changed:\n%s", again)
	}
	code, _, errOut := c.run("journal", "migrate", "--to", url)
	if code != ExitError || !strings.Contains(errOut, "already holds runs") {
		t.Errorf("second migrate: exit %d\n%s", code, errOut)
	}
}

// TestJournalPrune: journal prune removes old finished runs, and
// journal_retention does it after every apply.
func TestJournalPrune(t *testing.T) {
	l := newLab(t, labserver.Options{Seed: 9}, nil)
	c := newCLI(t, l.URL, nil)
	csvPath := c.sampleCSV()
	for range 3 {
		c.mustRun(ExitFailed, "apply", "--desired", csvPath)
	}
	out, _ := c.mustRun(0, "journal", "prune", "--keep-runs", "1")
	if !strings.HasPrefix(out, "Pruned 2 runs (2, 1) with ") {
		t.Errorf("prune:\n%s", out)
	}
	out, _ = c.mustRun(0, "journal", "prune", "--keep-runs", "1")
	if !strings.HasPrefix(out, "Nothing to prune") {
		t.Errorf("second prune:\n%s", out)
	}
	if out, _ := c.mustRun(0, "runs"); strings.Count(strings.TrimSpace(out), "\n") != 1 {
		t.Errorf("runs after prune:\n%s", out)
	}
	if code, _, errOut := c.run("journal", "prune", "--older-than", "soon"); code != ExitError || !strings.Contains(errOut, "not an age") {
		t.Errorf("bad --older-than: exit %d %s", code, errOut)
	}

	// journal_retention after each apply.
	c2 := newCLI(t, l.URL, func(y string) string { return "journal_retention: {keep_runs: 2}\n" + y })
	csv2 := c2.sampleCSV()
	for range 3 {
		c2.run("apply", "--desired", csv2)
	}
	out, _ = c2.mustRun(0, "runs")
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 2 {
		t.Errorf("with keep_runs 2, runs lists %d runs:\n%s", n, out)
	}
	if _, err := os.Stat(filepath.Join(c2.dir, "numsync.db")); err != nil {
		t.Fatal(err)
	}
}
