package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"
)

// runCLI runs the command line in process with a controlled environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	valid := filepath.Join("testdata", "valid.csv")
	invalid := filepath.Join("testdata", "invalid.csv")
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		noStdout   bool
		emptyError bool
	}{
		{name: "no arguments", args: nil, code: 1, stderr: []string{"Usage:", "Commands:"}, noStdout: true},
		{name: "top help", args: []string{"--help"}, code: 0, stdout: []string{"Commands:", "validate", "plan", "apply", "export", "runs", "show", "demo", "lab", "--metrics-file", "Examples:"}, emptyError: true},
		{name: "help command", args: []string{"help", "apply"}, code: 0, stdout: []string{"numsync apply ([--desired] FILE [--sheet NAME] [--delimiter ,|;|tab] [--allow-extra-columns] | PLAN.json)", "--max-duration", "Examples:"}},
		{name: "unknown command", args: []string{"sync"}, code: 1, stderr: []string{`unknown command "sync"`}},
		{name: "unknown flag", args: []string{"plan", "--desired", "x.csv", "--bogus"}, code: 1, stderr: []string{"numsync plan: unknown flag: --bogus", "numsync plan --help"}},
		{name: "unknown global flag", args: []string{"--bogus", "plan"}, code: 1, stderr: []string{"unknown flag: --bogus"}},
		{name: "misspelt flag", args: []string{"plan", "--desried", "x.csv"}, code: 1, stderr: []string{"unknown flag: --desried (did you mean --desired?)"}},
		{name: "single-dash flag", args: []string{"validate", "-desired", "x.csv"}, code: 1, stderr: []string{"(did you mean --desired?)"}},
		{name: "misspelt global flag", args: []string{"validate", "x.csv", "--jornal", "j.db"}, code: 1, stderr: []string{"(did you mean --journal?)"}},
		{name: "misspelt command", args: []string{"aply"}, code: 1, stderr: []string{`unknown command "aply" (did you mean "apply"?)`, "numsync --help"}},

		{name: "plan needs a config", args: []string{"plan", "--desired", valid}, code: 1, stderr: []string{"numsync plan: no configuration"}, noStdout: true},
		{name: "plan bad format", args: []string{"plan", "--desired", valid, "--format", "xml"}, code: 1, stderr: []string{"--format must be one of text, json, csv, markdown"}},
		{name: "plan needs desired", args: []string{"plan"}, code: 1, stderr: []string{"--desired is required"}},
		{name: "apply needs a config", args: []string{"apply", "plan.json", "--force"}, code: 1, stderr: []string{"numsync apply: no configuration"}},
		{name: "apply both inputs", args: []string{"apply", "--desired", valid, "plan.json"}, code: 1, stderr: []string{"not both"}},
		{name: "apply bad max-delete", args: []string{"apply", "--desired", valid, "--max-delete", "lots"}, code: 1, stderr: []string{"--max-delete", `"lots"`}},
		{name: "apply two plans", args: []string{"apply", "a.json", "b.json"}, code: 1, stderr: []string{`unexpected argument "b.json"`}},
		{name: "export bad vendor", args: []string{"export", "--vendor", "twilio"}, code: 1, stderr: []string{"--vendor must be one of oneuc, firstorion"}},
		{name: "export needs a config", args: []string{"export", "--vendor", "oneuc"}, code: 1, stderr: []string{"numsync export: no configuration"}},
		{name: "runs without a journal", args: []string{"runs", "--limit", "3", "--journal", "testdata/none.db"}, code: 1, stderr: []string{"numsync runs: no journal at testdata/none.db"}},
		{name: "show needs run", args: []string{"show"}, code: 1, stderr: []string{"give the RUN id"}},
		{name: "show without a journal", args: []string{"show", "12", "--failed", "--format", "csv", "--journal", "testdata/none.db"}, code: 1, stderr: []string{"numsync show: no journal at testdata/none.db"}},
		{name: "show bad run id", args: []string{"show", "twelve"}, code: 1, stderr: []string{"RUN must be a run id"}},
		{name: "lab bad fault rate", args: []string{"lab", "--fault-rate", "2"}, code: 1, stderr: []string{"--fault-rate and --lost-rate must be between 0 and 1"}},

		{name: "validate valid", args: []string{"validate", "--desired", valid}, code: 0,
			stdout: []string{valid + ": 2 rows, 2 valid numbers, valid", "managed columns: phone_number, cnam, brand_business_unit, brand_program", "no config"}, emptyError: true},
		{name: "validate positional", args: []string{"validate", valid}, code: 0, stdout: []string{"valid"}},
		{name: "validate invalid lists every error", args: []string{"validate", "--desired", invalid}, code: 1,
			stdout: []string{
				invalid + ":2: phone_number: looks like Excel scientific notation",
				invalid + ":3: cnam: \"ACME Corporation Inc\" is 20 characters",
				invalid + ":3: authenticated_calls: \"maybe\" is not a boolean",
				invalid + ":4: phone_number: duplicate number +12125554200: line 3",
				"INVALID: 4 errors in 3 rows",
			}, emptyError: true},
		{name: "validate missing file", args: []string{"validate", "--desired", "testdata/none.csv"}, code: 1, stderr: []string{"numsync validate:", "none.csv"}},
		{name: "validate needs desired", args: []string{"validate"}, code: 1, stderr: []string{"--desired is required"}},
		{name: "validate bad format", args: []string{"validate", valid, "--format", "yaml"}, code: 1, stderr: []string{"--format must be one of text, json"}},
		{name: "global flags before", args: []string{"--log-format", "json", "--log-level", "debug", "validate", valid}, code: 0, stdout: []string{"valid"}, stderr: []string{`"msg":"validated"`}},
		{name: "global flags after", args: []string{"validate", valid, "--log-level", "debug"}, code: 0, stdout: []string{"valid"}, stderr: []string{"msg=validated"}},
		{name: "bad log format", args: []string{"validate", valid, "--log-format", "xml"}, code: 1, stderr: []string{"--log-format must be text or json"}},
		{name: "bad log level", args: []string{"--log-level", "loud", "validate", valid}, code: 1, stderr: []string{"--log-level must be"}},

		{name: "config disables first orion", args: []string{"--config", "testdata/oneuc-only.yaml", "validate", valid}, code: 1,
			stdout: []string{":1: brand_business_unit: manages First Orion, which the config does not enable", "firstorion disabled (from the config)"}},
		{name: "config from environment", env: map[string]string{"NUMSYNC_CONFIG": "testdata/gb.yaml"}, args: []string{"validate", "testdata/gb.csv"}, code: 0, stdout: []string{"default region: GB"}},
		{name: "no config uses US", args: []string{"validate", "testdata/gb.csv"}, code: 1, stdout: []string{`phone_number: "020 7946 0958" is not a valid, dialable number (a national number is read as US`}},
		{name: "named config missing", args: []string{"validate", valid, "--config", "testdata/nope.yaml"}, code: 1, stderr: []string{"numsync validate: config:", "nope.yaml"}},
		{name: "broken config", args: []string{"validate", valid, "--config", "testdata/broken.yaml"}, code: 1, stderr: []string{"unknown key oneuc.rate.rsp"}},
		{name: "dash dash", args: []string{"validate", "--", valid}, code: 0, stdout: []string{"valid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if tt.noStdout && out != "" {
				t.Errorf("stdout should be empty:\n%s", out)
			}
			if tt.emptyError && errOut != "" {
				t.Errorf("stderr should be empty:\n%s", errOut)
			}
		})
	}
}

// TestEveryCommandHasHelp checks --help and -h on every command: exit 0,
// usage and examples on standard output.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range newRoot(&env{}).Commands() {
		if c.Name() == "help" {
			continue
		}
		name := c.Name()
		for _, h := range []string{"--help", "-h"} {
			t.Run(name+h, func(t *testing.T) {
				code, out, errOut := runCLI(t, nil, name, h)
				if code != 0 || errOut != "" {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				for _, w := range []string{"Usage:\n  numsync " + name, "Examples:\n  numsync " + name, "Global flags:"} {
					if !strings.Contains(out, w) {
						t.Errorf("help lacks %q:\n%s", w, out)
					}
				}
			})
		}
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, _ := runCLI(t, nil, "validate", "--format", "json", "--desired", filepath.Join("testdata", "invalid.csv"))
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Valid          bool     `json:"valid"`
		Rows           int      `json:"rows"`
		Numbers        int      `json:"numbers"`
		ManagedColumns []string `json:"managed_columns"`
		Warnings       []any    `json:"warnings"`
		Errors         []struct {
			Line   int    `json:"line"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Valid || rep.Rows != 3 || rep.Numbers != 0 || len(rep.Errors) != 4 || rep.Warnings == nil {
		t.Errorf("report: %+v", rep)
	}
	if e := rep.Errors[0]; e.Line != 2 || e.Column != "phone_number" || !strings.Contains(e.Reason, "scientific") {
		t.Errorf("first error: %+v", e)
	}
	if fmt.Sprint(rep.ManagedColumns) != "[phone_number cnam authenticated_calls]" {
		t.Errorf("managed columns: %v", rep.ManagedColumns)
	}

	code, out, _ = runCLI(t, nil, "validate", "--format", "json", filepath.Join("testdata", "valid.csv"))
	if code != 0 || !strings.Contains(out, `"valid": true`) || !strings.Contains(out, `"errors": []`) {
		t.Errorf("valid JSON report: exit %d\n%s", code, out)
	}
}

func TestPanicIsInternalError(t *testing.T) {
	saved := commands
	defer func() { commands = saved }()
	commands = append(commands, func(*env) *cobra.Command {
		return &cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error { panic("kaboom") }}
	})
	code, out, errOut := runCLI(t, nil, "boom")
	if code != ExitError || out != "" || !strings.Contains(errOut, "numsync: internal error: kaboom") {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
	if strings.Contains(errOut, "goroutine") {
		t.Errorf("a stack trace reached the user:\n%s", errOut)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"help", flag.ErrHelp, ExitOK},
		{"plain", errors.New("x"), ExitError},
		{"usage", &usageError{errors.New("x")}, ExitError},
		{"changes", withCode(ExitChanges, nil), ExitChanges},
		{"failed", withCode(ExitFailed, errors.New("3 failed")), ExitFailed},
		{"refused", withCode(ExitRefused, errors.New("over threshold")), ExitRefused},
		{"locked", fmt.Errorf("wrap: %w", withCode(ExitLocked, errors.New("held"))), ExitLocked},
		{"stale", withCode(ExitStale, errors.New("stale")), ExitStale},
		{"duration", withCode(ExitDuration, errors.New("cap")), ExitDuration},
		{"sigint", withCode(ExitSIGINT, errors.New("interrupted")), ExitSIGINT},
		{"sigterm", quietly(ExitSIGTERM, errors.New("terminated")), ExitSIGTERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRunUsesProcessEnvironment(t *testing.T) {
	t.Setenv("NUMSYNC_CONFIG", filepath.Join("testdata", "gb.yaml"))
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"validate", filepath.Join("testdata", "gb.csv")}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "default region: GB") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}
