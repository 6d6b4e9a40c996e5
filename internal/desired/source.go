package desired

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/sheet"
)

// This file puts the file-format layer (internal/sheet) in front of the
// reader: a workbook is told from delimited text by content; text is
// decoded (UTF-16 too) and its delimiter told from the header row; a
// workbook's chosen sheet is streamed as a Source, and its errors are
// placed at their cells (Numbers!B12) once every row is read.

// readStream reads a desired-state file from a stream: a workbook is read
// whole (a zip needs random access), text is streamed.
func readStream(r io.Reader, opts Options) (*plan.Desired, []Warning, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(4); sheet.IsZip(head) {
		data, err := io.ReadAll(br)
		if err != nil {
			return &plan.Desired{Path: opts.Path}, nil, fmt.Errorf("desired: read %s: %w", opts.Path, err)
		}
		if _, err := sheet.Detect(data); err != nil {
			return nil, nil, fmt.Errorf("desired: %s is %w", opts.Path, err)
		}
		return readWorkbook(bytes.NewReader(data), int64(len(data)), opts)
	}
	if opts.Sheet != "" {
		return nil, nil, fmt.Errorf("desired: %s is delimited text, not a workbook: it has no sheet %q", opts.Path, opts.Sheet)
	}
	text, err := sheet.NewTextReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %s is %w", opts.Path, err)
	}
	comma := opts.Delimiter
	if comma == 0 {
		comma = sheet.SniffDelimiter(sheet.HeaderLine(text))
	}
	return ReadSource(DelimitedSource(text, opts.Path, comma), opts)
}

// readWorkbookFile reads the workbook at f and sets Desired.SHA256 to
// the digest of its bytes and the sheet read (two sheets of one file are
// two desired states: an unfinished run from one must not be resumed for
// the other).
func readWorkbookFile(f *os.File, size int64, opts Options) (*plan.Desired, []Warning, error) {
	d, warns, err := readWorkbook(f, size, opts)
	if d == nil || d.Sheet == "" {
		return d, warns, err
	}
	h := sha256.New()
	if _, cerr := io.Copy(h, io.NewSectionReader(f, 0, size)); cerr != nil {
		return d, warns, fmt.Errorf("desired: read %s: %w", opts.Path, cerr)
	}
	h.Write([]byte("\x00sheet\x00" + d.Sheet))
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d, warns, err
}

// readWorkbook validates the chosen sheet of a workbook by the rules of
// the CSV.
func readWorkbook(r io.ReaderAt, size int64, opts Options) (*plan.Desired, []Warning, error) {
	if opts.Delimiter != 0 {
		return nil, nil, fmt.Errorf("desired: %s is an xlsx workbook: a delimiter applies to delimited text only", opts.Path)
	}
	wb, err := sheet.OpenWorkbook(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %s: %w", opts.Path, err)
	}
	name, err := wb.Choose(opts.Sheet, func(header []string) bool {
		return slices.ContainsFunc(header, func(h string) bool { return normalizeHeader(h) == ColPhoneNumber })
	})
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %s: %w", opts.Path, err)
	}
	rows, err := wb.Rows(name)
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %s: %w", opts.Path, err)
	}
	defer rows.Close()
	src := &workbookSource{path: opts.Path, rows: rows, sheet: name}
	d, warns, err := ReadSource(src.next, opts)
	if d == nil {
		return d, warns, err
	}
	d.Sheet = name
	for i := range warns {
		warns[i].Sheet = name
	}
	var errs Errors
	if err != nil && !errors.As(err, &errs) {
		return d, warns, err
	}
	if errs = src.finish(d, errs, opts); len(errs) > 0 {
		return d, warns, errs
	}
	return d, warns, nil
}

// workbookSource yields the records of one sheet, each as wide as the
// header, and keeps what a cell could not say as text (a date, an error
// value) to report against the cell once every row is read.
type workbookSource struct {
	path       string
	rows       *sheet.Rows
	sheet      string
	header     bool
	headerLine int
	width      int
	problems   []cellProblem
}

type cellProblem struct {
	line, col int
	reason    string
}

// next is the Source: the header first, then each data row padded to the
// header's width. A value right of the header is a problem of its cell
// (it has no column to belong to).
func (s *workbookSource) next() ([]string, int, error) {
	if !s.rows.Next() {
		if err := s.rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("desired: read %s: %w", s.path, err)
		}
		return nil, 0, io.EOF
	}
	rec := s.rows.Record()
	for _, p := range rec.Problems {
		s.problems = append(s.problems, cellProblem{line: rec.Line, col: p.Col, reason: p.Reason})
	}
	cells := rec.Cells
	if !s.header {
		s.header, s.headerLine, s.width = true, rec.Line, len(cells)
		return cells, rec.Line, nil
	}
	if len(cells) > s.width {
		for i := s.width; i < len(cells); i++ {
			if strings.TrimSpace(cells[i]) != "" && !slices.ContainsFunc(rec.Problems, func(p sheet.Problem) bool { return p.Col == i }) {
				s.problems = append(s.problems, cellProblem{line: rec.Line, col: i,
					reason: fmt.Sprintf("has a value (%q) right of the table: its column has no header", cells[i])})
			}
		}
		cells = cells[:s.width]
	}
	for len(cells) < s.width {
		cells = append(cells, "")
	}
	return cells, rec.Line, nil
}

// finish completes a workbook's errors once every row is read: the header
// must be row 1, merged ranges are refused, the cells' own problems are
// added (replacing what validation said of the same cell, which saw only
// its stand-in text), and every error is placed at its cell. Rows the new
// errors concern leave d.Rows, and the counts follow.
func (s *workbookSource) finish(d *plan.Desired, errs Errors, opts Options) Errors {
	headerIdx := func(i int) string {
		if i >= 0 && i < len(d.Header) {
			if c, ok := CanonicalColumn(d.Header[i]); ok {
				return c
			}
		}
		return ""
	}
	var added Errors
	add := func(line, col int, reason string) {
		added = append(added, &RowError{Path: s.path, Line: line, Column: headerIdx(col), Reason: reason, CellIndex: col + 1})
	}
	if s.header && s.headerLine != 1 {
		add(s.headerLine, -1, fmt.Sprintf("the header must be in row 1, but the first row with a value is row %d", s.headerLine))
	}
	for _, m := range s.rows.Merges() {
		add(m.Row, m.Col, fmt.Sprintf("%s is a merged range: its value counts for its first cell only and the others read as blank; unmerge it and fill every cell", m.Ref))
	}
	for _, p := range s.problems {
		add(p.line, p.col, p.reason)
	}
	if len(added) > 0 {
		type key struct {
			line   int
			column string
		}
		replaced := map[key]bool{}
		for _, e := range added {
			if e.Column != "" {
				replaced[key{e.Line, e.Column}] = true
			}
		}
		errs = slices.DeleteFunc(errs, func(e *RowError) bool { return e.Column != "" && replaced[key{e.Line, e.Column}] })
		errs = append(errs, added...)
		slices.SortStableFunc(errs, func(a, b *RowError) int { return a.Line - b.Line })
		bad := map[int]bool{}
		for _, e := range errs {
			if e.Line != s.headerLine {
				bad[e.Line] = true
			}
		}
		d.Rows = slices.DeleteFunc(d.Rows, func(r plan.Row) bool { return bad[r.Line] })
		if opts.Stats != nil {
			// A row is blank, invalid or valid.
			opts.Stats.Invalid = len(bad)
			opts.Stats.Valid = max(0, opts.Stats.Rows-opts.Stats.Blank-len(bad))
		}
	}
	for _, e := range errs {
		Place(d, e)
	}
	return errs
}

// Place names the cell of an error when d came from a workbook:
// Sheet!B12, from the header's column (or the cell index the error
// carries); errors found after reading, such as a business unit First
// Orion does not have (plan.Diff's), are placed so too. For delimited text
// it changes nothing.
func Place(d *plan.Desired, e *RowError) {
	if d == nil || d.Sheet == "" || e.Cell != "" {
		return
	}
	e.Sheet = d.Sheet
	col := e.CellIndex - 1
	if col < 0 && e.Column != "" {
		for i, h := range d.Header {
			if c, ok := CanonicalColumn(h); ok && c == e.Column {
				col = i
				break
			}
		}
	}
	if col >= 0 {
		e.Cell = sheet.CellRef(d.Sheet, col, e.Line)
	}
}
