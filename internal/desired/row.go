package desired

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/numsync/numsync/internal/plan"
)

// rowValidator checks rows against the schema. Each worker has its own
// (the phone normaliser's memo is not locked).
type rowValidator struct {
	schema *schema
	opts   Options
	phone  *phoneNormalizer
}

// cell returns the trimmed cell of known column c, "" when the column is
// absent.
func (v *rowValidator) cell(rec []string, c int) string {
	i := v.schema.idx[c]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func blankRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// validate checks one record, fills in out and reports whether the row is
// valid; problems and warnings go to res.
func (v *rowValidator) validate(res *chunkResult, line int, rec []string, out *plan.Row) bool {
	if blankRecord(rec) {
		res.blank = append(res.blank, line)
		return false
	}
	nerr := len(res.errs)
	fail := func(col, format string, args ...any) {
		res.errs = append(res.errs, &RowError{Path: v.opts.Path, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	if len(rec) != v.schema.width {
		// The cells cannot be trusted to sit under the right headings.
		fail("", "the row has %d cells but the header has %d (a stray or missing comma?)", len(rec), v.schema.width)
		return false
	}
	for _, i := range v.schema.unnamed {
		if strings.TrimSpace(rec[i]) != "" {
			fail("", "cell %d has a value (%q) but its column has no header name", i+1, rec[i])
		}
	}

	row := out
	*row = plan.Row{Line: line, Record: rec}
	number, reason := v.phone.normalize(v.cell(rec, cPhone))
	if reason != "" {
		fail(ColPhoneNumber, "%s", reason)
	}
	row.Number = number

	if v.schema.columns.CNAM {
		row.CNAM = v.cell(rec, cCNAM)
		if n := utf8.RuneCountInString(row.CNAM); n > maxCNAMRunes {
			fail(ColCNAM, "%q is %d characters; a CNAM display name has at most %d", row.CNAM, n, maxCNAMRunes)
		}
	}

	if v.schema.columns.E911 {
		a := plan.Address{
			StreetAddress:   v.cell(rec, cStreet),
			ExtendedAddress: v.cell(rec, cExtended),
			Locality:        v.cell(rec, cLocality),
			Region:          v.cell(rec, cRegion),
			PostalCode:      v.cell(rec, cPostal),
			CallerName:      v.cell(rec, cCaller),
		}
		if a == (plan.Address{}) {
			res.noE911 = append(res.noE911, line)
		} else {
			for _, req := range []struct {
				c   int
				val string
			}{{cStreet, a.StreetAddress}, {cLocality, a.Locality}, {cRegion, a.Region}, {cPostal, a.PostalCode}} {
				if req.val == "" && v.schema.idx[req.c] >= 0 {
					fail(Columns[req.c], "is required when the row sets any E911 cell (street address, locality, region and postal code, or none of them)")
				}
			}
			if a.Region != "" {
				if !twoLetters(a.Region) {
					fail(ColE911Region, "%q is not a 2-letter region code (e.g. TX)", a.Region)
				}
				a.Region = strings.ToUpper(a.Region)
			}
			if a.CallerName != "" && utf8.RuneCountInString(a.CallerName) < minE911CallerNameRunes {
				fail(ColE911CallerName, "%q is too short: an E911 caller name has at least %d characters", a.CallerName, minE911CallerNameRunes)
			}
			row.E911 = &a
		}
	}

	row.BusinessUnit = v.cell(rec, cBU)
	row.Program = v.cell(rec, cProgram)
	if row.Program != "" && row.BusinessUnit == "" && v.schema.columns.BusinessUnit {
		fail(ColBrandProgram, "program %q needs a brand_business_unit in the same row", row.Program)
	}

	// Channel and call purpose keep "" for an empty cell: their defaults
	// depend on the live program and the config, and plan.Diff applies
	// them.
	if ch := v.cell(rec, cChannel); ch != "" {
		switch {
		case strings.EqualFold(ch, plan.ChannelCallerName):
			row.Channel = plan.ChannelCallerName
		case strings.EqualFold(ch, plan.ChannelCallerImage):
			row.Channel = plan.ChannelCallerImage
		case strings.EqualFold(ch, plan.ChannelBlocking):
			row.Channel = plan.ChannelBlocking
		default:
			fail(ColBrandChannel, "%q is not a delivery channel: use callerName, callerImage or blocking", ch)
		}
	}

	row.CallPurpose = v.cell(rec, cPurpose)

	if ac := v.cell(rec, cAuth); ac != "" {
		b, ok := parseBool(ac)
		if !ok {
			fail(ColAuthenticatedCalls, "%q is not a boolean: use true/false, yes/no or 1/0", ac)
		}
		row.AuthCalls = b
	}

	return len(res.errs) == nerr
}

func twoLetters(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}
