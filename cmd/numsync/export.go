package main

import (
	"context"
	"flag"
)

type exportFlags struct {
	out    string
	vendor string
}

var exportSpec = cmdSpec{
	name:  "export",
	usage: "numsync export [--out FILE.csv] [--vendor oneuc|firstorion]",
	about: `Writes the live inventories as a desired-state CSV, with every column numsync
knows and business-unit and program names rather than ids, so a migration
starts from what is there. 'numsync plan' on an unedited export shows no
changes.`,
	examples: `  numsync export --out numbers.csv
  numsync export --vendor firstorion > branding.csv
`,
}

func (f *exportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.out, "out", "", "write to `FILE.csv` instead of standard output")
	fs.StringVar(&f.vendor, "vendor", "", "export one vendor only: oneuc or firstorion")
}

// cmdExport is `numsync export`.
func cmdExport(ctx context.Context, e *env, args []string) error {
	var f exportFlags
	if _, err := e.parse(exportSpec, args, f.define); err != nil {
		return err
	}
	if f.vendor != "" {
		if err := oneOf("vendor", f.vendor, "oneuc", "firstorion"); err != nil {
			return err
		}
	}
	_ = ctx
	return errNotImplemented
}
