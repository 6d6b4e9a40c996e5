package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/app"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/sheet"
)

type exportFlags struct {
	out    string
	vendor string
}

var exportSpec = cmdSpec{
	name:     "export",
	synopsis: "write the live inventories as a desired-state CSV or workbook",
	usage:    "numsync export [--out FILE.csv|FILE.xlsx] [--vendor oneuc|firstorion]",
	about: `Writes the live inventories as a desired-state CSV, with every column numsync
knows and business-unit and program names rather than ids, so a migration
starts from what is there. 'numsync plan' on an unedited export shows no
changes. --out FILE.xlsx writes an Excel workbook instead: text cells, a
frozen header, dropdowns for the channel, authenticated calls and First
Orion's business units and programs, which a second sheet lists.`,
	examples: `  numsync export --out numbers.csv
  numsync export --out numbers.xlsx
  numsync export --vendor firstorion > branding.csv
`,
}

func (f *exportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.out, "out", "", "write to `FILE` instead of standard output: FILE.xlsx writes a workbook, any other name a CSV")
	fs.StringVar(&f.vendor, "vendor", "", "export one `VENDOR` only: oneuc or firstorion")
}

// cmdExport is `numsync export`.
func cmdExport(e *env) *cobra.Command {
	var f exportFlags
	return e.command(exportSpec, f.define, func(ctx context.Context, _ []string) error {
		return runExport(ctx, e, f)
	})
}

// runExport is `numsync export` once its flags are parsed.
func runExport(ctx context.Context, e *env, f exportFlags) error {
	if f.vendor != "" {
		if err := oneOf("vendor", f.vendor, "oneuc", "firstorion"); err != nil {
			return err
		}
	}
	cfg, err := e.needConfig()
	if err != nil {
		return err
	}
	vs, err := newVendors(cfg, e.logger(), e.httpClient(cfg))
	if err != nil {
		return err
	}
	switch f.vendor {
	case "oneuc":
		vs.FirstOrion = nil
	case "firstorion":
		vs.OneUC = nil
	}
	if vs.Get(plan.VendorName(f.vendor)) == nil && f.vendor != "" {
		return fmt.Errorf("--vendor %s: the configuration disables it", f.vendor)
	}
	table, err := app.Export(ctx, vs)
	if err != nil {
		return err
	}
	for _, w := range table.Warnings {
		e.warn(w)
	}
	if f.out == "" {
		return table.WriteCSV(e.stdout)
	}
	write := table.WriteCSV
	if isXLSXPath(f.out) {
		write = func(w io.Writer) error { return sheet.WriteExport(w, table) }
	}
	if err := writeFileAtomic(f.out, 0o644, write); err != nil {
		return err
	}
	e.notice("wrote %s to %s", english.Count(len(table.Rows), "number"), f.out)
	return nil
}
