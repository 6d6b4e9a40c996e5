package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	flag "github.com/spf13/pflag"

	"github.com/numsync/numsync/internal/desired"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/sheet"
)

// fileFlags are the flags of every command that reads a desired-state
// file (validate, plan, apply): which sheet of a workbook, which separator
// of delimited text. internal/sheet tells the two apart by content.
type fileFlags struct {
	sheet     string
	delimiter string
}

func (f *fileFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.sheet, "sheet", "", "the workbook sheet `NAME` to read (needed when several sheets have data)")
	fs.StringVar(&f.delimiter, "delimiter", "", "the `SEPARATOR` of delimited text: , ; or tab (default: told from the header row)")
}

// options puts the flags into the reader's options.
func (f fileFlags) options(o *desired.Options) error {
	o.Sheet = f.sheet
	if f.delimiter == "" {
		return nil
	}
	d, err := sheet.ParseDelimiter(f.delimiter)
	if err != nil {
		return &usageError{fmt.Errorf("--delimiter: %w", err)}
	}
	o.Delimiter = d
	return nil
}

// isXLSXPath reports whether an output file name asks for a workbook.
func isXLSXPath(path string) bool { return strings.EqualFold(filepath.Ext(path), ".xlsx") }

// errBinaryToTerminal is the usage error for a workbook without --out: a
// binary format is never written to standard output.
func errBinaryToTerminal(what string) error {
	return &usageError{fmt.Errorf("%s is a binary workbook: give --out FILE.xlsx (it is never written to standard output)", what)}
}

// failedCells is the failed operations of a run as the rows they came
// from: the original cells plus what failed and why, one row per line,
// with the cell each failure concerns.
type failedCells struct {
	header []string
	rows   [][]string
	// hot marks, per row, the cell of the field a failed operation sets.
	hot map[[2]int]bool
}

// failedColumn is the desired-state column a failed operation concerns:
// the first the plan says it changes (plan.Op.Columns), else phone_number.
func failedColumn(op plan.Op) string {
	if cols := op.Columns(); len(cols) > 0 {
		return cols[0]
	}
	return desired.ColPhoneNumber
}

// writeFailedXLSX writes failed rows as a workbook: the header in bold,
// the failing cells highlighted, the reason beside each row.
func writeFailedXLSX(w io.Writer, fc *failedCells) error {
	return sheet.WriteWorkbook(w, &sheet.Table{Sheet: "Failed", Header: fc.header, Rows: fc.rows, Highlight: fc.hot})
}

// opsXLSX writes show's operations table as a workbook.
func writeOpsXLSX(w io.Writer, header []string, rows [][]string) error {
	return sheet.WriteWorkbook(w, &sheet.Table{Sheet: "Operations", Header: header, Rows: rows})
}
