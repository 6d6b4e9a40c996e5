package desired

import (
	"fmt"
	"strings"
)

// RowError is one problem in the desired-state CSV, located like
// encoding/csv's ParseError: the file, the line the row starts on (1 is the
// header) and the canonical name of the column concerned ("" when the
// problem is the row as a whole, such as a wrong number of cells).
type RowError struct {
	Path   string `json:"-"`
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
	// Err is the underlying cause when there is one (an encoding/csv
	// ParseError for a malformed quote).
	Err error `json:"-"`
}

// Error formats the problem as FILE:LINE: column: reason, the form editors
// and CI logs link to.
func (e *RowError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d: ", e.Line)
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *RowError) Unwrap() error { return e.Err }

// Errors is every problem found in one pass over the CSV, in file order.
// Read returns it (as error) when the CSV is invalid, so the caller can
// report all of them, not just the first.
type Errors []*RowError

// Error lists every problem, one a line.
func (es Errors) Error() string {
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
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

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
}

// String formats the warning like a RowError: FILE:LINE: column: message.
func (w Warning) String() string {
	var b strings.Builder
	if w.Path != "" {
		b.WriteString(w.Path)
		b.WriteByte(':')
	}
	if w.Line > 0 {
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
