package desired

import (
	"fmt"
	"strings"

	"github.com/numsync/numsync/internal/plan"
	"github.com/numsync/numsync/internal/suggest"
)

// schema is what the header decided: where each known column is, and so
// what the run manages.
type schema struct {
	// idx maps each known column (cPhone…cAuth) to its cell index, -1 when
	// absent.
	idx [nColumns]int
	// width is the header's cell count; a row must have as many.
	width int
	// unnamed are indexes of header cells with no name: tolerated (a
	// spreadsheet's trailing comma) as long as their cells stay blank.
	unnamed []int
	columns plan.Columns
}

// normalizeHeader applies SPEC section 1's matching rule: case-insensitive
// after trimming, with "-" and " " counting as "_". Runs of separators fold
// into one ("Phone  Number" is still phone_number).
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
	var b strings.Builder
	lastSep := false
	for _, r := range h {
		if r == '-' || r == ' ' || r == '_' || r == '\t' {
			if !lastSep {
				b.WriteByte('_')
			}
			lastSep = true
			continue
		}
		lastSep = false
		b.WriteRune(r)
	}
	return b.String()
}

// newSchema reads the header. Header problems are errors on the header's
// line; reading the rows goes on so every problem is reported in one pass.
func newSchema(header []string, line int, opts Options) (*schema, Errors, []Warning) {
	sc := &schema{width: len(header)}
	for i := range sc.idx {
		sc.idx[i] = -1
	}
	var errs Errors
	var warns []Warning
	herr := func(col, reason string) {
		errs = append(errs, &RowError{Path: opts.Path, Line: line, Column: col, Reason: reason})
	}
	known := make(map[string]int, nColumns)
	for i, c := range Columns {
		known[c] = i
	}
	for i, h := range header {
		name := normalizeHeader(h)
		if name == "" {
			sc.unnamed = append(sc.unnamed, i)
			if len(sc.unnamed) <= maxUnnamedColumnWarning {
				warns = append(warns, Warning{Path: opts.Path, Line: line, Count: 0,
					Message: fmt.Sprintf("header cell %d is empty: that column is ignored and its cells must stay blank", i+1)})
			}
			continue
		}
		c, ok := known[name]
		if !ok {
			msg := fmt.Sprintf("unknown column %q", strings.TrimSpace(h))
			if s := didYouMean(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			if opts.AllowExtraColumns {
				warns = append(warns, Warning{Path: opts.Path, Line: line, Message: msg + ": ignored (--allow-extra-columns)"})
			} else {
				herr("", msg+": a misspelt column would silently stop managing a field; fix it, or pass --allow-extra-columns to ignore it")
				errs[len(errs)-1].CellIndex = i + 1
			}
			continue
		}
		if sc.idx[c] >= 0 {
			herr(Columns[c], fmt.Sprintf("column appears twice (cells %d and %d)", sc.idx[c]+1, i+1))
			errs[len(errs)-1].CellIndex = i + 1
			continue
		}
		sc.idx[c] = i
	}
	if sc.idx[cPhone] < 0 {
		herr(ColPhoneNumber, "the header has no phone_number column (it is required)")
	}
	for c := cStreet; c <= cCaller; c++ {
		if sc.idx[c] >= 0 {
			sc.columns.E911 = true
		}
	}
	if sc.columns.E911 {
		for _, c := range []int{cStreet, cLocality, cRegion, cPostal} {
			if sc.idx[c] < 0 {
				herr(Columns[c], "the header has E911 columns but not this one: an E911 address needs street address, locality, region and postal code")
			}
		}
	}
	if sc.idx[cProgram] >= 0 && sc.idx[cBU] < 0 {
		herr(ColBrandProgram, "the header has brand_program but no brand_business_unit: a program belongs to a business unit")
	}
	sc.columns.CNAM = sc.idx[cCNAM] >= 0
	sc.columns.BusinessUnit = sc.idx[cBU] >= 0
	sc.columns.Program = sc.idx[cProgram] >= 0
	sc.columns.Channel = sc.idx[cChannel] >= 0
	sc.columns.CallPurpose = sc.idx[cPurpose] >= 0
	sc.columns.AuthCalls = sc.idx[cAuth] >= 0

	for c := cCNAM; c < nColumns; c++ {
		if sc.idx[c] < 0 {
			continue
		}
		if oneUCColumn(c) && !opts.OneUCEnabled {
			herr(Columns[c], "manages OneUC, which the config does not enable (no oneuc section)")
		}
		if !oneUCColumn(c) && !opts.FirstOrionEnabled {
			herr(Columns[c], "manages First Orion, which the config does not enable (no firstorion section)")
		}
	}
	return sc, errs, warns
}

// didYouMean names the known column closest to an unknown one, or "".
func didYouMean(name string) string {
	best := suggest.Closest(name, Columns, 4)
	if best == "" {
		for _, c := range Columns {
			if strings.Contains(name, c) || strings.Contains(c, name) && len(name) >= 4 {
				return c
			}
		}
	}
	return best
}

// CanonicalColumn returns the known column a header cell names under SPEC
// section 1's matching rule ("Phone Number" is phone_number), and whether
// it names one.
func CanonicalColumn(header string) (string, bool) {
	name := normalizeHeader(header)
	for _, c := range Columns {
		if c == name {
			return c, true
		}
	}
	return "", false
}
