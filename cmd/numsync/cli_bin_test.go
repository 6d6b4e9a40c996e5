package main

// CLI tests through the built binary: what a shell, a cron job or a user
// sees of numsync as a program (help, completion, version, which input
// apply read, exit codes), run as a separate process.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	flag "github.com/spf13/pflag"

	numexec "github.com/numsync/numsync/internal/exec"
	"github.com/numsync/numsync/internal/labserver"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// testVersion is linked into the test binary, as a release build would
// link its tag.
const testVersion = "v0.0.0-test"

// builtBinary builds numsync once per test process (with the version
// linked in) and returns its path; it skips when there is no go command.
func builtBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("binary tests need the go command on PATH to build numsync")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "numsync-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "numsync")
		out, err := exec.Command(gobin, "build", "-ldflags", "-X main.version="+testVersion, "-o", binPath,
			"github.com/numsync/numsync/cmd/numsync").CombinedOutput()
		if err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("build numsync: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// runBin runs the built binary with args in dir (the test's own directory
// when ""), with the process environment plus env.
func runBin(t *testing.T, dir string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run numsync: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// bin runs the built binary with the CLI's config, journal and lab
// credentials, as run does in process.
func (c *e2eCLI) bin(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	full := append([]string{"--config", c.config, "--journal", c.journal, "--no-progress"}, args...)
	return runBin(c.t, c.dir, c.env, full...)
}

// completions runs the shell's completion request (what the scripts send)
// and returns the offered values, without descriptions, and the directive.
func completions(t *testing.T, run func(args ...string) (int, string, string), args ...string) ([]string, string) {
	t.Helper()
	code, out, errOut := run(append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d\n%s%s", args, code, out, errOut)
	}
	var values []string
	directive := ""
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, ":") {
			directive = line
			continue
		}
		values = append(values, strings.SplitN(line, "\t", 2)[0])
	}
	return values, directive
}

// TestCompletion: every shell gets a script; the completion requests the
// scripts make offer commands, flags, enumerated values from the help's
// usage lines, file extensions, and the journal's run ids for show.
func TestCompletion(t *testing.T) {
	t.Parallel()
	markers := map[string]string{"bash": "__start_numsync", "zsh": "#compdef numsync", "fish": "complete -c numsync", "powershell": "Register-ArgumentCompleter"}
	for shell, marker := range markers {
		code, out, errOut := runBin(t, "", nil, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) || errOut != "" {
			t.Errorf("completion %s: exit %d, has %q: %v, stderr %q", shell, code, marker, strings.Contains(out, marker), errOut)
		}
		if shell == "bash" {
			if bash, err := exec.LookPath("bash"); err == nil {
				script := filepath.Join(t.TempDir(), "numsync.bash")
				if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
				if b, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
					t.Errorf("bash -n: %v\n%s", err, b)
				}
			}
		}
	}
	if code, _, errOut := runBin(t, "", nil, "completion", "tcsh"); code != 1 || !strings.Contains(errOut, `no completion for "tcsh": the shells are bash, zsh, fish, powershell`) {
		t.Errorf("completion tcsh: exit %d, %s", code, errOut)
	}

	plain := func(args ...string) (int, string, string) { return runBin(t, t.TempDir(), nil, args...) }
	tests := []struct {
		name      string
		args      []string
		want      []string
		directive string
	}{
		{"commands", []string{""}, []string{"validate", "plan", "apply", "export", "runs", "show", "demo", "lab", "completion", "version"}, ":4"},
		{"plan formats", []string{"plan", "--format", ""}, []string{"text", "json", "csv", "markdown"}, ":4"},
		{"validate formats", []string{"validate", "x.csv", "--format", ""}, []string{"text", "json"}, ":4"},
		{"show formats", []string{"show", "1", "--format", ""}, []string{"text", "json", "csv"}, ":4"},
		{"vendors", []string{"export", "--vendor", ""}, []string{"oneuc", "firstorion"}, ":4"},
		{"log levels", []string{"--log-level", ""}, []string{"debug", "info", "warn", "error"}, ":4"},
		{"log formats", []string{"validate", "--log-format", ""}, []string{"text", "json"}, ":4"},
		{"shells", []string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}, ":4"},
		{"desired files", []string{"plan", "--desired", ""}, []string{"csv", "xlsx"}, ":8"},
		{"plan argument", []string{"plan", ""}, []string{"csv", "xlsx"}, ":8"},
		{"apply argument", []string{"apply", ""}, []string{"json", "csv", "xlsx"}, ":8"},
		{"saved plan file", []string{"plan", "x.csv", "--out", ""}, []string{"json"}, ":8"},
		{"metrics file", []string{"apply", "--metrics-file", ""}, []string{"prom"}, ":8"},
		{"config file", []string{"--config", ""}, nil, ":0"},
		{"a number", []string{"runs", "--limit", ""}, nil, ":4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := completions(t, plain, tt.args...)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("completing %v: %q missing from %v", tt.args, w, got)
				}
			}
			if directive != tt.directive {
				t.Errorf("completing %v: directive %s, want %s", tt.args, directive, tt.directive)
			}
		})
	}
	got, _ := completions(t, plain, "plan", "--")
	for _, w := range []string{"--desired", "--out", "--format", "--prune", "--detailed-exitcode", "--config", "--journal", "--metrics-file"} {
		if !slices.Contains(got, w) {
			t.Errorf("plan's flags: %q missing from %v", w, got)
		}
	}
	// Every enumerated value offered is one the command accepts.
	for _, sub := range []string{"validate", "plan", "show"} {
		args := map[string][]string{"validate": {"validate", "x.csv"}, "plan": {"plan", "x.csv"}, "show": {"show", "1"}}[sub]
		values, _ := completions(t, plain, append(args, "--format", "")...)
		for _, v := range values {
			_, _, errOut := plain(append(args, "--format", v)...)
			if strings.Contains(errOut, "must be one of") {
				t.Errorf("%s --format %s is offered but refused: %s", sub, v, errOut)
			}
		}
	}
}

// TestCompleteRunIDs: 'numsync show <TAB>' offers the journal's runs,
// newest first, with their outcome; with no journal, nothing (and no
// error in the user's command line).
func TestCompleteRunIDs(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 21}, smallSeed(5, 3))
	c := newCLI(t, l.URL, nil)
	c.mustRun(0, "apply", "--desired", c.writeFile("four.csv", smallCSV(4)))
	c.mustRun(0, "apply", "--desired", c.writeFile("five.csv", smallCSV(5)))
	code, out, _ := c.bin("__complete", "show", "")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "2\tdone, started ") || !strings.HasPrefix(lines[1], "1\tdone, started ") {
		t.Errorf("run ids:\n%s", out)
	}
	if got, _ := completions(t, c.bin, "show", "1", ""); len(got) != 0 {
		t.Errorf("a second argument completes %v", got)
	}
	code, out, errOut := runBin(t, t.TempDir(), nil, "__complete", "--journal", "none.db", "show", "")
	if code != 0 || strings.TrimSpace(out) != ":36" || strings.Contains(errOut, "no journal") && strings.Contains(out, "no journal") {
		t.Errorf("without a journal: exit %d\n%s%s", code, out, errOut)
	}
}

// TestVersion: numsync version and --version print the linked version
// and the toolchain.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := runBin(t, "", nil, args...)
		if code != 0 || !strings.HasPrefix(out, "numsync "+testVersion+" (") || !strings.Contains(out, runtime.Version()) || errOut != "" {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
}

func TestDescribeBuild(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name, linked string
		info         *debug.BuildInfo
		want         string
	}{
		{"module version and commit", "", info, "v1.2.3 (commit 0123456789ab, 2026-01-02T03:04:05Z, modified; go1.99 "},
		{"linked version wins", "v2.0.0", info, "v2.0.0 (commit 0123456789ab"},
		{"a checkout", "", &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "(devel)"}}, "(devel) (go1.99 "},
		{"no build info", "", nil, "(devel) (" + runtime.Version()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeBuild(tt.linked, tt.info); !strings.HasPrefix(got, tt.want) {
				t.Errorf("describeBuild = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// TestApplyTellsItsInput: FILE as the argument or with --desired for
// validate, plan and apply; apply tells a saved plan from a desired-state
// CSV (with a byte-order mark, as Excel writes it) by content and says
// which it read; a file that is neither is named in the error.
func TestApplyTellsItsInput(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 22}, smallSeed(5, 3))
	c := newCLI(t, l.URL, nil)
	csv := c.writeFile("keep.csv", "\xef\xbb\xbf"+smallCSV(5))
	saved := c.path("saved.json")

	if code, out, errOut := c.bin("validate", csv); code != 0 || !strings.Contains(out, "5 valid numbers, valid") {
		t.Errorf("validate FILE: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := c.bin("plan", csv, "--out", saved); code != 0 || !strings.Contains(out, "+") {
		t.Errorf("plan FILE: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := c.bin("plan", "--desired", csv, "other.csv"); code != 1 || !strings.Contains(errOut, "give the CSV once") {
		t.Errorf("plan with two CSVs: exit %d\n%s", code, errOut)
	}
	code, out, errOut := c.bin("apply", saved)
	if code != 0 || !strings.Contains(errOut, "reading "+saved+" as a saved plan") {
		t.Errorf("apply PLAN.json: exit %d\n%s%s", code, out, errOut)
	}
	applied := l.writes()
	if applied.firstorion == 0 {
		t.Errorf("the saved plan changed nothing: %+v", applied)
	}
	code, out, errOut = c.bin("apply", csv)
	if code != 0 || !strings.Contains(errOut, "reading "+csv+" as a desired-state file") || !strings.Contains(out, "Nothing to do") {
		t.Errorf("apply FILE: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = c.bin("apply", "--desired", saved)
	if code != 1 || !strings.Contains(errOut, saved+" is a saved plan: give it as the argument") {
		t.Errorf("apply --desired PLAN.json: exit %d\n%s", code, errOut)
	}
	code, _, errOut = c.bin("apply", c.config)
	if code != 1 || !strings.Contains(errOut, c.config+" is neither a saved plan") || strings.Contains(errOut, "invalid character") {
		t.Errorf("apply numsync.yaml: exit %d\n%s", code, errOut)
	}
	if w := l.writes(); w != applied {
		t.Errorf("writes after the saved plan: %+v, then %+v", applied, w)
	}
}

// jsonLines checks that every line of stderr is one JSON object with a
// level and a message, and returns them.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON line: %q", line)
			continue
		}
		if rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
			t.Errorf("not a log record: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// TestJSONLogs: with --log-format json every line on standard error is
// one slog JSON object, on a run with warnings, failures and a final
// error, on a row error and on a usage error; numbers are numbers. Text
// mode prints the same as plain lines.
func TestJSONLogs(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 23}, nil)
	c := newCLI(t, l.URL, nil)
	csv := c.sampleCSV()

	code, _, errOut := c.bin("--log-format", "json", "apply", "--desired", csv)
	if code != ExitFailed {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	recs := jsonLines(t, errOut)
	levels := map[string]int{}
	var final map[string]any
	for _, r := range recs {
		levels[r["level"].(string)]++
		if r["exit_code"] != nil {
			final = r
		}
	}
	if levels["WARN"] == 0 || levels["ERROR"] < 9 {
		t.Errorf("levels %v: the warnings and failures are not records of their own\n%s", levels, errOut)
	}
	if final == nil || final["exit_code"] != float64(ExitFailed) || final["command"] != "numsync apply" || !strings.Contains(final["msg"].(string), "failed for good") {
		t.Errorf("the final error: %v", final)
	}

	// Text mode: the same lines, plain.
	_, _, text := c.bin("apply", "--desired", csv)
	if !strings.Contains(text, "warning: ") || strings.Contains(text, `"level"`) {
		t.Errorf("text mode:\n%s", text)
	}

	bad := c.writeFile("bad.csv", "phone_number,cnam\n12,x\n")
	code, _, errOut = c.bin("--log-format", "json", "plan", bad)
	recs = jsonLines(t, errOut)
	if code != ExitError || len(recs) == 0 || recs[0]["line"] != float64(2) || recs[0]["column"] != "phone_number" || recs[0]["file"] != bad {
		t.Errorf("row error: exit %d, %v", code, recs)
	}
	// A workbook's row error carries its sheet and cell.
	book, _ := filepath.Abs(filepath.Join("..", "..", "internal", "desired", "testdata", "workbooks", "libreoffice", "bad.xlsx"))
	code, _, errOut = c.bin("--log-format", "json", "plan", book, "--sheet", "Numbers")
	recs = jsonLines(t, errOut)
	found := false
	for _, r := range recs {
		found = found || r["sheet"] == "Numbers" && r["cell"] == "Numbers!C4" && r["line"] == float64(4)
	}
	if code != ExitError || !found {
		t.Errorf("workbook row error: exit %d, %v", code, recs)
	}
	code, _, errOut = c.bin("--log-format", "json", "show", "x")
	recs = jsonLines(t, errOut)
	if code != ExitError || len(recs) != 1 || recs[0]["hint"] == nil {
		t.Errorf("usage error: exit %d, %v", code, recs)
	}
}

// TestProgressLogNumbers: without a terminal, progress is logged every
// interval: while reading, the listing pages and the number details read
// per vendor (a detail read is not a page); then done, failed,
// remaining and the rate, all numbers in JSON. The log loop ends with
// finish.
func TestProgressLogNumbers(t *testing.T) {
	var mu sync.Mutex
	var errb bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return errb.Write(p) })
	read := func() string { mu.Lock(); defer mu.Unlock(); return errb.String() }
	e := &env{rawStderr: w, global: globalFlags{logFormat: "json", logLevel: "info"}, progressEvery: time.Millisecond}
	e.stderr = &stderrLines{e: e, raw: w}
	p := newProgress(e)
	get, _ := http.NewRequest(http.MethodGet, "http://lab/oneuc/v2/accounts/x/phone_numbers", nil)
	put, _ := http.NewRequest(http.MethodPut, "http://lab/oneuc/v2/api_auth", nil)
	e.onRequest("oneuc", put, 201, nil)
	e.onRequest("oneuc", get, 200, nil)
	e.onRequest("oneuc", get, 200, nil)
	e.onRequest("firstorion", get, 200, nil)
	// One number's details (OneUC's detail reads) are not listing pages.
	detail, _ := http.NewRequest(http.MethodGet, "http://lab/oneuc/v2/accounts/x/phone_numbers/%2B12125550100", nil)
	e.onRequest("oneuc", detail, 200, nil)
	e.onRequest("oneuc", detail, 200, nil)
	e.onRequest("oneuc", detail, 200, nil)
	waitFor := func(what string) map[string]any {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			for _, line := range strings.Split(read(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == what {
					return rec
				}
			}
		}
		t.Fatalf("no %q line:\n%s", what, read())
		return nil
	}
	rec := waitFor("reading inventories")
	if rec["oneuc_pages"] != float64(2) || rec["oneuc_details"] != float64(3) || rec["firstorion_pages"] != float64(1) || rec["firstorion_details"] != float64(0) {
		t.Errorf("reading: %v", rec)
	}
	// The bar's description on a terminal says the same.
	p.mu.Lock()
	bar := p.pagesLocked()
	p.mu.Unlock()
	if bar != "firstorion 1 page, oneuc 2 pages and 3 details" {
		t.Errorf("bar: %q", bar)
	}
	p.update(numexec.Progress{Vendors: []numexec.VendorProgress{{Vendor: "oneuc", Total: 10, Done: 5, Remaining: 5}}})
	rec = waitFor("progress")
	if _, ok := rec["ops_per_second"].(float64); !ok || rec["done"] != float64(5) || rec["remaining"] != float64(5) {
		t.Errorf("progress: %v", rec)
	}
	p.finish()
	n := len(read())
	time.Sleep(20 * time.Millisecond)
	if len(read()) != n {
		t.Errorf("progress logged after finish")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// closedURL is the address of a listener that was closed: connecting to
// it is refused.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestErrorsSayContextOnce: an unreachable vendor's error names the
// vendor and each context once, names the address it could not reach,
// and says what to check next; a refused key says which credentials.
func TestErrorsSayContextOnce(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 24}, smallSeed(3, 3))
	down := closedURL(t)
	c := newCLI(t, l.URL, func(y string) string {
		// A vendor that refuses is retried for retry.max_elapsed (5m by
		// default) before plan gives up: keep the budget short here.
		return strings.Replace(y, l.URL+labserver.OneUCPrefix, down+labserver.OneUCPrefix, 1) + "retry:\n  max_elapsed: 2s\n"
	})
	csv := c.writeFile("three.csv", smallCSV(3))
	code, _, errOut := c.bin("plan", csv)
	first := strings.SplitN(errOut, "\n", 2)[0]
	if code != ExitError || strings.Count(first, "oneuc") != 1 || strings.Count(first, "list numbers") != 1 ||
		!strings.Contains(first, "could not connect: "+down+": connection refused") {
		t.Errorf("exit %d, first line %q", code, first)
	}
	if !strings.Contains(errOut, "Check oneuc.url in "+c.config) || !strings.Contains(errOut, "'numsync check'") {
		t.Errorf("no next step:\n%s", errOut)
	}

	c = newCLI(t, l.URL, nil)
	c.env["ONEUC_API_KEY"] = "wrong"
	code, _, errOut = c.bin("plan", csv)
	if code != ExitError || strings.Count(errOut, "oneuc:") != 1 || !strings.Contains(errOut, "the API key was refused") ||
		!strings.Contains(errOut, "Check oneuc's credentials in "+c.config) || strings.Contains(errOut, "wrong") {
		t.Errorf("refused key: exit %d\n%s", code, errOut)
	}
}

// TestCheck: numsync check passes against the labs with one line per
// vendor, sends nothing that writes, and prints no secret; each broken
// piece (an address that refuses, a refused key, an account that is not
// the key's) fails its vendor's line at its step, exit 1.
func TestCheck(t *testing.T) {
	t.Parallel()
	l := newLab(t, labserver.Options{Seed: 25}, smallSeed(3, 3))
	c := newCLI(t, l.URL, nil)
	code, out, errOut := c.bin("--log-level", "debug", "check")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "oneuc ") || !strings.HasPrefix(lines[1], "firstorion ") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	for _, l := range lines {
		for _, step := range []string{" ok ", "answers", "credentials log in", "reachable", "first listing page read"} {
			if !strings.Contains(l, step) {
				t.Errorf("line lacks %q: %s", step, l)
			}
		}
	}
	if w := l.writes(); w.oneuc != 0 || w.firstorion != 0 {
		t.Errorf("check wrote to the labs: %+v", w)
	}
	for _, s := range l.secrets() {
		if strings.Contains(out+errOut, s) {
			t.Errorf("check printed a secret (%.6s…)", s)
		}
	}

	tests := []struct {
		name   string
		edit   func(string) string
		env    map[string]string
		vendor string
		want   string
	}{
		{"address refused", func(y string) string {
			return strings.Replace(y, l.URL+labserver.OneUCPrefix, closedURL(t)+labserver.OneUCPrefix, 1)
		}, nil, "oneuc", "the URL does not answer: could not connect: http://127.0.0.1:"},
		{"key refused", nil, map[string]string{"FO_SECRET_KEY": "wrong-secret"}, "firstorion", "answers; the credentials do not log in: "},
		{"other account", func(y string) string {
			return strings.Replace(y, "account_id: ", "account_id: 00", 1)
		}, nil, "oneuc", "credentials log in; account 00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, l.URL, tt.edit)
			for k, v := range tt.env {
				c.env[k] = v
			}
			code, out, errOut := c.bin("check")
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, tt.vendor+" ") {
					line = l
				}
			}
			if code != 1 || !strings.Contains(line, "FAILED") || !strings.Contains(line, tt.want) || strings.Count(out, " ok ") != 1 {
				t.Errorf("exit %d, %s line %q\n%s%s", code, tt.vendor, line, out, errOut)
			}
			if strings.Contains(out+errOut, "wrong-secret") {
				t.Error("the secret was printed")
			}
		})
	}
}

// labRequests counts the requests both labs have served.
func labRequests(l *e2eLab) int { return len(l.OneUC.Requests()) + len(l.FirstOrion.Requests()) }

// TestInterruptWhileReading: Ctrl-C while plan or apply is still reading
// the inventories (paced to two requests a second here) stops it at once,
// exit 130, with nothing sent and no run journaled: the labs serve at
// most the requests already in flight after the signal.
func TestInterruptWhileReading(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"plan", "apply"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labserver.Options{Seed: 26}, nil)
			c := newCLI(t, l.URL, func(y string) string {
				return strings.ReplaceAll(y, "rate: {rps: 2000, burst: 200}", "rate: {rps: 2, burst: 1}")
			})
			csv := c.sampleCSV()
			cmd := exec.Command(builtBinary(t), "--config", c.config, "--journal", c.journal, "--no-progress", command, csv)
			cmd.Dir = c.dir
			cmd.Env = os.Environ()
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			// Wait for the listing to be under way: past the log-ins.
			for labRequests(l) < 4 {
				select {
				case <-done:
					t.Fatalf("%s ended before the signal: %s", command, errb.String())
				case <-time.After(5 * time.Millisecond):
				}
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			at := labRequests(l)
			select {
			case <-done:
			case <-time.After(time.Minute): // hang guard only
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("%s did not stop: %s", command, errb.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != ExitSIGINT || !strings.Contains(errb.String(), "stopped (SIGINT) while reading the inventories: nothing was sent") {
				t.Errorf("exit %d\n%s", code, errb.String())
			}
			if after := labRequests(l) - at; after > 2 {
				t.Errorf("%d requests after the signal", after)
			}
			if w := l.writes(); w.oneuc+w.firstorion != 0 {
				t.Errorf("writes: %+v", w)
			}
			if out, _ := c.mustRun(0, "runs"); command == "apply" && !strings.Contains(out, "No runs journaled yet.") {
				t.Errorf("runs:\n%s", out)
			}
		})
	}
}

// TestLabHelp: lab's usage line names every flag it has, and the example's
// seed is one the lab takes (it named a file that did not exist).
func TestLabHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runBin(t, "", nil, "lab", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	usage := strings.SplitN(strings.SplitN(out, "Usage:\n  ", 2)[1], "\n", 2)[0]
	lab := cmdLab(&env{})
	lab.Flags().VisitAll(func(f *flag.Flag) {
		if !strings.Contains(usage, "--"+f.Name+" ") && !strings.HasSuffix(usage, "--"+f.Name) {
			t.Errorf("lab's usage lacks --%s: %s", f.Name, usage)
		}
	})
	m := regexp.MustCompile(`--seed (\S+)`).FindStringSubmatch(lab.Example)
	if m == nil {
		t.Fatalf("no --seed in the example: %s", lab.Example)
	}
	if err := labserver.New(labserver.Options{}).SeedFile(filepath.Join("..", "..", m[1])); err != nil {
		t.Errorf("the example's seed %s: %v", m[1], err)
	}
}
