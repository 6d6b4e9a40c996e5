// Package desired reads and validates the desired-state CSV (SPEC section
// 1) into a *plan.Desired; the same table as an .xlsx workbook, or as
// semicolon- or tab-separated or UTF-16 text, comes through internal/sheet
// (source.go) and is validated by the same rules.
//
// Validation is complete and happens in one pass: every problem of every
// row is collected, each with its file line, canonical column name and
// reason (an Errors value), so a person fixes a spreadsheet once rather than
// once per error. Phone numbers are normalised to E.164 by a real
// phone-number library; the file is streamed, its rows validated in
// parallel chunks and merged back in file order.
package desired

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gocarina/gocsv"
	"github.com/numsync/numsync/internal/english"
	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/sheet"
)

// Canonical column names, as SPEC section 1 spells them. Errors name
// columns this way, whatever the header wrote.
// (plan owns the vocabulary; these are its names, for the reader's callers.)
const (
	ColPhoneNumber          = plan.ColPhoneNumber
	ColCNAM                 = plan.ColCNAM
	ColE911StreetAddress    = plan.ColE911StreetAddress
	ColE911ExtendedAddress  = plan.ColE911ExtendedAddress
	ColE911Locality         = plan.ColE911Locality
	ColE911Region           = plan.ColE911Region
	ColE911PostalCode       = plan.ColE911PostalCode
	ColE911CallerName       = plan.ColE911CallerName
	ColBrandBusinessUnit    = plan.ColBrandBusinessUnit
	ColBrandProgram         = plan.ColBrandProgram
	ColBrandChannel         = plan.ColBrandChannel
	ColCallPurposeCode      = plan.ColCallPurposeCode
	ColAuthenticatedCalls   = plan.ColAuthenticatedCalls
	maxCNAMRunes            = 15
	minE911CallerNameRunes  = 3
	chunkRows               = 2048
	maxUnnamedColumnWarning = 5
)

// Columns lists every column numsync knows, in the order export writes
// them (plan.CSVColumns).
var Columns = plan.CSVColumns()

// column indexes into schema.idx, in Columns order.
const (
	cPhone = iota
	cCNAM
	cStreet
	cExtended
	cLocality
	cRegion
	cPostal
	cCaller
	cBU
	cProgram
	cChannel
	cPurpose
	cAuth
	nColumns
)

// oneUCColumn reports whether a known column manages a OneUC field;
// the others beyond phone_number manage First Orion.
func oneUCColumn(c int) bool { return c >= cCNAM && c <= cCaller }

// Options tunes Read.
type Options struct {
	// Path names the file in errors and in Desired.Path.
	Path string
	// DefaultRegion is the ISO 3166 region national-format numbers belong
	// to ("US" when empty).
	DefaultRegion string
	// AllowExtraColumns turns unknown columns from errors into warnings;
	// their cells are ignored.
	AllowExtraColumns bool
	// OneUCEnabled and FirstOrionEnabled say which vendors the config
	// enables: a CSV that manages a disabled vendor's columns is invalid.
	OneUCEnabled      bool
	FirstOrionEnabled bool
	// Workers bounds the goroutines normalising rows; 0 means GOMAXPROCS.
	Workers int
	// Stats, when not nil, receives counts a summary needs beyond the
	// valid rows.
	Stats *Stats
	// Sheet names the sheet to read of a workbook; "" takes the one sheet
	// with data (see sheet.Workbook.Choose). It is an error for text.
	Sheet string
	// Delimiter separates the cells of delimited text: ',', ';' or '\t'.
	// 0 tells it from the header row. It is an error for a workbook.
	Delimiter rune
	// CheckOnly validates without keeping the rows (Desired.Rows stays
	// nil; Stats.Valid counts them): what `numsync validate` needs, in the
	// memory of the duplicate check alone.
	CheckOnly bool

	// sizeHint is the input's size in bytes when known (ReadFile), to
	// size the duplicate check from the first rows' length.
	sizeHint int64
}

// Stats counts what a Read saw.
type Stats struct {
	// Rows is the number of data rows read (valid, invalid and blank).
	Rows int
	// Blank is the number of rows skipped because every cell was blank.
	Blank int
	// Invalid is the number of data rows with at least one error.
	Invalid int
	// Valid is the number of valid rows (len(Desired.Rows) unless
	// CheckOnly).
	Valid int
}

// ReadFile reads and validates the CSV (or workbook) at path, like Read,
// and sets Desired.SHA256 to the digest of the file's bytes (the identity
// of a run for resume; a workbook's includes the sheet read). opts.Path
// defaults to path.
func ReadFile(path string, opts Options) (*plan.Desired, []Warning, error) {
	if opts.Path == "" {
		opts.Path = path
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		opts.sizeHint = fi.Size()
		var head [4]byte
		if n, _ := f.ReadAt(head[:], 0); sheet.IsZip(head[:n]) {
			return readWorkbookFile(f, fi.Size(), opts)
		}
	}
	// The file is streamed, and hashed as it is read: the digest is of the
	// very bytes that are validated.
	h := sha256.New()
	d, warns, err := Read(io.TeeReader(f, h), opts)
	if d != nil && (err == nil || errors.As(err, new(Errors))) {
		// Parsing may stop early (an unterminated quote runs to the end):
		// the digest is still of the whole file.
		if _, cerr := io.Copy(h, f); cerr != nil {
			return d, warns, fmt.Errorf("desired: read %s: %w", opts.Path, cerr)
		}
		d.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return d, warns, err
}

// Read reads and validates a desired-state CSV. It returns the valid rows
// even when some are invalid (so a summary can count them); the error is
// then an Errors value listing every problem, and nothing may be applied
// from the result. Any other error (an I/O failure) is wrapped.
//
// The CSV is streamed: what is held is the valid rows (none with
// Options.CheckOnly) and what the duplicate check needs.
func Read(r io.Reader, opts Options) (*plan.Desired, []Warning, error) {
	// The file-format layer (source.go) tells a workbook from text.
	return readStream(r, opts)
}

// Source yields the records of a desired-state table in order, the header
// first: each call returns the next record's cells and the line it starts
// on (1 is the first line). After the last record it returns io.EOF. A
// *RowError is a problem with one record (malformed quoting, say): it is
// reported with the others and reading goes on. Any other error stops the
// read and is returned as is. The returned slice may be reused by the next
// call; the strings in it are kept.
type Source func() (cells []string, line int, err error)

// CSVSource reads CSV records from r (path names it in errors). A leading
// UTF-8 byte-order mark is skipped. encoding/csv is tuned for spreadsheets:
// ragged rows are row errors with their line, not a stop; malformed quotes
// are reported (strict quoting) rather than silently swallowing the rest
// of the file into one cell.
func CSVSource(r io.Reader, path string) Source { return DelimitedSource(r, path, ',') }

// DelimitedSource is CSVSource with comma as the separator (a semicolon
// or a tab, as spreadsheet programs write them).
func DelimitedSource(r io.Reader, path string, comma rune) Source {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	cr.Comma = comma
	// gocsv (the product's chosen CSV library) hands out the records;
	// the csv.Reader under it stays reachable for each record's line.
	dec := gocsv.NewSimpleDecoderFromCSVReader(cr)
	ended := false
	return func() ([]string, int, error) {
		if ended {
			return nil, 0, io.EOF
		}
		rec, err := dec.GetCSVRow()
		if err == nil {
			line, _ := cr.FieldPos(0)
			return rec, line, nil
		}
		if errors.Is(err, io.EOF) {
			ended = true
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			ended = true
			return nil, 0, fmt.Errorf("desired: read %s: %w", path, err)
		}
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			reason = fmt.Sprintf("malformed quoting at line %d, column %d: %v (a cell with a quote must be wholly quoted, with inner quotes doubled)", pe.Line, pe.Column, pe.Err)
		}
		if errors.Is(pe.Err, csv.ErrQuote) {
			// An unterminated quote runs to the end of the file.
			ended = true
		}
		return nil, 0, &RowError{Path: path, Line: pe.StartLine, Reason: reason, Err: pe}
	}
}

// ReadSource validates the records src yields, like Read: the first is
// the header. It is how another table format (a workbook) is validated
// by the same rules.
func ReadSource(src Source, opts Options) (*plan.Desired, []Warning, error) {
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "US"
	}
	opts.DefaultRegion = strings.ToUpper(opts.DefaultRegion)
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	d := &plan.Desired{Path: opts.Path}
	rd := &reading{src: src}

	header, headerLine, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return d, nil, Errors{{Path: opts.Path, Line: 1, Column: ColPhoneNumber, Reason: "the file is empty: a header row naming at least phone_number is required"}}
		}
		return d, nil, err
	}
	header = slices.Clone(header)
	d.Header = header
	sc, errs, warns := newSchema(header, headerLine, opts)
	d.Columns = sc.columns
	if sc.idx[cPhone] < 0 {
		// Without the number column no row can be validated.
		return d, warns, append(errs, rd.parseErrs...)
	}

	m, rerr := rd.pipeline(sc, opts)
	errs = append(errs, m.errs...)
	errs = append(errs, rd.parseErrs...)
	if rerr != nil {
		return d, warns, rerr
	}
	d.Rows = m.rows
	if len(m.blank) > 0 {
		warns = append(warns, Warning{Path: opts.Path, Line: m.blank[0], Count: len(m.blank),
			Message: fmt.Sprintf("%s with every cell blank skipped", english.Count(len(m.blank), "row"))})
	}
	if len(m.noE911) > 0 {
		warns = append(warns, Warning{Path: opts.Path, Line: m.noE911[0], Column: "e911", Count: len(m.noE911),
			Message: fmt.Sprintf("%s with blank E911 cells under a managed E911 header: their live address is left as it is", english.Count(len(m.noE911), "row"))})
	}
	slices.SortStableFunc(warns, func(a, b Warning) int { return a.Line - b.Line })
	if opts.Stats != nil {
		bad := map[int]bool{}
		for _, e := range errs {
			if e.Line != headerLine {
				bad[e.Line] = true
			}
		}
		*opts.Stats = Stats{Rows: rd.rows, Blank: len(m.blank), Invalid: len(bad), Valid: m.kept}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *RowError) int { return a.Line - b.Line })
		return d, warns, errs
	}
	return d, warns, nil
}

// e164Key packs an E.164 number's digits into an integer, one-to-one for
// the at most 15 digits E.164 allows (the leading digit is never 0, so no
// two numbers share a key).
func e164Key(n string) uint64 {
	var k uint64
	for i := 1; i < len(n); i++ {
		k = k*10 + uint64(n[i]-'0')
	}
	return k
}

func rawCell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// reading pulls records off a Source, collecting the per-record problems
// it reports.
type reading struct {
	src       Source
	parseErrs Errors
	rows      int
}

// next returns the next record and the line it starts on. Record problems
// become RowErrors and reading goes on with the next record; only the end
// (io.EOF) or a read failure stops it.
func (rd *reading) next() ([]string, int, error) {
	for {
		rec, line, err := rd.src()
		if err == nil {
			return rec, line, nil
		}
		var re *RowError
		if !errors.As(err, &re) {
			return nil, 0, err
		}
		rd.parseErrs = append(rd.parseErrs, re)
	}
}

// chunk is a run of consecutive records, validated by one worker. done is
// closed when rows, valid and res are filled in.
type chunk struct {
	lines []int
	recs  [][]string
	// slab holds the records' cells (the source may reuse its slice).
	slab  []string
	rows  []plan.Row
	valid []bool
	res   chunkResult
	done  chan struct{}
	// estRows, on the first chunk, estimates the rows of the whole input
	// (0: unknown), to size the duplicate check once.
	estRows int
	// inArena says rows is a window of the shared result slice.
	inArena bool
}

// arena is the one slice the kept rows of a whole read go to, sized from
// the first rows: workers validate straight into windows of it, taken in
// file order, so the rows are neither copied nor held twice.
type arena struct {
	rows []plan.Row
	next int
	// full is set once a window did not fit: later chunks (fewer rows
	// than estimated) all go outside it, so the arena's tail is free when
	// they are appended.
	full bool
}

// take returns the window for n rows, or nil.
func (a *arena) take(n int) []plan.Row {
	if a == nil || a.full || a.next+n > len(a.rows) {
		if a != nil {
			a.full = true
		}
		return nil
	}
	w := a.rows[a.next : a.next+n : a.next+n]
	a.next += n
	return w
}

// chunkResult is what one worker found in one chunk of rows.
type chunkResult struct {
	errs   Errors
	blank  []int
	noE911 []int
}

// merged is what the merger made of every chunk, in file order.
type merged struct {
	rows   []plan.Row
	errs   Errors
	blank  []int
	noE911 []int
	kept   int
}

// spelling is how the number first seen on line was written, when that
// was not its E.164 form.
type spelling struct {
	line int
	raw  string
}

// pipeline reads, validates and deduplicates every row after the header.
// Three stages run at once: this goroutine pulls records and cuts them
// into chunks; workers validate chunks in parallel (phone normalisation is
// the costly part); a merger takes the chunks back in file order, finds
// duplicates, and keeps the valid rows (unless opts.CheckOnly). A chunk's
// records are dropped once merged, so memory holds the rows kept and, for
// the duplicate check, each number's first line (and its spelling when it
// was not written in E.164), not the file.
func (rd *reading) pipeline(sc *schema, opts Options) (merged, error) {
	work := make(chan *chunk, opts.Workers*2)
	order := make(chan *chunk, opts.Workers*4)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := &rowValidator{schema: sc, opts: opts, phone: newPhoneNormalizer(opts.DefaultRegion)}
			for c := range work {
				n := len(c.recs)
				if c.inArena {
					c.valid = make([]bool, n)
				} else if cap(c.rows) >= n {
					// A recycled chunk: a blank record leaves its row
					// untouched, so no old row may show through.
					c.rows, c.valid = c.rows[:n], c.valid[:n]
					clear(c.rows)
				} else {
					c.rows, c.valid = make([]plan.Row, n), make([]bool, n)
				}
				for i, rec := range c.recs {
					c.valid[i] = v.validate(&c.res, c.lines[i], rec, &c.rows[i])
				}
				close(c.done)
			}
		}()
	}

	// Checking only, a merged chunk comes back to be filled again: the
	// garbage collector then has little to do.
	var free chan *chunk
	if opts.CheckOnly {
		free = make(chan *chunk, opts.Workers*8)
	}
	mergedCh := make(chan merged, 1)
	var ar *arena
	go func() { mergedCh <- merge(order, free, sc, opts, &ar) }()

	newChunk := func() *chunk {
		select {
		case c := <-free:
			c.lines, c.recs, c.slab = c.lines[:0], c.recs[:0], c.slab[:0]
			c.res, c.done = chunkResult{}, make(chan struct{})
			return c
		default:
			return &chunk{done: make(chan struct{}), lines: make([]int, 0, chunkRows), recs: make([][]string, 0, chunkRows)}
		}
	}
	cur := newChunk()
	first, cellBytes := true, 0
	send := func() {
		if first && opts.sizeHint > 0 {
			// A record takes about its cells, a separator after each, on
			// the input. Rows shorter than 16 bytes on average are not
			// believed (the arena would be too large): the rest grows.
			if avg := cellBytes / len(cur.recs); avg > 0 {
				cur.estRows = int(min(opts.sizeHint/int64(avg), opts.sizeHint/16))
			}
			if !opts.CheckOnly && cur.estRows > 0 {
				ar = &arena{rows: make([]plan.Row, cur.estRows+cur.estRows/16+chunkRows)}
			}
		}
		first = false
		if w := ar.take(len(cur.recs)); w != nil {
			cur.rows, cur.inArena = w, true
		}
		order <- cur
		work <- cur
		cur = newChunk()
	}
	var err error
	for {
		rec, line, rerr := rd.next()
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				err = rerr
			}
			break
		}
		rd.rows++
		// Copy the cells into the chunk's slab: one allocation per chunk
		// instead of one per row.
		n := len(rec)
		if cap(cur.slab)-len(cur.slab) < n {
			cur.slab = make([]string, 0, max(n*(chunkRows-len(cur.recs)), 64))
		}
		out := cur.slab[len(cur.slab) : len(cur.slab)+n : len(cur.slab)+n]
		copy(out, rec)
		cur.slab = cur.slab[:len(cur.slab)+n]
		if first {
			for _, c := range rec {
				cellBytes += len(c) + 1
			}
		}
		cur.lines = append(cur.lines, line)
		cur.recs = append(cur.recs, out)
		if len(cur.recs) == chunkRows {
			send()
		}
	}
	if len(cur.recs) > 0 {
		send()
	}
	close(work)
	close(order)
	wg.Wait()
	return <-mergedCh, err
}

// merge takes validated chunks in file order: duplicates, counts, and the
// rows to keep. Chunks it is done with go to free, when not nil.
func merge(order <-chan *chunk, free chan<- *chunk, sc *schema, opts Options, ar **arena) merged {
	var m merged
	// Keys are the E.164 digits as an integer (at most 15 digits fit in a
	// uint64); the spellings are in line order, as the chunks come.
	var seen *numberSet
	var spelled []spelling
	var kept [][]plan.Row
	// out collects the kept rows, moved down within the arena (a row never
	// moves up, so none is overwritten before it is moved).
	var out []plan.Row
	for c := range order {
		<-c.done
		if seen == nil {
			seen = newNumberSet(c.estRows + c.estRows/8)
		}
		m.errs = append(m.errs, c.res.errs...)
		m.blank = append(m.blank, c.res.blank...)
		m.noE911 = append(m.noE911, c.res.noE911...)
		n := 0
		for i := range c.rows {
			// A row with a good number takes part even when another cell
			// is wrong, so its duplicates show in the same pass.
			if !c.valid[i] && c.rows[i].Number == "" {
				continue
			}
			row := &c.rows[i]
			raw := rawCell(row.Record, sc.idx[cPhone])
			if at, dup := seen.firstLine(e164Key(row.Number), row.Line); dup {
				there := row.Number
				if j, ok := slices.BinarySearchFunc(spelled, at, func(s spelling, l int) int { return s.line - l }); ok {
					there = spelled[j].raw
				}
				m.errs = append(m.errs, &RowError{
					Path: opts.Path, Line: row.Line, Column: ColPhoneNumber,
					Reason: fmt.Sprintf("duplicate number %s: line %d has it too (written %q there, %q here)",
						row.Number, at, there, raw),
				})
				c.valid[i] = false
				continue
			}
			if raw != row.Number {
				// A copy: the cell would keep its whole record alive.
				spelled = append(spelled, spelling{line: row.Line, raw: strings.Clone(raw)})
			}
			if c.valid[i] {
				n++
			}
		}
		m.kept += n
		if opts.CheckOnly {
			if free != nil {
				select {
				case free <- c:
				default:
				}
			}
			continue
		}
		if c.inArena {
			if out == nil {
				out = (*ar).rows[:0]
			}
			for i := range c.rows {
				if c.valid[i] {
					out = append(out, c.rows[i])
				}
			}
			continue
		}
		// Compact the chunk's valid rows to its front; the chunk's other
		// slices are dropped here.
		j := 0
		for i := range c.rows {
			if c.valid[i] {
				c.rows[j] = c.rows[i]
				j++
			}
		}
		kept = append(kept, c.rows[:j:j])
	}
	if opts.CheckOnly {
		return m
	}
	if out != nil {
		// Rows past the kept ones (dropped rows' old places) must not keep
		// their records alive.
		clear(out[len(out):cap(out)])
		if cap(out) >= m.kept {
			m.rows = out
			for _, k := range kept {
				m.rows = append(m.rows, k...)
			}
			return m
		}
	}
	// One allocation for the result: growing a million-row slice by
	// appending would copy it over and over.
	m.rows = make([]plan.Row, 0, m.kept)
	m.rows = append(m.rows, out...)
	for i, k := range kept {
		m.rows = append(m.rows, k...)
		kept[i] = nil
	}
	return m
}
