package sheet

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Table is one sheet to write: a bold, frozen header row over rows of
// text.
//
// Every cell is written as text and every column is formatted as text, so
// what the sheet shows is what numsync reads back, and what a person types
// stays as typed: a phone number stays 12125550100 rather than becoming
// 1.21255E+10, a postal code keeps its leading zero.
type Table struct {
	// Sheet is the sheet's name.
	Sheet  string
	Header []string
	Rows   [][]string
	// Dropdowns offer (and check) a list of values in a column.
	Dropdowns []Dropdown
	// Highlight marks cells to draw the eye to, by row index into Rows
	// and column index.
	Highlight map[[2]int]bool
}

// Dropdown is a list of values offered in every data cell of a column.
type Dropdown struct {
	// Col is the column index in its table.
	Col int
	// Values is the list, when it is short enough to write in the rule
	// itself (255 characters). Otherwise Source names a range.
	Values []string
	// Source is a range on another sheet holding the values, as
	// RangeRef writes it.
	Source string
	// Strict refuses other values; otherwise a different value gets a
	// warning the person may accept (an id where a name is listed).
	Strict bool
	// Message is shown when a refused or warned-about value is typed.
	Message string
}

// RangeRef names a column range on a sheet, absolute, for a Dropdown
// source: 'Lists'!$A$2:$A$9.
func RangeRef(sheet string, col, fromRow, toRow int) string {
	c := ColumnName(col)
	return fmt.Sprintf("%s!$%s$%d:$%s$%d", quoteSheet(sheet), c, fromRow, c, toRow)
}

// maxInlineList is the longest list a data-validation rule may hold
// itself.
const maxInlineList = 255

// WriteWorkbook writes the tables as a workbook, one sheet each, the first
// one active.
func WriteWorkbook(w io.Writer, tables ...*Table) error {
	if len(tables) == 0 {
		return fmt.Errorf("xlsx: no table to write")
	}
	f := excelize.NewFile()
	defer f.Close()
	first := f.GetSheetName(0)
	for i, t := range tables {
		if i == 0 {
			if err := f.SetSheetName(first, t.Sheet); err != nil {
				return fmt.Errorf("xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(t.Sheet); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := writeTable(f, st, t); err != nil {
			return fmt.Errorf("xlsx: sheet %q: %w", t.Sheet, err)
		}
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: write: %w", err)
	}
	return nil
}

type styles struct{ text, header, highlight int }

func newStyles(f *excelize.File) (*styles, error) {
	var s styles
	var err error
	// 49 is the built-in text format ("@").
	if s.text, err = f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	if s.header, err = f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}}}); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	if s.highlight, err = f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true, Color: "9C0006"},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}}); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	return &s, nil
}

func writeTable(f *excelize.File, st *styles, t *Table) error {
	sw, err := f.NewStreamWriter(t.Sheet)
	if err != nil {
		return err
	}
	width := len(t.Header)
	for _, r := range t.Rows {
		width = max(width, len(r))
	}
	// Widths fitted to the longest value (in characters, with a margin),
	// within bounds a screen can show.
	for c := 0; c < width; c++ {
		n := 0
		if c < len(t.Header) {
			n = utf8.RuneCountInString(t.Header[c])
		}
		for _, r := range t.Rows {
			if c < len(r) {
				n = max(n, utf8.RuneCountInString(r[c]))
			}
		}
		if err := sw.SetColWidth(c+1, c+1, float64(min(max(n+3, 10), 60))); err != nil {
			return err
		}
	}
	if width > 0 {
		if err := sw.SetColStyle(1, width, st.text); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	cells := make([]any, width)
	for c := range cells {
		v := ""
		if c < len(t.Header) {
			v = t.Header[c]
		}
		cells[c] = excelize.Cell{StyleID: st.header, Value: v}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for i, r := range t.Rows {
		cells = cells[:0]
		for c, v := range r {
			s := st.text
			if t.Highlight[[2]int{i, c}] {
				s = st.highlight
			}
			cells = append(cells, excelize.Cell{StyleID: s, Value: v})
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), cells); err != nil {
			return err
		}
	}
	for _, d := range t.Dropdowns {
		dv := excelize.NewDataValidation(true)
		c := ColumnName(d.Col)
		dv.SetSqref(fmt.Sprintf("%s2:%s%d", c, c, excelize.TotalRows))
		switch {
		case d.Source != "":
			dv.SetSqrefDropList(d.Source)
		case len(strings.Join(d.Values, ",")) <= maxInlineList:
			if err := dv.SetDropList(d.Values); err != nil {
				return err
			}
		default:
			continue
		}
		style := excelize.DataValidationErrorStyleWarning
		if d.Strict {
			style = excelize.DataValidationErrorStyleStop
		}
		if d.Message != "" {
			dv.SetError(style, t.Header[d.Col], d.Message)
		}
		if err := f.AddDataValidation(t.Sheet, dv); err != nil {
			return err
		}
	}
	return sw.Flush()
}
