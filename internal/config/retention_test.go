package config

import (
	"strings"
	"testing"
	"time"
)

func TestJournalRetention(t *testing.T) {
	day := 24 * time.Hour
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name      string
		yaml      string
		env       map[string]string
		keep      int
		olderThan time.Duration
		err       string
	}{
		{name: "default", yaml: "default_region: US\n", keep: 200, olderThan: 90 * day},
		{name: "days", yaml: "journal_retention: {keep_runs: 10, older_than: 30d}\n", keep: 10, olderThan: 30 * day},
		{name: "weeks", yaml: "journal_retention: {older_than: 2w}\n", keep: 200, olderThan: 14 * day},
		{name: "go duration", yaml: "journal_retention: {older_than: 36h}\n", keep: 200, olderThan: 36 * time.Hour},
		{name: "limits off", yaml: "journal_retention: {keep_runs: 0, older_than: 0}\n", keep: 0, olderThan: 0},
		{name: "env override", yaml: "journal_retention: {keep_runs: 10}\n",
			env:  map[string]string{"NUMSYNC_JOURNAL_RETENTION_OLDER_THAN": "7d", "NUMSYNC_JOURNAL_RETENTION_KEEP_RUNS": "3"},
			keep: 3, olderThan: 7 * day},
		{name: "negative count", yaml: "journal_retention: {keep_runs: -1}\n", err: "journal_retention.keep_runs"},
		{name: "bad age", yaml: "journal_retention: {older_than: soon}\n", err: `"soon" is not an age`},
		{name: "bad env age", yaml: "", env: map[string]string{"NUMSYNC_JOURNAL_RETENTION_OLDER_THAN": "soon"}, err: "NUMSYNC_JOURNAL_RETENTION_OLDER_THAN"},
		{name: "typo", yaml: "journal_retention: {keep_run: 3}\n", err: "did you mean journal_retention.keep_runs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), env(tc.env))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.JournalRetention.KeepRuns != tc.keep || time.Duration(c.JournalRetention.OlderThan) != tc.olderThan {
				t.Errorf("retention = %+v, want keep %d older than %s", c.JournalRetention, tc.keep, tc.olderThan)
			}
		})
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1w": 7 * 24 * time.Hour, "90m": 90 * time.Minute, "0": 0, "": 0} {
		got, err := ParseAge(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1d", "d", "3x", "-5h"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) succeeded", in)
		}
	}
	if s := Age(90 * 24 * time.Hour).String(); s != "90d" {
		t.Errorf("String = %q", s)
	}
}

// TestRedactedHidesJournalPassword: a postgres:// journal URL may carry a
// password; a printed config must not.
func TestRedactedHidesJournalPassword(t *testing.T) {
	c, err := Parse([]byte("journal: postgres://numsync:${PGPW}@db.example/numsync?sslmode=require\n"),
		func(k string) string { return map[string]string{"PGPW": "hunter2"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Journal, "hunter2") {
		t.Fatalf("journal = %q: the password should be expanded for use", c.Journal)
	}
	out := c.Redacted()
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "db.example") {
		t.Errorf("Redacted:\n%s", out)
	}
	if got := RedactJournal("./numsync.db"); got != "./numsync.db" {
		t.Errorf("RedactJournal(path) = %q", got)
	}
}
