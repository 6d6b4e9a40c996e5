// Package desired reads and validates the desired-state CSV (SPEC section
// 1) into a *plan.Desired.
//
// Validation is complete and happens in one pass: every problem of every
// row is collected, each with its file line, canonical column name and
// reason (an Errors value), so a person fixes a spreadsheet once rather than
// once per error. Phone numbers are normalised to E.164 by a real
// phone-number library; rows are validated in parallel chunks and merged
// back in file order.
package desired

import (
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
	"sync/atomic"

	"github.com/gocarina/gocsv"

	"github.com/numsync/numsync/internal/plan"
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
	defaultSplitMin         = 1 << 20
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

	// splitMin is the input size from which the parse is split between
	// two goroutines (tests lower it to exercise the split on small files).
	splitMin int
}

// Stats counts what a Read saw.
type Stats struct {
	// Rows is the number of data rows read (valid, invalid and blank).
	Rows int
	// Blank is the number of rows skipped because every cell was blank.
	Blank int
	// Invalid is the number of data rows with at least one error.
	Invalid int
}

// ReadFile reads and validates the CSV at path, like Read, and sets
// Desired.SHA256 to the digest of the file's bytes (the identity of a run
// for resume). opts.Path defaults to path.
func ReadFile(path string, opts Options) (*plan.Desired, []Warning, error) {
	if opts.Path == "" {
		opts.Path = path
	}
	// The file is read whole (a million rows is ~60 MB) so its digest is
	// computed on another core while the rows are parsed, from the very
	// bytes that are validated.
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("desired: %w", err)
	}
	sum := make(chan [sha256.Size]byte, 1)
	go func() { sum <- sha256.Sum256(data) }()
	d, warns, err := readBytes(data, opts)
	digest := <-sum
	if d != nil {
		d.SHA256 = hex.EncodeToString(digest[:])
	}
	return d, warns, err
}

// Read reads and validates a desired-state CSV. It returns the valid rows
// even when some are invalid (so a summary can count them); the error is
// then an Errors value listing every problem, and nothing may be applied
// from the result. Any other error (an I/O failure) is wrapped.
func Read(r io.Reader, opts Options) (*plan.Desired, []Warning, error) {
	// A desired-state CSV fits in memory (its rows must anyway); holding
	// its bytes lets the parse be split between cores.
	data, err := io.ReadAll(r)
	if err != nil {
		return &plan.Desired{Path: opts.Path}, nil, fmt.Errorf("desired: read %s: %w", opts.Path, err)
	}
	return readBytes(data, opts)
}

func readBytes(data []byte, opts Options) (*plan.Desired, []Warning, error) {
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "US"
	}
	opts.DefaultRegion = strings.ToUpper(opts.DefaultRegion)
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.splitMin == 0 {
		opts.splitMin = defaultSplitMin
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	d := &plan.Desired{Path: opts.Path}
	rd := newReading(data, 0, opts)

	header, headerLine, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return d, nil, Errors{{Path: opts.Path, Line: 1, Column: ColPhoneNumber, Reason: "the file is empty: a header row naming at least phone_number is required"}}
		}
		return d, nil, err
	}
	d.Header = header
	sc, errs, warns := newSchema(header, headerLine, opts)
	d.Columns = sc.columns
	if sc.idx[cPhone] < 0 {
		// Without the number column no row can be validated.
		return d, warns, append(errs, rd.parseErrs...)
	}

	rows, rowErrs, blank, noE911, rerr := rd.pipeline(sc, data)
	errs = append(errs, rowErrs...)
	if rerr != nil {
		return d, warns, rerr
	}
	d.Rows = rows
	if len(blank) > 0 {
		warns = append(warns, Warning{Path: opts.Path, Line: blank[0], Count: len(blank),
			Message: fmt.Sprintf("%s with every cell blank skipped", plural(len(blank), "row"))})
	}
	if len(noE911) > 0 {
		warns = append(warns, Warning{Path: opts.Path, Line: noE911[0], Column: "e911", Count: len(noE911),
			Message: fmt.Sprintf("%s with blank E911 cells under a managed E911 header: their live address is left as it is", plural(len(noE911), "row"))})
	}
	slices.SortStableFunc(warns, func(a, b Warning) int { return a.Line - b.Line })
	if opts.Stats != nil {
		bad := map[int]bool{}
		for _, e := range errs {
			if e.Line != headerLine {
				bad[e.Line] = true
			}
		}
		*opts.Stats = Stats{Rows: rd.rows, Blank: len(blank), Invalid: len(bad)}
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

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// reading parses records off (part of) the CSV in file order, with their
// start lines.
type reading struct {
	opts      Options
	cr        *csv.Reader
	dec       gocsv.SimpleDecoder
	parseErrs Errors
	rows      int
	// baseLine is the number of lines before the bytes this reading
	// parses: a second reading starting mid-file adds it to every line.
	baseLine int
	// slab is where records are copied out of the reader's reused buffer.
	slab []string
}

// newReading parses data, whose first byte is on line baseLine+1. gocsv is
// the CSV layer, over an encoding/csv reader tuned for spreadsheets.
func newReading(data []byte, baseLine int, opts Options) *reading {
	cr := csv.NewReader(bytes.NewReader(data))
	// Ragged rows are row errors with their line, not a stop; malformed
	// quotes are reported (strict quoting) rather than silently swallowing
	// the rest of the file into one cell.
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	// Records are copied into slabs (see next): one allocation per few
	// thousand rows instead of one per row.
	cr.ReuseRecord = true
	return &reading{opts: opts, cr: cr, dec: gocsv.NewSimpleDecoderFromCSVReader(cr), baseLine: baseLine}
}

// next returns the next record and the line it starts on. CSV syntax errors
// become RowErrors and reading goes on with the next record; only the end
// stops it.
func (rd *reading) next() ([]string, int, error) {
	for {
		rec, err := rd.dec.GetCSVRow()
		if err == nil {
			line, _ := rd.cr.FieldPos(0)
			n := len(rec)
			if cap(rd.slab)-len(rd.slab) < n {
				rd.slab = make([]string, 0, max(n*chunkRows, 64))
			}
			out := rd.slab[len(rd.slab) : len(rd.slab)+n : len(rd.slab)+n]
			copy(out, rec)
			rd.slab = rd.slab[:len(rd.slab)+n]
			return out, line + rd.baseLine, nil
		}
		if errors.Is(err, io.EOF) {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, 0, fmt.Errorf("desired: read %s: %w", rd.opts.Path, err)
		}
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			reason = fmt.Sprintf("malformed quoting at line %d, column %d: %v (a cell with a quote must be wholly quoted, with inner quotes doubled)", pe.Line+rd.baseLine, pe.Column, pe.Err)
		}
		rd.parseErrs = append(rd.parseErrs, &RowError{Path: rd.opts.Path, Line: pe.StartLine + rd.baseLine, Reason: reason, Err: pe})
		if errors.Is(pe.Err, csv.ErrQuote) {
			// An unterminated quote runs to the end of the file.
			return nil, 0, io.EOF
		}
	}
}

// chunk is a run of consecutive records, validated by one worker. done is
// closed when rows, valid and res are filled in.
type chunk struct {
	lines []int
	recs  [][]string
	// rows is a window of the shared arena when there is one, else the
	// worker's own allocation.
	rows    []plan.Row
	inArena bool
	valid   []bool
	res     chunkResult
	done    chan struct{}
}

// chunkResult is what one worker found in one chunk of rows.
type chunkResult struct {
	errs   Errors
	blank  []int
	noE911 []int
}

// arena hands out windows of one row slice, in file order from a start
// index, so validated rows need no copy into the result.
type arena struct {
	rows []plan.Row
	next int
}

// take returns the window for n rows, or nil when there is no arena.
func (a *arena) take(n int) []plan.Row {
	if a == nil || a.next+n > len(a.rows) {
		return nil
	}
	w := a.rows[a.next : a.next+n : a.next+n]
	a.next += n
	return w
}

// produce parses records into chunks, sending each to the workers and
// appending it to *out, until the end or, when stopAt > 0, until the last
// record read ends exactly at byte stopAt (true) or runs past it (false:
// the split fell inside a record, and parsing just goes on).
func (rd *reading) produce(work chan<- *chunk, ar *arena, stopAt int64, emit func(*chunk)) (bool, error) {
	cur := &chunk{done: make(chan struct{}), lines: make([]int, 0, chunkRows), recs: make([][]string, 0, chunkRows)}
	send := func() {
		if w := ar.take(len(cur.recs)); w != nil {
			cur.rows, cur.inArena = w, true
		}
		emit(cur)
		work <- cur
		cur = &chunk{done: make(chan struct{}), lines: make([]int, 0, chunkRows), recs: make([][]string, 0, chunkRows)}
	}
	defer func() {
		if len(cur.recs) > 0 {
			send()
		}
	}()
	for {
		rec, line, err := rd.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return false, err
		}
		rd.rows++
		cur.lines = append(cur.lines, line)
		cur.recs = append(cur.recs, rec)
		if len(cur.recs) == chunkRows {
			send()
		}
		if stopAt > 0 {
			if off := rd.cr.InputOffset(); off == stopAt {
				return true, nil
			} else if off > stopAt {
				stopAt = 0
			}
		}
	}
}

// pipeline reads, validates and deduplicates every row after the header.
// Stages run at once: parsing (split in two halves parsed concurrently
// when the file is large), validation by workers in parallel chunks (phone
// normalisation is the costly part), and a merger that takes the chunks
// back in file order and finds duplicates.
//
// The split is speculative: the second half is parsed from the first line
// break after the middle, which is a record boundary unless a quoted cell
// spans it. The first half's parser checks this when it gets there: if its
// last record ends exactly at the split, both halves are good; if not, the
// second half's work is dropped and the first parser simply reads on.
func (rd *reading) pipeline(sc *schema, data []byte) ([]plan.Row, Errors, []int, []int, error) {
	opts := rd.opts
	// Records never outnumber lines, so the line count bounds the arena,
	// unless the lines are too short to be real rows (a file of blank
	// lines must not allocate a row per byte).
	headerEnd := int(rd.cr.InputOffset())
	lines := bytes.Count(data[headerEnd:], []byte{'\n'}) + 1
	var ar *arena
	if lines <= len(data)/8+chunkRows {
		ar = &arena{rows: make([]plan.Row, lines)}
	}

	work := make(chan *chunk, opts.Workers*2)
	order := make(chan *chunk, opts.Workers*4)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := &rowValidator{schema: sc, opts: opts, phone: newPhoneNormalizer(opts.DefaultRegion)}
			for c := range work {
				if c.rows == nil {
					c.rows = make([]plan.Row, len(c.recs))
				}
				c.valid = make([]bool, len(c.recs))
				for i, rec := range c.recs {
					c.valid[i] = v.validate(&c.res, c.lines[i], rec, &c.rows[i])
				}
				close(c.done)
			}
		}()
	}

	// The merger: file order, duplicates, counts.
	type merged struct {
		chunks []*chunk
		errs   Errors
		blank  []int
		noE911 []int
		kept   int
	}
	mergedCh := make(chan merged, 1)
	go func() {
		var m merged
		// Keys are the E.164 digits as an integer (at most 15 digits fit
		// in a uint64): hashing an integer is cheaper than a string, and a
		// map without pointers costs the garbage collector nothing to scan.
		// Values locate the first row: chunk index and row index.
		hint := 1024
		if ar != nil {
			hint = min(lines, 1<<24)
		}
		seen := make(map[uint64]uint64, hint)
		for ci := 0; ; ci++ {
			c, ok := <-order
			if !ok {
				break
			}
			<-c.done
			m.chunks = append(m.chunks, c)
			m.errs = append(m.errs, c.res.errs...)
			m.blank = append(m.blank, c.res.blank...)
			m.noE911 = append(m.noE911, c.res.noE911...)
			for i := range c.rows {
				// A row with a good number takes part even when another
				// cell is wrong, so its duplicates show in the same pass.
				if !c.valid[i] && c.rows[i].Number == "" {
					continue
				}
				row := &c.rows[i]
				key := e164Key(row.Number)
				if at, dup := seen[key]; dup {
					f := &m.chunks[at>>32].rows[uint32(at)]
					m.errs = append(m.errs, &RowError{
						Path: opts.Path, Line: row.Line, Column: ColPhoneNumber,
						Reason: fmt.Sprintf("duplicate number %s: line %d has it too (written %q there, %q here)",
							row.Number, f.Line, rawCell(f.Record, sc.idx[cPhone]), rawCell(row.Record, sc.idx[cPhone])),
					})
					c.valid[i] = false
					continue
				}
				seen[key] = uint64(ci)<<32 | uint64(i)
				if c.valid[i] {
					m.kept++
				}
			}
		}
		mergedCh <- m
	}()

	toMerger := func(c *chunk) { order <- c }

	// The second half, when the file is large enough to be worth it.
	var split int
	if opts.Workers >= 2 && len(data) >= opts.splitMin {
		if i := bytes.IndexByte(data[len(data)/2:], '\n'); i >= 0 {
			split = len(data)/2 + i + 1
		}
	}
	var err error
	if split > 0 && split < len(data) && split > headerEnd {
		base := bytes.Count(data[:split], []byte{'\n'})
		rd2 := newReading(data[split:], base, opts)
		var ar2 *arena
		if ar != nil {
			// The second half's rows start right after as many rows as
			// the first half has lines: with one record a line, the
			// halves meet with no gap and nothing moves at the end.
			firstMax := bytes.Count(data[headerEnd:split], []byte{'\n'})
			ar2 = &arena{rows: ar.rows, next: firstMax}
			ar.rows = ar.rows[:firstMax]
		}
		var second []*chunk
		var err2 error
		done2 := make(chan struct{})
		go func() {
			defer close(done2)
			_, err2 = rd2.produce(work, ar2, 0, func(c *chunk) { second = append(second, c) })
		}()
		var ok bool
		ok, err = rd.produce(work, ar, int64(split), toMerger)
		<-done2
		if ok && err == nil {
			for _, c := range second {
				order <- c
			}
			rd.rows += rd2.rows
			rd.parseErrs = append(rd.parseErrs, rd2.parseErrs...)
			if err2 != nil {
				err = err2
			}
		} else if err == nil {
			// A record spans the split: drop the second half's work once
			// its workers are done with the arena, and read on.
			for _, c := range second {
				<-c.done
			}
			if ar != nil {
				ar.rows = ar2.rows
			}
			_, err = rd.produce(work, ar, 0, toMerger)
		}
	} else {
		_, err = rd.produce(work, ar, 0, toMerger)
	}
	close(work)
	close(order)
	wg.Wait()
	m := <-mergedCh
	m.errs = append(m.errs, rd.parseErrs...)

	allInArena := ar != nil
	for _, c := range m.chunks {
		allInArena = allInArena && c.inArena
	}
	if allInArena {
		// Compact in place, moving each kept row down to the next free
		// slot: rows before the first dropped one stay put.
		n := 0
		for _, c := range m.chunks {
			for j := range c.valid {
				if c.valid[j] {
					if &ar.rows[:cap(ar.rows)][n] != &c.rows[j] {
						ar.rows[:cap(ar.rows)][n] = c.rows[j]
					}
					n++
				}
			}
		}
		all := ar.rows[:cap(ar.rows)]
		clear(all[n:])
		return all[:n:n], m.errs, m.blank, m.noE911, err
	}

	// One allocation for the result, filled by chunk in parallel: growing
	// a million-row slice by appending would copy it over and over.
	rows := make([]plan.Row, m.kept)
	offsets := make([]int, len(m.chunks))
	off := 0
	for i, c := range m.chunks {
		offsets[i] = off
		for _, ok := range c.valid {
			if ok {
				off++
			}
		}
	}
	var next atomic.Int64
	var cw sync.WaitGroup
	for range min(opts.Workers, max(len(m.chunks), 1)) {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(m.chunks) {
					return
				}
				c, o := m.chunks[i], offsets[i]
				for j := range c.rows {
					if c.valid[j] {
						rows[o] = c.rows[j]
						o++
					}
				}
				c.rows, c.recs = nil, nil
			}
		}()
	}
	cw.Wait()
	return rows, m.errs, m.blank, m.noE911, err
}
