package plan

import (
	"fmt"
	"strings"
)

// RowError is one problem with one row (or the header) of the desired-state
// CSV, located like encoding/csv's ParseError: the file, the line the row
// starts on (1 is the header) and the canonical name of the column concerned
// ("" when the problem is the row as a whole, such as a wrong number of
// cells). It is the one row-error type of numsync: the CSV reader returns it
// for a row it cannot read, Diff for a row whose business unit, program or
// channel does not resolve against First Orion, so both print alike.
type RowError struct {
	Path   string `json:"-"`
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
	// Sheet and Cell place the problem in a workbook: the sheet read and
	// the cell concerned as a spreadsheet names it (Numbers!B12), Cell ""
	// when the problem is the row as a whole. Both are "" for delimited
	// text, whose Line is the place.
	Sheet string `json:"sheet,omitempty"`
	Cell  string `json:"cell,omitempty"`
	// CellIndex is the index+1 of the cell the problem is about when
	// Column cannot say (an unknown header cell), 0 otherwise: the reader
	// names that cell in a workbook.
	CellIndex int `json:"-"`
	// Err is the underlying cause when there is one (an encoding/csv
	// ParseError for a malformed quote).
	Err error `json:"-"`
}

// Error formats the problem as FILE:LINE: column: reason, the form editors
// and CI logs link to (LINE: column: reason without a path); in a
// workbook as FILE: Sheet!B12 (row 12): column: reason, or FILE: Sheet row
// 12: reason for a row as a whole.
func (e *RowError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteByte(':')
	}
	switch {
	case e.Cell != "":
		if e.Path != "" {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s (row %d): ", e.Cell, e.Line)
	case e.Sheet != "":
		if e.Path != "" {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s row %d: ", e.Sheet, e.Line)
	default:
		fmt.Fprintf(&b, "%d: ", e.Line)
	}
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *RowError) Unwrap() error { return e.Err }

// RowErrors is every problem found in one pass, in line order. The CSV
// reader and Diff return it (as error) so the caller can report all of
// them, not just the first; nothing may be applied while there is one.
type RowErrors []*RowError

// Error lists every problem, one a line.
func (es RowErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es RowErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
