package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// The workbook reader works on the package's parts directly (archive/zip
// and encoding/xml tokens) rather than through excelize's row iterator:
// that iterator hands out each cell's text without its type or style, so it
// cannot tell the number 1 from the boolean TRUE, a date from the number
// it is stored as, nor see merged ranges without loading the whole sheet.
// excelize writes the workbooks (write.go) and the tests' round trips.

// Workbook is an .xlsx file open for reading rows.
type Workbook struct {
	files  map[string]*zip.File
	sheets []sheetEntry
	// date1904 is the workbook's date system (serials count from 1904).
	date1904 bool
	// sst is the shared-string table, read on first use.
	sst    []string
	sstErr error
	sstOK  bool
	// dateStyle says, per cell format (the s attribute), whether it shows
	// numbers as dates or times.
	dateStyle []bool
}

type sheetEntry struct {
	name   string
	part   string
	hidden bool
}

// isWorkbookZip reports whether data is a zip archive with a workbook part.
func isWorkbookZip(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "xl/workbook.xml" {
			return true
		}
	}
	_, err = officeDocument(indexZip(zr))
	return err == nil
}

// zipMimetype returns the content of an archive's mimetype entry, which
// OpenDocument files start with.
func zipMimetype(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	for _, f := range zr.File {
		if f.Name != "mimetype" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ""
		}
		defer rc.Close()
		b, _ := io.ReadAll(io.LimitReader(rc, 128))
		return strings.TrimSpace(string(b))
	}
	return ""
}

func indexZip(zr *zip.Reader) map[string]*zip.File {
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.TrimPrefix(f.Name, "/")] = f
	}
	return files
}

// OpenWorkbook opens an .xlsx package: its sheet list, date system and cell
// formats are read at once, shared strings on first use, rows as they are
// asked for.
func OpenWorkbook(r io.ReaderAt, size int64) (*Workbook, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("xlsx: not a readable zip archive: %w", err)
	}
	w := &Workbook{files: indexZip(zr)}
	wbPart, err := officeDocument(w.files)
	if err != nil {
		return nil, err
	}
	if err := w.readWorkbook(wbPart); err != nil {
		return nil, err
	}
	if err := w.readStyles(wbPart); err != nil {
		return nil, err
	}
	return w, nil
}

// officeDocument finds the workbook part from the package relationships
// (xl/workbook.xml in every writer seen, but the package says).
func officeDocument(files map[string]*zip.File) (string, error) {
	rels, err := readRels(files, "_rels/.rels", "")
	if err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/officeDocument") {
				if _, ok := files[r.target]; ok {
					return r.target, nil
				}
			}
		}
	}
	if _, ok := files["xl/workbook.xml"]; ok {
		return "xl/workbook.xml", nil
	}
	return "", fmt.Errorf("xlsx: the archive has no workbook part, %w", ErrNotTable)
}

type rel struct{ id, typ, target string }

// readRels reads a relationships part; targets are resolved against base
// (the directory of the part they belong to).
func readRels(files map[string]*zip.File, name, base string) ([]rel, error) {
	f, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("xlsx: no %s", name)
	}
	var doc struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
			Mode   string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := decodePart(f, &doc); err != nil {
		return nil, err
	}
	out := make([]rel, 0, len(doc.Rels))
	for _, r := range doc.Rels {
		if r.Mode == "External" {
			continue
		}
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join(base, t)
		}
		out = append(out, rel{id: r.ID, typ: r.Type, target: t})
	}
	return out, nil
}

func decodePart(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("xlsx: open %s: %w", f.Name, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("xlsx: read %s: %w", f.Name, err)
	}
	return nil
}

func (w *Workbook) readWorkbook(part string) error {
	var doc struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			// r:id, in the relationships namespace.
			ID []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := decodePart(w.files[part], &doc); err != nil {
		return err
	}
	w.date1904 = doc.Pr.Date1904 == "1" || doc.Pr.Date1904 == "true"
	dir := path.Dir(part)
	rels, err := readRels(w.files, path.Join(dir, "_rels", path.Base(part)+".rels"), dir)
	if err != nil {
		return err
	}
	byID := map[string]rel{}
	for _, r := range rels {
		byID[r.id] = r
	}
	for _, s := range doc.Sheets {
		var id string
		for _, a := range s.ID {
			if a.Name.Local == "id" {
				id = a.Value
			}
		}
		r, ok := byID[id]
		if !ok || !strings.HasSuffix(r.typ, "/worksheet") {
			// A chart sheet or dialog sheet holds no cells.
			continue
		}
		w.sheets = append(w.sheets, sheetEntry{name: s.Name, part: r.target, hidden: s.State != "" && s.State != "visible"})
	}
	return nil
}

// builtinDateFormats are the number-format ids below 164 that show dates
// or times (ECMA-376 part 1, 18.8.30, and the East Asian ones Excel uses).
func builtinDate(id int) bool {
	return id >= 14 && id <= 22 || id >= 27 && id <= 36 || id >= 45 && id <= 47 || id >= 50 && id <= 58 || id >= 71 && id <= 81
}

// dateFormatCode reports whether a custom format code shows a date or time:
// it has a date or time letter outside quoted text, escapes and bracketed
// colours or conditions ([h] and [mm] elapsed times count).
func dateFormatCode(code string) bool {
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				return false
			}
			i += j + 1
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return false
			}
			inner := strings.ToLower(code[i+1 : i+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				return true
			}
			i += j
		case 'y', 'Y', 'd', 'D', 'h', 'H', 's', 'S', 'm', 'M':
			return true
		case 'G', 'g':
			if strings.HasPrefix(strings.ToLower(code[i:]), "general") {
				i += len("general") - 1
			}
		}
	}
	return false
}

func (w *Workbook) readStyles(wbPart string) error {
	dir := path.Dir(wbPart)
	rels, _ := readRels(w.files, path.Join(dir, "_rels", path.Base(wbPart)+".rels"), dir)
	var part string
	for _, r := range rels {
		if strings.HasSuffix(r.typ, "/styles") {
			part = r.target
		}
	}
	f, ok := w.files[part]
	if !ok {
		return nil
	}
	var doc struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmt int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := decodePart(f, &doc); err != nil {
		return err
	}
	custom := map[int]bool{}
	for _, n := range doc.NumFmts {
		custom[n.ID] = dateFormatCode(n.Code)
	}
	w.dateStyle = make([]bool, len(doc.Xfs))
	for i, x := range doc.Xfs {
		if d, ok := custom[x.NumFmt]; ok {
			w.dateStyle[i] = d
		} else {
			w.dateStyle[i] = builtinDate(x.NumFmt)
		}
	}
	return nil
}

// Sheets returns the names of the workbook's worksheets, in tab order.
func (w *Workbook) Sheets() []string {
	out := make([]string, len(w.sheets))
	for i, s := range w.sheets {
		out[i] = s.name
	}
	return out
}

// Choose picks the sheet to read. A name, when given, must be a sheet
// (matched exactly, else ignoring case). Without one, the one sheet with
// data is taken; when several have data and exactly one of them has a
// first row that isTable accepts (internal/desired's "names
// phone_number"), that one is: a lists sheet beside the table, as
// numsync's own export writes, needs no --sheet. Anything else is an error
// listing the sheets.
func (w *Workbook) Choose(name string, isTable func(header []string) bool) (string, error) {
	if name != "" {
		for _, s := range w.sheets {
			if s.name == name {
				return s.name, nil
			}
		}
		for _, s := range w.sheets {
			if strings.EqualFold(s.name, name) {
				return s.name, nil
			}
		}
		return "", fmt.Errorf("no sheet %q in the workbook; its sheets are %s", name, quoteList(w.Sheets()))
	}
	var withData, tables, listed []string
	for _, s := range w.sheets {
		header, ok, err := w.firstRow(s)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		withData = append(withData, s.name)
		shown := strconv.Quote(s.name)
		if s.hidden {
			// Said so, or a person looking at the tabs would not find it.
			shown += " (hidden)"
		}
		listed = append(listed, shown)
		if isTable != nil && isTable(header) {
			tables = append(tables, s.name)
		}
	}
	switch {
	case len(withData) == 1:
		return withData[0], nil
	case len(withData) == 0:
		return "", fmt.Errorf("the workbook has no data on any sheet (%s)", quoteList(w.Sheets()))
	case len(tables) == 1:
		return tables[0], nil
	}
	return "", fmt.Errorf("the workbook has data on %d sheets (%s): name the one to read with --sheet NAME", len(withData), strings.Join(listed, ", "))
}

// quoteList quotes sheet names for an error.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// firstRow returns the first row with a value of a sheet (and whether
// there is one), reading no further.
func (w *Workbook) firstRow(s sheetEntry) ([]string, bool, error) {
	rows, err := w.open(s)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	rec := rows.Record()
	return rec.Cells, true, nil
}

// Rows opens a sheet's rows for streaming.
func (w *Workbook) Rows(name string) (*Rows, error) {
	for _, s := range w.sheets {
		if s.name == name {
			return w.open(s)
		}
	}
	return nil, fmt.Errorf("no sheet %q in the workbook", name)
}

func (w *Workbook) open(s sheetEntry) (*Rows, error) {
	f, ok := w.files[s.part]
	if !ok {
		return nil, fmt.Errorf("xlsx: sheet %q: part %s is missing", s.name, s.part)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("xlsx: sheet %q: %w", s.name, err)
	}
	return &Rows{w: w, sheet: s.name, rc: rc, dec: newLexer(rc)}, nil
}

// sharedStrings reads the shared-string table once. Rich-text runs are
// joined; phonetic guides (rPh) are not part of the text.
func (w *Workbook) sharedStrings() ([]string, error) {
	if w.sstOK {
		return w.sst, w.sstErr
	}
	w.sstOK = true
	var part string
	for name := range w.files {
		if path.Base(name) == "sharedStrings.xml" {
			part = name
		}
	}
	f, ok := w.files[part]
	if !ok {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		w.sstErr = fmt.Errorf("xlsx: shared strings: %w", err)
		return nil, w.sstErr
	}
	defer rc.Close()
	d := newLexer(rc)
	var b strings.Builder
	inSI, inT, rph := false, false, 0
	for {
		kind, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.sstErr = fmt.Errorf("xlsx: shared strings: %w", err)
			return nil, w.sstErr
		}
		switch kind {
		case tokStart:
			switch d.Name.Local {
			case "si":
				inSI = true
				b.Reset()
			case "rPh":
				rph++
			case "t":
				inT = inSI && rph == 0
			}
		case tokEnd:
			switch d.Name.Local {
			case "si":
				w.sst = append(w.sst, decodeXString(b.String()))
				inSI = false
			case "rPh":
				rph--
			case "t":
				inT = false
			}
		case tokText:
			if inT {
				b.Write(d.Text)
			}
		}
	}
	return w.sst, nil
}

// Record is one row of a table: its cells as text, where it sits, and what
// could not be read as text or a number.
type Record struct {
	// Line is the row number in the sheet (1 is the first row), or the
	// line a delimited record starts on.
	Line int
	// Cells are the row's cells from column A, up to the last with a value.
	Cells []string
	// Problems are cells whose value is no text, number or boolean: a
	// date, an error value, a formula without a cached value.
	Problems []Problem
}

// Problem is a cell that could not be read as text, number or boolean.
type Problem struct {
	// Col is the cell's column index (0 is column A).
	Col    int
	Reason string
}

// Merge is a merged range, found at the end of a sheet.
type Merge struct {
	// Ref is the range as the sheet writes it ("B3:B5").
	Ref string
	// Row and Col are the top-left cell's row number and column index.
	Row, Col int
}

// Rows streams a sheet's rows. Rows without any value are skipped (a
// spreadsheet writes formatted empty rows, and a blank row in a sheet is
// not a record).
type Rows struct {
	w     *Workbook
	sheet string
	rc    io.ReadCloser
	dec   *lexer
	rec   Record
	err   error
	done  bool
	// merges are collected as the end of the sheet is read.
	merges []Merge
	row    int
	// v, is and f gather a cell's value, inline text and formula; reused
	// from cell to cell.
	v, is, f []byte
}

// Sheet is the sheet's name.
func (r *Rows) Sheet() string { return r.sheet }

// Close releases the sheet.
func (r *Rows) Close() error { return r.rc.Close() }

// Err is the error that stopped Next, if any.
func (r *Rows) Err() error { return r.err }

// Record returns the row Next moved to. Its slices are the caller's.
func (r *Rows) Record() Record { return r.rec }

// Merges returns the sheet's merged ranges; it is complete once Next has
// returned false.
func (r *Rows) Merges() []Merge { return r.merges }

// Next moves to the next row with a value and reports whether there is
// one.
func (r *Rows) Next() bool {
	if r.done || r.err != nil {
		return false
	}
	for {
		kind, err := r.dec.Next()
		if errors.Is(err, io.EOF) {
			r.done = true
			return false
		}
		if err != nil {
			r.err = fmt.Errorf("xlsx: sheet %q: %w", r.sheet, err)
			return false
		}
		if kind != tokStart {
			continue
		}
		switch r.dec.Name.Local {
		case "row":
			n := r.row + 1
			if v := r.dec.attr("r"); v != "" {
				if n, err = strconv.Atoi(v); err != nil || n < 1 {
					r.err = fmt.Errorf("xlsx: sheet %q: bad row number %q", r.sheet, v)
					return false
				}
			}
			r.row = n
			if err := r.readRow(n); err != nil {
				r.err = fmt.Errorf("xlsx: sheet %q row %d: %w", r.sheet, n, err)
				return false
			}
			if len(r.rec.Cells) > 0 || len(r.rec.Problems) > 0 {
				return true
			}
		case "mergeCell":
			ref := r.dec.attr("ref")
			tl, _, _ := strings.Cut(ref, ":")
			col, row, ok := ParseCell(tl)
			if ok {
				r.merges = append(r.merges, Merge{Ref: ref, Row: row, Col: col})
			}
		}
	}
}

// readRow reads the cells of the row just started, up to </row>.
func (r *Rows) readRow(n int) error {
	r.rec = Record{Line: n}
	col := -1
	for {
		kind, err := r.dec.Next()
		if err != nil {
			return err
		}
		switch kind {
		case tokStart:
			if r.dec.Name.Local != "c" {
				continue
			}
			col++
			if ref := r.dec.attr("r"); ref != "" {
				c, _, ok := ParseCell(ref)
				if !ok {
					return fmt.Errorf("bad cell reference %q", ref)
				}
				col = c
			}
			val, problem, err := r.readCell()
			if err != nil {
				return err
			}
			if val == "" && problem == "" {
				continue
			}
			for len(r.rec.Cells) < col {
				r.rec.Cells = append(r.rec.Cells, "")
			}
			if len(r.rec.Cells) == col {
				r.rec.Cells = append(r.rec.Cells, val)
			} else {
				r.rec.Cells[col] = val
			}
			if problem != "" {
				r.rec.Problems = append(r.rec.Problems, Problem{Col: col, Reason: problem})
			}
		case tokEnd:
			if r.dec.Name.Local == "row" {
				return nil
			}
		}
	}
}

// readCell reads the <c> element just started by its type: shared or
// inline string, formula string, boolean, error, ISO date, or number (a
// date when its format shows a date). A formula gives its cached value.
func (r *Rows) readCell() (string, string, error) {
	typ := r.dec.attr("t")
	style := -1
	if s := r.dec.attr("s"); s != "" {
		style, _ = strconv.Atoi(s)
	}
	r.v, r.is, r.f = r.v[:0], r.is[:0], r.f[:0]
	hasV, formula := false, false
	where, depth, rph := "", 0, 0
	for {
		kind, err := r.dec.Next()
		if err != nil {
			return "", "", err
		}
		switch kind {
		case tokStart:
			depth++
			switch r.dec.Name.Local {
			case "v":
				hasV, where = true, "v"
			case "f":
				formula, where = true, "f"
			case "rPh":
				rph++
			case "t":
				if rph == 0 {
					where = "is"
				}
			}
		case tokEnd:
			if depth == 0 {
				// </c>
				if typ == "s" && !formula {
					// The common cell: its value is an index, read
					// without making a string of it.
					return r.sharedString(r.v)
				}
				return r.cellValue(typ, style, hasV, string(r.v), string(r.is), formula, string(r.f))
			}
			depth--
			switch r.dec.Name.Local {
			case "rPh":
				rph--
			}
			where = ""
		case tokText:
			switch where {
			case "v":
				r.v = append(r.v, r.dec.Text...)
			case "f":
				r.f = append(r.f, r.dec.Text...)
			case "is":
				r.is = append(r.is, r.dec.Text...)
			}
		}
	}
}

func (r *Rows) cellValue(typ string, style int, hasV bool, v, inline string, formula bool, ftext string) (string, string, error) {
	// A formula nobody calculated (openpyxl writes them so) has no value,
	// or an empty one where only a text result could be empty.
	if formula && (!hasV || v == "" && typ != "str" && typ != "inlineStr") {
		f := ftext
		if f == "" {
			f = "a shared formula"
		} else {
			f = "=" + f
		}
		// The formula stands in for the value, so the row is not blank.
		return f, fmt.Sprintf("holds %s without a calculated value (open and save the workbook in a spreadsheet program to calculate it, or type the value)", f), nil
	}
	switch typ {
	case "s":
		return r.sharedString([]byte(v))
	case "inlineStr":
		return decodeXString(inline), "", nil
	case "str":
		return decodeXString(v), "", nil
	case "b":
		switch strings.TrimSpace(v) {
		case "1", "true":
			return "true", "", nil
		case "0", "false":
			return "false", "", nil
		}
		return "", "", fmt.Errorf("boolean %q", v)
	case "e":
		return v, fmt.Sprintf("holds the error value %s", v), nil
	case "d":
		return v, fmt.Sprintf("is a date (%s): text or a number is expected; format the cell as text", v), nil
	}
	if !hasV || v == "" {
		return "", "", nil
	}
	num, err := canonicalNumber(v)
	if err != nil {
		return "", "", err
	}
	if style >= 0 && style < len(r.w.dateStyle) && r.w.dateStyle[style] {
		return num, fmt.Sprintf("is a date or time (%s): text or a number is expected; format the cell as text and type the value", r.w.serialDate(v)), nil
	}
	return num, "", nil
}

// sharedString is the shared string a cell's value indexes.
func (r *Rows) sharedString(v []byte) (string, string, error) {
	sst, err := r.w.sharedStrings()
	if err != nil {
		return "", "", err
	}
	i := 0
	digits := bytes.TrimSpace(v)
	for _, c := range digits {
		if c < '0' || c > '9' || i > len(sst) {
			i = -1
			break
		}
		i = i*10 + int(c-'0')
	}
	if len(digits) == 0 || i < 0 || i >= len(sst) {
		return "", "", fmt.Errorf("shared string %q out of range", v)
	}
	return sst[i], "", nil
}

// decodeXString undoes OOXML's escape of characters XML cannot carry
// (ECMA-376 ST_Xstring): _x000D_ is a carriage return, _x005F_ an
// underscore that would otherwise start one.
func decodeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i+6 < len(s) && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// canonicalNumber writes a number cell's value as plain decimal digits:
// exactly the number the cell holds (12125550100, never 1.21255E+10), as
// it is written when it has no exponent.
func canonicalNumber(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !strings.ContainsAny(v, "eE") {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "", fmt.Errorf("number %q", v)
		}
		if strings.Contains(v, ".") {
			v = strings.TrimRight(strings.TrimRight(v, "0"), ".")
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("number %q", v)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// serialDate shows a date serial number as a date (and time).
func (w *Workbook) serialDate(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if w.date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	t := epoch.Add(time.Duration(math.Round(f*86400)) * time.Second)
	if f == math.Trunc(f) {
		return t.Format("2006-01-02")
	}
	if f < 1 {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

// ParseCell reads an A1-style reference ("B12", "$B$12") into a column
// index (0 is A) and a row number.
func ParseCell(ref string) (col, row int, ok bool) {
	ref = strings.ReplaceAll(ref, "$", "")
	i := 0
	for i < len(ref) && (ref[i]|0x20) >= 'a' && (ref[i]|0x20) <= 'z' {
		col = col*26 + int(ref[i]|0x20-'a') + 1
		i++
	}
	if i == 0 || i > 3 {
		return 0, 0, false
	}
	row, err := strconv.Atoi(ref[i:])
	if err != nil || row < 1 {
		return 0, 0, false
	}
	return col - 1, row, true
}

// ColumnName returns the letters of a column index (0 is A, 26 is AA).
func ColumnName(col int) string {
	var b []byte
	for n := col + 1; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}

// CellRef names a cell the way a spreadsheet does, sheet included:
// Numbers!B12, or 'My numbers'!B12 when the name needs quoting.
func CellRef(sheet string, col, row int) string {
	return quoteSheet(sheet) + "!" + ColumnName(col) + strconv.Itoa(row)
}

// quoteSheet writes a sheet name as a formula would: quoted when it holds
// anything but letters, digits and underscores.
func quoteSheet(sheet string) string {
	if sheet != "" && strings.IndexFunc(sheet, needsQuote) < 0 {
		return sheet
	}
	return "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
}

// needsQuote reports whether r in a sheet name makes a formula quote it.
func needsQuote(r rune) bool {
	plain := r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
	return !plain
}
