package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/plan"
)

type validateFlags struct {
	desired           string
	format            string
	allowExtraColumns bool
	file              fileFlags
}

var validateSpec = cmdSpec{
	name:     "validate",
	synopsis: "check a desired-state CSV (no network, no journal)",
	usage:    "numsync validate [--desired] FILE [--sheet NAME] [--delimiter ,|;|tab] [--allow-extra-columns] [--format text|json]",
	about: `Checks a desired-state CSV without touching the network or the journal:
header, every cell of every row, duplicates after normalisation. Prints
every problem as FILE:LINE: column: reason, then a summary (rows, numbers,
managed columns, warnings). Exits 0 when the CSV is valid, 1 otherwise.

The config is optional: when one is found (--config, $NUMSYNC_CONFIG or
./numsync.yaml) its default_region is used for national-format numbers and
columns of a vendor it does not enable are errors; without one, the region
is US and both vendors count as enabled.`,
	examples: `  numsync validate --desired numbers.csv
  numsync validate numbers.csv --format json | jq .errors
  numsync --config lab.yaml validate --desired samples/desired.csv
`,
	maxArgs: 1,
}

func (f *validateFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.desired, "desired", "", "the desired-state CSV `FILE` (or give it as the argument)")
	fs.StringVar(&f.format, "format", "text", "output `FORMAT`: text or json")
	fs.BoolVar(&f.allowExtraColumns, "allow-extra-columns", false, "ignore CSV columns numsync does not know instead of failing")
	f.file.define(fs)
}

// desiredArg takes the desired-state FILE from the argument when it is not
// given with --desired (SPEC section 3: either form).
func desiredArg(flagValue *string, pos []string) error {
	if len(pos) == 0 {
		return nil
	}
	if *flagValue != "" && *flagValue != pos[0] {
		return &usageError{errors.New("give the CSV once: --desired FILE or FILE")}
	}
	*flagValue = pos[0]
	return nil
}

func errMissing(flagName string) error { return fmt.Errorf("%s is required", flagName) }

// validateReport is validate's JSON output.
type validateReport struct {
	File           string              `json:"file"`
	SHA256         string              `json:"sha256,omitempty"`
	Valid          bool                `json:"valid"`
	Rows           int                 `json:"rows"`
	Numbers        int                 `json:"numbers"`
	InvalidRows    int                 `json:"invalid_rows"`
	BlankRows      int                 `json:"blank_rows"`
	ManagedColumns []string            `json:"managed_columns"`
	Vendors        map[string]bool     `json:"vendors"`
	Region         string              `json:"default_region"`
	Warnings       []desired.Warning   `json:"warnings"`
	Errors         []*desired.RowError `json:"errors"`
}

// cmdValidate is `numsync validate`.
func cmdValidate(e *env) *cobra.Command {
	var f validateFlags
	return e.command(validateSpec, f.define, func(ctx context.Context, pos []string) error {
		return runValidate(ctx, e, f, pos)
	})
}

// runValidate is `numsync validate` once its flags are parsed; pos is the
// FILE argument, if given.
func runValidate(ctx context.Context, e *env, f validateFlags, pos []string) error {
	_ = ctx
	if err := desiredArg(&f.desired, pos); err != nil {
		return err
	}
	if f.desired == "" {
		return &usageError{errMissing("--desired")}
	}
	if err := notSavedPlan("validate", f.desired); err != nil {
		return err
	}
	if err := oneOf("format", f.format, "text", "json"); err != nil {
		return err
	}

	cfg, found, err := e.loadConfigWith(config.LoadWithoutSecrets)
	if err != nil {
		return err
	}
	opts := desired.Options{
		Path:              f.desired,
		DefaultRegion:     cfg.DefaultRegion,
		AllowExtraColumns: f.allowExtraColumns,
		OneUCEnabled:      !found || cfg.OneUCEnabled(),
		FirstOrionEnabled: !found || cfg.FirstOrionEnabled(),
		Stats:             &desired.Stats{},
		// Only the verdict is printed: the rows need not be kept.
		CheckOnly: true,
	}
	if err := f.file.options(&opts); err != nil {
		return err
	}
	d, warns, rerr := desired.ReadFile(f.desired, opts)
	var rowErrs desired.Errors
	if rerr != nil && !errors.As(rerr, &rowErrs) {
		return rerr
	}
	rep := validateReport{
		File:           f.desired,
		Valid:          rerr == nil,
		Rows:           opts.Stats.Rows,
		InvalidRows:    opts.Stats.Invalid,
		BlankRows:      opts.Stats.Blank,
		ManagedColumns: managedColumns(d),
		Vendors:        map[string]bool{string(plan.OneUC): opts.OneUCEnabled, string(plan.FirstOrion): opts.FirstOrionEnabled},
		Region:         cfg.DefaultRegion,
		Warnings:       warns,
		Errors:         rowErrs,
	}
	if d != nil {
		rep.SHA256 = d.SHA256
		rep.Numbers = opts.Stats.Valid
	}
	if rep.Warnings == nil {
		rep.Warnings = []desired.Warning{}
	}
	if rep.Errors == nil {
		rep.Errors = []*desired.RowError{}
	}
	e.logger().Debug("validated", "file", f.desired, "rows", rep.Rows, "errors", len(rep.Errors))

	if f.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else if err := writeValidateText(e.stdout, rep, found); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if !rep.Valid {
		return quietly(ExitError, fmt.Errorf("%s is invalid", f.desired))
	}
	return nil
}

// managedColumns lists the known columns the header has, canonical names
// in header order.
func managedColumns(d *plan.Desired) []string {
	out := []string{}
	if d == nil {
		return out
	}
	seen := map[string]bool{}
	for _, h := range d.Header {
		if c, ok := desired.CanonicalColumn(h); ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func writeValidateText(w io.Writer, rep validateReport, configFound bool) error {
	ew := &errWriter{w: w}
	for _, e := range rep.Errors {
		ew.printf("%s\n", e.Error())
	}
	for _, wn := range rep.Warnings {
		ew.printf("warning: %s\n", wn.String())
	}
	verdict := "valid"
	if !rep.Valid {
		verdict = fmt.Sprintf("INVALID: %s", english.Count(len(rep.Errors), "error"))
		if rep.InvalidRows > 0 {
			verdict += fmt.Sprintf(" in %s", english.Count(rep.InvalidRows, "row"))
		}
	}
	ew.printf("%s: %s, %s, %s\n", rep.File, english.Count(rep.Rows, "row"), english.Count(rep.Numbers, "valid number"), verdict)
	ew.printf("managed columns: %s\n", joinOrNone(rep.ManagedColumns))
	src := "no config: both vendors count as enabled"
	if configFound {
		src = "from the config"
	}
	ew.printf("default region: %s; vendors: oneuc %s, firstorion %s (%s)\n", rep.Region,
		onOff(rep.Vendors["oneuc"]), onOff(rep.Vendors["firstorion"]), src)
	if len(rep.Warnings) > 0 {
		ew.printf("%s\n", english.Count(len(rep.Warnings), "warning"))
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}
