package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/config"
	"github.com/numsync/numsync/internal/plan"
)

// planFlags are plan's own flags (SPEC section 3).
type planFlags struct {
	desired           string
	out               string
	format            string
	prune             bool
	detailedExitcode  bool
	allowExtraColumns bool
	file              fileFlags
}

var planSpec = cmdSpec{
	name:     "plan",
	synopsis: "diff the CSV against both vendors and print the plan",
	usage:    "numsync plan [--desired] FILE [--sheet NAME] [--delimiter ,|;|tab] [--allow-extra-columns] [--out PLAN.json] [--format text|json|csv|markdown] [--prune] [--detailed-exitcode]",
	about: `Reads the CSV and both vendors' live inventories and prints the operations
that would bring the vendors in step: + create, ~ change (before → after),
- delete, grouped by vendor and action, with a summary line (counts,
unmanaged numbers, safety verdict). plan never changes anything at a vendor.
--out saves the plan as JSON for 'numsync apply PLAN.json' (with
--format json the JSON then goes to that file only, not to standard
output). --report FILE.json writes the summary: counts per vendor,
unmanaged numbers, the safety verdict, numbers changed outside numsync.
FILE may be given as the argument or with --desired; a saved plan is not
one (apply it with 'numsync apply PLAN.json').`,
	examples: `  numsync plan --desired numbers.csv
  numsync plan numbers.csv --out plan.json
  numsync plan --desired numbers.csv --format markdown > change-request.md
  numsync plan --desired numbers.csv --format csv > review.csv
  numsync plan --desired numbers.csv --detailed-exitcode || echo "changes pending"
`,
	maxArgs: 1,
}

func (f *planFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.desired, "desired", "", "the desired-state CSV `FILE` (or give it as the argument)")
	fs.StringVar(&f.out, "out", "", "save the plan as JSON to `PLAN.json` (with --format json, only there)")
	fs.StringVar(&f.format, "format", "text", "output `FORMAT`: text, json, csv or markdown")
	fs.BoolVar(&f.prune, "prune", false, "plan to release/delete numbers the CSV omits (overrides the config's prune)")
	fs.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are")
	fs.BoolVar(&f.allowExtraColumns, "allow-extra-columns", false, "ignore CSV columns numsync does not know instead of failing")
	f.file.define(fs)
}

// cmdPlan is `numsync plan`.
func cmdPlan(e *env) *cobra.Command {
	var f planFlags
	return e.command(planSpec, f.define, func(ctx context.Context, pos []string) error {
		if err := desiredArg(&f.desired, pos); err != nil {
			return err
		}
		if f.desired == "" {
			return &usageError{errMissing("--desired")}
		}
		if err := notSavedPlan("plan", f.desired); err != nil {
			return err
		}
		if err := oneOf("format", f.format, "text", "json", "csv", "markdown"); err != nil {
			return err
		}
		cfg, err := e.needConfig()
		if err != nil {
			return err
		}
		p, err := runPlan(ctx, e, cfg, f)
		e.observePlan(p)
		return err
	})
}

// runPlan makes the plan, prints it in the asked format and saves it. It
// returns the plan (the demo prints its own headings around it).
func runPlan(ctx context.Context, e *env, cfg *config.Config, f planFlags) (*plan.Plan, error) {
	d, err := e.readDesired(cfg, f.desired, f.allowExtraColumns, f.file)
	if err != nil {
		return nil, err
	}
	j, err := e.openJournal(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	vs, err := newVendors(cfg, e.logger(), e.httpClient(cfg))
	if err != nil {
		return nil, err
	}
	prune, maxDelete := planOptions(cfg, f.prune, nil)
	ctx, stopSignals := e.interruptible(ctx)
	defer stopSignals()
	prog := newProgress(e)
	watched := e.watchDrift(j)
	p, _, err := app.MakePlan(ctx, app.PlanRequest{
		Desired: d, Vendors: vs, Cache: watched, History: watched,
		Prune: prune, MaxDelete: maxDelete,
		DefaultCallPurpose: defaultCallPurpose(cfg),
	})
	prog.finish()
	if i := e.interrupted.Load(); i != nil && err != nil {
		return nil, i.err()
	}
	if err != nil {
		return nil, e.planFailure(d, f.desired, err)
	}
	e.markDrift(p)
	shown := p
	if f.format != plan.FormatText {
		// The text rendering lists the warnings itself.
		e.printWarnings(p)
	} else {
		// It lists those not said yet (the demo's second plan).
		cp := *p
		cp.Warnings = e.unseenWarnings(p.Warnings)
		shown = &cp
	}
	// With --out the JSON goes to the file only: the same bytes on
	// standard output too would flood a terminal or a cron mail with a
	// copy of what was just saved. The other formats are a different
	// rendering (the reviewed diff) and are still printed.
	if f.out == "" || f.format != plan.FormatJSON {
		if err := shown.Render(e.stdout, f.format); err != nil {
			return p, fmt.Errorf("write plan: %w", err)
		}
	}
	if f.out != "" {
		if err := writeFileAtomic(f.out, 0o644, p.WriteJSON); err != nil {
			return p, fmt.Errorf("save plan: %w", err)
		}
		e.notice("plan saved to %s: apply it with 'numsync apply %s'", f.out, f.out)
	}
	e.writePlanReport(p)
	if p.Refused() {
		// SPEC §4: plan reports the verdict and warns; apply refuses.
		e.warn("apply would refuse this plan (exit 4): " + refusalReasons(p))
	}
	switch {
	case f.detailedExitcode && p.Changes() > 0:
		return p, &exitError{code: ExitChanges}
	}
	return p, nil
}

// planReport is what --report writes for plan: the summary line's figures
// in a form a script reads, without the operations (the saved plan, --out,
// has those).
type planReport struct {
	Command string `json:"command"`
	// CSV is the desired-state file the plan came from.
	CSV plan.CSVInfo `json:"csv"`
	// Changes counts the operations; Refused is the safety verdict apply
	// would act on (exit 4).
	Changes        int                                     `json:"changes"`
	Refused        bool                                    `json:"refused"`
	ChangedOutside int                                     `json:"changed_outside"`
	Vendors        map[plan.VendorName]*plan.VendorSummary `json:"vendors"`
	Warnings       []string                                `json:"warnings,omitempty"`
}

// writePlanReport writes --report for a plan that was made. A report that
// cannot be written is logged, not fatal: the plan itself was printed.
func (e *env) writePlanReport(p *plan.Plan) {
	path := e.global.report
	if path == "" || p == nil {
		return
	}
	rep := planReport{Command: "plan", CSV: p.CSV, Changes: p.Changes(), Refused: p.Refused(), Vendors: p.Vendors, Warnings: p.Warnings}
	for _, s := range p.Vendors {
		rep.ChangedOutside += s.ChangedOutside
	}
	e.writeReport(rep)
}

// writeReport writes v as the --report JSON, atomically. A report that
// cannot be written is logged, not fatal: the command's own output stands.
func (e *env) writeReport(v any) {
	path := e.global.report
	err := writeFileAtomic(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
	if err != nil {
		e.logger().Error("could not write the report", "file", path, "err", err)
	}
}
