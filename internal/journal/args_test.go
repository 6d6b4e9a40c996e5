package journal

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"nothing secret",
			[]string{"apply", "--desired", "desired.csv", "--max-delete=5%", "--journal", "/var/lib/numsync.db"},
			[]string{"apply", "--desired", "desired.csv", "--max-delete=5%", "--journal", "/var/lib/numsync.db"}},
		{"flag with equals",
			[]string{"apply", "--api-key=abc123", "--fo-secret-key=s3cr3t"},
			[]string{"apply", "--api-key=" + Redacted, "--fo-secret-key=" + Redacted}},
		{"flag and separate value",
			[]string{"apply", "--token", "tok-1", "--desired", "d.csv"},
			[]string{"apply", "--token", Redacted, "--desired", "d.csv"}},
		{"single dash and mixed case",
			[]string{"-Password", "hunter2", "-APIKEY=x"},
			[]string{"-Password", Redacted, "-APIKEY=" + Redacted}},
		{"secret flag followed by another flag",
			[]string{"--auth", "--desired", "d.csv"},
			[]string{"--auth", "--desired", "d.csv"}},
		{"secret flag last", []string{"apply", "--api-key"}, []string{"apply", "--api-key"}},
		{"environment assignment",
			[]string{"NUMSYNC_FIRSTORION_API_KEY=abc", "ONEUC_ACCOUNT=4b3c"},
			[]string{"NUMSYNC_FIRSTORION_API_KEY=" + Redacted, "ONEUC_ACCOUNT=4b3c"}},
		{"password in a URL",
			[]string{"--config=https://ops:hunter2@config.example/numsync.yaml", "https://u:p@h/x"},
			[]string{"--config=https://ops:xxxxx@config.example/numsync.yaml", "https://u:xxxxx@h/x"}},
		{"user without password in a URL kept",
			[]string{"--url=https://ops@h/x"},
			[]string{"--url=https://ops@h/x"}},
		{"unparseable URL with user information",
			[]string{"https://u:p%zz@h/x"},
			[]string{"https://" + Redacted + "@h/x"}},
		{"lone dashes", []string{"-", "--", "x"}, []string{"-", "--", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactArgs(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RedactArgs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStartRunStoresNoSecret(t *testing.T) {
	ctx := context.Background()
	j := openTest(t)
	args := []string{"apply", "--desired", "d.csv", "--api-key", "TOPSECRET-1", "--secret=TOPSECRET-2"}
	id, err := j.startRun(ctx, RunInfo{CSVDigest: "c", Args: args}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := j.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(run.Args, " "), "TOPSECRET") {
		t.Errorf("stored args %q hold a secret", run.Args)
	}
	// Nor anywhere in the file's tables.
	var n int
	err = j.r.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE args LIKE '%TOPSECRET%'`).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("runs holding the secret: %d (%v)", n, err)
	}
	if args[4] != "TOPSECRET-1" {
		t.Error("RedactArgs modified the caller's slice")
	}
}
