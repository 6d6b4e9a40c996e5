package desired

import (
	"fmt"
	"strings"

	"github.com/numsync/numsync/internal/plan"
)

// RowError is one problem in the desired-state CSV: plan.RowError, the
// one row-error type the reader and the planner share, named here for the
// reader's callers.
type RowError = plan.RowError

// Errors is every problem found in one pass over the CSV, in file order
// (plan.RowErrors). Read returns it (as error) when the CSV is invalid, so
// the caller can report all of them, not just the first.
type Errors = plan.RowErrors

// Warning is something valid but worth a person's attention, such as rows
// whose E911 cells are blank under a managed E911 header. A warning that
// applies to many rows is reported once, at its first line, with the count.
type Warning struct {
	Path   string `json:"-"`
	Line   int    `json:"line,omitempty"`
	Column string `json:"column,omitempty"`
	// Count is how many rows the warning covers (1 for a single row, 0 for
	// a warning about the file as a whole).
	Count   int    `json:"count,omitempty"`
	Message string `json:"message"`
	// Sheet is the workbook sheet read; "" for delimited text.
	Sheet string `json:"sheet,omitempty"`
}

// String formats the warning like a RowError: FILE:LINE: column: message
// (FILE: Sheet row LINE: column: message in a workbook).
func (w Warning) String() string {
	var b strings.Builder
	if w.Path != "" {
		b.WriteString(w.Path)
		b.WriteByte(':')
	}
	switch {
	case w.Line > 0 && w.Sheet != "":
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s row %d:", w.Sheet, w.Line)
	case w.Line > 0:
		fmt.Fprintf(&b, "%d:", w.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if w.Column != "" {
		b.WriteString(w.Column)
		b.WriteString(": ")
	}
	b.WriteString(w.Message)
	return b.String()
}
