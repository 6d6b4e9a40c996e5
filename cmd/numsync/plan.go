package main

import (
	"context"
	"flag"
)

// planFlags are plan's own flags (SPEC section 3).
type planFlags struct {
	desired           string
	out               string
	format            string
	prune             bool
	detailedExitcode  bool
	allowExtraColumns bool
}

var planSpec = cmdSpec{
	name:  "plan",
	usage: "numsync plan --desired FILE [--out PLAN.json] [--format text|json|csv|markdown] [--prune] [--detailed-exitcode]",
	about: `Reads the CSV and both vendors' live inventories and prints the operations
that would bring the vendors in step: + create, ~ change (before → after),
- delete, grouped by vendor and action, with a summary line (counts,
unmanaged numbers, safety verdict). plan never changes anything at a vendor.
--out saves the plan as JSON for 'numsync apply PLAN.json'.`,
	examples: `  numsync plan --desired numbers.csv
  numsync plan --desired numbers.csv --out plan.json
  numsync plan --desired numbers.csv --format markdown > change-request.md
  numsync plan --desired numbers.csv --format csv > review.csv
  numsync plan --desired numbers.csv --detailed-exitcode || echo "changes pending"
`,
}

func (f *planFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.desired, "desired", "", "the desired-state CSV `FILE` (required)")
	fs.StringVar(&f.out, "out", "", "also save the plan as JSON to `PLAN.json`")
	fs.StringVar(&f.format, "format", "text", "output `FORMAT`: text, json, csv or markdown")
	fs.BoolVar(&f.prune, "prune", false, "plan to release/delete numbers the CSV omits (overrides the config's prune)")
	fs.BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are")
	fs.BoolVar(&f.allowExtraColumns, "allow-extra-columns", false, "ignore CSV columns numsync does not know instead of failing")
}

// cmdPlan is `numsync plan`.
func cmdPlan(ctx context.Context, e *env, args []string) error {
	var f planFlags
	if _, err := e.parse(planSpec, args, f.define); err != nil {
		return err
	}
	if f.desired == "" {
		return &usageError{errMissing("--desired")}
	}
	if err := oneOf("format", f.format, "text", "json", "csv", "markdown"); err != nil {
		return err
	}
	_ = ctx
	return errNotImplemented
}
